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
