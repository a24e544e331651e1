/*
 * "Contact HelpDesk" for a host application: a button that opens two choices, the helpdesk's
 * form (with the administration the user works in and the page they were on) or an e-mail to
 * the helpdesk's plus-address for that administration.
 *
 *   <div data-contact-helpdesk
 *        data-helpdesk="https://helpdesk.example.nl"      (where the portal is; default: this site)
 *        data-mailbox="support@helpdesk.example.nl"       (the helpdesk's address)
 *        data-administration="adm-0042"                   (optional: letters, digits, space . _ -)
 *        data-lang="nl"></div>                            (nl or en; default: the page's lang)
 *   <script src="https://helpdesk.example.nl/static/js/contact-helpdesk.js" defer></script>
 *
 * No third-party code, no cookies, no requests of its own: it only writes two links. Keyboard:
 * Enter/Space open, arrow keys move, Escape closes and returns to the button.
 */
(function () {
  "use strict";

  var TEXTS = {
    nl: {
      button: "Contact HelpDesk",
      form: "Vraag stellen via het formulier",
      mail: "E-mail de helpdesk",
      subject: "Vraag aan de helpdesk",
      administration: "administratie"
    },
    en: {
      button: "Contact HelpDesk",
      form: "Ask a question using the form",
      mail: "E-mail the helpdesk",
      subject: "Question for the helpdesk",
      administration: "administration"
    }
  };
  var PLAIN_ID = /^[\p{L}\p{N}._-](?:[\p{L}\p{N} ._-]{0,38}[\p{L}\p{N}._-])?$/u;
  var count = 0;

  function language(el) {
    var lang = (el.getAttribute("data-lang") || document.documentElement.lang || "nl").slice(0, 2).toLowerCase();
    return TEXTS[lang] ? lang : "nl";
  }

  function formLink(base, administration) {
    var params = [];
    if (administration) params.push("administration=" + encodeURIComponent(administration));
    params.push("from=" + encodeURIComponent(window.location.href));
    return base.replace(/\/+$/, "") + "/portal/tickets/new?" + params.join("&");
  }

  function mailLink(mailbox, administration, t) {
    var at = mailbox.lastIndexOf("@");
    if (at < 1) return null;
    // The helpdesk reads the administration from a plus-address (support+adm-0042@...) and,
    // for one a mail address cannot carry (spaces), from a tag in the subject.
    var address = /^[A-Za-z0-9._-]+$/.test(administration)
      ? mailbox.slice(0, at) + "+" + administration + mailbox.slice(at)
      : mailbox;
    var subject = t.subject + (administration ? " [" + t.administration + ": " + administration + "]" : "");
    return "mailto:" + address + "?subject=" + encodeURIComponent(subject);
  }

  function style(el, rules) {
    for (var k in rules) el.style[k] = rules[k];
  }

  function render(host) {
    if (host.getAttribute("data-contact-helpdesk-ready")) return;
    host.setAttribute("data-contact-helpdesk-ready", "1");
    var t = TEXTS[language(host)];
    var administration = host.getAttribute("data-administration") || "";
    if (!PLAIN_ID.test(administration)) administration = "";
    var base = host.getAttribute("data-helpdesk") || "";
    var mailbox = host.getAttribute("data-mailbox") || "";
    var id = "contact-helpdesk-" + ++count;

    var wrap = document.createElement("div");
    style(wrap, { position: "relative", display: "inline-block" });
    var button = document.createElement("button");
    button.type = "button";
    button.className = "contact-helpdesk-button";
    button.textContent = t.button;
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", id);
    style(button, {
      font: "inherit", padding: "0.5em 1em", border: "1px solid #1d4f91", borderRadius: "4px",
      background: "#1d4f91", color: "#fff", cursor: "pointer"
    });

    var list = document.createElement("ul");
    list.id = id;
    list.className = "contact-helpdesk-menu";
    list.hidden = true;
    style(list, {
      position: "absolute", zIndex: "1000", minWidth: "16em", margin: "0.25em 0 0", padding: "0.25em 0",
      listStyle: "none", background: "#fff", border: "1px solid #555", borderRadius: "4px",
      boxShadow: "0 2px 8px rgba(0,0,0,.2)"
    });
    var links = [];
    function add(href, label) {
      if (!href) return;
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = href;
      a.textContent = label;
      style(a, { display: "block", padding: "0.5em 1em", color: "#1d4f91" });
      li.appendChild(a);
      list.appendChild(li);
      links.push(a);
    }
    add(formLink(base, administration), t.form);
    add(mailbox ? mailLink(mailbox, administration, t) : null, t.mail);

    function open(focusFirst) {
      list.hidden = false;
      button.setAttribute("aria-expanded", "true");
      if (focusFirst && links[0]) links[0].focus();
    }
    function close(focusButton) {
      list.hidden = true;
      button.setAttribute("aria-expanded", "false");
      if (focusButton) button.focus();
    }
    button.addEventListener("click", function () {
      if (list.hidden) open(true); else close(false);
    });
    wrap.addEventListener("keydown", function (e) {
      var at = links.indexOf(document.activeElement);
      if (e.key === "Escape" && !list.hidden) {
        e.preventDefault();
        close(true);
      } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) open(false);
        var step = e.key === "ArrowDown" ? 1 : -1;
        var next = at < 0 ? (step > 0 ? 0 : links.length - 1) : (at + step + links.length) % links.length;
        links[next].focus();
      }
    });
    document.addEventListener("click", function (e) {
      if (!list.hidden && !wrap.contains(e.target)) close(false);
    });
    wrap.addEventListener("focusout", function (e) {
      if (!list.hidden && e.relatedTarget && !wrap.contains(e.relatedTarget)) close(false);
    });

    wrap.appendChild(button);
    wrap.appendChild(list);
    // Whatever the host put inside (e.g. plain links for browsers without JavaScript) makes way.
    host.textContent = "";
    host.appendChild(wrap);
  }

  function start() {
    var hosts = document.querySelectorAll("[data-contact-helpdesk]");
    for (var i = 0; i < hosts.length; i++) render(hosts[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
