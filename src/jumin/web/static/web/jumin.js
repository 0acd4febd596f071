/* Jumin clerk screens: keyboard and form behaviour. No inline scripts (CSP), no build step.
 * - focus: the first field with an error, else [autofocus], else the page heading;
 * - Esc: follows the page's cancel link ([data-cancel]);
 * - a form submits once (buttons disabled; the server also refuses duplicates by key);
 * - forms marked data-preserve keep what the clerk typed in sessionStorage, so a session
 *   that expired mid-form (login, then back) loses nothing; cleared once the server accepts.
 */
(function () {
  "use strict";
  var PREFIX = "jumin-form:";

  function focusFirst() {
    var target = document.querySelector('[aria-invalid="true"]') ||
      document.querySelector("[data-focus-first]") ||
      document.querySelector("[autofocus]") ||
      document.querySelector("form[data-preserve] input:not([type=hidden]):not([tabindex='-1']), form[data-preserve] select");
    if (!target) {
      var heading = document.querySelector("main h1");
      if (heading) { heading.setAttribute("tabindex", "-1"); target = heading; }
    }
    if (target) { target.focus(); if (target.select && target.tagName === "INPUT") { target.select(); } }
  }

  function keyOf(form) { return PREFIX + (form.getAttribute("data-preserve") || location.pathname); }

  function saveForm(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "password" || el.type === "submit") { return; }
      if (el.type === "checkbox" || el.type === "radio") { if (el.checked) { data[el.name + "=" + el.value] = true; } }
      else { data[el.name] = el.value; }
    });
    try { sessionStorage.setItem(keyOf(form), JSON.stringify(data)); } catch (e) { /* storage full or off */ }
  }

  function restoreForm(form) {
    var raw = null;
    try { raw = sessionStorage.getItem(keyOf(form)); } catch (e) { return; }
    if (!raw || form.getAttribute("data-fresh") !== "1") { return; }
    var data = JSON.parse(raw), restored = false;
    // rows the clerk had added (persons.1.…) have no control on a fresh form: send everything
    // back to the server once, which redisplays the form with those rows
    var missing = Object.keys(data).some(function (name) {
      var field = name.split("=")[0];
      return !form.querySelector('[name="' + field.replace(/"/g, "") + '"]');
    });
    if (missing && !form.hasAttribute("data-redisplayed")) {
      form.setAttribute("data-redisplayed", "1");
      Object.keys(data).forEach(function (name) {
        var pair = name.split("="), input = document.createElement("input");
        input.type = "hidden";
        input.name = pair[0];
        input.value = pair.length > 1 ? pair[1] : data[name];
        form.appendChild(input);
      });
      var action = form.querySelector('input[name="_action"][type="hidden"]') || document.createElement("input");
      action.type = "hidden"; action.name = "_action"; action.value = "redisplay";
      form.appendChild(action);
      form.submit();
      return;
    }
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "password") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        var on = !!data[el.name + "=" + el.value];
        if (on !== el.checked) { el.checked = on; restored = true; }
      } else if (Object.prototype.hasOwnProperty.call(data, el.name) && data[el.name] !== el.value) {
        el.value = data[el.name]; restored = true;
      }
    });
    if (restored) {
      var note = document.createElement("p");
      note.className = "restored";
      note.setAttribute("role", "status");
      note.textContent = "前回入力中だった内容を復元しました。確認してから進めてください。";
      form.insertBefore(note, form.firstChild);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-clear-preserved]").forEach(function (el) {
      try { sessionStorage.removeItem(PREFIX + el.getAttribute("data-clear-preserved")); } catch (e) { /* ignore */ }
    });
    document.querySelectorAll("form[data-preserve]").forEach(function (form) {
      restoreForm(form);
      form.addEventListener("input", function () { saveForm(form); });
      form.addEventListener("change", function () { saveForm(form); });
    });
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("data-submitted") === "1") { event.preventDefault(); return; }
        form.setAttribute("data-submitted", "1");
        // keep the value of the button that was pressed, then disable the buttons
        var pressed = event.submitter;
        if (pressed && pressed.name) {
          var hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = pressed.name; hidden.value = pressed.value;
          form.appendChild(hidden);
        }
        window.setTimeout(function () {
          form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = true; });
        }, 0);
      });
    });
    focusFirst();
  });

  // a page restored from the back/forward cache can be submitted again (the server refuses
  // a duplicate by its idempotency key)
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-submitted]").forEach(function (form) {
      form.removeAttribute("data-submitted");
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    });
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target && target.tagName === "SELECT" && target.form &&
        !event.altKey && !event.ctrlKey && !event.shiftKey) {
      // Enter submits from a list too (a closed select would otherwise swallow it)
      event.preventDefault();
      var primary = target.form.querySelector("button.default-submit") || target.form.querySelector("button[type=submit]");
      if (target.form.requestSubmit) { target.form.requestSubmit(primary || undefined); } else { target.form.submit(); }
      return;
    }
    if (event.key === "Escape") {
      var open = document.querySelector("details.help[open]");
      if (open) { open.removeAttribute("open"); return; }
      var cancel = document.querySelector("[data-cancel]");
      if (cancel && cancel.href) { event.preventDefault(); window.location.href = cancel.href; }
    } else if (event.key === "F1") {
      var help = document.querySelector("details.help");
      if (help) { event.preventDefault(); help.setAttribute("open", ""); help.querySelector("summary").focus(); }
    }
  });
})();
