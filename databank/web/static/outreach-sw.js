/* The outreach pages' service worker: a page opened without signal shows a shell, not an error.
 *
 * Served at /outreach/sw.js (web/outreach_offline.py), so it controls the outreach pages only.
 * Pages always come from the network first; only when the network fails does a kept *shell*
 * answer: the start page (its recent contacts come from their encrypted copy, outreach-vault.js),
 * an empty encounter form (sent to the address it was opened at) or the empty registration form.
 * The shells are drawn by the server for no person: no name, no case, no key; nothing else is
 * kept, and form sends (POST) are never answered from here. Signing out clears it all (the
 * sign-out answer's Clear-Site-Data header).
 */
"use strict";

var CACHE = "databank-outreach-v1";
var SCOPE = self.registration.scope; // ends with /outreach/
var SHELLS = {
  start: SCOPE + "offline",
  encounter: SCOPE + "offline/encounter",
  register: SCOPE + "offline/register"
};
var ASSETS = [
  "/static/app.css",
  "/static/outreach.css",
  "/static/outreach-vault.js",
  "/static/outreach.js",
  "/static/map.js"
];
var REFRESH_MS = 5 * 60 * 1000;
var refreshedAt = 0;

// Keep a copy only of a good answer: a redirect (to the sign-in page) is no shell.
function keep(cache, url) {
  return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
    if (response.ok && !response.redirected) { return cache.put(url, response); }
    return null;
  }).catch(function () { return null; });
}

function refresh() {
  refreshedAt = Date.now();
  return caches.open(CACHE).then(function (cache) {
    var urls = ASSETS.concat(Object.keys(SHELLS).map(function (k) { return SHELLS[k]; }));
    return Promise.all(urls.map(function (url) { return keep(cache, url); }));
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(refresh().then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== CACHE; })
      .map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function shellFor(url) {
  var path = url.pathname;
  if (/\/encounters\/new$/.test(path)) { return SHELLS.encounter; }
  if (/\/register$/.test(path)) { return SHELLS.register; }
  return SHELLS.start;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; } // sends go to the network; the page queues them
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).then(function (response) {
      // Online and signed in: keep the shells fresh (their form token follows the session).
      if (response.ok && !response.redirected && Date.now() - refreshedAt > REFRESH_MS) {
        refresh();
      }
      return response;
    }).catch(function () {
      return caches.match(shellFor(url)).then(function (shell) {
        return shell || Response.error();
      });
    }));
    return;
  }
  if (ASSETS.indexOf(url.pathname) !== -1) {
    event.respondWith(fetch(request).catch(function () {
      return caches.match(url.pathname).then(function (kept) { return kept || Response.error(); });
    }));
  }
});
