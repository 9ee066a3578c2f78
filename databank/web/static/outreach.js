/* Outreach forms that survive a lost connection.
 *
 * Progressive enhancement: every form works without this file (a normal POST). With it, forms
 * marked data-queue are sent with fetch(); if the network is gone the entry stays in the page
 * (in memory only: nothing personal is ever written to localStorage, sessionStorage, IndexedDB
 * or cookies), the worker is told it is not saved yet, and it is sent again when the connection
 * comes back (the `online` event, and retries with backoff). A client-made submission_id lets
 * the server count a resent entry once.
 */
(function () {
  "use strict";

  var MESSAGES = {
    sending: "Sending…",
    offline: "Not saved yet — no connection. It will be sent when the connection is back. Keep this page open.",
    retrying: "Not saved yet — trying again…",
    saved: "Saved.",
    invalid: "Not saved: please check the answers marked below.",
    signedOut: "Not saved: you were signed out. Sign in again in a new tab, then tap the button again. Keep this page open.",
    failed: "Not saved: the server could not take it. Try again in a moment. Keep this page open.",
    leave: "An entry is not saved yet. If you leave, it will be lost."
  };
  var RETRY_MIN_MS = 2000;
  var RETRY_MAX_MS = 60000;

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var pending = []; // entries not yet acknowledged by the server, in memory only

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
        // A sign-in page instead of an answer: the session ended. Keep the entry.
        say(form, "signedOut", "error");
        return null;
      }
      return response.json().then(function (body) {
        if (response.ok && body.ok) {
          settle(entry);
          form.classList.remove("is-pending");
          say(form, "saved", "ok");
          window.setTimeout(function () { window.location.assign(body.redirect); }, 600);
        } else if (response.status === 422) {
          settle(entry);
          form.classList.remove("is-pending");
          say(form, "invalid", "error");
          showErrors(form, body.errors || {});
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

  document.querySelectorAll("form[data-queue]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      enqueue(form);
    });
  });

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

  // Focus the error summary of a page the server returned with errors.
  var summary = document.getElementById("error-summary");
  if (summary && !summary.hidden) { summary.focus(); }
})();
