// The invitation link carries its code after "#", which browsers never send to a server: it is
// kept out of request logs. Here it moves into the form's field, leaves the address bar and the
// history, and the form is posted (a POST body, not an address).
(function () {
  "use strict";
  var code = window.location.hash.slice(1);
  var form = document.getElementById("invitation-code");
  if (!code || !form) {
    return;
  }
  window.history.replaceState(null, "", window.location.pathname);
  form.elements.token.value = code;
  form.submit();
})();
