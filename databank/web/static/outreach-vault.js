/* What an outreach worker's phone keeps, encrypted: drafts of forms, the recent contacts.
 *
 * Nothing personal is written to the device in clear. A value is kept in localStorage only as
 * AES-GCM ciphertext (WebCrypto), under the key the server derives for the signed-in user and
 * their session epoch (web/outreach_offline.py). A page online hands the key over in
 * <meta name="draft-key">; it is imported as a *non-extractable* key and kept in IndexedDB, so
 * the page shells used without signal (which carry no key) can open what was kept. Signing out
 * moves the epoch (a new key from then on) and clears the site's storage, this key included
 * (the sign-out answer's Clear-Site-Data header, and forget() below). A value kept under another
 * key (another user, an earlier sign-in) does not open and is removed.
 */
(function () {
  "use strict";

  var PREFIX = "databank.outreach.";
  var DB_NAME = "databank-outreach";
  var STORE = "keys";
  var MAX_AGE_MS = 24 * 3600 * 1000; // a draft older than a working day is dropped unread

  function fromBase64(text) {
    var plain = text.replace(/-/g, "+").replace(/_/g, "/");
    while (plain.length % 4) { plain += "="; }
    var raw = atob(plain);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function toBase64(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i += 1) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw);
  }

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  // The key: from the page if it brings one (then kept for the shells), else the kept one.
  var keyPromise = (function () {
    if (!window.crypto || !window.crypto.subtle || !window.indexedDB) {
      return Promise.resolve(null);
    }
    var meta = document.querySelector('meta[name="draft-key"]');
    if (meta && meta.content) {
      return window.crypto.subtle.importKey(
        "raw", fromBase64(meta.content), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]
      ).then(function (key) {
        return withStore("readwrite", function (store) { return store.put(key, "key"); })
          .then(function () { return key; }, function () { return key; });
      });
    }
    return withStore("readonly", function (store) { return store.get("key"); })
      .then(function (key) { return key || null; }, function () { return null; });
  })().catch(function () { return null; });

  function save(name, value) {
    return keyPromise.then(function (key) {
      if (!key) { return false; }
      var iv = window.crypto.getRandomValues(new Uint8Array(12));
      var plain = new TextEncoder().encode(JSON.stringify({ at: Date.now(), value: value }));
      return window.crypto.subtle.encrypt({ name: "AES-GCM", iv: iv }, key, plain)
        .then(function (sealed) {
          localStorage.setItem(PREFIX + name, JSON.stringify({
            v: 1, iv: toBase64(iv), ct: toBase64(sealed)
          }));
          return true;
        });
    }).catch(function () { return false; });
  }

  function remove(name) {
    localStorage.removeItem(PREFIX + name);
  }

  function load(name) {
    var kept = localStorage.getItem(PREFIX + name);
    if (!kept) { return Promise.resolve(null); }
    return keyPromise.then(function (key) {
      if (!key) { return null; }
      var entry = JSON.parse(kept);
      return window.crypto.subtle.decrypt(
        { name: "AES-GCM", iv: fromBase64(entry.iv) }, key, fromBase64(entry.ct)
      ).then(function (plain) {
        var opened = JSON.parse(new TextDecoder().decode(plain));
        if (Date.now() - opened.at > MAX_AGE_MS) { remove(name); return null; }
        return opened.value;
      });
    }).catch(function () {
      remove(name); // another key's (another user, an earlier sign-in): it never opens
      return null;
    });
  }

  // Everything kept: the values and the key (on sign-out; the server clears the site as well).
  function forget() {
    Object.keys(localStorage).forEach(function (item) {
      if (item.indexOf(PREFIX) === 0) { localStorage.removeItem(item); }
    });
    if (!window.indexedDB) { return Promise.resolve(); }
    return new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
    });
  }

  window.databankVault = { save: save, load: load, remove: remove, forget: forget };
})();
