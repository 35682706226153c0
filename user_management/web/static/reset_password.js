/* Reset password: the link of the password-reset email; choose a new password. */
(function () {
  "use strict";
  var UM = window.UM;
  var form = document.getElementById("reset-form");
  var token = UM.queryParam("token");
  var checkPassword = UM.watchPassword(form);

  var SECTIONS = ["reset-checking", "reset-card", "reset-gone"];

  function gone(message) {
    document.getElementById("gone-message").textContent = message;
    UM.showOnly(SECTIONS, "reset-gone", "gone-title");
  }

  if (!token) {
    gone("The link has no reset token; open the whole link from the email.");
    return;
  }

  /* The link is checked before the form is shown: a used or expired link never costs a filled-in form. */
  UM.request("POST", "/api/auth/reset-password/check", { body: { token: token } }).then(function (result) {
    if (result.ok || result.status === 404 && !result.body.errors) {
      UM.showOnly(SECTIONS, "reset-card", "password");
    } else if (result.status === 429) {
      gone("Too many attempts. Please wait " + UM.waitWords(result.retryAfter) + ", then open the link again.");
    } else {
      var errors = result.body.errors || {};
      gone(errors.token ? [].concat(errors.token).join(" ") : result.body.message ||
           "This password reset link is invalid or has expired.");
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    UM.clearErrors(form);
    if (!UM.requireFields(form, ["password"]) || !checkPassword()) return;
    UM.setBusy(form, true);
    UM.request("POST", "/api/auth/reset-password", { body: { token: token, password: UM.formData(form).password } })
      .then(function (result) {
        UM.setBusy(form, false);
        if (result.ok) {
          form.hidden = true;
          document.getElementById("reset-done").hidden = false;
          document.getElementById("reset-title").textContent = "Password changed";
          document.getElementById("reset-title").focus();
        } else if (result.status === 410) {
          gone(result.body.message);
        } else {
          if (result.body.errors && result.body.errors.token) gone(result.body.errors.token.join(" "));
          else UM.showErrors(form, result);
        }
      });
  });
})();
