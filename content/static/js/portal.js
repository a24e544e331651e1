// The portal's few texts made in the browser, in the page's language.
var portalText = (function () {
  var texts = {
    nl: {
      suggestions: "Staat het antwoord hier misschien al?",
      uploading: "Bestanden uploaden: {done} van {total}…",
      cannotStart: "{file}: het uploaden kon niet beginnen.",
      failed: "{file}: het uploaden is mislukt ({status}).",
      sending: "Versturen…"
    },
    en: {
      suggestions: "Is the answer perhaps already here?",
      uploading: "Uploading files: {done} of {total}…",
      cannotStart: "{file}: the upload could not start.",
      failed: "{file}: the upload failed ({status}).",
      sending: "Sending…"
    }
  };
  var lang = document.documentElement.lang in texts ? document.documentElement.lang : "nl";
  return function (key, args) {
    return texts[lang][key].replace(/\{(\w+)\}/g, function (m, k) { return args && k in args ? args[k] : m; });
  };
})();

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
    fetch("/api/search?lang=" + encodeURIComponent(document.documentElement.lang || "nl") + "&limit=4&q=" + encodeURIComponent(subject.value), { headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        if (mine !== seq) return;
        shown = q;
        var results = data.results || [];
        if (!results.length) { box.hidden = true; box.innerHTML = ""; return; }
        box.innerHTML = "<p class=\"suggestions-title\">" + escapeHtml(portalText("suggestions")) + "</p><ul>" +
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

// Forms with `data-direct-upload` (the service keeps attachments in S3): each chosen file goes
// straight to storage with a presigned, size-bound link first, and the form then carries only
// the upload ids, so a large file never passes through the service. Without JavaScript the
// files travel inside the form as usual.
(function () {
  if (!window.fetch || !window.Promise) return;
  var forms = document.querySelectorAll("form[data-direct-upload]");
  Array.prototype.forEach.call(forms, function (form) {
    var input = form.querySelector("input[type=file][name=attachments]");
    var status = form.querySelector(".upload-status");
    var button = form.querySelector("button[type=submit]");
    var csrf = form.querySelector("input[name=csrf_token]");
    if (!input || !csrf) return;
    function say(text, isError) {
      if (!status) return;
      status.textContent = text;
      status.className = isError ? "upload-status field-error" : "upload-status";
      status.hidden = !text;
    }
    var added = [];
    function sendAhead(file) {
      return fetch(form.getAttribute("data-direct-upload"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf.value, Accept: "application/json" },
        body: JSON.stringify({ filename: file.name, size: file.size, content_type: file.type || "application/octet-stream" })
      })
        .then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (d) {
            if (!r.ok || !d.url) throw new Error(d.error || portalText("cannotStart", { file: file.name }));
            return d;
          });
        })
        .then(function (d) {
          var headers = {};
          Object.keys(d.headers || {}).forEach(function (k) { headers[k] = d.headers[k]; });
          return fetch(d.url, { method: d.method, headers: headers, body: file }).then(function (r) {
            if (!r.ok) throw new Error(portalText("failed", { file: file.name, status: r.status }));
            return d;
          });
        })
        .then(function (d) {
          var kept = document.createElement("input");
          kept.type = "hidden";
          kept.name = "uploaded";
          kept.value = d.field;
          form.appendChild(kept);
          added.push(kept);
        });
    }
    form.addEventListener("submit", function (ev) {
      var files = input.files ? Array.prototype.slice.call(input.files) : [];
      if (!files.length) return;
      ev.preventDefault();
      if (button) button.disabled = true;
      var done = 0;
      say(portalText("uploading", { done: 0, total: files.length }));
      files
        .reduce(function (chain, file) {
          return chain.then(function () {
            return sendAhead(file).then(function () {
              done += 1;
              say(portalText("uploading", { done: done, total: files.length }));
            });
          });
        }, Promise.resolve())
        .then(function () {
          input.value = "";
          input.disabled = true; // the files are already there; the form carries their ids
          say(portalText("sending"));
          form.submit();
        })
        .catch(function (e) {
          // Nothing half-done is submitted: the next attempt sends every chosen file again.
          added.forEach(function (el) { el.parentNode.removeChild(el); });
          added = [];
          say(e.message, true);
          if (button) button.disabled = false;
        });
    });
  });
})();

// Invitation and reset links carry their code after "#", which the browser never sends: put
// it in the form, hide the field that asks for it, and drop it from the address bar and the
// history. Without JavaScript the field stays and the person pastes the code from the e-mail.
(function () {
  var field = document.getElementById("token");
  var code = window.location.hash.slice(1);
  if (!field || !code) return;
  field.value = decodeURIComponent(code);
  var wrapper = document.querySelector("[data-link-code]");
  if (wrapper) wrapper.hidden = true;
  if (window.history.replaceState) {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
})();
