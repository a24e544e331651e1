//! Property tests (proptest) of the search: any query string is answered without a panic and
//! in bounded time, snippets are always escaped HTML, and a damaged index file is refused, not
//! a crash. `PROPTEST_CASES` sets the number of cases (256 by default here).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use search_index::{Article, SearchIndex, SearchRequest, Section};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256);
    ProptestConfig { cases, ..ProptestConfig::default() }
}

fn article(lang: &str, slug: &str, title: &str, text: &str) -> Article {
    Article {
        lang: lang.into(),
        category: "tickets".into(),
        category_title: "Tickets".into(),
        url: format!("/{lang}/tickets/{slug}/"),
        title: title.into(),
        description: Some(format!("{title}: <b>uitleg</b> & meer")),
        tags: vec!["ticket".into(), "<script>".into()],
        sections: vec![
            Section { anchor: String::new(), heading: String::new(), text: text.into() },
            Section {
                anchor: "stappen".into(), heading: "Stappen <i>één</i>".into(), text: format!("{text} {text}")
            },
        ],
    }
}

/// A small index of real-looking articles, built once.
fn index() -> &'static (SearchIndex, Vec<u8>) {
    static INDEX: OnceLock<(SearchIndex, Vec<u8>)> = OnceLock::new();
    INDEX.get_or_init(|| {
        let articles = vec![
            article(
                "nl",
                "ticket-aanmaken",
                "Een ticket aanmaken",
                "Vul het formulier in; u krijgt een incidentnummer. <script>alert(1)</script>",
            ),
            article(
                "nl",
                "wachtwoord",
                "Wachtwoord vergeten",
                "Vraag een nieuw wachtwoord aan via de inlogpagina & \"controleer\" uw e-mail.",
            ),
            article(
                "en",
                "create-ticket",
                "Creating a ticket",
                "Fill in the form; you get an incident number. <img src=x onerror=alert(1)>",
            ),
        ];
        let built = search_index::build(&articles).expect("build");
        (built.index, built.packed)
    })
}

fn query() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        "[a-zA-Z]{1,12}",
        Just("ticket".to_owned()),
        Just("wachtwoord".to_owned()),
        Just("<script>".to_owned()),
        Just("\"".to_owned()),
        Just("*".to_owned()),
        Just("AND OR NOT".to_owned()),
        Just("title:".to_owned()),
        Just("~2^3".to_owned()),
        Just("((".to_owned()),
        Just("één".to_owned()),
        any::<String>(),
    ];
    prop::collection::vec(pieces, 0..10).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_query_is_answered_safely(q in query(), lang in prop_oneof![Just(None), Just(Some("nl")), Just(Some("en")), Just(Some("xx"))]) {
        let (index, _) = index();
        let started = Instant::now();
        let req = SearchRequest { query: &q, lang, category: None, limit: 10, offset: 0 };
        let found = index.search(&req).expect("a query is answered");
        prop_assert!(started.elapsed() < Duration::from_secs(2), "{q:?} took {:?}", started.elapsed());
        for hit in &found.results {
            let bare = hit.snippet.replace("<mark>", "").replace("</mark>", "");
            prop_assert!(!bare.contains('<') && !bare.contains('>'), "unescaped markup in {:?}", hit.snippet);
        }
    }

    #[test]
    fn a_damaged_index_is_refused_not_a_crash(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let (_, packed) = index();
        let mut bytes = packed.clone();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= value | 1;
        }
        let _ = SearchIndex::from_bytes(&bytes);
        let _ = SearchIndex::from_bytes(&packed[..cut.index(packed.len())]);
    }
}
