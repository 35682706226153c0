/* The signed-in pages' shared part: the access token (only in this closure; the refresh token is an HttpOnly
   cookie), API calls that refresh once on 401 and wait out a 429 by themselves, the navigation and "Sign out",
   the confirmation dialog, and the live connection to notifications (which ends the page when the session ends). */
(function () {
  "use strict";
  var UM = window.UM;
  var accessToken = null;
  var refreshTimer = null;
  var socket = null;
  var socketRetry = 2000;
  var user = null;
  var waits = 0;                      // reads waiting out a 429
  var replacing = Promise.resolve();  // a request that replaces this session's cookie (a password change)

  var leaving = false;

  /* Go to sign-in, once: a sign-out and the socket's sessionEnded may both ask, and a second navigation would
     abort the first. */
  function toLogin() {
    if (leaving) return;
    leaving = true;
    window.location.replace("/login");
  }

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

  /* The "please wait" banner of a 429: the wait in words; it goes away when the wait is over. */
  function showWait(retryAfter) {
    var banner = document.getElementById("wait-banner");
    banner.textContent = UM.tooManyRequests(retryAfter);
    banner.hidden = false;
  }

  function hideWait() {
    var banner = document.getElementById("wait-banner");
    banner.hidden = true;
    banner.textContent = "";
  }

  function send(method, path, body) {
    return UM.request(method, path, { token: accessToken, body: body });
  }

  /* An API call with the access token: on 401 refresh once and retry (or go to sign-in). A 429 on a read waits
     for Retry-After and tries again by itself; a 429 on a change is returned (the form says how long to wait). */
  function api(method, path, body) {
    return send(method, path, body).then(function (result) {
      if (result.status === 401) {
        return refresh().then(function (ok) {
          if (!ok) {
            toLogin();
            return result;
          }
          return send(method, path, body);
        });
      }
      if (result.status === 429 && method === "GET") {
        waits += 1;
        showWait(result.retryAfter);
        return new Promise(function (resolve) {
          setTimeout(function () { resolve(api(method, path, body)); },
                     Math.max(1, Number(result.retryAfter) || 60) * 1000);
        }).then(function (retried) {
          waits -= 1;
          if (!waits) hideWait();
          return retried;
        });
      }
      return result;
    });
  }

  /* A failed change as a toast (a 429 in words). */
  function failed(result, fallback) {
    if (result.status === 429) {
      UM.toast("Too many requests. Please wait " + UM.waitWords(result.retryAfter) + ", then try again.", "error");
      return;
    }
    UM.toast(result.body.message || fallback || "That did not work.", "error");
  }

  function renderChrome() {
    var name = (user.firstName + " " + user.lastName).trim();
    document.getElementById("whoami").textContent = name + " · " + UM.roleLabel(user.role);
    document.querySelectorAll("#main-nav li[data-roles]").forEach(function (item) {
      item.hidden = item.dataset.roles.split(" ").indexOf(user.role) < 0;
    });
    document.getElementById("session-box").hidden = false;
  }

  /* --- live updates --------------------------------------------------------------------------------------- */

  /* Connect to notifications; `handlers` maps event names to functions. The server ends a socket whose token
     expired or was revoked, saying why first (docs/notifications.md): refresh and connect again, or sign in
     again when the session cannot be refreshed (signed out everywhere, that session ended, deactivated). */
  function live(handlers) {
    if (!window.io || !UM.settings.notificationsUrl) return;
    socket = window.io(UM.settings.notificationsUrl, {
      auth: function (callback) { callback({ token: accessToken }); },
      reconnectionDelayMax: 30000
    });
    var endedReason = null;
    socket.on("connect", function () {
      socketRetry = 2000;
      document.body.dataset.live = "on";
    });
    socket.on("sessionEnded", function (info) { endedReason = info && info.reason; });
    socket.on("disconnect", function (reason) {
      document.body.dataset.live = "off";
      if (reason !== "io server disconnect") return;  // a transport problem: the client reconnects by itself
      var stillFresh = endedReason === "token_expired" && tokenExpiry(accessToken) - Date.now() > 30 * 1000;
      endedReason = null;
      // A password change ends the old session while its answer (the new cookie) is on its way: wait for it.
      (stillFresh ? Promise.resolve(true) : replacing.then(refresh)).then(function (ok) {
        if (ok) socket.connect(); else toLogin();
      });
    });
    socket.on("connect_error", function () {
      document.body.dataset.live = "off";
      if (socket.active) return;  // a transport problem: the client retries by itself
      setTimeout(function () {
        replacing.then(refresh).then(function (ok) { if (ok) socket.connect(); else toLogin(); });
      }, socketRetry);
      socketRetry = Math.min(socketRetry * 2, 60000);
    });
    socket.on("notification", function (payload) {
      var kind = payload && payload.type === "inviteAccepted" ? "success" : "info";
      UM.toast(payload && payload.message ? payload.message : "You have a new notification", kind);
      if (handlers.notification) handlers.notification(payload || {});
    });
    Object.keys(handlers).forEach(function (name) {
      if (name !== "notification") socket.on(name, handlers[name]);
    });
  }

  /* --- lists ---------------------------------------------------------------------------------------------- */

  /* A paged table: `options.prefix` names its elements (<prefix>-table, -empty, -error, -prev, -next, -page),
     `options.path` the API list, `options.key` the list's field in the answer, `options.query()` the filters,
     `options.row(item)` a <tr>. Returns {load, reload (coalesced: live events), first (back to page 1)}. */
  function list(options) {
    var prefix = options.prefix;
    var page = 1;
    var pages = 1;
    var byId = function (suffix) { return document.getElementById(prefix + "-" + suffix); };

    function load() {
      var query = new URLSearchParams({ page: page, limit: options.limit || 20 });
      var filters = options.query ? options.query() : {};
      Object.keys(filters).forEach(function (name) { if (filters[name]) query.set(name, filters[name]); });
      return api("GET", options.path + "?" + query.toString()).then(function (result) {
        var error = byId("error");
        if (!result.ok) {
          if (error) error.textContent = result.body.message || "Could not load the list.";
          return result;
        }
        if (error) error.textContent = "";
        var body = byId("table").querySelector("tbody");
        body.textContent = "";
        result.body[options.key].forEach(function (item) { body.appendChild(options.row(item)); });
        var pagination = result.body.pagination;
        pages = Math.max(pagination.pages, 1);
        byId("empty").hidden = pagination.total > 0;
        byId("table").hidden = pagination.total === 0;
        byId("page").textContent = "Page " + pagination.page + " of " + pages + " (" + pagination.total + ")";
        byId("prev").disabled = page <= 1;
        byId("next").disabled = page >= pages;
        return result;
      });
    }

    byId("prev").addEventListener("click", function () { if (page > 1) { page -= 1; load(); } });
    byId("next").addEventListener("click", function () { if (page < pages) { page += 1; load(); } });
    var filter = document.getElementById(prefix + "-filter");
    if (filter) {
      filter.addEventListener("submit", function (event) {
        event.preventDefault();
        page = 1;
        load();
      });
    }
    return { load: load, reload: UM.coalesce(load, 2000), first: function () { page = 1; return load(); } };
  }

  /* --- organizations (the list and the detail page) -------------------------------------------------------- */

  function organizationToggle(organization) {
    var active = organization.isActive;
    return UM.el("button", { type: "button", className: "secondary small", "data-active": String(active),
                             "data-organization-id": organization.id, "data-name": organization.name,
                             "aria-label": (active ? "Deactivate " : "Reactivate ") + organization.name,
                             text: active ? "Deactivate" : "Reactivate" });
  }

  /* Ask (for a deactivation), then change the organization's status; resolves to the organization or null. */
  function toggleOrganization(button) {
    var activate = button.dataset.active !== "true";
    var name = button.dataset.name;
    var asked = activate ? Promise.resolve(true) : UM.confirmAction({
      title: "Deactivate " + name + "?", confirm: "Deactivate organization",
      text: "Its members are signed out at once and cannot sign in; its pending invites stop working." });
    return asked.then(function (confirmed) {
      if (!confirmed) return null;
      button.disabled = true;
      return api("PATCH", "/api/organizations/" + encodeURIComponent(button.dataset.organizationId) + "/status",
                 { isActive: activate }).then(function (result) {
        button.disabled = false;
        if (!result.ok) {
          failed(result);
          return null;
        }
        UM.toast(name + (activate ? " reactivated" : " deactivated"), "success");
        return result.body.organization;
      });
    });
  }

  /* --- start ---------------------------------------------------------------------------------------------- */

  /* Sign the page in from the cookie, draw the navigation and the page (busy until `ready(user)` is done);
     no session means the sign-in page. */
  function start(ready) {
    refresh().then(function (ok) {
      if (!ok) {
        toLogin();
        return;
      }
      renderChrome();
      var content = document.getElementById("page");
      document.getElementById("page-loading").hidden = true;
      content.setAttribute("aria-busy", "true");
      content.hidden = false;
      document.getElementById("page-title").focus();
      return Promise.resolve(ready(user)).then(function () {
        content.setAttribute("aria-busy", "false");
      });
    });
  }

  document.getElementById("logout").addEventListener("click", function () {
    if (socket) socket.disconnect();
    UM.sessionCall("/logout").then(toLogin);
  });

  var dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-ok").addEventListener("click", function () { dialog.close("confirm"); });
  document.getElementById("confirm-cancel").addEventListener("click", function () { dialog.close("cancel"); });

  /* Run `call()` (a request whose answer replaces the session cookie); refreshes wait until it is done. */
  function replaceSession(call) {
    var result = call();
    replacing = result.then(function () { return null; });
    return result;
  }

  UM.signedIn = {
    replaceSession: replaceSession,
    start: start,
    api: api,
    failed: failed,
    live: live,
    list: list,
    organizationToggle: organizationToggle,
    toggleOrganization: toggleOrganization,
    refresh: refresh,
    toLogin: toLogin,
    user: function () { return user; },
    setUser: function (updated) { user = updated; renderChrome(); },
    token: function () { return accessToken; },
    setToken: function (token) { accessToken = token; }
  };
})();
