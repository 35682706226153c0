/* Users: search and filter the people you manage; deactivate or reactivate, unlock, reset the second factor.
   Staff see everyone, a client_admin the organization's members; the API decides, this page only asks. */
(function () {
  "use strict";
  var UM = window.UM;
  var S = UM.signedIn;
  var el = UM.el;
  var me = null;

  function manageable(person) {
    var rank = UM.settings.roleRank || {};
    return person.id !== me.id && rank[me.role] > rank[person.role];
  }

  function statusOf(person) {
    if (!person.isActive) return ["deactivated", "Deactivated"];
    if (person.locked) return ["locked", "Locked"];
    return ["active", "Active"];
  }

  function actionButton(action, text, name) {
    return el("button", { type: "button", className: "secondary small", "data-action": action,
                          "aria-label": text + " " + name, text: text });
  }

  function userRow(person) {
    var name = (person.firstName + " " + person.lastName).trim();
    var status = statusOf(person);
    var actions = el("td", { className: "actions", "data-label": "Actions" });
    if (manageable(person)) {
      actions.appendChild(actionButton(person.isActive ? "deactivate" : "reactivate",
                                       person.isActive ? "Deactivate" : "Reactivate", name));
      if (person.locked) actions.appendChild(actionButton("unlock", "Unlock", name));
      if (person.totpEnabled || person.twoFactorMethod) actions.appendChild(actionButton("reset", "Reset 2FA", name));
    }
    return el("tr", { "data-user-id": person.id, "data-name": name }, [
      el("td", { "data-label": "Name", text: name }),
      el("td", { "data-label": "Email", text: person.email }),
      el("td", { "data-label": "Role", text: UM.roleLabel(person.role) }),
      el("td", { "data-label": "Organization", text: person.organizationName || "—" }),
      el("td", { "data-label": "Status", className: "status" }, [UM.badge(status[0], status[1])]),
      el("td", { "data-label": "Second factor",
                 text: person.totpEnabled ? "Authenticator app" : (UM.methodLabel(person.twoFactorMethod)) }),
      actions
    ]);
  }

  var ACTIONS = {
    deactivate: { method: "PATCH", path: "/status", body: { isActive: false }, done: "{name} deactivated",
                  confirm: { title: "Deactivate {name}?", confirm: "Deactivate",
                             text: "They are signed out at once and cannot sign in until reactivated." } },
    reactivate: { method: "PATCH", path: "/status", body: { isActive: true }, done: "{name} reactivated" },
    unlock: { method: "POST", path: "/unlock", done: "{name} unlocked" },
    reset: { method: "POST", path: "/reset-two-factor", done: "Second factor of {name} reset",
             confirm: { title: "Reset the second factor of {name}?", confirm: "Reset 2FA",
                        text: "Their authenticator and recovery codes stop working and they are signed out; " +
                              "they set it up again at their next sign-in." } }
  };

  function named(text, name) {
    return text.replace("{name}", name);
  }

  function filters() {
    var data = UM.formData(document.getElementById("users-filter"));
    return { search: data.search.trim(), role: data.role, status: data.status, organizationId: data.organizationId };
  }

  var users = S.list({ prefix: "users", path: "/api/users", key: "users", query: filters, row: userRow });

  document.querySelector("#users-table tbody").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    var row = button.closest("tr");
    var name = row.dataset.name;
    var action = ACTIONS[button.dataset.action];
    var asked = action.confirm
      ? UM.confirmAction({ title: named(action.confirm.title, name), text: action.confirm.text,
                           confirm: action.confirm.confirm })
      : Promise.resolve(true);
    asked.then(function (confirmed) {
      if (!confirmed) return;
      button.disabled = true;
      S.api(action.method, "/api/users/" + encodeURIComponent(row.dataset.userId) + action.path, action.body)
        .then(function (result) {
          button.disabled = false;
          if (!result.ok) {
            S.failed(result);
            return;
          }
          row.replaceWith(userRow(Object.assign({ organizationName: row.children[3].textContent.replace("—", "") },
                                                result.body.user)));
          UM.toast(named(action.done, name), "success");
        });
    });
  });

  function loadOrganizations() {
    return S.api("GET", "/api/organizations?limit=100").then(function (result) {
      if (!result.ok) return;
      var select = document.getElementById("users-organization");
      result.body.organizations.forEach(function (organization) {
        select.appendChild(el("option", { value: organization.id, text: organization.name }));
      });
      document.getElementById("users-organization-field").hidden = false;
    });
  }

  S.start(function (user) {
    me = user;
    var staff = UM.isStaff(me.role);
    document.getElementById("users-scope").textContent = staff
      ? "Everyone on the platform." : "The members of your organization.";
    var organizationId = UM.queryParam("organizationId");
    return Promise.all([users.load(), staff ? loadOrganizations() : null]).then(function () {
      if (organizationId) {
        document.getElementById("users-organization").value = organizationId;
        users.first();
      }
      S.live({ inviteStatusUpdate: function (update) { if (update.status === "accepted") users.reload(); } });
    });
  });
})();
