/* The console: profile, the invite form, your invites (filtered, live), your organization and its members (live).
   Live events change rows in place; when a list must be fetched again, at most one fetch per list every 2 s. */
(function () {
  "use strict";
  var UM = window.UM;
  var user = null;
  var invites = {};          // the invites on screen, by id
  var S = UM.signedIn;
  var el = UM.el;
  var api = S.api;
  var organization = null;

  function announce(message) {
    document.getElementById("live-status").textContent = message;
  }

  /* --- profile and invite form ------------------------------------------------------------------------------ */

  function renderProfile() {
    document.getElementById("profile-name").textContent = (user.firstName + " " + user.lastName).trim();
    document.getElementById("profile-email").textContent = user.email;
    document.getElementById("profile-role").textContent = UM.roleLabel(user.role);
    document.getElementById("profile-2fa").textContent =
      user.organization ? "Set by your organization" : (user.twoFactorMethod ? UM.methodLabel(user.twoFactorMethod) : "Off");
    document.getElementById("profile-last-login").textContent = UM.timeAgo(user.lastLoginAt);
  }

  function setUpInviteForm() {
    var roles = (UM.settings.invitableRoles || {})[user.role] || [];
    document.getElementById("invite-section").hidden = roles.length === 0;
    document.getElementById("invites-section").hidden = roles.length === 0;
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
    UM.onSubmit(form, {
      send: function (data) {
        var body = { email: data.email.trim(), role: data.role };
        if (data.role === "client_admin") body.organizationName = data.organizationName.trim();
        return api("POST", "/api/invites/create", body);
      },
      done: function (body) {
        form.reset();
        syncOrganization();
        UM.toast("Invite sent to " + body.invite.email, "success");
        inviteList.first();
        document.getElementById("invite-email").focus();
      }
    });
  }

  /* --- invites ---------------------------------------------------------------------------------------------- */

  function actionButton(action, label, text) {
    return el("button", { type: "button", className: "secondary small", "data-action": action, "aria-label": label,
                          text: text });
  }

  function inviteActions(invite) {
    var cell = el("td", { className: "actions", "data-label": "Actions" });
    if (invite.status === "pending") {
      cell.appendChild(actionButton("revoke", "Revoke the invite of " + invite.email, "Revoke"));
      cell.appendChild(actionButton("resend", "Resend the invite to " + invite.email, "Resend"));
    }
    if (invite.status === "revoked" || invite.status === "expired") {
      cell.appendChild(actionButton("reinvite", "Invite " + invite.email + " again", "Re-invite"));
    }
    return cell;
  }

  function inviteRow(invite) {
    invites[invite.id] = invite;
    return el("tr", { "data-invite-id": invite.id, "data-email": invite.email }, [
      el("td", { "data-label": "Email", text: invite.email }),
      el("td", { "data-label": "Role", text: UM.roleLabel(invite.role) }),
      el("td", { "data-label": "Organization", text: invite.organization ? invite.organization.name : "—" }),
      el("td", { "data-label": "Status", className: "status" }, [UM.badge(invite.status)]),
      el("td", { "data-label": "Expires", text: UM.formatDate(invite.expiresAt) }),
      inviteActions(invite)
    ]);
  }

  function replaceInviteRow(invite) {
    var row = document.querySelector('#invites-table tr[data-invite-id="' + invite.id + '"]');
    if (row) row.replaceWith(inviteRow(invite));
  }

  function invitesFilters() {
    var data = UM.formData(document.getElementById("invites-filter"));
    return { search: data.search.trim(), status: data.status };
  }

  var inviteList = S.list({ prefix: "invites", path: "/api/invites/list", key: "invites", query: invitesFilters,
                            row: inviteRow });

  var INVITE_ACTIONS = {
    revoke: { method: "DELETE", path: "/revoke", done: "Invite of {email} revoked",
              confirm: { title: "Revoke this invite?", text: "The invite of {email} is revoked: its link stops working.",
                         confirm: "Revoke invite" } },
    resend: { method: "POST", path: "/resend", done: "Invite resent to {email}" },
    reinvite: { method: "POST", path: "/reinvite", done: "A new invite was sent to {email}" }
  };

  function fill(text, email) {
    return text.replace("{email}", email);
  }

  document.querySelector("#invites-table tbody").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    var row = button.closest("tr");
    var id = row.dataset.inviteId;
    var email = row.dataset.email;
    var action = INVITE_ACTIONS[button.dataset.action];
    var asked = action.confirm ? UM.confirmAction({ title: action.confirm.title, text: fill(action.confirm.text, email),
                                                    confirm: action.confirm.confirm })
                               : Promise.resolve(true);
    asked.then(function (confirmed) {
      if (!confirmed) return;
      button.disabled = true;
      api(action.method, "/api/invites/" + encodeURIComponent(id) + action.path).then(function (result) {
        button.disabled = false;
        if (!result.ok) {
          S.failed(result);
          return;
        }
        if (button.dataset.action === "reinvite") inviteList.reload();
        else replaceInviteRow(result.body.invite);
        UM.toast(fill(action.done, email), "success");
      });
    });
  });

  /* An invite changed (created, accepted, revoked, resent): a row on screen changes in place without a request;
     an invite not on screen may belong on this page, so the list is fetched again, coalesced. */
  function inviteChanged(update) {
    var invite = invites[update.inviteId];
    if (invite) {
      invite.status = update.status;
      replaceInviteRow(invite);
      announce("Invite of " + update.email + " is now " + update.status);
    } else if (!document.getElementById("invites-section").hidden) {
      inviteList.reload();
    }
    if (update.status === "accepted" && organization) reloadMembers();
  }

  /* --- organization and members (client_admin edits, client_user reads) ------------------------------------- */

  function loadOrganization() {
    return api("GET", "/api/organization").then(function (result) {
      if (!result.ok) return;
      organization = result.body.organization;
      var editable = user.role === "client_admin";
      document.getElementById("organization-form").hidden = !editable;
      document.getElementById("organization-facts").hidden = editable;
      document.getElementById("organization-name").value = organization.name;
      document.getElementById("organization-2fa").value = organization.twoFactorMethod || "otp";
      document.getElementById("organization-name-text").textContent = organization.name;
      document.getElementById("organization-2fa-text").textContent = UM.methodLabel(organization.twoFactorMethod);
      document.getElementById("organization-section").hidden = false;
      return loadMembers();
    });
  }

  var twoFactorSelect = document.getElementById("organization-2fa");
  twoFactorSelect.addEventListener("change", function () {
    document.getElementById("totp-warning").hidden =
      !(twoFactorSelect.value === "totp" && organization && organization.twoFactorMethod !== "totp");
  });

  var organizationForm = document.getElementById("organization-form");
  var organizationChanges = {};
  UM.onSubmit(organizationForm, {
    required: ["name"],
    send: function (data) {
      var body = {};
      if (data.name.trim() !== organization.name) body.name = data.name.trim();
      if (data.twoFactorMethod !== organization.twoFactorMethod) body.twoFactorMethod = data.twoFactorMethod;
      if (!Object.keys(body).length) {
        organizationForm.querySelector(".form-error").textContent = "Nothing changed.";
        return null;
      }
      organizationChanges = body;
      var asked = body.twoFactorMethod === "totp"
        ? UM.confirmAction({ title: "Require an authenticator app?",
                             text: "Every member, you included, must set up an authenticator app at their next sign-in.",
                             confirm: "Require it" })
        : Promise.resolve(true);
      return asked.then(function (confirmed) {
        return confirmed ? api("PUT", "/api/organization", organizationChanges)
                         : { ok: false, status: 0, body: { message: "Nothing was changed." } };
      });
    },
    done: function (body) {
      organization = body.organization;
      document.getElementById("totp-warning").hidden = true;
      UM.toast("Organization updated", "success");
    }
  });

  function memberRow(member) {
    var name = (member.firstName + " " + member.lastName).trim();
    var actions = el("td", { className: "actions", "data-label": "Actions" });
    if (user.role === "client_admin" && member.id !== user.id && member.role !== "client_admin") {
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
      el("td", { "data-label": "Status" }, [UM.badge(member.isActive ? "active" : "deactivated")]),
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

  var reloadMembers = UM.coalesce(loadMembers, 2000);

  document.querySelector("#members-table tbody").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-user-id]");
    if (!button) return;
    var activate = button.dataset.active !== "true";
    var row = button.closest("tr");
    var name = row.querySelector("td").textContent;
    var asked = activate ? Promise.resolve(true) : UM.confirmAction({
      title: "Deactivate " + name + "?", text: "They are signed out at once and cannot sign in until reactivated.",
      confirm: "Deactivate" });
    asked.then(function (confirmed) {
      if (!confirmed) return;
      button.disabled = true;
      api("PATCH", "/api/users/" + encodeURIComponent(button.dataset.userId) + "/status", { isActive: activate })
        .then(function (result) {
          button.disabled = false;
          if (!result.ok) {
            S.failed(result);
            return;
          }
          row.replaceWith(memberRow(result.body.user));
          UM.toast(name + (activate ? " reactivated" : " deactivated"), "success");
        });
    });
  });

  /* --- start ------------------------------------------------------------------------------------------------ */

  S.start(function (signedInUser) {
    user = signedInUser;
    renderProfile();
    setUpInviteForm();
    var loads = [];
    if (!document.getElementById("invites-section").hidden) loads.push(inviteList.load());
    if (user.organization) loads.push(loadOrganization());
    return Promise.all(loads).then(function () {
      S.live({
        inviteStatusUpdate: inviteChanged,
        notification: function (payload) {
          if (payload.type === "inviteAccepted" && organization) reloadMembers();
        }
      });
    });
  });
})();
