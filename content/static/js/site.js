// Help centre enhancements. Every page works without this script.
(function () {
  "use strict";
  // "/" or Ctrl-K focuses the search box.
  document.addEventListener("keydown", function (e) {
    var box = document.querySelector(".search-input");
    if (!box) return;
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if ((e.key === "/" && !typing) || (e.key === "k" && (e.ctrlKey || e.metaKey))) {
      e.preventDefault();
      box.focus();
      box.select();
    }
  });
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
})();
