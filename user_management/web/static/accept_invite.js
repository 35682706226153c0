/* Accept an invite: show who invited you, to which role and organization; create the account. */
(function () {
  "use strict";
  var UM = window.UM;
  var SECTIONS = ["invite-loading", "invite-card", "invite-done", "invite-gone"];
  var token = UM.queryParam("token");
  var form = document.getElementById("accept-form");
  var checkPassword = UM.watchPassword(form);

  function gone(title, message, help) {
    document.getElementById("gone-title").textContent = title;
    document.getElementById("gone-message").textContent = message;
    if (help !== undefined) document.getElementById("gone-help").textContent = help;
    document.title = title + " · User Management";
    UM.showOnly(SECTIONS, "invite-gone", "gone-title");
  }

  function showFailure(result) {
    var message = result.body.message || "";
    if (result.status === 410) {
      var title = "This invite can no longer be used";
      if (/expired/i.test(message)) title = "This invite has expired";
      else if (/already been used/i.test(message)) title = "This invite has already been used";
      else if (/revoked/i.test(message)) title = "This invite has been revoked";
      else if (/replaced|superseded|newer/i.test(message)) title = "This invite link was replaced by a newer one";
      var help = /already been used/i.test(message)
        ? "If you created the account, sign in with it. Otherwise ask for a new invite."
        : /replaced|superseded|newer/i.test(message)
          ? "Open the link in the newest invite email you received."
          : "Ask the person who invited you to send a new invite.";
      gone(title, message, help);
    } else if (result.status === 404) {
      gone("This invite link is not valid", "Check that you opened the whole link from the email.");
    } else if (result.status === 429) {
      gone("Too many attempts", "Please wait " + UM.waitWords(result.retryAfter) + ", then open the link again.", "");
    } else {
      gone("The invite could not be loaded", message || "Please try again later.", "");
    }
  }

  function show(invite) {
    document.getElementById("invite-inviter").textContent = invite.invitedBy || "—";
    document.getElementById("invite-role").textContent = UM.roleLabel(invite.role);
    var hasOrganization = Boolean(invite.organizationName);
    document.getElementById("invite-organization").textContent = invite.organizationName || "";
    document.getElementById("invite-organization").hidden = !hasOrganization;
    document.getElementById("invite-organization-label").hidden = !hasOrganization;
    document.getElementById("invite-email").textContent = invite.email;
    document.getElementById("invite-expires").textContent = UM.formatDate(invite.expiresAt);
    document.getElementById("invite-title").textContent = hasOrganization
      ? "Join " + invite.organizationName : "Join User Management";
    document.getElementById("done-email").textContent = invite.email;
    UM.showOnly(SECTIONS, "invite-card", "invite-title");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    UM.clearErrors(form);
    if (!UM.requireFields(form, ["firstName", "lastName", "password"]) || !checkPassword()) return;
    var data = UM.formData(form);
    UM.setBusy(form, true);
    UM.request("POST", "/api/invites/accept", {
      body: { token: token, firstName: data.firstName.trim(), lastName: data.lastName.trim(), password: data.password }
    }).then(function (result) {
      UM.setBusy(form, false);
      if (result.status === 201) {
        UM.showOnly(SECTIONS, "invite-done", "done-title");
      } else if (result.status === 410 || result.status === 404) {
        showFailure(result);
      } else {
        UM.showErrors(form, result);
      }
    });
  });

  if (!token) {
    gone("This invite link is not valid", "The link has no invite token; open the whole link from the email.");
    return;
  }
  UM.request("GET", "/api/invites/details/" + encodeURIComponent(token)).then(function (result) {
    document.getElementById("invite-loading").removeAttribute("aria-busy");
    if (result.ok) show(result.body.invite);
    else showFailure(result);
  });
})();
