/* Forgot password: ask for a reset link (the answer is the same whether or not the account exists). */
(function () {
  "use strict";
  var UM = window.UM;
  var form = document.getElementById("forgot-form");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    UM.clearErrors(form);
    if (!UM.requireFields(form, ["email"])) return;
    UM.setBusy(form, true);
    UM.request("POST", "/api/auth/forgot-password", { body: { email: UM.formData(form).email.trim() } })
      .then(function (result) {
        UM.setBusy(form, false);
        if (!result.ok) {
          UM.showErrors(form, result);
          return;
        }
        var done = document.getElementById("forgot-done");
        done.textContent = result.body.message + ". The link is valid for one hour.";
        done.hidden = false;
        form.hidden = true;
      });
  });
  document.getElementById("email").focus();
})();
