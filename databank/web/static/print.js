// A "print" button: shown only when this script runs (without it, the browser's own Print
// command does the same), never an inline handler (the CSP allows scripts from this origin only).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});
