/* The audit log: filter by person, event and dates; page through; event names in words. New events arrive
   with invite changes: the page is fetched again, at most once every 2 s however many events come. */
(function () {
  "use strict";
  var UM = window.UM;
  var S = UM.signedIn;
  var el = UM.el;

  var EVENTS = {
    "login.success": "Signed in",
    "login.failure": "Sign-in failed",
    "account.locked": "Account locked",
    "two_factor.success": "Second factor passed",
    "two_factor.failure": "Second factor failed",
    "two_factor.reset": "Second factor reset",
    "two_factor.foreign_client_refused": "Second factor from another device refused",
    "refresh_token.reuse_detected": "Stolen session detected and ended",
    "refresh_token.revoked_presented": "Ended session used again",
    "logout.all": "Signed out everywhere",
    "password.reset": "Password reset by email",
    "password.changed": "Password changed",
    "password.current_password_failure": "Wrong current password",
    "invite.created": "Invite sent",
    "invite.accepted": "Invite accepted",
    "invite.revoked": "Invite revoked",
    "invite.resent": "Invite resent",
    "user.deactivated": "User deactivated",
    "user.reactivated": "User reactivated",
    "user.unlocked": "User unlocked",
    "organization.two_factor_method_changed": "Organization's second factor changed",
    "organization.deactivated": "Organization deactivated",
    "organization.reactivated": "Organization reactivated",
    "passkey.registered": "Passkey added",
    "passkey.used": "Signed in with a passkey",
    "passkey.removed": "Passkey removed"
  };

  function eventLabel(type) {
    if (EVENTS[type]) return EVENTS[type];
    var words = type.replace(/[._]/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  /* An event's actor or target: the email, or only a role for someone outside the organization. */
  function partyLabel(party) {
    if (!party) return "—";
    return party.email || party.id || (party.role ? UM.roleLabel(party.role) + " (staff)" : "Staff");
  }

  var form = document.getElementById("audit-search");
  var userId = "";

  function filters() {
    var data = UM.formData(form);
    var range = {};
    // Dates are the viewer's local days: from its first moment to its last.
    if (data.from) range.from = new Date(data.from + "T00:00:00").toISOString();
    if (data.to) range.to = new Date(data.to + "T23:59:59.999").toISOString();
    return Object.assign({ type: data.type, user: userId }, range);
  }

  var events = S.list({ prefix: "audit", path: "/api/audit", key: "events", query: filters, row: function (item) {
    return el("tr", { "data-type": item.type }, [
      el("td", { "data-label": "When" }, [el("time", { datetime: item.createdAt, title: UM.formatDate(item.createdAt),
                                                       text: UM.timeAgo(item.createdAt) })]),
      el("td", { "data-label": "Event", text: eventLabel(item.type) }),
      el("td", { "data-label": "By", text: partyLabel(item.actor) }),
      el("td", { "data-label": "On", text: item.target ? partyLabel(item.target) : (item.details || {}).email || "—" }),
      el("td", { "data-label": "IP", text: item.ip || "—" })
    ]);
  } });

  /* The person filter takes an email; the API filters by id, so the email is looked up among the users the
     viewer may list (staff: everyone; client_admin: the organization). */
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    UM.clearErrors(form);
    var person = UM.formData(form).person.trim();
    var found = person
      ? S.api("GET", "/api/users?limit=5&search=" + encodeURIComponent(person)).then(function (result) {
        var users = result.ok ? result.body.users : [];
        var match = users.filter(function (user) { return user.email === person.toLowerCase(); })[0] || users[0];
        return match ? match.id : null;
      })
      : Promise.resolve("");
    found.then(function (id) {
      if (id === null) {
        UM.setFieldError(form, "person", "No one with this email.");
        form.querySelector(".form-error").textContent = "No one with this email.";
        return;
      }
      userId = id;
      events.first();
    });
  });

  var select = document.getElementById("audit-type");
  (UM.settings.auditEventTypes || []).map(function (type) { return [type, eventLabel(type)]; })
    .sort(function (a, b) { return a[1].localeCompare(b[1]); })
    .forEach(function (pair) { select.appendChild(el("option", { value: pair[0], text: pair[1] })); });

  S.start(function () {
    return events.load().then(function () {
      S.live({ inviteStatusUpdate: events.reload });
    });
  });
})();
