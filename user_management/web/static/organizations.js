/* Organizations (staff): search, filter by status, open one, deactivate or reactivate it. */
(function () {
  "use strict";
  var UM = window.UM;
  var S = UM.signedIn;
  var el = UM.el;

  function filters() {
    var data = UM.formData(document.getElementById("organizations-filter"));
    return { search: data.search.trim(), status: data.status };
  }

  function organizationRow(organization) {
    return el("tr", { "data-organization-id": organization.id, "data-members": organization.memberCount,
                      "data-pending": organization.pendingInviteCount }, [
      el("td", { "data-label": "Name" }, [el("a", { href: "/organizations/" + encodeURIComponent(organization.id),
                                                    text: organization.name })]),
      el("td", { "data-label": "Second factor", text: UM.methodLabel(organization.twoFactorMethod) }),
      el("td", { "data-label": "Members", text: String(organization.memberCount) }),
      el("td", { "data-label": "Pending invites", text: String(organization.pendingInviteCount) }),
      el("td", { "data-label": "Status", className: "status" },
         [UM.badge(organization.isActive ? "active" : "deactivated", organization.isActive ? "Active" : "Deactivated")]),
      el("td", { "data-label": "Created", text: UM.formatDate(organization.createdAt) }),
      el("td", { "data-label": "Actions", className: "actions" }, [S.organizationToggle(organization)])
    ]);
  }

  var organizations = S.list({ prefix: "organizations", path: "/api/organizations", key: "organizations",
                               query: filters, row: organizationRow });

  document.querySelector("#organizations-table tbody").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-active]");
    if (!button) return;
    var row = button.closest("tr");
    S.toggleOrganization(button).then(function (organization) {
      if (!organization) return;
      // The answer has no counts; keep the row's.
      row.replaceWith(organizationRow(Object.assign({ memberCount: row.dataset.members,
                                                      pendingInviteCount: row.dataset.pending }, organization)));
    });
  });

  S.start(function () {
    return organizations.load().then(function () {
      S.live({ inviteStatusUpdate: organizations.reload });
    });
  });
})();
