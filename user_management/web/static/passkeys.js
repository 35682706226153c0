/* Passkeys with the browser's own WebAuthn API (no framework): the account page's list, add and remove, and the
   helpers the login page uses for "Sign in with a passkey" and for a passkey as the second step.
   The server's options are JSON with base64url fields; they are decoded into ArrayBuffers for navigator.credentials
   and the credential is encoded back the same way (what PublicKeyCredential.toJSON() gives in newer browsers). */
(function () {
  "use strict";

  function toBuffer(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "===".slice((base64.length + 3) % 4);
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: toBuffer(item.id), transports: item.transports };
    });
  }

  function creationOptions(options) {
    var publicKey = Object.assign({}, options);
    publicKey.challenge = toBuffer(options.challenge);
    publicKey.user = Object.assign({}, options.user, { id: toBuffer(options.user.id) });
    publicKey.excludeCredentials = descriptors(options.excludeCredentials);
    return { publicKey: publicKey };
  }

  function requestOptions(options) {
    var publicKey = Object.assign({}, options);
    publicKey.challenge = toBuffer(options.challenge);
    publicKey.allowCredentials = descriptors(options.allowCredentials);
    return { publicKey: publicKey };
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) json.response.userHandle = toBase64url(response.userHandle);
    }
    return json;
  }

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && navigator.credentials.create);
  }

  /* The browser's prompt: resolves to the credential's JSON, or to {error} when the person cancels or it fails. */
  function ask(kind, options) {
    var call = kind === "create" ? navigator.credentials.create(creationOptions(options))
                                 : navigator.credentials.get(requestOptions(options));
    return call.then(function (credential) {
      return { credential: credentialJSON(credential) };
    }, function (error) {
      var cancelled = error && (error.name === "NotAllowedError" || error.name === "AbortError");
      return { error: cancelled ? "The passkey prompt was cancelled or timed out." :
                                  "This device could not use a passkey (" + (error && error.name) + ")." };
    });
  }

  function failed(message) {
    return { ok: false, status: 0, body: { message: message } };
  }

  /* Passwordless: options, the browser's prompt, then a cookie session. Resolves to a UM.request-like result. */
  function signIn() {
    var UM = window.UM;
    return UM.request("POST", "/api/auth/passkey/login/options", { body: {} }).then(function (result) {
      if (!result.ok) return result;
      return ask("get", result.body.options).then(function (answer) {
        if (answer.error) return failed(answer.error);
        return UM.sessionCall("/passkey", { passkeyToken: result.body.passkeyToken, credential: answer.credential });
      });
    });
  }

  /* The second step of a login, with the pending login's twoFactorToken. */
  function secondFactor(twoFactorToken) {
    var UM = window.UM;
    return UM.request("POST", "/api/auth/passkey/options", { body: { twoFactorToken: twoFactorToken } })
      .then(function (result) {
        if (!result.ok) return result;
        return ask("get", result.body.options).then(function (answer) {
          if (answer.error) return failed(answer.error);
          return UM.sessionCall("/verify-passkey", { twoFactorToken: twoFactorToken, credential: answer.credential });
        });
      });
  }

  window.UMPasskeys = { supported: supported, signIn: signIn, secondFactor: secondFactor, ask: ask };

  /* --- the account page ------------------------------------------------------------------------------------ */

  var section = document.getElementById("passkeys-section");
  if (!section) return;
  var UM = window.UM;
  var api = UM.signedIn.api;
  var removing = null;
  var addForm = document.getElementById("passkey-add-form");
  var removeForm = document.getElementById("passkey-remove-form");

  function status(message) {
    document.getElementById("passkeys-status").textContent = message;
  }

  function cell(text) {
    var td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function render(passkeys) {
    var body = section.querySelector("#passkeys-table tbody");
    body.textContent = "";
    passkeys.forEach(function (passkey) {
      var row = document.createElement("tr");
      row.appendChild(cell(passkey.name));
      row.appendChild(cell(UM.formatDate(passkey.createdAt)));
      row.appendChild(cell(passkey.lastUsedAt ? UM.formatDate(passkey.lastUsedAt) : "Never"));
      var rename = UM.el("button", { type: "button", className: "secondary", text: "Rename",
                                     "aria-label": "Rename " + passkey.name });
      rename.addEventListener("click", function () { renamePasskey(passkey); });
      var remove = UM.el("button", { type: "button", className: "secondary", text: "Remove",
                                     "aria-label": "Remove " + passkey.name });
      remove.addEventListener("click", function () { askToRemove(passkey); });
      var actions = UM.el("td", {}, [rename, remove]);
      row.appendChild(actions);
      body.appendChild(row);
    });
    document.getElementById("passkeys-empty").hidden = passkeys.length > 0;
    document.getElementById("passkeys-table").hidden = passkeys.length === 0;
  }

  function load() {
    return api("GET", "/api/auth/passkeys").then(function (result) {
      if (result.ok) render(result.body.passkeys);
      else document.getElementById("passkeys-error").textContent = result.body.message || "Could not load passkeys.";
    });
  }

  function renamePasskey(passkey) {
    var name = window.prompt("New name for this passkey", passkey.name);
    if (!name || !name.trim()) return;
    api("PATCH", "/api/auth/passkeys/" + passkey.id, { name: name.trim() }).then(function (result) {
      if (result.ok) {
        status("Passkey renamed.");
        load();
      } else {
        document.getElementById("passkeys-error").textContent = result.body.message || "Could not rename it.";
      }
    });
  }

  function askToRemove(passkey) {
    removing = passkey;
    UM.clearErrors(removeForm);
    removeForm.reset();
    document.getElementById("passkey-remove-name").textContent = passkey.name;
    removeForm.hidden = false;
    document.getElementById("passkey-remove-password").focus();
  }

  document.getElementById("passkey-remove-cancel").addEventListener("click", function () {
    removing = null;
    removeForm.hidden = true;
  });

  UM.onSubmit(removeForm, {
    required: ["remove-password"],
    send: function (data) {
      return api("DELETE", "/api/auth/passkeys/" + removing.id, { currentPassword: data["remove-password"] });
    },
    failed: function (result) {
      var errors = result.body.errors;
      if (errors && errors.currentPassword) result.body.errors = { "remove-password": errors.currentPassword };
      UM.showErrors(removeForm, result);
    },
    done: function () {
      removeForm.hidden = true;
      status("Passkey “" + removing.name + "” removed.");
      UM.toast("Passkey removed", "success");
      removing = null;
      load();
    }
  });

  UM.onSubmit(addForm, {
    required: ["name", "currentPassword"],
    send: function (data) {
      return api("POST", "/api/auth/passkeys/register/options", { currentPassword: data.currentPassword })
        .then(function (result) {
          if (!result.ok) return result;
          status("Follow your browser's prompt to create the passkey…");
          return ask("create", result.body.options).then(function (answer) {
            if (answer.error) return failed(answer.error);
            return api("POST", "/api/auth/passkeys", { credential: answer.credential, name: data.name.trim() });
          });
        })
        .then(function (result) {
          status("");
          return result;
        });
    },
    done: function (body) {
      addForm.reset();
      status("Passkey “" + body.passkey.name + "” added.");
      UM.toast("Passkey added", "success");
      load();
    }
  });

  if (!supported()) {
    document.getElementById("passkeys-unsupported").hidden = false;
    addForm.querySelector("button[type=submit]").disabled = true;
  }

  UM.signedIn.start(function () {
    return load().then(function () { UM.signedIn.live({}); });
  });
})();
