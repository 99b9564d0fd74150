// Keyboard shortcuts on the scoring screen: j/k move between criteria, 1-9 choose a level of the current one.
(function () {
  "use strict";
  var criteria = Array.prototype.slice.call(document.querySelectorAll("fieldset.criterion"));
  if (!criteria.length) { return; }
  var current = 0;
  function focus(index) {
    current = Math.max(0, Math.min(criteria.length - 1, index));
    criteria.forEach(function (c, i) { c.classList.toggle("current", i === current); });
    criteria[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "textarea" || tag === "input" && event.target.type === "text" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "j") { focus(current + 1); event.preventDefault(); }
    else if (event.key === "k") { focus(current - 1); event.preventDefault(); }
    else if (/^[1-9]$/.test(event.key)) {
      var radios = criteria[current].querySelectorAll("input[type=radio]");
      var radio = radios[parseInt(event.key, 10) - 1];
      if (radio) { radio.checked = true; radio.focus(); event.preventDefault(); }
    }
  });
  focus(0);
}());
