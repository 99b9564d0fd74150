// Progressive enhancement of the author pages; every page works without this file.
// - "Add another" buttons for requirement, criterion and level rows (the server always offers one blank row;
//   these add more without a round trip), renumbering the new row's field names and ids.
// - Standards search as you type: fetches the same page with the new query and swaps in its results.
(function () {
  "use strict";

  function renumber(row, kind, index) {
    // Field names look like requirements-3-key, rubric-1-levels-2-name: replace the index of this kind.
    var prefix = { requirement: "requirements", criterion: "rubric" }[kind] || kind;
    var pattern = kind === "level" ? /(levels-)\d+(-)/ : new RegExp("^(" + prefix + "-)\\d+(-)");
    row.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replace(pattern, "$1" + index + "$2"));
      });
    });
  }

  function clear(row) {
    row.querySelectorAll("input, textarea, select").forEach(function (el) {
      if (el.type === "checkbox") el.checked = el.name.slice(-9) === "-required";
      else if (el.tagName === "SELECT") el.selectedIndex = 0;
      else if (el.type !== "hidden") el.value = "";
      el.removeAttribute("aria-invalid");
    });
    row.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    row.querySelectorAll("[data-count=level]").forEach(function (el) { el.value = String(row.querySelectorAll("[data-row=level]").length); });
  }

  var LABELS = { requirement: "Add another requirement", criterion: "Add another criterion", level: "Add a level" };

  function enhance(scope) {
    scope.querySelectorAll("[data-rows]").forEach(function (container) {
      var kind = container.getAttribute("data-rows");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary add-row";
      button.textContent = LABELS[kind] || container.getAttribute("data-add-label") || "Add another";
      button.addEventListener("click", function () { addRow(container, kind); });
      var place = kind === "level" ? container.closest(".table-wrap") : container;
      place.insertAdjacentElement("afterend", button);
    });
  }

  function addRow(container, kind) {
    var rows = container.querySelectorAll(":scope > [data-row=" + kind + "]");
    var copy = rows[rows.length - 1].cloneNode(true);
    var index = rows.length;
    renumber(copy, kind, index);
    copy.querySelectorAll(".add-row").forEach(function (b) { b.remove(); });
    if (kind === "level") {
      copy.querySelectorAll("[aria-label]").forEach(function (el) {
        el.setAttribute("aria-label", el.getAttribute("aria-label").replace(/^Level \d+/, "Level " + (index + 1)));
      });
    }
    clear(copy);
    var legend = copy.querySelector(":scope > legend");
    if (legend) legend.textContent = kind === "criterion" ? "New criterion" : kind === "requirement" ? "New requirement" : legend.textContent.replace(/\d+$/, String(index + 1));
    container.appendChild(copy);
    var counter = kind === "level"
      ? container.closest("fieldset").querySelector("[data-count=level]")
      : container.parentElement.querySelector(":scope > [data-count=" + kind + "]");
    if (counter) counter.value = String(index + 1);
    if (kind === "criterion") enhance(copy);
    var first = copy.querySelector("input:not([type=hidden]), textarea");
    if (first) first.focus();
  }

  function liveSearch() {
    var input = document.querySelector("[data-live-search]");
    if (!input || !window.fetch || !window.DOMParser) return;
    var target = document.getElementById(input.getAttribute("data-live-search"));
    var form = input.form;
    var timer = null;
    var latest = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var query = input.value.trim();
        if (query.length < 2) return;
        var url = new URL(window.location.href);
        url.search = new URLSearchParams(new FormData(form)).toString();
        var ticket = ++latest;
        fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "text/html" } })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (!html || ticket !== latest) return; // a newer query is on its way
            var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(target.id);
            if (fresh) target.innerHTML = fresh.innerHTML;
            window.history.replaceState(null, "", url.toString());
          })
          .catch(function () { /* the Search button still works */ });
      }, 300);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var editor = document.getElementById("editor");
    if (editor) enhance(editor);
    liveSearch();
  });
})();
