//! The search index the build writes next to the pages: what is in `search/`, that an unchanged
//! rebuild leaves it alone, that a change rebuilds it, and that related articles come from it.

mod common;
use common::{CAT_NL, Fixture, article};
use search_index::{SearchIndex, SearchRequest};

fn fixture() -> Fixture {
    Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/bijlagen.md", &article("Bijlagen toevoegen", "Een schermafdruk als bijlage meesturen.\n")),
        ("faq/nl/tickets/schermafdruk.md", &article("Een schermafdruk maken", "Zo maakt u een schermafdruk.\n")),
        ("faq/nl/tickets/statussen.md", &article("Statussen", "Open, in behandeling, opgelost.\n")),
        ("faq/nl/tickets/concept.md", "+++\ntitle = \"Geheime schermafdruk\"\ndraft = true\n+++\nConcept\n"),
    ])
}

fn open(f: &Fixture) -> SearchIndex {
    SearchIndex::load(&f.out().join("search")).expect("index")
}

fn urls(index: &SearchIndex, q: &str) -> Vec<String> {
    index.search(&SearchRequest::new(q).lang("nl")).expect("search").results.into_iter().map(|h| h.url).collect()
}

#[test]
fn the_build_writes_the_index_texts_and_result_pages() {
    let f = fixture();
    f.build();
    let index = open(&f);
    assert_eq!(index.articles(), 3, "drafts are not indexed");
    assert_eq!(urls(&index, "schermafdruk"), ["/nl/tickets/schermafdruk/", "/nl/tickets/bijlagen/"]);
    let strings: serde_json::Value = serde_json::from_str(&f.page("search/strings.json")).expect("json");
    assert_eq!(strings["default_language"], "nl");
    assert_eq!(strings["languages"]["nl"]["search_title"], "Zoeken");
    assert_eq!(strings["languages"]["en"]["new_ticket"], "New support ticket");
    for lang in ["nl", "en"] {
        let shell = f.page(&format!("search/{lang}.html"));
        assert_eq!(shell.matches(site_builder::search::RESULTS_MARKER).count(), 1, "{shell}");
        assert!(shell.contains(&format!(r#"value="{}""#, site_builder::search::QUERY_MARKER)), "{shell}");
        assert!(shell.contains(&format!(r#"<html lang="{lang}">"#)));
        assert!(shell.contains("/static/js/search.js"));
    }
    assert!(!f.page("nl/tickets/statussen/index.html").contains(site_builder::search::QUERY_MARKER));
}

#[test]
fn an_unchanged_rebuild_keeps_the_index_and_a_change_rebuilds_it() {
    let f = fixture();
    f.build();
    let path = f.out().join("search/index.bin");
    let before = std::fs::read(&path).expect("index");
    let report = f.build();
    assert_eq!(report.written, 0, "nothing changed, nothing written");
    assert_eq!(std::fs::read(&path).expect("index"), before);

    f.write("faq/nl/tickets/statussen.md", &article("Statussen", "Open, in behandeling, opgelost, heropend.\n"));
    let report = f.build();
    assert!(report.written >= 2, "the page and the index");
    let after = std::fs::read(&path).expect("index");
    assert_ne!(after, before);
    assert_eq!(urls(&open(&f), "heropend"), ["/nl/tickets/statussen/"]);

    // A broken index file (say, an interrupted upload) is replaced.
    std::fs::write(&path, b"garbage").expect("write");
    f.build();
    assert_eq!(urls(&open(&f), "heropend"), ["/nl/tickets/statussen/"]);
}

#[test]
fn related_articles_come_from_the_index() {
    let f = fixture();
    f.build();
    let page = f.page("nl/tickets/bijlagen/index.html");
    let related = &page[page.find(r#"class="related""#).expect("related")..];
    let related = &related[..related.find("</section>").expect("end")];
    let first = related.find("/nl/tickets/schermafdruk/").expect("shares a word: schermafdruk");
    if let Some(other) = related.find("/nl/tickets/statussen/") {
        assert!(first < other, "the article that shares words comes first");
    }
    assert!(!related.contains("/nl/tickets/bijlagen/"), "not itself");
    assert!(!related.contains("concept"), "no drafts");
}
