// precwatch console: the little behaviour the pages need; nothing else.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // "Select all" in the alert queue ticks the export checkboxes of the page.
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input.select").forEach(function (box) { box.checked = all.checked; });
    });
  }
  // Disable a form's buttons once submitted, so a double click acts once.
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
});
