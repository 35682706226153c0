/* Shared helpers of the pages: API calls, the cookie session, forms, toasts. No framework, no build step. */
(function () {
  "use strict";

  var settings = JSON.parse(document.body.dataset.settings || "{}");

  var ROLE_LABELS = {
    super_admin: "Super admin",
    site_admin: "Site admin",
    operator: "Operator",
    client_admin: "Client admin",
    client_user: "Client user"
  };

  function roleLabel(role) {
    return ROLE_LABELS[role] || role;
  }

  function formatDate(iso) {
    if (!iso) return "—";
    var date = new Date(iso);
    if (isNaN(date.getTime())) return iso;
    return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }

  /* One JSON request; resolves to {status, ok, body} (never rejects on an HTTP error). */
  function request(method, path, options) {
    options = options || {};
    var headers = { "Accept": "application/json" };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (options.token) headers["Authorization"] = "Bearer " + options.token;
    if (options.csrf) headers["X-CSRF-Token"] = readCookie("um_csrf");
    return fetch(path, {
      method: method,
      headers: headers,
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      credentials: "same-origin",
      // The pages' Referrer-Policy is no-referrer, under which a browser sends "Origin: null" on POST;
      // same-origin keeps the real Origin for our own server (which checks it) and still sends nothing elsewhere.
      referrerPolicy: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      return response.text().then(function (text) {
        var body = {};
        try { body = text ? JSON.parse(text) : {}; } catch (e) { body = { message: text }; }
        return { status: response.status, ok: response.ok, body: body,
                 retryAfter: response.headers.get("Retry-After") };
      });
    }, function () {
      return { status: 0, ok: false, body: { message: "The server cannot be reached; check your connection." } };
    });
  }

  /* POST to a cookie-session endpoint (/web/session…): CSRF token and Origin go with it. */
  function sessionCall(path, body) {
    return request("POST", "/web/session" + path, { body: body || {}, csrf: true });
  }

  /* Refresh through the cookie. Tabs of one browser share the cookie, and a rotated refresh token presented twice
     ends the whole session, so refreshes are serialized across tabs with the Web Locks API where it exists. */
  function refreshSession() {
    var run = function () { return sessionCall("/refresh"); };
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request("um-session-refresh", run);
    }
    return run();
  }

  /* --- forms ---------------------------------------------------------------------------------------------- */

  function fieldErrorElement(form, name) {
    return form.querySelector("#" + name + "-error") || document.getElementById(name + "-error");
  }

  function inputFor(form, name) {
    return form.querySelector('[name="' + name + '"]');
  }

  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach(function (element) {
      element.textContent = "";
      element.hidden = true;
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (element) {
      element.removeAttribute("aria-invalid");
    });
    var summary = form.querySelector(".form-error");
    if (summary) summary.textContent = "";
  }

  function setFieldError(form, name, messages) {
    var element = fieldErrorElement(form, name);
    var input = inputFor(form, name);
    var text = [].concat(messages).join(" ");
    if (element) {
      element.textContent = text;
      element.hidden = false;
    }
    if (input) input.setAttribute("aria-invalid", "true");
    return input;
  }

  /* Show an API error: field messages next to their fields (first one focused), the message in the form's
     aria-live region, so a screen reader announces it. */
  function showErrors(form, result, fallback) {
    var body = result.body || {};
    var summary = form.querySelector(".form-error");
    var first = null;
    var errors = body.errors || {};
    Object.keys(errors).forEach(function (name) {
      var input = setFieldError(form, name, flatten(errors[name]));
      if (!first && input) first = input;
    });
    var message = body.message || fallback || "Something went wrong; please try again.";
    if (result.status === 429 && result.retryAfter) {
      message += " (try again in " + result.retryAfter + " s)";
    }
    if (summary) summary.textContent = message;
    if (first) first.focus();
  }

  function flatten(messages) {
    if (typeof messages === "string") return [messages];
    if (Array.isArray(messages)) return messages.map(function (m) { return typeof m === "string" ? m : JSON.stringify(m); });
    return Object.keys(messages).map(function (key) { return flatten(messages[key]).join(" "); });
  }

  function setBusy(form, busy) {
    form.setAttribute("aria-busy", busy ? "true" : "false");
    form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = busy; });
  }

  /* The password policy, checked as the user types (the server checks it again, plus guessability). */
  function passwordRules(password) {
    return {
      length: password.length >= (settings.passwordMinLength || 8) && password.length <= (settings.passwordMaxLength || 128),
      lower: /[a-z]/.test(password),
      upper: /[A-Z]/.test(password),
      digit: /\d/.test(password)
    };
  }

  function watchPassword(form) {
    var input = form.querySelector("#password");
    var confirm = form.querySelector("#password-confirm");
    var list = form.querySelector("#password-policy");
    if (!input || !list) return function () { return true; };
    var update = function () {
      var rules = passwordRules(input.value);
      list.querySelectorAll("li[data-rule]").forEach(function (item) {
        var met = rules[item.dataset.rule];
        item.classList.toggle("met", met);
        item.querySelector(".rule-state").textContent = met ? "Done: " : "Not yet: ";
      });
    };
    input.addEventListener("input", update);
    update();
    /* Returns true when the form may be sent; otherwise shows the reasons and focuses the field. */
    return function check() {
      var rules = passwordRules(input.value);
      var missing = Object.keys(rules).filter(function (key) { return !rules[key]; });
      if (missing.length) {
        var items = missing.map(function (key) {
          return list.querySelector('li[data-rule="' + key + '"]').dataset.label;
        });
        setFieldError(form, "password", "The password needs " + items.join(", ") + ".");
        form.querySelector(".form-error").textContent = "Please fix the password.";
        input.focus();
        return false;
      }
      if (confirm && confirm.value !== input.value) {
        setFieldError(form, "passwordConfirm", "The two passwords differ.");
        form.querySelector(".form-error").textContent = "Please repeat the same password.";
        confirm.focus();
        return false;
      }
      return true;
    };
  }

  function formData(form) {
    var data = {};
    new FormData(form).forEach(function (value, key) { data[key] = typeof value === "string" ? value : ""; });
    return data;
  }

  function requireFields(form, names) {
    var first = null;
    names.forEach(function (name) {
      var input = inputFor(form, name);
      if (input && !input.value.trim()) {
        setFieldError(form, name, "Required.");
        if (!first) first = input;
      }
    });
    if (first) {
      form.querySelector(".form-error").textContent = "Please fill in the required fields.";
      first.focus();
      return false;
    }
    return true;
  }

  /* --- page state ----------------------------------------------------------------------------------------- */

  /* Show one section, hide the others of the list, move focus to its heading (announced by screen readers). */
  function showOnly(ids, id, focusId) {
    ids.forEach(function (other) { document.getElementById(other).hidden = other !== id; });
    var target = document.getElementById(focusId || id);
    if (target) target.focus();
  }

  function toast(message, kind) {
    var container = document.getElementById("toasts");
    var item = document.createElement("div");
    item.className = "toast " + (kind || "info");
    item.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(close);
    container.appendChild(item);
    setTimeout(function () { item.remove(); }, 12000);
  }

  function queryParam(name) {
    return new URLSearchParams(window.location.search).get(name) || "";
  }

  window.UM = {
    settings: settings,
    roleLabel: roleLabel,
    formatDate: formatDate,
    request: request,
    sessionCall: sessionCall,
    refreshSession: refreshSession,
    clearErrors: clearErrors,
    setFieldError: setFieldError,
    showErrors: showErrors,
    setBusy: setBusy,
    watchPassword: watchPassword,
    formData: formData,
    requireFields: requireFields,
    showOnly: showOnly,
    toast: toast,
    queryParam: queryParam
  };
})();
