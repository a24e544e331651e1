//! Markdown to HTML: heading anchors, a table of contents, links rewritten from files to URLs
//! (and checked), raw HTML sanitised.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use crate::content::Source;
use crate::diag::{Diagnostics, LineIndex};
use crate::links::{Landing, LinkTable};

#[derive(Debug, Clone, Serialize)]
pub struct TocEntry {
    pub level: u8,
    pub id: String,
    pub title: String,
}

/// A link to an anchor on another page, checked once every page is rendered.
#[derive(Debug, Clone)]
pub struct AnchorRef {
    pub target: usize,
    pub anchor: String,
    pub line: usize,
}

#[derive(Debug, Default)]
pub struct Rendered {
    /// The HTML, as a page's template takes it (made once: pages share it, not copy it).
    pub html: minijinja::Value,
    pub toc: Vec<TocEntry>,
    /// Ids of the headings, for anchor checks.
    pub ids: HashSet<String>,
    pub anchor_refs: Vec<AnchorRef>,
    /// Number of words of the text (without markup).
    pub words: usize,
    /// The start of the text, for a page without a description (see [`crate::build::summary`]).
    pub summary: String,
    /// Sections by `##`/`###` heading: (id, heading, text), the text before the first heading
    /// under an empty id. The text has one space between words and none around them.
    pub sections: Vec<(String, String, String)>,
    pub diags: Diagnostics,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION
}

/// Length of [`Rendered::summary`].
pub const SUMMARY_CHARS: usize = 160;

/// Renders the body of `source`. `links` resolves and checks link targets.
pub fn render(source: &Source, links: &LinkTable) -> Rendered {
    let body = source.body();
    let lines = LineIndex::new(body);
    let mut out = Rendered::default();
    // At most one event per eight bytes of markdown in most articles: room for them at once.
    let mut events: Vec<Event<'_>> = Vec::with_capacity(body.len() / 8);
    let mut has_raw_html = false;
    // Open heading: (index of its Start event in `events`, level, collected text).
    let mut heading: Option<(usize, HeadingLevel, String)> = None;
    // A section's text is given the room of the rest of the body at once, and what it did not
    // use back when it ends (in place): grown a doubling at a time, it was copied over and over.
    let mut section = (String::new(), String::new(), String::with_capacity(body.len()));

    for (event, range) in Parser::new_ext(body, options()).into_offset_iter() {
        let event = match event {
            Event::Start(Tag::Heading { level, id, classes, attrs }) => {
                if level == HeadingLevel::H1 {
                    out.diags.push(source.diag_at_body(
                        &lines,
                        range.start,
                        "use `##` for sections: the title is the page's only top-level heading",
                    ));
                }
                heading = Some((events.len(), level, String::new()));
                Event::Start(Tag::Heading { level, id, classes, attrs })
            }
            Event::End(TagEnd::Heading(level)) => {
                if let Some((start, _, text)) = heading.take() {
                    let explicit = match &events[start] {
                        Event::Start(Tag::Heading { id: Some(id), .. }) => Some(id.to_string()),
                        _ => None,
                    };
                    let id = unique_id(&mut out.ids, explicit.unwrap_or_else(|| search_index::text::slugify(&text)));
                    if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[start] {
                        *slot = Some(CowStr::from(id.clone()));
                    }
                    let title = text.trim().to_owned();
                    if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) {
                        out.toc.push(TocEntry { level: level as u8, id: id.clone(), title: title.clone() });
                        end_words(&mut section.2);
                        section.2.shrink_to_fit();
                        out.sections.push(std::mem::take(&mut section));
                        section = (id.clone(), title, String::with_capacity(body.len().saturating_sub(range.end)));
                    }
                    events.push(Event::Html(CowStr::from(format!(
                        "<a class=\"anchor\" href=\"#{id}\" aria-hidden=\"true\" tabindex=\"-1\">#</a>"
                    ))));
                }
                Event::End(TagEnd::Heading(level))
            }
            Event::Start(Tag::Link { ref dest_url, .. } | Tag::Image { ref dest_url, .. })
                if unsafe_scheme(dest_url).is_some() =>
            {
                // `javascript:` and the like would run in the reader's browser: refused, with
                // the line, and the link made harmless in the meantime.
                let scheme = match &event {
                    Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => unsafe_scheme(dest_url),
                    _ => None,
                };
                let msg = format!(
                    "unsafe link `{}:`: links go to pages of this site, http(s), mailto or tel addresses",
                    scheme.unwrap_or_default()
                );
                out.diags.push(source.diag_at_body(&lines, range.start, msg));
                match event {
                    Event::Start(Tag::Link { link_type, title, id, .. }) => {
                        Event::Start(Tag::Link { link_type, dest_url: CowStr::from("#"), title, id })
                    }
                    Event::Start(Tag::Image { link_type, title, id, .. }) => {
                        Event::Start(Tag::Image { link_type, dest_url: CowStr::from(""), title, id })
                    }
                    other => other,
                }
            }
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                let dest_url = if matches!(link_type, LinkType::Email | LinkType::Autolink) {
                    dest_url
                } else {
                    rewrite(source, links, &lines, range.start, &dest_url, "link", &mut out)
                        .map(CowStr::from)
                        .unwrap_or(dest_url)
                };
                Event::Start(Tag::Link { link_type, dest_url, title, id })
            }
            Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
                let dest_url = rewrite(source, links, &lines, range.start, &dest_url, "image", &mut out)
                    .map(CowStr::from)
                    .unwrap_or(dest_url);
                Event::Start(Tag::Image { link_type, dest_url, title, id })
            }
            Event::Html(_) | Event::InlineHtml(_) => {
                has_raw_html = true;
                event
            }
            Event::Text(ref t) | Event::Code(ref t) => {
                if let Some((_, _, h)) = heading.as_mut() {
                    h.push_str(t);
                } else {
                    push_words(&mut section.2, t);
                }
                event
            }
            Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell) => {
                if heading.is_none() {
                    push_words(&mut section.2, " ");
                }
                event
            }
            other => other,
        };
        events.push(event);
    }
    end_words(&mut section.2);
    out.sections.push(section);
    // The text without markup is the sections' texts: its word count and its start.
    out.words = out
        .sections
        .iter()
        .filter(|s| !s.2.is_empty())
        .map(|s| memchr::memchr_iter(b' ', s.2.as_bytes()).count() + 1)
        .sum();
    let mut head = String::new();
    for (_, _, text) in out.sections.iter().filter(|s| !s.2.is_empty()) {
        if head.len() > 4 * (SUMMARY_CHARS + 1) {
            break; // more characters than the summary can take
        }
        if !head.is_empty() {
            head.push(' ');
        }
        head.push_str(text);
    }
    out.summary = crate::build::summary(&head, SUMMARY_CHARS);
    out.sections.retain(|(id, _, text)| !(id.is_empty() && text.is_empty()));

    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    // Kept until the pages are written, for every article at once: no room to spare (a
    // value's text is held as exactly as long as it is).
    out.html = minijinja::Value::from_safe_string(if has_raw_html { SANITIZER.clean(&html).to_string() } else { html });
    for (_, _, text) in &mut out.sections {
        text.shrink_to_fit();
    }
    out
}

/// Appends `t` to the text `out` with one space between words: a word `t` continues goes on
/// without one. A space at the end of `out` stands for whitespace not followed by a word yet
/// ([`end_words`] takes it off).
fn push_words(out: &mut String, t: &str) {
    let b = t.as_bytes();
    // Most text is printable ASCII with one space between words: it goes on as it is, but for
    // a space at its start where `out` has one already (or nothing). The test reads every byte
    // without stopping, which the compiler does many at a time.
    let plain = b.iter().fold(true, |ok, &c| ok & ((c > b' ') & (c < 0x80) | (c == b' ')));
    if plain && memchr::memmem::find(b, b"  ").is_none() {
        let t = match b.first() {
            Some(b' ') if out.is_empty() || out.ends_with(' ') => &t[1..],
            _ => t,
        };
        out.push_str(t);
        return;
    }
    // Whitespace as `char::is_whitespace` has it, a byte at a time where it is ASCII (every
    // text of a site goes through here); each run of it is one space.
    let (mut at, mut word) = (0, 0);
    while let Some(&c) = b.get(at) {
        let space = if c < 0x80 {
            usize::from(matches!(c, b' ' | b'\t'..=b'\r'))
        } else {
            let ch = t[at..].chars().next().unwrap_or(' ');
            if !ch.is_whitespace() {
                at += ch.len_utf8();
                continue;
            }
            ch.len_utf8()
        };
        if space == 0 {
            at += 1;
            continue;
        }
        out.push_str(&t[word..at]);
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        at += space;
        word = at;
    }
    out.push_str(&t[word..]);
}

/// Ends a text made with [`push_words`]: no space after the last word.
fn end_words(out: &mut String) {
    if out.ends_with(' ') {
        out.pop();
    }
}

/// Rewrites a link or image target, recording a diagnostic or an anchor check.
fn rewrite(
    source: &Source,
    links: &LinkTable,
    lines: &LineIndex,
    offset: usize,
    dest: &str,
    what: &str,
    out: &mut Rendered,
) -> Option<String> {
    match links.resolve(&source.rel, dest) {
        Ok(None) => None,
        Ok(Some(r)) => {
            if let (Landing::Article(target), Some(anchor)) = (r.landing, r.anchor) {
                let line = source.body_line_offset + lines.line_of(offset);
                out.anchor_refs.push(AnchorRef { target, anchor, line });
            }
            Some(r.url)
        }
        Err(msg) => {
            let msg = if what == "image" { format!("missing image: {msg}") } else { format!("broken link: {msg}") };
            out.diags.push(source.diag_at_body(lines, offset, msg));
            None
        }
    }
}

/// The scheme of `url` when a browser would take it as one other than http(s), mailto or tel
/// (browsers ignore tabs and newlines and leading spaces and controls there, and case).
fn unsafe_scheme(url: &str) -> Option<String> {
    let cleaned: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect::<String>()
        .to_ascii_lowercase();
    let (scheme, _) = cleaned.split_once(':')?;
    let is_scheme = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (is_scheme && !matches!(scheme, "http" | "https" | "mailto" | "tel")).then(|| scheme.to_owned())
}

fn unique_id(ids: &mut HashSet<String>, base: String) -> String {
    let base = if base.is_empty() { "section".to_owned() } else { base };
    let mut id = base.clone();
    let mut n = 1;
    while !ids.insert(id.clone()) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// Raw HTML in markdown is cleaned with an allow-list: formatting stays, scripts, styles,
/// event handlers and `javascript:` URLs go.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.add_tag_attributes("h2", ["id"])
        .add_tag_attributes("h3", ["id"])
        .add_tag_attributes("h4", ["id"])
        .add_tag_attributes("h5", ["id"])
        .add_tag_attributes("h6", ["id"])
        .add_tag_attributes("a", ["class", "aria-hidden", "tabindex"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tags(["input", "details", "summary", "kbd"])
        .link_rel(Some("noopener"));
    b
});

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`push_words`] does, said plainly.
    fn push_words_plainly(out: &mut String, t: &str) {
        let space_before = t.starts_with(char::is_whitespace);
        for (i, word) in t.split_whitespace().enumerate() {
            if (i > 0 || space_before) && !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
            out.push_str(word);
        }
        if t.ends_with(char::is_whitespace) && !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }

    proptest::proptest! {
        #[test]
        fn words_are_pushed_as_split_whitespace_cuts_them(
            texts in proptest::collection::vec("[a \t\r\n\x0b\x0cé\u{a0}\u{85}\u{2003}\u{3000}ß]{0,12}", 0..6),
        ) {
            let (mut fast, mut plain) = (String::new(), String::new());
            for t in &texts {
                push_words(&mut fast, t);
                push_words_plainly(&mut plain, t);
                proptest::prop_assert_eq!(&fast, &plain);
            }
        }
    }

    proptest::proptest! {
        /// Mostly the printable ASCII with single spaces that goes on as it is.
        #[test]
        fn plain_words_are_pushed_as_split_whitespace_cuts_them(
            start in "[a ]{0,3}",
            texts in proptest::collection::vec("[ab ]{0,12}", 0..6),
        ) {
            let (mut fast, mut plain) = (start.clone(), start);
            for t in &texts {
                push_words(&mut fast, t);
                push_words_plainly(&mut plain, t);
                proptest::prop_assert_eq!(&fast, &plain);
            }
        }
    }

    /// Text pushed a piece at a time is the words of all the pieces together, one space apart:
    /// every sequence of up to four pieces of these.
    #[test]
    fn pushed_words_are_the_words_of_the_whole_text() {
        const PIECES: [&str; 8] = ["a", " b", "c ", " ", "d  e", "\u{a0}f", "", "\n g \t"];
        let n = PIECES.len();
        for len in 0..=4u32 {
            for mut k in 0..n.pow(len) {
                let mut pieces = Vec::new();
                for _ in 0..len {
                    pieces.push(PIECES[k % n]);
                    k /= n;
                }
                let mut out = String::new();
                for p in &pieces {
                    push_words(&mut out, p);
                }
                end_words(&mut out);
                let whole = pieces.concat();
                assert_eq!(out, whole.split_whitespace().collect::<Vec<_>>().join(" "), "{pieces:?}");
            }
        }
    }
}
