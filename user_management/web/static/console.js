/* The console: profile, invites (with live status), organization and members, audit log, live toasts.
   The access token lives only in this closure; the refresh token is an HttpOnly cookie this script cannot read. */
(function () {
  "use strict";
  var UM = window.UM;
  var INVITES_PER_PAGE = 20;
  var accessToken = null;
  var refreshTimer = null;
  var user = null;
  var socket = null;
  var socketRetry = 2000;
  var invitesPage = 1;
  var invitesPages = 1;

  function el(tag, attributes, children) {
    var element = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") element.textContent = attributes[name];
      else if (name === "className") element.className = attributes[name];
      else element.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) { if (child) element.appendChild(child); });
    return element;
  }

  function announce(message) {
    document.getElementById("live-status").textContent = message;
  }

  function toLogin() {
    window.location.replace("/login");
  }

  /* --- session ---------------------------------------------------------------------------------------------- */

  function tokenExpiry(token) {
    try {
      var payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(payload)).exp * 1000;
    } catch (e) {
      return Date.now() + 5 * 60 * 1000;
    }
  }

  /* Trade the cookie for a fresh access token (the cookie rotates); resolves to true on success. */
  function refresh() {
    return UM.refreshSession().then(function (result) {
      if (!result.ok) return false;
      accessToken = result.body.accessToken;
      user = result.body.user;
      clearTimeout(refreshTimer);
      var delay = Math.max(tokenExpiry(accessToken) - Date.now() - 60 * 1000, 10 * 1000);
      refreshTimer = setTimeout(function () {
        refresh().then(function (ok) { if (!ok) toLogin(); });
      }, delay);
      return true;
    });
  }

  /* An API call with the access token; on 401 refresh once and retry, or go back to the login page. */
  function api(method, path, body) {
    return UM.request(method, path, { token: accessToken, body: body }).then(function (result) {
      if (result.status !== 401) return result;
      return refresh().then(function (ok) {
        if (!ok) {
          toLogin();
          return result;
        }
        return UM.request(method, path, { token: accessToken, body: body });
      });
    });
  }

  /* --- profile and invite form ------------------------------------------------------------------------------ */

  function twoFactorLabel(method) {
    return { otp: "Code by email", totp: "Authenticator app" }[method] || "Off";
  }

  function renderProfile() {
    var name = (user.firstName + " " + user.lastName).trim();
    document.getElementById("whoami").textContent = name + " · " + UM.roleLabel(user.role);
    document.getElementById("profile-name").textContent = name;
    document.getElementById("profile-email").textContent = user.email;
    document.getElementById("profile-role").textContent = UM.roleLabel(user.role);
    document.getElementById("profile-2fa").textContent =
      user.organization ? "Set by your organization" : twoFactorLabel(user.twoFactorMethod);
    document.getElementById("profile-last-login").textContent = UM.formatDate(user.lastLoginAt);
  }

  function setUpInviteForm() {
    var roles = (UM.settings.invitableRoles || {})[user.role] || [];
    var section = document.getElementById("invite-section");
    section.hidden = roles.length === 0;
    if (!roles.length) return;
    var select = document.getElementById("invite-role");
    select.textContent = "";
    roles.forEach(function (role) { select.appendChild(el("option", { value: role, text: UM.roleLabel(role) })); });
    var organizationField = document.getElementById("organization-field");
    var syncOrganization = function () {
      var needed = select.value === "client_admin";
      organizationField.hidden = !needed;
      document.getElementById("invite-organization").required = needed;
    };
    select.addEventListener("change", syncOrganization);
    syncOrganization();

    var form = document.getElementById("invite-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      UM.clearErrors(form);
      var data = UM.formData(form);
      var required = ["email", "role"].concat(select.value === "client_admin" ? ["organizationName"] : []);
      if (!UM.requireFields(form, required)) return;
      var body = { email: data.email.trim(), role: data.role };
      if (data.role === "client_admin") body.organizationName = data.organizationName.trim();
      UM.setBusy(form, true);
      api("POST", "/api/invites/create", body).then(function (result) {
        UM.setBusy(form, false);
        if (!result.ok) {
          UM.showErrors(form, result);
          return;
        }
        form.reset();
        syncOrganization();
        UM.toast("Invite sent to " + result.body.invite.email, "success");
        invitesPage = 1;
        loadInvites();
        document.getElementById("invite-email").focus();
      });
    });
  }

  /* --- invites ---------------------------------------------------------------------------------------------- */

  function statusBadge(status) {
    return el("span", { className: "badge status-" + status, text: status });
  }

  function inviteActions(invite) {
    var cell = el("td", { className: "actions" });
    if (invite.status === "pending") {
      cell.appendChild(el("button", { type: "button", className: "secondary small", "data-action": "revoke",
                                      "aria-label": "Revoke the invite of " + invite.email, text: "Revoke" }));
    }
    if (invite.status === "pending" || invite.status === "expired") {
      cell.appendChild(el("button", { type: "button", className: "secondary small", "data-action": "resend",
                                      "aria-label": "Resend the invite to " + invite.email, text: "Resend" }));
    }
    return cell;
  }

  function inviteRow(invite) {
    var row = el("tr", { "data-invite-id": invite.id, "data-email": invite.email }, [
      el("td", { "data-label": "Email", text: invite.email }),
      el("td", { "data-label": "Role", text: UM.roleLabel(invite.role) }),
      el("td", { "data-label": "Organization", text: invite.organization ? invite.organization.name : "—" }),
      el("td", { "data-label": "Status", className: "status" }, [statusBadge(invite.status)]),
      el("td", { "data-label": "Expires", text: UM.formatDate(invite.expiresAt) })
    ]);
    row.appendChild(inviteActions(invite));
    return row;
  }

  function replaceInviteRow(invite) {
    var row = document.querySelector('#invites-table tr[data-invite-id="' + invite.id + '"]');
    if (row) row.replaceWith(inviteRow(invite));
  }

  function loadInvites() {
    return api("GET", "/api/invites/list?page=" + invitesPage + "&limit=" + INVITES_PER_PAGE).then(function (result) {
      var error = document.getElementById("invites-error");
      if (!result.ok) {
        error.textContent = result.body.message || "Could not load your invites.";
        return;
      }
      error.textContent = "";
      var body = document.querySelector("#invites-table tbody");
      body.textContent = "";
      result.body.invites.forEach(function (invite) { body.appendChild(inviteRow(invite)); });
      var pagination = result.body.pagination;
      invitesPages = Math.max(pagination.pages, 1);
      document.getElementById("invites-empty").hidden = pagination.total > 0;
      document.getElementById("invites-table").hidden = pagination.total === 0;
      document.getElementById("invites-page").textContent = "Page " + pagination.page + " of " + invitesPages;
      document.getElementById("invites-prev").disabled = invitesPage <= 1;
      document.getElementById("invites-next").disabled = invitesPage >= invitesPages;
    });
  }

  document.querySelector("#invites-table tbody").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    var row = button.closest("tr");
    var id = row.dataset.inviteId;
    var email = row.dataset.email;
    var action = button.dataset.action;
    if (action === "revoke" && !window.confirm("Revoke the invite of " + email + "? Its link stops working.")) return;
    button.disabled = true;
    var call = action === "revoke"
      ? api("DELETE", "/api/invites/" + encodeURIComponent(id) + "/revoke")
      : api("POST", "/api/invites/" + encodeURIComponent(id) + "/resend");
    call.then(function (result) {
      button.disabled = false;
      if (!result.ok) {
        UM.toast(result.body.message || "That did not work.", "error");
        return;
      }
      replaceInviteRow(result.body.invite);
      UM.toast(action === "revoke" ? "Invite of " + email + " revoked" : "Invite resent to " + email, "success");
    });
  });

  document.getElementById("invites-prev").addEventListener("click", function () {
    if (invitesPage > 1) { invitesPage -= 1; loadInvites(); }
  });
  document.getElementById("invites-next").addEventListener("click", function () {
    if (invitesPage < invitesPages) { invitesPage += 1; loadInvites(); }
  });

  /* --- organization and members (client_admin) -------------------------------------------------------------- */

  var organization = null;

  function loadOrganization() {
    return api("GET", "/api/organization").then(function (result) {
      if (!result.ok) return;
      organization = result.body.organization;
      document.getElementById("organization-name").value = organization.name;
      document.getElementById("organization-2fa").value = organization.twoFactorMethod || "otp";
      document.getElementById("organization-section").hidden = false;
      return loadMembers();
    });
  }

  document.getElementById("organization-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    UM.clearErrors(form);
    if (!UM.requireFields(form, ["name"])) return;
    var data = UM.formData(form);
    var body = {};
    if (data.name.trim() !== organization.name) body.name = data.name.trim();
    if (data.twoFactorMethod !== organization.twoFactorMethod) body.twoFactorMethod = data.twoFactorMethod;
    if (!Object.keys(body).length) {
      form.querySelector(".form-error").textContent = "Nothing changed.";
      return;
    }
    UM.setBusy(form, true);
    api("PUT", "/api/organization", body).then(function (result) {
      UM.setBusy(form, false);
      if (!result.ok) {
        UM.showErrors(form, result);
        return;
      }
      organization = result.body.organization;
      UM.toast("Organization updated", "success");
    });
  });

  function memberRow(member) {
    var name = (member.firstName + " " + member.lastName).trim();
    var actions = el("td", { className: "actions" });
    if (member.id !== user.id && member.role !== "client_admin") {
      actions.appendChild(el("button", {
        type: "button", className: "secondary small", "data-user-id": member.id,
        "data-active": String(member.isActive),
        "aria-label": (member.isActive ? "Deactivate " : "Reactivate ") + name,
        text: member.isActive ? "Deactivate" : "Reactivate"
      }));
    }
    return el("tr", { "data-user-id": member.id }, [
      el("td", { "data-label": "Name", text: name }),
      el("td", { "data-label": "Email", text: member.email }),
      el("td", { "data-label": "Role", text: UM.roleLabel(member.role) }),
      el("td", { "data-label": "Status" }, [statusBadge(member.isActive ? "active" : "deactivated")]),
      actions
    ]);
  }

  function loadMembers() {
    return api("GET", "/api/organization/members?limit=100").then(function (result) {
      if (!result.ok) return;
      var body = document.querySelector("#members-table tbody");
      body.textContent = "";
      result.body.members.forEach(function (member) { body.appendChild(memberRow(member)); });
    });
  }

  document.querySelector("#members-table tbody").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-user-id]");
    if (!button) return;
    var activate = button.dataset.active !== "true";
    var row = button.closest("tr");
    var name = row.querySelector("td").textContent;
    if (!activate && !window.confirm("Deactivate " + name + "? They are signed out at once.")) return;
    button.disabled = true;
    api("PATCH", "/api/users/" + encodeURIComponent(button.dataset.userId) + "/status", { isActive: activate })
      .then(function (result) {
        button.disabled = false;
        if (!result.ok) {
          UM.toast(result.body.message || "That did not work.", "error");
          return;
        }
        row.replaceWith(memberRow(result.body.user));
        UM.toast(name + (activate ? " reactivated" : " deactivated"), "success");
      });
  });

  /* --- audit log (only when the API has it and the role may read it) --------------------------------------- */

  function loadAudit() {
    return api("GET", "/api/audit?limit=20").then(function (result) {
      if (result.status !== 200) return;
      var body = document.querySelector("#audit-table tbody");
      body.textContent = "";
      (result.body.events || []).forEach(function (item) {
        body.appendChild(el("tr", {}, [
          el("td", { "data-label": "When", text: UM.formatDate(item.createdAt) }),
          el("td", { "data-label": "Event", text: item.type }),
          el("td", { "data-label": "By", text: partyLabel(item.actor) }),
          el("td", { "data-label": "On", text: partyLabel(item.target) }),
          el("td", { "data-label": "IP", text: item.ip || "—" })
        ]));
      });
      document.getElementById("audit-section").hidden = false;
    });
  }

  /* An audit event's actor or target: the email, or only a role for someone outside the organization. */
  function partyLabel(party) {
    if (!party) return "—";
    return party.email || party.id || (party.role ? UM.roleLabel(party.role) + " (staff)" : "Staff");
  }

  /* --- live updates ----------------------------------------------------------------------------------------- */

  function connectSocket() {
    if (!window.io || !UM.settings.notificationsUrl) return;
    // auth as a function: every (re)connection presents the current access token.
    socket = window.io(UM.settings.notificationsUrl, {
      auth: function (callback) { callback({ token: accessToken }); },
      reconnectionDelayMax: 30000
    });
    socket.on("connect", function () {
      socketRetry = 2000;
      document.body.dataset.live = "on";
    });
    // The server ends a socket whose token expired or was revoked, saying why first (docs/notifications.md):
    // refresh and connect again; a session that cannot be refreshed (signed out everywhere, deactivated) signs in.
    var endedReason = null;
    socket.on("sessionEnded", function (info) { endedReason = info && info.reason; });
    socket.on("disconnect", function (reason) {
      document.body.dataset.live = "off";
      if (reason !== "io server disconnect") return;  // a transport problem: the client reconnects by itself
      var stillFresh = endedReason === "token_expired" && tokenExpiry(accessToken) - Date.now() > 30 * 1000;
      endedReason = null;
      (stillFresh ? Promise.resolve(true) : refresh()).then(function (ok) {
        if (ok) socket.connect(); else toLogin();
      });
    });
    socket.on("connect_error", function () {
      document.body.dataset.live = "off";
      if (socket.active) return;  // a transport problem: the client retries by itself
      // Refused by the server (expired or revoked token, say): refresh, then try again, backing off.
      setTimeout(function () {
        refresh().then(function (ok) { if (ok) socket.connect(); else toLogin(); });
      }, socketRetry);
      socketRetry = Math.min(socketRetry * 2, 60000);
    });
    socket.on("notification", function (payload) {
      var kind = payload && payload.type === "inviteAccepted" ? "success" : "info";
      UM.toast(payload && payload.message ? payload.message : "You have a new notification", kind);
    });
    socket.on("inviteStatusUpdate", function (update) {
      var row = document.querySelector('#invites-table tr[data-invite-id="' + update.inviteId + '"]');
      if (row) {
        // Refetch the page so the row (status and its actions) matches the server exactly.
        loadInvites().then(function () { announce("Invite of " + update.email + " is now " + update.status); });
      }
      if (!document.getElementById("audit-section").hidden) loadAudit();
    });
  }

  document.getElementById("logout").addEventListener("click", function () {
    if (socket) socket.disconnect();
    UM.sessionCall("/logout").then(toLogin);
  });

  /* --- start ------------------------------------------------------------------------------------------------ */

  refresh().then(function (ok) {
    if (!ok) {
      toLogin();
      return;
    }
    renderProfile();
    setUpInviteForm();
    var loads = [loadInvites(), loadAudit()];
    if (user.role === "client_admin") loads.push(loadOrganization());
    return Promise.all(loads).then(function () {
      document.getElementById("console-loading").hidden = true;
      document.getElementById("console").hidden = false;
      document.getElementById("session-box").hidden = false;
      document.getElementById("console-title").focus();
      connectSocket();
    });
  });
})();
