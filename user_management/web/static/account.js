/* Your account: name, password, second factor (method, authenticator, recovery codes) and sessions. */
(function () {
  "use strict";
  var UM = window.UM;
  var S = UM.signedIn;
  var api = S.api;
  var el = UM.el;
  var METHOD_LABELS = { otp: "a code by email", totp: "an authenticator app" };
  var user = null;
  var organization = null;
  var recoveryCodes = [];

  function byId(id) {
    return document.getElementById(id);
  }

  function isStaff() {
    return UM.isStaff(user.role);
  }

  /* Send a form's fields with `method` to `path` (or through `call`); `done(body, form)` on success. */
  function submit(form, method, path, bodyOf, done, call) {
    UM.onSubmit(form, {
      check: form.checkPassword,
      send: function (data) {
        var body = bodyOf(data);
        return call ? call(body) : api(method, path, body);
      },
      failed: function (result) {
        var errors = result.body.errors;
        if (errors && errors.newPassword) errors.password = errors.newPassword;
        UM.showErrors(form, result);
      },
      done: function (body) { done(body, form); }
    });
  }

  /* --- name and password ---------------------------------------------------------------------------------- */

  function renderName() {
    byId("account-email").textContent = user.email;
    byId("account-role").textContent = UM.roleLabel(user.role);
    byId("first-name").value = user.firstName;
    byId("last-name").value = user.lastName;
  }

  submit(byId("name-form"), "PATCH", "/api/auth/profile", function (data) {
    return { firstName: data.firstName.trim(), lastName: data.lastName.trim() };
  }, function (body) {
    user = body.user;
    S.setUser(user);
    renderName();
    UM.toast("Your name was saved", "success");
  });

  var passwordForm = byId("password-form");
  passwordForm.checkPassword = UM.watchPassword(passwordForm);
  submit(passwordForm, "POST", null, function (data) {
    return { currentPassword: data.currentPassword, newPassword: data.password };
  }, function (body, form) {
    S.setToken(body.accessToken);
    form.reset();
    UM.toast("Password changed; your other sessions were signed out", "success");
    loadSessions();
  }, function (body) {
    // Through /web/session: this login's cookie is replaced by the new session's.
    return S.replaceSession(function () {
      return UM.request("POST", "/web/session/change-password", { body: body, csrf: true, token: S.token() });
    });
  });

  /* --- second factor ---------------------------------------------------------------------------------------- */

  function show(ids, visible) {
    ids.forEach(function (id) { byId(id).hidden = !visible; });
  }

  function renderTwoFactor() {
    var method = organization ? organization.twoFactorMethod : user.twoFactorMethod;
    var status = byId("two-factor-status");
    if (!method) status.textContent = "Off: you sign in with your password alone.";
    else status.textContent = "On: you sign in with your password and " + METHOD_LABELS[method] + ".";
    var policy = byId("two-factor-policy");
    policy.hidden = !organization;
    if (organization) {
      policy.textContent = "Your organization (" + organization.name + ") requires " + METHOD_LABELS[method] +
        (method === "totp" ? ". You can replace your authenticator app here." : "; there is nothing to set up.");
    }
    byId("method-form").hidden = !isStaff();
    byId("two-factor-method").value = user.twoFactorMethod || "none";
    var mayUseApp = isStaff() || method === "totp";
    byId("totp-start-form").hidden = !mayUseApp;
    byId("totp-start-button").textContent = user.totpEnabled ? "Replace your authenticator app" : "Set up an authenticator app";
    byId("recovery-section").hidden = !user.totpEnabled;
    var left = user.recoveryCodesRemaining;
    byId("recovery-count").textContent = typeof left === "number"
      ? "You have " + left + (left === 1 ? " recovery code" : " recovery codes") + " left."
      : "Recovery codes sign you in when your authenticator is not at hand.";
  }

  function reloadUser() {
    return api("GET", "/api/auth/profile").then(function (result) {
      if (result.ok) user = result.body.user;
      renderTwoFactor();
    });
  }

  function showTotpSetup(setup) {
    byId("totp-qr").src = setup.qrCode;
    byId("totp-secret").textContent = setup.secret;
    show(["totp-confirm-form"], true);
    byId("totp-confirm-title").focus();
  }

  submit(byId("method-form"), "PUT", "/api/auth/two-factor", function (data) {
    return { method: data.method, currentPassword: data.currentPassword };
  }, function (body, form) {
    form.reset();
    if (body.pendingMethod === "otp") {
      show(["otp-confirm-form"], true);
      byId("otp-confirm-title").focus();
    } else if (body.pendingMethod === "totp") {
      showTotpSetup(body.totpSetup);
    } else {
      UM.toast(body.message, "success");
    }
    reloadUser();
  });

  submit(byId("otp-confirm-form"), "POST", "/api/auth/two-factor/otp/confirm", function (data) {
    return { otp: data.otp.trim() };
  }, function (body, form) {
    form.reset();
    form.hidden = true;
    UM.toast(body.message, "success");
    reloadUser();
  });

  submit(byId("totp-start-form"), "POST", "/api/auth/totp/setup", function (data) {
    return { currentPassword: data.currentPassword };
  }, function (body, form) {
    form.reset();
    showTotpSetup(body);
  });

  submit(byId("totp-confirm-form"), "POST", "/api/auth/totp/confirm", function (data) {
    return { token: data.token.trim() };
  }, function (body, form) {
    form.reset();
    form.hidden = true;
    UM.toast("Authenticator app enabled", "success");
    reloadUser().then(function () { showCodes(body.recoveryCodes); });
  });

  function showCodes(codes) {
    recoveryCodes = codes || [];
    var list = byId("recovery-codes");
    list.textContent = "";
    recoveryCodes.forEach(function (code) { list.appendChild(el("li", {}, [el("code", { text: code })])); });
    byId("recovery-new").hidden = recoveryCodes.length === 0;
    byId("recovery-count").textContent = "You have " + recoveryCodes.length + " new recovery codes; the old ones no longer work.";
    byId("recovery-section").hidden = false;
    byId("recovery-title").focus();
  }

  submit(byId("recovery-form"), "POST", "/api/auth/recovery-codes", function (data) {
    return { currentPassword: data.currentPassword };
  }, function (body, form) {
    form.reset();
    showCodes(body.recoveryCodes);
  });

  function codesText() {
    return "User Management recovery codes for " + user.email + "\n\n" + recoveryCodes.join("\n") + "\n";
  }

  byId("recovery-copy").addEventListener("click", function () {
    var copy = navigator.clipboard && navigator.clipboard.writeText
      ? navigator.clipboard.writeText(codesText()) : Promise.reject(new Error("no clipboard"));
    copy.then(function () { UM.toast("Recovery codes copied", "success"); },
              function () { UM.toast("This browser would not copy; download them instead.", "error"); });
  });

  byId("recovery-download").addEventListener("click", function () {
    var url = URL.createObjectURL(new Blob([codesText()], { type: "text/plain" }));
    var link = el("a", { href: url, download: "recovery-codes.txt" });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  });

  /* --- sessions --------------------------------------------------------------------------------------------- */

  /* "Firefox on Linux" from a user agent, good enough to tell one's own devices apart. */
  function device(agent) {
    if (!agent) return "Unknown device";
    var browser = [["Edg/", "Edge"], ["Firefox/", "Firefox"], ["Chrome/", "Chrome"], ["Safari/", "Safari"]]
      .filter(function (pair) { return agent.indexOf(pair[0]) >= 0; })[0];
    var system = [["Android", "Android"], ["iPhone", "iPhone"], ["iPad", "iPad"], ["Windows", "Windows"],
                  ["Mac OS", "macOS"], ["Linux", "Linux"]]
      .filter(function (pair) { return agent.indexOf(pair[0]) >= 0; })[0];
    if (!browser && !system) return agent.slice(0, 60);
    return (browser ? browser[1] : "A browser") + (system ? " on " + system[1] : "");
  }

  function sessionRow(session) {
    var label = device(session.userAgent);
    var deviceCell = el("td", { "data-label": "Device", text: label + " " });
    if (session.current) deviceCell.appendChild(UM.badge("active", "This browser"));
    return el("tr", { "data-session-id": session.id }, [
      deviceCell,
      el("td", { "data-label": "IP address", text: session.ipAddress || "—" }),
      el("td", { "data-label": "Signed in", text: UM.formatDate(session.createdAt) }),
      el("td", { "data-label": "Last active", text: UM.timeAgo(session.lastUsedAt || session.createdAt) }),
      el("td", { "data-label": "Actions", className: "actions" }, [
        el("button", { type: "button", className: "secondary small", "data-session-id": session.id,
                       "data-current": session.current ? "true" : "false", "data-device": label,
                       "aria-label": "Sign out " + (session.current ? "this browser" : label + " (" +
                                                    (session.ipAddress || "unknown IP") + ")"),
                       text: "Sign out" })
      ])
    ]);
  }

  function loadSessions() {
    return api("GET", "/api/auth/sessions").then(function (result) {
      var error = byId("sessions-error");
      if (!result.ok) {
        error.textContent = result.body.message || "Could not load your sessions.";
        return;
      }
      error.textContent = "";
      var body = document.querySelector("#sessions-table tbody");
      body.textContent = "";
      result.body.sessions.forEach(function (session) { body.appendChild(sessionRow(session)); });
    });
  }

  document.querySelector("#sessions-table tbody").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-session-id]");
    if (!button) return;
    var current = button.dataset.current === "true";
    UM.confirmAction({
      title: current ? "Sign out this browser?" : "Sign out " + button.dataset.device + "?",
      text: current ? "You go back to the sign-in page." : "That browser is signed out within seconds.",
      confirm: "Sign out"
    }).then(function (confirmed) {
      if (!confirmed) return;
      button.disabled = true;
      api("DELETE", "/api/auth/sessions/" + encodeURIComponent(button.dataset.sessionId)).then(function (result) {
        button.disabled = false;
        if (!result.ok) {
          S.failed(result);
          return;
        }
        if (current) {
          UM.sessionCall("/logout").then(S.toLogin);
          return;
        }
        button.closest("tr").remove();
        UM.toast("Signed out " + button.dataset.device, "success");
      });
    });
  });

  byId("logout-all").addEventListener("click", function () {
    UM.confirmAction({ title: "Sign out everywhere?",
                       text: "Every browser and app signed in as you is signed out, this one included.",
                       confirm: "Sign out everywhere" }).then(function (confirmed) {
      if (!confirmed) return;
      api("POST", "/api/auth/logout-all").then(function (result) {
        if (!result.ok) {
          S.failed(result);
          return;
        }
        UM.sessionCall("/logout").then(S.toLogin);
      });
    });
  });

  /* --- start ------------------------------------------------------------------------------------------------ */

  S.start(function (signedInUser) {
    user = signedInUser;
    renderName();
    var organizationLoaded = user.organization
      ? api("GET", "/api/organization").then(function (result) { if (result.ok) organization = result.body.organization; })
      : Promise.resolve();
    return Promise.all([organizationLoaded.then(renderTwoFactor), loadSessions()]).then(function () {
      S.live({});
    });
  });
})();
