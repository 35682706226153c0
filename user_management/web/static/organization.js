/* One organization (staff): its details, members and invites; deactivate or reactivate it.
   Members and invites follow live events, fetched again at most once every 2 s. */
(function () {
  "use strict";
  var UM = window.UM;
  var S = UM.signedIn;
  var el = UM.el;
  var id = decodeURIComponent(window.location.pathname.split("/").pop());
  var base = "/api/organizations/" + encodeURIComponent(id);

  function statusBadge(active) {
    return UM.badge(active ? "active" : "deactivated", active ? "Active" : "Deactivated");
  }

  function render(organization) {
    document.getElementById("page-title").textContent = organization.name;
    document.title = organization.name + " · User Management";
    var status = document.getElementById("organization-status");
    status.textContent = "";
    status.appendChild(statusBadge(organization.isActive));
    document.getElementById("organization-2fa").textContent = UM.methodLabel(organization.twoFactorMethod);
    document.getElementById("organization-created").textContent = UM.formatDate(organization.createdAt);
    var old = document.getElementById("organization-toggle");
    var toggle = S.organizationToggle(organization);
    toggle.id = "organization-toggle";
    toggle.className = "secondary";
    old.replaceWith(toggle);
    document.getElementById("organization-card").hidden = false;
  }

  var members = S.list({ prefix: "members", path: base + "/members", key: "members", row: function (member) {
    return el("tr", {}, [
      el("td", { "data-label": "Name", text: (member.firstName + " " + member.lastName).trim() }),
      el("td", { "data-label": "Email", text: member.email }),
      el("td", { "data-label": "Role", text: UM.roleLabel(member.role) }),
      el("td", { "data-label": "Status" }, [statusBadge(member.isActive)]),
      el("td", { "data-label": "Last sign-in", text: UM.timeAgo(member.lastLoginAt) })
    ]);
  } });

  var invites = S.list({ prefix: "invites", path: "/api/invites/list", key: "invites",
                         query: function () { return { organizationId: id }; }, row: function (invite) {
    return el("tr", { "data-invite-id": invite.id }, [
      el("td", { "data-label": "Email", text: invite.email }),
      el("td", { "data-label": "Role", text: UM.roleLabel(invite.role) }),
      el("td", { "data-label": "Status", className: "status" }, [UM.badge(invite.status)]),
      el("td", { "data-label": "Expires", text: UM.formatDate(invite.expiresAt) })
    ]);
  } });

  document.getElementById("organization-card").addEventListener("click", function (event) {
    var button = event.target.closest("#organization-toggle");
    if (!button) return;
    S.toggleOrganization(button).then(function (organization) {
      if (organization) {
        render(organization);
        members.reload();
        document.getElementById("organization-toggle").focus();
      }
    });
  });

  S.start(function () {
    return S.api("GET", base).then(function (result) {
      if (!result.ok) {
        document.getElementById("page-title").textContent = "Organization not found";
        document.getElementById("organization-error").textContent =
          result.body.message || "This organization could not be loaded.";
        return;
      }
      render(result.body.organization);
      document.getElementById("members-section").hidden = false;
      document.getElementById("invites-section").hidden = false;
      return Promise.all([members.load(), invites.load()]).then(function () {
        S.live({
          inviteStatusUpdate: function (update) {
            if (update.organization && update.organization !== id && update.organization.id !== id) return;
            invites.reload();
            if (update.status === "accepted") members.reload();
          }
        });
      });
    });
  });
})();
