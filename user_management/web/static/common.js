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

  /* Staff roles (utils.roles.STAFF_ROLES, from the page's settings) belong to no organization and choose
     their own second factor. */
  function isStaff(role) {
    return (settings.staffRoles || []).indexOf(role) >= 0;
  }

  /* A second-factor method in words; "—" for none. */
  function methodLabel(method) {
    return { otp: "Code by email", totp: "Authenticator app" }[method] || "—";
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
    return form.querySelector('.field-error[data-for="' + name + '"]') || form.querySelector("#" + name + "-error") ||
      document.getElementById(name + "-error");
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
    if (result.status === 429) {
      pauseForm(form, summary, result.retryAfter);
      return;
    }
    if (summary) summary.textContent = message;
    if (first) first.focus();
  }

  /* --- waits and times in words ---------------------------------------------------------------------------- */

  function plural(count, unit) {
    return count + " " + unit + (count === 1 ? "" : "s");
  }

  /* "about 4 minutes" for Retry-After 240, as the API words it (servicekit.errors.wait_in_words). */
  function waitWords(seconds) {
    seconds = Math.max(1, Math.floor(Number(seconds) || 60));
    if (seconds < 60) return plural(seconds, "second");
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor(seconds / 60) % 60;
    if (!hours) return "about " + plural(minutes, "minute");
    return "about " + plural(hours, "hour") + (minutes ? " and " + plural(minutes, "minute") : "");
  }

  /* "3 minutes ago", "yesterday": for recent times; older ones as a local date. */
  function timeAgo(iso) {
    if (!iso) return "—";
    var date = new Date(iso);
    if (isNaN(date.getTime())) return iso;
    var seconds = (Date.now() - date.getTime()) / 1000;
    if (seconds < 0 || seconds > 7 * 86400) return formatDate(iso);
    if (seconds < 60) return "just now";
    var format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    if (seconds < 3600) return format.format(-Math.round(seconds / 60), "minute");
    if (seconds < 86400) return format.format(-Math.round(seconds / 3600), "hour");
    return format.format(-Math.round(seconds / 86400), "day");
  }

  function tooManyRequests(retryAfter) {
    return "Too many requests. Please wait " + waitWords(retryAfter) + "; this page tries again by itself.";
  }

  /* A 429 on a form: say how long to wait, keep the submit buttons off until then, then say it may be retried. */
  function pauseForm(form, summary, retryAfter) {
    var buttons = form.querySelectorAll("button[type=submit]");
    if (summary) summary.textContent = "Too many attempts. Please wait " + waitWords(retryAfter) + ", then try again.";
    buttons.forEach(function (button) { button.disabled = true; });
    setTimeout(function () {
      buttons.forEach(function (button) { button.disabled = false; });
      if (summary) summary.textContent = "";
      toast("You can try again now.", "info");
    }, Math.max(1, Number(retryAfter) || 60) * 1000);
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

  /* A form that sends itself: `options.required` (names; default: its [required] fields), `options.check()`
     (more checks, false stops), `options.send(data)` (a promise of a request result), `options.done(body)`.
     Errors go next to their fields; the form is busy meanwhile. */
  function onSubmit(form, options) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(form);
      var required = options.required || Array.prototype.map.call(form.querySelectorAll("[required]"),
                                                                   function (input) { return input.name; });
      if (!requireFields(form, required) || (options.check && !options.check())) return;
      var sent = options.send(formData(form));
      if (!sent) return;
      setBusy(form, true);
      sent.then(function (result) {
        setBusy(form, false);
        if (!result.ok) {
          if (options.failed) options.failed(result);
          else showErrors(form, result);
          return;
        }
        options.done(result.body);
      });
    });
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

  /* Build an element: el("td", {text: "x", className: "y", "data-id": 1}, [children]). */
  function el(tag, attributes, children) {
    var element = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === undefined || value === null || value === false) return;
      if (name === "text") element.textContent = value;
      else if (name === "className") element.className = value;
      else element.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) element.appendChild(child); });
    return element;
  }

  function badge(status, label) {
    return el("span", { className: "badge status-" + status, text: label || status });
  }

  /* Run `task` at most once per `interval` ms however often it is asked for: the first ask runs at once, asks
     during the quiet period are folded into one run at its end. Live events call these, never the API directly. */
  function coalesce(task, interval) {
    var last = 0;
    var timer = null;
    return function () {
      if (timer) return;
      var wait = Math.max(0, last + (interval || 2000) - Date.now());
      timer = setTimeout(function () {
        timer = null;
        last = Date.now();
        task();
      }, wait);
    };
  }

  /* An accessible confirmation (a modal <dialog>: focus moves in, Escape cancels, focus returns after).
     Resolves to true when the person confirms. */
  function confirmAction(options) {
    var dialog = document.getElementById("confirm-dialog");
    var opener = document.activeElement;
    document.getElementById("confirm-title").textContent = options.title;
    document.getElementById("confirm-text").textContent = options.text || "";
    var ok = document.getElementById("confirm-ok");
    ok.textContent = options.confirm || "Confirm";
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function done() {
        dialog.removeEventListener("close", done);
        if (opener && opener.focus && document.contains(opener)) opener.focus();
        resolve(dialog.returnValue === "confirm");
      });
      dialog.returnValue = "";
      dialog.showModal();
      document.getElementById("confirm-cancel").focus();
    });
  }

  window.UM = {
    settings: settings,
    roleLabel: roleLabel,
    methodLabel: methodLabel,
    isStaff: isStaff,
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
    onSubmit: onSubmit,
    showOnly: showOnly,
    toast: toast,
    queryParam: queryParam,
    waitWords: waitWords,
    timeAgo: timeAgo,
    tooManyRequests: tooManyRequests,
    el: el,
    badge: badge,
    coalesce: coalesce,
    confirmAction: confirmAction
  };
})();
