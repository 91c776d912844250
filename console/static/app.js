// precwatch console: the little behaviour the pages need; nothing else.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // "Select all" in the alert queue ticks the export checkboxes of the page.
  var all = document.getElementById("select-all");
  // The export line says what the buttons will export: the ticked
  // alerts when any are, else the whole filter.
  var what = document.getElementById("export-what");
  var whole = what ? what.textContent : "";
  function countSelected() {
    if (!what) { return; }
    var n = document.querySelectorAll("input.select:checked").length;
    what.textContent = n === 0 ? whole : "Export the " + n + " selected alert" + (n === 1 ? "" : "s") + " (untick them all to export the whole filter):";
  }
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input.select").forEach(function (box) { box.checked = all.checked; });
      countSelected();
    });
  }
  document.querySelectorAll("input.select").forEach(function (box) { box.addEventListener("change", countSelected); });
  countSelected(); // ticks the browser restored, going back to the page
  // "← Queue" on an alert's page goes back to the queue as it was left:
  // its filter, sort and page (kept for the tab only; without script the
  // link is the plain queue).
  try {
    if (location.pathname === "/alerts") {
      window.sessionStorage.setItem("precwatch.queue", location.search);
    }
    var back = document.getElementById("back-to-queue");
    var kept = window.sessionStorage.getItem("precwatch.queue");
    if (back && kept && kept.charAt(0) === "?") {
      back.setAttribute("href", "/alerts" + kept);
    }
  } catch (e) { /* storage disabled: the plain link stays */ }
  // Disable a form's buttons once submitted, so a double click acts once.
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
});
