// The ticket form: the subtopic list follows the chosen sector. Without JavaScript the form
// shows every subtopic grouped by sector, and the server checks that the two match.
(function () {
  var sector = document.getElementById("sector");
  var subtopic = document.getElementById("subtopic");
  if (!sector || !subtopic) return;
  function follow() {
    var chosen = sector.value;
    var groups = subtopic.querySelectorAll("optgroup");
    for (var i = 0; i < groups.length; i++) {
      var match = groups[i].getAttribute("data-sector") === chosen;
      groups[i].hidden = !match;
      groups[i].disabled = !match;
    }
    var selected = subtopic.options[subtopic.selectedIndex];
    if (selected && selected.parentNode.tagName === "OPTGROUP" && selected.parentNode.disabled) {
      subtopic.value = "";
    }
  }
  sector.addEventListener("change", follow);
  follow();
})();

// The ticket form: while the subscriber types the subject, FAQs that may already answer the
// question appear under it (from /api/search; they open in a new tab, the form stays).
(function () {
  var subject = document.getElementById("subject");
  var box = document.getElementById("subject-suggestions");
  if (!subject || !box || !window.fetch) return;
  var timer = null;
  var seq = 0;
  var shown = "";
  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function suggest() {
    var q = subject.value.trim();
    if (q.length < 3) { box.hidden = true; box.innerHTML = ""; shown = ""; return; }
    if (q === shown) return;
    var mine = ++seq;
    fetch("/api/search?lang=nl&limit=4&q=" + encodeURIComponent(subject.value), { headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        if (mine !== seq) return;
        shown = q;
        var results = data.results || [];
        if (!results.length) { box.hidden = true; box.innerHTML = ""; return; }
        box.innerHTML = "<p class=\"suggestions-title\">Staat het antwoord hier misschien al?</p><ul>" +
          results.map(function (r) {
            return "<li><a href=\"" + escapeHtml(r.url) + "\" target=\"_blank\" rel=\"noopener\">" + escapeHtml(r.title) +
              "</a><span class=\"muted\">" + r.snippet + "</span></li>";
          }).join("") + "</ul>";
        box.hidden = false;
      })
      .catch(function () { box.hidden = true; });
  }
  subject.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, 250);
  });
  if (subject.value) suggest();
})();
