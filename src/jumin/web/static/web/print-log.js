/* 画面ハードコピーの記録 (std 10.2, j1370): when a clerk prints a screen (or opens the print
 * preview), tell the server so that the operation log holds who printed which screen.
 * Included by base.html as
 *   <script src=".../print-log.js" data-print-log="/audit/print-log/" defer></script>
 * The CSRF token comes from any form on the page (the logout form always has one).
 * No inline script (CSP); one request per print, sent with keepalive so it survives the dialog.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = script && script.getAttribute("data-print-log");
  if (!endpoint || !window.fetch) { return; }
  var last = 0;

  function token() {
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  window.addEventListener("beforeprint", function () {
    var now = Date.now();
    if (now - last < 2000) { return; }  // Chromium may fire twice for one print
    last = now;
    var body = new URLSearchParams();
    body.set("path", location.pathname);
    body.set("title", document.title);
    // the person page shows a revealed 個人番号 in #my-number-value (inquiry/person.html)
    body.set("my_number", document.getElementById("my-number-value") ? "1" : "0");
    body.set("csrfmiddlewaretoken", token());
    fetch(endpoint, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      keepalive: true,
      headers: { "X-CSRFToken": token() }
    }).catch(function () { /* the print goes on; the server logs what reaches it */ });
  });
})();
