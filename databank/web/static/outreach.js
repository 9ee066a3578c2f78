/* Outreach forms that survive a lost connection, a lost session and a change of language.
 *
 * Progressive enhancement: every form works without this file (a normal POST). With it, forms
 * marked data-queue are sent with fetch(); if the network is gone the entry stays in the page,
 * the worker is told it is not saved yet, and it is sent again when the connection comes back
 * (the `online` event, and retries with backoff). A client-made submission_id lets the server
 * count a resent entry once.
 *
 * What was typed is also kept as a draft, encrypted (outreach-vault.js: never in clear on the
 * device, under a key that does not outlive the sign-out), so it comes back in its form after
 * signing in again, after switching language, or when the page is opened again. The service
 * worker (outreach-sw.js) shows page shells without signal; the start page's shell lists the
 * recent contacts from their encrypted copy.
 */
(function () {
  "use strict";

  var MESSAGES = {
    sending: "Sending…",
    offline: "Not saved yet — no connection. It will be sent when the connection is back. Keep this page open.",
    retrying: "Not saved yet — trying again…",
    saved: "Saved.",
    invalid: "Not saved: please check the answers marked below.",
    signedOut: "Not saved: you were signed out. Sign in again: what you typed is kept on this phone, encrypted, and comes back in this form.",
    signIn: "Sign in again",
    restored: "What you typed before is back. Check it, then save.",
    failed: "Not saved: the server could not take it. Try again in a moment. Keep this page open.",
    leave: "An entry is not saved yet. If you leave, it will be lost."
  };
  var RETRY_MIN_MS = 2000;
  var RETRY_MAX_MS = 60000;

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var pending = []; // entries not yet acknowledged by the server
  var vault = window.databankVault || null;
  var DRAFT_DELAY_MS = 300;

  function newId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function statusOf(form) {
    return form.querySelector("[data-send-status]");
  }

  // The page's own (translated) wording, from data-msg-* attributes; English otherwise.
  function message(form, key) {
    var status = form ? statusOf(form) : document.querySelector("[data-send-status]");
    var attr = "msg" + key.charAt(0).toUpperCase() + key.slice(1);
    return (status && status.dataset[attr]) || MESSAGES[key];
  }

  function say(form, key, kind) {
    var status = statusOf(form);
    if (!status) { return; }
    status.textContent = MESSAGES[key] ? message(form, key) : key;
    status.className = "send-status" + (kind ? " " + kind : "");
  }

  function clearErrors(form) {
    var page = form.closest(".outreach") || document;
    page.querySelectorAll(".field-error").forEach(function (el) {
      el.textContent = "";
      el.hidden = true;
    });
    page.querySelectorAll('[aria-invalid="true"]').forEach(function (el) {
      el.removeAttribute("aria-invalid");
    });
    var summary = document.getElementById("error-summary");
    if (summary) { summary.hidden = true; }
  }

  // The words a worker reads for a field: its label, or its group's legend.
  function fieldName(el) {
    if (!el) { return ""; }
    var label = el.id ? document.querySelector('label[for="' + el.id + '"]') : null;
    var legend = el.tagName === "FIELDSET" ? el.querySelector("legend") : null;
    var source = label || legend;
    return source ? source.firstChild.textContent.trim() : "";
  }

  function showErrors(form, errors) {
    clearErrors(form);
    var summary = document.getElementById("error-summary");
    var list = summary ? summary.querySelector("ul") : null;
    if (list) { list.textContent = ""; }
    var found = Object.keys(errors).map(function (field) {
      return { field: field, slot: document.getElementById("err-" + field) };
    });
    // In the order of the page, so the summary reads like the form.
    found.sort(function (a, b) {
      if (!a.slot || !b.slot) { return a.slot ? -1 : (b.slot ? 1 : 0); }
      return a.slot.compareDocumentPosition(b.slot) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });
    found.forEach(function (item) {
      var text = errors[item.field].join(" ");
      var control = null;
      if (item.slot) {
        item.slot.textContent = text;
        item.slot.hidden = false;
        document.querySelectorAll('[aria-describedby~="err-' + item.field + '"]').forEach(function (el) {
          el.setAttribute("aria-invalid", "true");
          control = control || el;
        });
      }
      if (list) {
        var line = document.createElement("li");
        var link = document.createElement("a");
        var name = fieldName(control);
        link.href = "#" + (control && control.id ? control.id : "err-" + item.field);
        link.textContent = name ? name + ": " + text : text;
        line.appendChild(link);
        list.appendChild(line);
      }
    });
    if (summary) {
      summary.hidden = false;
      summary.focus();
    }
  }

  function backoff(entry) {
    var delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * Math.pow(2, entry.attempts));
    window.clearTimeout(entry.timer);
    entry.timer = window.setTimeout(function () { send(entry); }, delay);
  }

  function settle(entry) {
    pending = pending.filter(function (e) { return e !== entry; });
    window.clearTimeout(entry.timer);
  }

  function send(entry) {
    var form = entry.form;
    if (entry.inFlight) { return; }
    if (navigator.onLine === false) {
      say(form, "offline", "warn");
      return; // the `online` event sends it
    }
    entry.inFlight = true;
    entry.attempts += 1;
    say(form, entry.attempts > 1 ? "retrying" : "sending", "warn");
    fetch(form.action, {
      method: "POST",
      body: entry.data,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrfToken }
    }).then(function (response) {
      entry.inFlight = false;
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        // A sign-in page instead of an answer: the session ended. The draft is kept
        // (encrypted) and comes back in this form once the worker has signed in again.
        saveDraft(form).then(function () { signedOut(form, entry); });
        return null;
      }
      return response.json().then(function (body) {
        if (response.ok && body.ok) {
          settle(entry);
          form.classList.remove("is-pending");
          dropDraft(form);
          say(form, "saved", "ok");
          window.setTimeout(function () { window.location.assign(body.redirect); }, 600);
        } else if (response.status === 422 && body.page) {
          // The answer is a page (a referral without consent: its way forward): ask for it.
          settle(entry);
          form.classList.remove("is-pending");
          HTMLFormElement.prototype.submit.call(form);
        } else if (response.status === 422) {
          settle(entry);
          form.classList.remove("is-pending");
          say(form, "invalid", "error");
          showErrors(form, body.errors || {});
        } else if (response.status === 400) {
          // Refused before it was read: the form's token is the session's, so a session that
          // ended (idle, expired) looks like this. Ask the server whether one is still open.
          sessionEnded(form).then(function (ended) {
            if (ended) {
              saveDraft(form).then(function () { signedOut(form, entry); });
            } else {
              settle(entry);
              form.classList.remove("is-pending");
              say(form, body.message || "failed", "error");
            }
          });
        } else if (response.status >= 500) {
          // The server had a passing fault: try again.
          say(form, "failed", "error");
          backoff(entry);
        } else {
          settle(entry);
          form.classList.remove("is-pending");
          say(form, body.message || "failed", "error");
        }
      });
    }).catch(function () {
      // The network failed (or the answer was lost): keep the entry, send it again later.
      entry.inFlight = false;
      say(form, "offline", "warn");
      backoff(entry);
    });
  }

  function enqueue(form) {
    var idField = form.querySelector('input[name="submission_id"]');
    if (idField && !idField.value) { idField.value = newId(); }
    var entry = pending.filter(function (e) { return e.form === form; })[0];
    if (entry) {
      // Sent again after a change: same submission id, newest values.
      entry.data = new FormData(form);
      entry.attempts = 0;
    } else {
      entry = { form: form, data: new FormData(form), attempts: 0, timer: null, inFlight: false };
      pending.push(entry);
    }
    form.classList.add("is-pending");
    send(entry);
  }

  // -- the session ended: say so, with the way back to this very form ---------------------------
  function sessionEnded(form) {
    var status = statusOf(form);
    var probe = status && status.dataset.sessionProbe;
    if (!probe) { return Promise.resolve(false); }
    return fetch(probe, { credentials: "same-origin", cache: "no-store" }).then(function (answer) {
      return answer.redirected && /\/login$/.test(new URL(answer.url).pathname);
    }).catch(function () { return false; });
  }

  function signedOut(form, entry) {
    // The draft holds the entry now: signing in again in this tab loses nothing.
    if (entry) { settle(entry); }
    form.classList.remove("is-pending");
    say(form, "signedOut", "error");
    var status = statusOf(form);
    var url = status && status.dataset.signInUrl;
    if (!url) { return; }
    var link = document.createElement("a");
    link.className = "button secondary sign-in-again";
    link.href = url + "?next=" + encodeURIComponent(window.location.pathname);
    link.textContent = message(form, "signIn");
    status.appendChild(document.createTextNode(" "));
    status.appendChild(link);
  }

  // -- drafts: what was typed, kept encrypted until it is saved ----------------------------------
  function draftName(form) {
    return "draft:" + new URL(form.action, window.location.href).pathname;
  }

  function fieldsOf(form) {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.disabled) { return; }
      if (el.type === "submit" || el.type === "button" || el.type === "file") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        fields.push([el.name, el.value, el.checked]);
      } else {
        fields.push([el.name, el.value]);
      }
    });
    return fields;
  }

  function fill(form, fields) {
    var values = {};
    var checks = {};
    fields.forEach(function (f) {
      if (f.length === 3) { checks[f[0] + "\u0000" + f[1]] = f[2]; } else { values[f[0]] = f[1]; }
    });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        var key = el.name + "\u0000" + el.value;
        if (Object.prototype.hasOwnProperty.call(checks, key)) { el.checked = checks[key]; }
      } else if (Object.prototype.hasOwnProperty.call(values, el.name) && el.type !== "submit") {
        el.value = values[el.name];
        if (el.tagName === "TEXTAREA") { el.dispatchEvent(new Event("input")); }
      }
    });
  }

  var dirty = [];
  function saveDraft(form) {
    if (!vault || dirty.indexOf(form) === -1) { return Promise.resolve(false); }
    window.clearTimeout(form.draftTimer);
    form.draftSaving = vault.save(draftName(form), fieldsOf(form));
    return form.draftSaving;
  }

  function dropDraft(form) {
    dirty = dirty.filter(function (f) { return f !== form; });
    window.clearTimeout(form.draftTimer);
    if (!vault) { return; }
    // After a save still under way, or the saved entry's draft would come back.
    Promise.resolve(form.draftSaving).then(function () { vault.remove(draftName(form)); });
  }

  function saveAllDrafts() {
    return Promise.all(dirty.map(saveDraft));
  }

  function watchDraft(form) {
    var changed = function () {
      if (dirty.indexOf(form) === -1) { dirty.push(form); }
      window.clearTimeout(form.draftTimer);
      form.draftTimer = window.setTimeout(function () { saveDraft(form); }, DRAFT_DELAY_MS);
    };
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    if (!vault) { return; }
    vault.load(draftName(form)).then(function (fields) {
      if (!fields) { return; }
      fill(form, fields);
      if (dirty.indexOf(form) === -1) { dirty.push(form); }
      say(form, "restored", "warn");
    });
  }

  // A shell kept for use without signal was drawn earlier: its time is now.
  function setNow(form) {
    var field = form.querySelector('input[name="occurred_at"]');
    if (!field) { return; }
    var now = new Date();
    var local = new Date(now.getTime() - now.getTimezoneOffset() * 60000);
    field.value = local.toISOString().slice(0, 16);
  }

  document.querySelectorAll("form[data-queue]").forEach(function (form) {
    if (form.hasAttribute("data-shell")) { setNow(form); }
    watchDraft(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (dirty.indexOf(form) === -1) { dirty.push(form); }
      saveDraft(form);
      enqueue(form);
    });
  });

  // Switching language reloads the page: the drafts are kept first, and come back after.
  document.querySelectorAll("form.lang-switch").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!dirty.length) { return; }
      event.preventDefault();
      var chosen = event.submitter;
      if (chosen && chosen.name) {
        var carried = document.createElement("input");
        carried.type = "hidden";
        carried.name = chosen.name;
        carried.value = chosen.value;
        form.appendChild(carried);
      }
      saveAllDrafts().then(function () {
        pending = []; // kept as drafts: leaving loses nothing
        HTMLFormElement.prototype.submit.call(form);
      });
    });
  });

  // Signing out: nothing kept on the phone outlives it (the server clears the site too).
  document.querySelectorAll("form").forEach(function (form) {
    if (!/\/logout$/.test(new URL(form.action, window.location.href).pathname)) { return; }
    form.addEventListener("submit", function (event) {
      if (!vault) { return; }
      event.preventDefault();
      pending = [];
      dirty = [];
      vault.forget().then(function () { HTMLFormElement.prototype.submit.call(form); });
    });
  });

  // -- recent contacts: an encrypted copy for the start page's shell -----------------------------
  function keepContacts(list) {
    var items = Array.prototype.map.call(list.querySelectorAll("li"), function (line) {
      var link = line.querySelector(".person-link");
      var shortcut = line.querySelector(".shortcut");
      return {
        name: line.querySelector(".name").textContent,
        seen: line.querySelector(".muted").textContent,
        href: link.getAttribute("href"),
        encounter: shortcut ? shortcut.getAttribute("href") : null
      };
    });
    vault.save("contacts", items);
  }

  function showContacts(list) {
    vault.load("contacts").then(function (items) {
      if (!items || !items.length) { return; }
      var empty = document.querySelector("[data-offline-contacts-empty]");
      if (empty) { empty.hidden = true; }
      items.forEach(function (item) {
        var line = document.createElement("li");
        line.className = "contact";
        var link = document.createElement("a");
        link.className = "person-link";
        link.href = item.href;
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = item.name;
        var seen = document.createElement("span");
        seen.className = "muted";
        seen.textContent = item.seen;
        link.appendChild(name);
        link.appendChild(seen);
        line.appendChild(link);
        if (item.encounter) {
          var shortcut = document.createElement("a");
          shortcut.className = "button secondary shortcut";
          shortcut.href = item.encounter;
          shortcut.textContent = list.dataset.msgNewEncounter || "New encounter";
          shortcut.setAttribute("aria-label", shortcut.textContent + ": " + item.name);
          line.appendChild(shortcut);
        }
        list.appendChild(line);
      });
    });
  }

  if (vault) {
    var shellList = document.querySelector("[data-offline-contacts]");
    var recent = document.getElementById("recent-title");
    if (shellList) {
      showContacts(shellList);
    } else if (recent) {
      var list = recent.parentNode.querySelector(".people-list");
      if (list) { keepContacts(list); } else { vault.save("contacts", []); }
    }
  }

  // -- the service worker: page shells without signal, scoped to the outreach pages ------------
  var workerMeta = document.querySelector('meta[name="outreach-worker"]');
  if (workerMeta && "serviceWorker" in navigator) {
    var scope = workerMeta.content.replace(/[^/]*$/, "");
    navigator.serviceWorker.register(workerMeta.content, { scope: scope }).catch(function () {
      return null; // without it, the pages work online as before
    });
  }

  window.addEventListener("online", function () {
    pending.forEach(function (entry) {
      entry.attempts = 0;
      window.clearTimeout(entry.timer);
      send(entry);
    });
  });
  window.addEventListener("offline", function () {
    pending.forEach(function (entry) { say(entry.form, "offline", "warn"); });
  });
  window.addEventListener("pagehide", function () { saveAllDrafts(); });
  window.addEventListener("beforeunload", function (event) {
    if (pending.length) {
      event.preventDefault();
      event.returnValue = message(null, "leave");
      return event.returnValue;
    }
    return undefined;
  });

  // Character counters for notes.
  document.querySelectorAll("textarea[data-counter]").forEach(function (area) {
    var counter = document.getElementById(area.getAttribute("data-counter"));
    var max = parseInt(area.getAttribute("maxlength"), 10);
    if (!counter || !max) { return; }
    var template = counter.getAttribute("data-left") || "{n} characters left.";
    var update = function () {
      counter.textContent = template.replace("{n}", String(max - area.value.length));
    };
    area.addEventListener("input", update);
    update();
  });

  // Parts of the page that only work with JavaScript (the plan, "use my location").
  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

  // Focus the error summary of a page the server returned with errors; else bring an answer's
  // results into view (a phone's screen shows the search form again otherwise).
  var summary = document.getElementById("error-summary");
  var answer = document.querySelector("[data-scroll-into-view]");
  if (summary && !summary.hidden) {
    summary.focus();
  } else if (answer) {
    answer.scrollIntoView({ block: "start" });
    answer.focus({ preventScroll: true });
  }
})();
