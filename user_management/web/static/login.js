/* Log in: email and password, then the second step the account needs (email code, authenticator code, recovery
   code, or first-time authenticator enrollment). The session cookie is set by /web/session; the console page gets
   its access token from it. */
(function () {
  "use strict";
  var UM = window.UM;
  var STEPS = ["step-password", "step-code", "step-enroll", "step-recovery-codes"];
  var challenge = null;   // the login's pending challenge: {twoFactorToken, twoFactorMethod, ...}
  var mode = null;        // "otp", "totp", "recovery" or "enroll" (the emailed code before an enrollment)

  var loginForm = document.getElementById("login-form");
  var codeForm = document.getElementById("code-form");
  var enrollForm = document.getElementById("enroll-form");

  function goToConsole() {
    window.location.assign("/console");
  }

  /* The pending login is over (too many wrong codes, or it expired): no more codes, only a way back. */
  function challengeOver(message) {
    document.getElementById("code-form").hidden = true;
    document.querySelector("#step-code .actions").hidden = true;
    document.getElementById("code-status").textContent = "";
    document.getElementById("code-dead-text").textContent = message + " Your email and password are asked again.";
    document.getElementById("code-dead").hidden = false;
    document.getElementById("restart-login").focus();
  }

  function isOver(result) {
    return result.status === 401 && /(log|sign) in again/i.test(result.body.message || "");
  }

  document.getElementById("restart-login").addEventListener("click", function () {
    challenge = null;
    document.getElementById("code-dead").hidden = true;
    document.getElementById("code-form").hidden = false;
    document.querySelector("#step-code .actions").hidden = false;
    loginForm.reset();
    UM.showOnly(STEPS, "step-password");
    document.getElementById("email").focus();
  });

  function askForCode(newMode) {
    mode = newMode;
    UM.clearErrors(codeForm);
    codeForm.reset();
    var title = document.getElementById("code-title");
    var help = document.getElementById("code-help");
    var label = document.querySelector('label[for="code"]');
    var input = document.getElementById("code");
    document.getElementById("resend-otp").hidden = mode !== "otp" && mode !== "enroll";
    document.getElementById("use-recovery").hidden = mode === "recovery";
    document.getElementById("use-app-code").hidden = mode !== "recovery";
    document.getElementById("use-app-code").textContent =
      challenge.twoFactorMethod === "otp" ? "Use the emailed code instead" : "Use the app's code instead";
    if (mode === "otp" || mode === "enroll") {
      title.textContent = "Check your email";
      help.textContent = mode === "enroll"
        ? "Before you set up an authenticator app, enter the 6-digit code we emailed you. It is valid for 10 minutes."
        : "We emailed you a 6-digit code. It is valid for 10 minutes.";
      label.textContent = "Code from the email";
      input.setAttribute("inputmode", "numeric");
      input.setAttribute("autocomplete", "one-time-code");
    } else if (mode === "totp") {
      title.textContent = "Enter your authenticator code";
      help.textContent = "Open your authenticator app and enter the 6-digit code it shows for this account.";
      label.textContent = "Code from the app";
      input.setAttribute("inputmode", "numeric");
      input.setAttribute("autocomplete", "one-time-code");
    } else {
      title.textContent = "Use a recovery code";
      help.textContent = "Enter one of the recovery codes you saved when you set up your authenticator. Each works once.";
      label.textContent = "Recovery code";
      input.setAttribute("inputmode", "text");
      input.setAttribute("autocomplete", "off");
    }
    UM.showOnly(STEPS, "step-code", "code-title");
  }

  /* The emailed code proves the account's address; only then does the server show the new secret. */
  function startEnrollment(emailedCode) {
    return UM.request("POST", "/api/auth/totp/setup", { body: { twoFactorToken: challenge.twoFactorToken, otp: emailedCode } })
      .then(function (result) {
        if (!result.ok) return result;
        document.getElementById("enroll-qr").src = result.body.qrCode;
        document.getElementById("enroll-secret").textContent = result.body.secret;
        UM.showOnly(STEPS, "step-enroll", "enroll-title");
        return result;
      });
  }

  function handleLogin(body) {
    if (!body.requiresTwoFactor) {
      goToConsole();
      return;
    }
    challenge = body;
    var passkey = (body.twoFactorMethods || []).indexOf("passkey") >= 0 && window.UMPasskeys.supported();
    document.getElementById("use-passkey").hidden = !passkey;
    document.getElementById("enroll-use-passkey").hidden = !passkey;
    if (body.requiresTotpSetup) {
      askForCode("enroll");
    } else {
      askForCode(body.twoFactorMethod === "totp" ? "totp" : "otp");
    }
  }

  UM.onSubmit(loginForm, {
    required: ["email", "password"],
    send: function (data) { return UM.sessionCall("", { email: data.email.trim(), password: data.password }); },
    done: handleLogin
  });

  codeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    UM.clearErrors(codeForm);
    if (!UM.requireFields(codeForm, ["code"])) return;
    var code = UM.formData(codeForm).code.trim();
    var call;
    if (mode === "enroll") {
      call = startEnrollment(code);
    } else if (mode === "otp") {
      call = UM.sessionCall("/verify-otp", { twoFactorToken: challenge.twoFactorToken, otp: code });
    } else if (mode === "totp") {
      call = UM.sessionCall("/verify-totp", { twoFactorToken: challenge.twoFactorToken, token: code });
    } else {
      call = UM.sessionCall("/verify-recovery-code", { twoFactorToken: challenge.twoFactorToken, code: code });
    }
    UM.setBusy(codeForm, true);
    call.then(function (result) {
      UM.setBusy(codeForm, false);
      if (!result.ok && isOver(result)) {
        challengeOver(result.body.message);
        return;
      }
      if (!result.ok) {
        // The API names the field "otp", "token" or "code"; here it is always the one code field.
        var errors = result.body.errors;
        if (errors) result.body.errors = { code: errors.otp || errors.token || errors.code || errors.twoFactorToken ||
                                        "Check the code." };
        UM.showErrors(codeForm, result);
        if (!errors) document.getElementById("code").focus();
        return;
      }
      if (mode !== "enroll") goToConsole();
    });
  });

  /* A new code; when it is too soon, the wait comes from Retry-After, in words, and the button waits as long. */
  var resend = document.getElementById("resend-otp");
  resend.addEventListener("click", function () {
    var status = document.getElementById("code-status");
    status.textContent = "Sending a new code…";
    resend.disabled = true;
    UM.request("POST", "/api/auth/resend-otp", { body: { twoFactorToken: challenge.twoFactorToken } })
      .then(function (result) {
        resend.disabled = false;
        if (result.ok) {
          challenge.twoFactorToken = result.body.twoFactorToken;
          status.textContent = "A new code is on its way; the previous one no longer works.";
        } else if (result.status === 429) {
          status.textContent = "You can ask for a new code in " + UM.waitWords(result.retryAfter) + ".";
          resend.disabled = true;
          setTimeout(function () {
            resend.disabled = false;
            status.textContent = "You can ask for a new code now.";
          }, Math.max(1, Number(result.retryAfter) || 60) * 1000);
        } else if (result.status === 401) {
          challengeOver(result.body.message || "This sign-in has expired.");
        } else {
          status.textContent = result.body.message || "Could not send a new code.";
        }
      });
  });

  document.getElementById("use-recovery").addEventListener("click", function () { askForCode("recovery"); });
  document.getElementById("use-app-code").addEventListener("click", function () {
    askForCode(challenge.twoFactorMethod === "totp" ? "totp" : "otp");
  });

  enrollForm.addEventListener("submit", function (event) {
    event.preventDefault();
    UM.clearErrors(enrollForm);
    if (!UM.requireFields(enrollForm, ["token"])) return;
    var code = UM.formData(enrollForm).token.trim();
    UM.setBusy(enrollForm, true);
    UM.sessionCall("/totp-confirm", { twoFactorToken: challenge.twoFactorToken, token: code }).then(function (result) {
      UM.setBusy(enrollForm, false);
      if (!result.ok) {
        UM.showErrors(enrollForm, result);
        if (!result.body.errors) document.getElementById("enroll-code").focus();
        return;
      }
      var list = document.getElementById("recovery-codes");
      list.textContent = "";
      (result.body.recoveryCodes || []).forEach(function (code) {
        var item = document.createElement("li");
        var text = document.createElement("code");
        text.textContent = code;
        item.appendChild(text);
        list.appendChild(item);
      });
      UM.showOnly(STEPS, "step-recovery-codes", "codes-title");
    });
  });

  document.getElementById("codes-saved").addEventListener("click", goToConsole);

  /* Passkeys (passkeys.js): the second step of this login, or a sign-in with no email and no password. */
  function passkeyStep(form) {
    UM.clearErrors(form);
    UM.setBusy(form, true);
    window.UMPasskeys.secondFactor(challenge.twoFactorToken).then(function (result) {
      UM.setBusy(form, false);
      if (result.ok) goToConsole();
      else UM.showErrors(form, result);
    });
  }

  document.getElementById("use-passkey").addEventListener("click", function () { passkeyStep(codeForm); });
  document.getElementById("enroll-use-passkey").addEventListener("click", function () { passkeyStep(enrollForm); });
  var passkeySignIn = document.getElementById("passkey-sign-in");
  passkeySignIn.hidden = !window.UMPasskeys.supported();
  passkeySignIn.addEventListener("click", function () {
    UM.clearErrors(loginForm);
    passkeySignIn.disabled = true;
    window.UMPasskeys.signIn().then(function (result) {
      passkeySignIn.disabled = false;
      if (result.ok) goToConsole();
      else UM.showErrors(loginForm, result);
    });
  });

  document.getElementById("email").focus();
})();
