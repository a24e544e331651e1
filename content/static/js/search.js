// Search as you type: suggestions under every search box, from /api/search. Without this
// script the box is an ordinary form that opens /search?q=... .
//
// Keys: "/" or Ctrl-K focuses the box (site.js), arrows move through the suggestions, Enter
// opens the chosen one (or all results), Esc closes the list (and a second Esc clears the box).
(function () {
  "use strict";
  var DEBOUNCE_MS = 120;
  var LIMIT = 6;
  var counter = 0;

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // Lowercase without accents: "Ideeën" -> "ideeen".
  function fold(s) {
    s = s.toLowerCase();
    return s.normalize ? s.normalize("NFD").replace(/[\u0300-\u036f]/g, "") : s;
  }

  function words(s) {
    return fold(s).split(/[^0-9a-z\u00c0-\u024f]+/).filter(function (w) { return w.length >= 2; });
  }

  // The title with the words that start like a query word in <mark>.
  function highlight(title, query) {
    var qs = words(query);
    return title.split(/(\s+)/).map(function (part) {
      var f = fold(part).replace(/[^0-9a-z]/g, "");
      var hit = f && qs.some(function (q) {
        var n = Math.min(q.length, f.length, 4);
        return f.indexOf(q) === 0 || (n >= 4 && f.slice(0, n) === q.slice(0, n));
      });
      return hit ? "<mark>" + escapeHtml(part) + "</mark>" : escapeHtml(part);
    }).join("");
  }

  function fill(template, query) {
    return escapeHtml(template || "").replace("{query}", escapeHtml(query));
  }

  function enhance(form) {
    var input = form.querySelector(".search-input");
    if (!input) return;
    var langField = form.querySelector("input[name=lang]");
    var lang = langField ? langField.value : "";
    var id = "search-suggest-" + (++counter);
    var list = document.createElement("div");
    list.className = "search-suggest";
    list.id = id;
    list.setAttribute("role", "listbox");
    list.hidden = true;
    form.classList.add("search-form-enhanced");
    form.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", id);
    input.setAttribute("aria-expanded", "false");

    var timer = null;
    var controller = null;
    var seq = 0;
    var active = -1;
    var shownFor = null;

    function options() {
      return list.querySelectorAll("[role=option]");
    }

    function setActive(i) {
      var opts = options();
      if (!opts.length) { active = -1; return; }
      if (i < -1) i = opts.length - 1;
      if (i >= opts.length) i = -1;
      active = i;
      for (var k = 0; k < opts.length; k++) {
        opts[k].setAttribute("aria-selected", k === i ? "true" : "false");
      }
      if (i >= 0) {
        input.setAttribute("aria-activedescendant", opts[i].id);
        opts[i].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function open() {
      if (!list.innerHTML) return;
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function allUrl(query) {
      return "/search?q=" + encodeURIComponent(query) + (lang ? "&lang=" + encodeURIComponent(lang) : "");
    }

    function render(data, query) {
      var html = "";
      var results = data.results || [];
      if (!results.length) {
        html += '<div class="search-suggest-none" role="status"><strong>' + fill(form.getAttribute("data-none"), query) +
          "</strong><p>" + escapeHtml(form.getAttribute("data-none-text") || "") + "</p>" +
          '<a class="button button-primary" role="option" id="' + id + '-ticket" href="/portal/tickets/new">' +
          escapeHtml(form.getAttribute("data-new-ticket") || "") + "</a></div>";
      } else {
        results.forEach(function (r, i) {
          html += '<a class="search-suggest-item" role="option" aria-selected="false" id="' + id + "-" + i + '" href="' +
            escapeHtml(r.url) + '"><span class="search-suggest-title">' + highlight(r.title, query) + "</span>" +
            '<span class="search-suggest-category">' + escapeHtml(r.category) + "</span>" +
            // The snippet is HTML from the server: escaped text with <mark> around matches.
            '<span class="search-suggest-snippet">' + r.snippet + "</span></a>";
        });
        html += '<a class="search-suggest-all" role="option" aria-selected="false" id="' + id + '-all" href="' +
          escapeHtml(allUrl(query)) + '">' + fill(form.getAttribute("data-all"), query) +
          (data.total > results.length ? " (" + data.total + ")" : "") + "</a>";
      }
      list.innerHTML = html;
      shownFor = query;
      active = -1;
      open();
    }

    function fetchSuggestions() {
      var query = input.value;
      if (query.trim().length < 2) { list.innerHTML = ""; shownFor = null; close(); return; }
      if (query === shownFor) { open(); return; }
      var mine = ++seq;
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      var url = "/api/search?q=" + encodeURIComponent(query) + "&limit=" + LIMIT +
        (lang ? "&lang=" + encodeURIComponent(lang) : "");
      fetch(url, { headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) { if (mine === seq && input.value === query) render(data, query); })
        .catch(function () { /* offline or aborted: the form still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DEBOUNCE_MS);
    });
    input.addEventListener("focus", function () {
      if (input.value.trim().length >= 2) fetchSuggestions();
    });
    input.addEventListener("keydown", function (e) {
      var opts = options();
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (list.hidden) { fetchSuggestions(); open(); }
        if (!opts.length) return;
        e.preventDefault();
        setActive(active + (e.key === "ArrowDown" ? 1 : -1));
      } else if (e.key === "Enter") {
        if (!list.hidden && active >= 0 && opts[active]) {
          e.preventDefault();
          window.location.href = opts[active].getAttribute("href");
        }
      } else if (e.key === "Escape") {
        if (!list.hidden) {
          e.preventDefault();
          close();
        } else if (input.value) {
          e.preventDefault();
          input.value = "";
          list.innerHTML = "";
          shownFor = null;
        } else {
          input.blur();
        }
      }
    });
    list.addEventListener("mousemove", function (e) {
      var opt = e.target.closest ? e.target.closest("[role=option]") : null;
      if (!opt) return;
      var opts = options();
      for (var k = 0; k < opts.length; k++) {
        if (opts[k] === opt && k !== active) setActive(k);
      }
    });
    document.addEventListener("click", function (e) {
      if (!form.contains(e.target)) close();
    });
    form.addEventListener("focusout", function (e) {
      if (e.relatedTarget && !form.contains(e.relatedTarget)) close();
    });
  }

  if (!window.fetch) return;
  var forms = document.querySelectorAll("form[data-search]");
  for (var i = 0; i < forms.length; i++) enhance(forms[i]);
})();
