// webauthn.js runs the security-key (WebAuthn) ceremonies of ramconsole.
//
// A form <form method="post" data-webauthn="create|get" data-options="…">
// carries go-webauthn's options as JSON. When its start button is pressed
// (or Enter submits the form) the script asks the browser for a credential,
// writes the result as JSON into the hidden field "credential" and submits
// the form. It makes no network request of its own and writes no markup or
// inline styles: errors are shown with textContent and the hidden attribute.
(function () {
  'use strict';

  var MSG_CANCELLED = 'The security key did not answer, or the request was cancelled. Try again.';
  var MSG_REGISTERED = 'This security key is already registered.';
  var MSG_UNSUPPORTED = 'This browser cannot use security keys.';
  var MSG_OTHER = 'The security key could not be used: ';

  // base64url (no padding) to ArrayBuffer.
  function decode(s) {
    if (typeof s !== 'string') throw new Error('malformed options');
    var b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  // ArrayBuffer (or view) to base64url without padding.
  function encode(buf) {
    var bytes = new Uint8Array(buf.buffer || buf, buf.byteOffset || 0, buf.byteLength);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // The publicKey options of a form, with binary fields decoded.
  function options(form, kind) {
    var parsed = JSON.parse(form.getAttribute('data-options') || '');
    if (!parsed || typeof parsed.publicKey !== 'object' || !parsed.publicKey) {
      throw new Error('malformed options');
    }
    var pk = Object.assign({}, parsed.publicKey);
    pk.challenge = decode(pk.challenge);
    if (kind === 'create') {
      if (!pk.user) throw new Error('malformed options');
      pk.user = Object.assign({}, pk.user, { id: decode(pk.user.id) });
    }
    ['excludeCredentials', 'allowCredentials'].forEach(function (key) {
      if (Array.isArray(pk[key])) {
        pk[key] = pk[key].map(function (c) {
          return Object.assign({}, c, { id: decode(c.id) });
        });
      }
    });
    return pk;
  }

  // The credential in the WebAuthn Level 3 toJSON() shape.
  function serialise(cred, kind) {
    if (typeof cred.toJSON === 'function') {
      try {
        var native = cred.toJSON();
        if (native && native.id && native.response) return native;
      } catch (e) { /* fall back to the manual form below */ }
    }
    var r = cred.response;
    var out = { id: cred.id, rawId: encode(cred.rawId), type: cred.type };
    if (cred.authenticatorAttachment) out.authenticatorAttachment = cred.authenticatorAttachment;
    if (kind === 'create') {
      out.response = {
        clientDataJSON: encode(r.clientDataJSON),
        attestationObject: encode(r.attestationObject),
        transports: typeof r.getTransports === 'function' ? r.getTransports() : []
      };
    } else {
      out.response = {
        clientDataJSON: encode(r.clientDataJSON),
        authenticatorData: encode(r.authenticatorData),
        signature: encode(r.signature),
        userHandle: r.userHandle ? encode(r.userHandle) : null
      };
    }
    out.clientExtensionResults =
      typeof cred.getClientExtensionResults === 'function' ? cred.getClientExtensionResults() : {};
    return out;
  }

  function message(err, kind) {
    if (err.name === 'NotAllowedError' || err.name === 'AbortError') return MSG_CANCELLED;
    if (err.name === 'InvalidStateError' && kind === 'create') return MSG_REGISTERED;
    if (err.unsupported) return MSG_UNSUPPORTED;
    return MSG_OTHER + err.message;
  }

  function enhance(form) {
    var kind = form.getAttribute('data-webauthn');
    if (kind !== 'create' && kind !== 'get') return;
    var button = form.querySelector('[data-webauthn-start]');
    var errorBox = form.querySelector('[data-testid="security-key-error"]');
    var busy = false;

    function fail(err) {
      if (errorBox) {
        errorBox.textContent = message(err, kind);
        errorBox.removeAttribute('hidden');
      }
      if (button) button.disabled = false;
      busy = false;
    }

    async function run(event) {
      event.preventDefault(); // the script alone submits, after the ceremony
      if (busy || !form.reportValidity()) return;
      busy = true;
      if (errorBox) errorBox.setAttribute('hidden', '');
      if (button) button.disabled = true;
      try {
        var creds = navigator.credentials;
        if (!window.PublicKeyCredential || !creds || typeof creds[kind] !== 'function') {
          throw Object.assign(new Error('unsupported'), { unsupported: true });
        }
        var publicKey = options(form, kind);
        var cred = await (kind === 'create' ? creds.create({ publicKey: publicKey })
                                            : creds.get({ publicKey: publicKey }));
        if (!cred) throw Object.assign(new Error('no credential'), { name: 'NotAllowedError' });
        var field = form.querySelector('input[name="credential"]');
        if (!field) throw new Error('the form has no credential field');
        field.value = JSON.stringify(serialise(cred, kind));
      } catch (err) {
        fail(err);
        return;
      }
      // The prototype's submit survives a field named "submit"; it fires no
      // submit event, so the handler is not run again.
      HTMLFormElement.prototype.submit.call(form);
    }

    if (button) button.addEventListener('click', run);
    form.addEventListener('submit', run);
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll('form[data-webauthn]'), enhance);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
