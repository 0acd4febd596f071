/* Jumin staff authentication: WebAuthn in the browser (std 10.3, j1380). No inline script.
 *
 * A block marked data-webauthn="login" or "register" holds:
 *   data-options-url  POST → the options JSON from the server (challenge kept in the session)
 *   data-submit-url   POST ← the browser's answer as JSON; → {ok, redirect} or {ok:false, message}
 *   [data-webauthn-start]    the button that starts it
 *   [data-webauthn-message]  where a refusal is shown
 *   [data-webauthn-label]    (register) the authenticator's name
 *   the csrf token input of {% csrf_token %}
 * A browser-side failure (cancelled, not verified, timed out) is reported to the server too,
 * which logs it and answers with the generic message.
 */
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrf(block) {
    var input = block.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(block, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(block) },
      body: body
    }).then(function (r) {
      return r.json().catch(function () {
        return { ok: false, message: "サーバーからの応答を読めませんでした。画面を開き直してください。" };
      });
    });
  }

  function show(block, message) {
    var box = block.querySelector("[data-webauthn-message]");
    if (!box) { return; }
    box.textContent = message;
    box.hidden = false;
  }

  function requestOptions(json) {
    var o = json.publicKey || json;
    o.challenge = toBytes(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return o;
  }

  function creationOptions(json) {
    var o = json.publicKey || json;
    o.challenge = toBytes(o.challenge);
    o.user.id = toBytes(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return o;
  }

  // The credential as JSON for the server (py_webauthn's parse_*_credential_json): the
  // common part, then the response fields of an assertion (login) or an attestation (enrol).
  function credentialJSON(cred, response) {
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: response
    };
  }

  function assertionJSON(cred) {
    var r = cred.response;
    return credentialJSON(cred, {
      clientDataJSON: toB64url(r.clientDataJSON),
      authenticatorData: toB64url(r.authenticatorData),
      signature: toB64url(r.signature),
      userHandle: r.userHandle ? toB64url(r.userHandle) : null
    });
  }

  function attestationJSON(cred) {
    var r = cred.response;
    return credentialJSON(cred, {
      clientDataJSON: toB64url(r.clientDataJSON),
      attestationObject: toB64url(r.attestationObject),
      transports: r.getTransports ? r.getTransports() : []
    });
  }

  function run(block, button) {
    var mode = block.getAttribute("data-webauthn");
    var submitUrl = block.getAttribute("data-submit-url");
    var labelInput = block.querySelector("[data-webauthn-label]");
    button.disabled = true;
    block.setAttribute("aria-busy", "true");

    function finish(result) {
      block.removeAttribute("aria-busy");
      if (result && result.ok && result.redirect) {
        window.location.assign(result.redirect);
        return;
      }
      button.disabled = false;
      show(block, (result && result.message) || "処理できませんでした。もう一度お試しください。");
      button.focus();
    }

    function wrap(payload) {
      if (mode === "register") {
        return JSON.stringify({ label: labelInput ? labelInput.value : "", credential: payload });
      }
      return JSON.stringify(payload);
    }

    if (!window.PublicKeyCredential || !navigator.credentials) {
      post(block, submitUrl, wrap({ client_error: "NotSupportedError" })).then(finish);
      return;
    }
    post(block, block.getAttribute("data-options-url"), "{}")
      .then(function (options) {
        if (options && options.ok === false) { return options; }
        var call = mode === "register"
          ? navigator.credentials.create({ publicKey: creationOptions(options) })
          : navigator.credentials.get({ publicKey: requestOptions(options) });
        return call.then(function (cred) {
          var payload = mode === "register" ? attestationJSON(cred) : assertionJSON(cred);
          return post(block, submitUrl, wrap(payload));
        }, function (err) {
          var name = (err && err.name) || "Error";
          return post(block, submitUrl, wrap({ client_error: name }));
        });
      })
      .then(finish, function () { finish(null); });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-webauthn]"), function (block) {
      var button = block.querySelector("[data-webauthn-start]");
      if (!button) { return; }
      button.addEventListener("click", function () { run(block, button); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
