// Passkey buttons of the hosted pages (WebAuthn, W3C Level 3). The pages
// work without JavaScript; only these buttons need it, so their forms stay
// hidden until this script finds WebAuthn in the browser.
//
// A form marked data-passkey="get" (sign in) or "create" (register) posts
// its csrf field to its data-options URL, which answers with the
// ceremony's options as JSON (binary fields base64url, the server's
// handle kept in a cookie). The browser's credential goes, as JSON, into
// the form's "credential" field, and the form is then submitted normally:
// the server verifies it and answers with a page or a redirect.
(function () {
  "use strict";

  function fromB64url(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toB64url(buf) {
    if (!buf) { return null; }
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      var o = { type: d.type, id: fromB64url(d.id) };
      if (d.transports) { o.transports = d.transports; }
      return o;
    });
  }

  // The JSON options (PublicKeyCredentialCreationOptionsJSON or
  // ...RequestOptionsJSON) as the objects navigator.credentials takes.
  function decodeOptions(kind, pk) {
    pk.challenge = fromB64url(pk.challenge);
    if (kind === "create") {
      pk.user.id = fromB64url(pk.user.id);
      pk.excludeCredentials = descriptors(pk.excludeCredentials);
    } else {
      pk.allowCredentials = descriptors(pk.allowCredentials);
    }
    return pk;
  }

  // The PublicKeyCredential as the JSON the server parses.
  function encodeCredential(cred) {
    var r = cred.response, out = {
      id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      out.response.userHandle = toB64url(r.userHandle);
    }
    return JSON.stringify(out);
  }

  function showError(form, text) {
    var el = form.querySelector("[data-passkey-error]");
    if (!el) { return; }
    el.textContent = text;
    el.hidden = false;
    var button = form.querySelector("button");
    if (button) { button.setAttribute("aria-describedby", el.id); button.focus(); }
  }

  function run(form) {
    var kind = form.getAttribute("data-passkey");
    var body = new URLSearchParams();
    body.set("csrf", form.elements.csrf.value);
    var button = form.querySelector("button");
    if (button) { button.disabled = true; }
    fetch(form.getAttribute("data-options"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Accept": "application/json" }
    }).then(function (res) {
      if (!res.ok) { throw new Error("options " + res.status); }
      return res.json();
    }).then(function (opts) {
      var pk = decodeOptions(kind, opts.publicKey);
      return kind === "create" ? navigator.credentials.create({ publicKey: pk })
        : navigator.credentials.get({ publicKey: pk });
    }).then(function (cred) {
      if (!cred) { throw new Error("no credential"); }
      form.elements.credential.value = encodeCredential(cred);
      form.submit();
    }).catch(function () {
      if (button) { button.disabled = false; }
      showError(form, form.getAttribute("data-error") || "");
    });
  }

  function init() {
    if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) { return; }
    var forms = document.querySelectorAll("form[data-passkey]");
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        form.hidden = false;
        form.addEventListener("submit", function (ev) { ev.preventDefault(); run(form); });
      })(forms[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
