//! Searching built sites: word forms, typos, accents, languages, syntax characters, filters,
//! snippets, sections and related articles.

mod common;

use common::{Fixture, article_urls, real_index};
use search_index::{SearchIndex, SearchRequest};

const CAT_NL: &str = "+++\ntitle = \"Facturen\"\n+++\n";
const CAT_TICKETS: &str = "+++\ntitle = \"Tickets\"\n+++\n";
const CAT_EN: &str = "+++\ntitle = \"Invoices\"\n+++\n";

const FACTUUR: &str = "+++
title = \"Een factuur downloaden\"
description = \"Waar u de PDF vindt\"
tags = [\"administratie\"]
+++
Open het menu en kies de gewenste factuur. U kunt hem als PDF opslaan.
";

const ACCENTS: &str = "+++
title = \"Ideeën voor de café-module\"
+++
Stuur uw ideeën over één scherm.
";

const LONG: &str = "+++
title = \"Alles over tickets\"
tags = [\"ticket\"]
+++
Een lange uitleg in delen.

## Een ticket openen

Klik op Nieuw ondersteuningsticket en vul het formulier in. Kies de sector en het deelonderwerp.
Vul daarna het onderwerp en de beschrijving in, en klik op Versturen.

## Een bijlage toevoegen

Gebruik Een bestand toevoegen. Een schermafdruk helpt vaak. Bestanden mogen tien megabyte groot zijn.
Stuur geen wachtwoorden mee in een bijlage.

## Het ticket sluiten

Is uw vraag beantwoord, dan sluit u het ticket zelf af met de knop Afsluiten. Heropenen kan binnen
veertien dagen door te reageren op het antwoord.

## Nog meer

Zie ook de andere artikelen in deze categorie over statussen, reacties, collega's en e-mail. Daarin
staat hoe de helpdesk met uw vraag omgaat, wie hem behandelt en wanneer u een antwoord krijgt.
De meeste vragen zijn binnen vijf werkdagen beantwoord; dringende vragen sneller. Wie een abonnement
met telefonische ondersteuning heeft, kan tijdens kantooruren ook bellen. Buiten kantooruren lezen we
de portal en de e-mail de volgende werkdag. Een ticket dat u per e-mail stuurt, komt in dezelfde lijst.
";

const INVOICE_EN: &str = "+++
title = \"Downloading invoices\"
+++
Open the menu and choose the invoices you need. Each one downloads as a PDF.
";

fn fixture() -> Fixture {
    Fixture::new(&[
        ("faq/nl/facturen/_index.md", CAT_NL),
        ("faq/nl/facturen/factuur-downloaden.md", FACTUUR),
        ("faq/nl/facturen/ideeen.md", ACCENTS),
        ("faq/nl/tickets/_index.md", CAT_TICKETS),
        ("faq/nl/tickets/alles-over-tickets.md", LONG),
        ("faq/en/facturen/_index.md", CAT_EN),
        ("faq/en/facturen/factuur-downloaden.md", INVOICE_EN),
    ])
}

fn urls(index: &SearchIndex, q: &str, lang: Option<&str>) -> Vec<String> {
    let mut req = SearchRequest::new(q);
    req.lang = lang;
    article_urls(&index.search(&req).expect("search"))
}

fn top(index: &SearchIndex, q: &str, lang: Option<&str>) -> String {
    urls(index, q, lang).into_iter().next().unwrap_or_else(|| panic!("no results for {q:?}"))
}

#[test]
fn dutch_word_forms_match() {
    let f = fixture();
    let index = f.open();
    assert_eq!(top(&index, "facturen", Some("nl")), "/nl/facturen/factuur-downloaden/", "plural finds singular");
    assert_eq!(top(&index, "gewenst", Some("nl")), "/nl/facturen/factuur-downloaden/", "gewenste / gewenst");
    let real = real_index();
    assert_eq!(top(real, "wachtwoord aanmaken", Some("nl")), "/nl/account/wachtwoord-aanmaken/");
    assert_eq!(top(real, "wachtwoorden aanmaken", Some("nl")), "/nl/account/wachtwoord-aanmaken/");
}

#[test]
fn one_typo_still_finds_the_article() {
    let index = fixture().open();
    for typo in ["factuur", "fatcuur", "factur", "facttuur", "faktuur", "dowloaden", "facturen downloaden"] {
        assert_eq!(top(&index, typo, Some("nl")), "/nl/facturen/factuur-downloaden/", "{typo}");
    }
    let real = real_index();
    assert_eq!(top(real, "wachtwoord vergetn", Some("nl")), "/nl/account/wachtwoord-vergeten/");
    assert_eq!(top(real, "wahctwoord vergeten", Some("nl")), "/nl/account/wachtwoord-vergeten/");
}

#[test]
fn short_words_need_to_be_exact() {
    let index = fixture().open();
    // "pdx" is one edit from "pdf", but three letters are too few to guess.
    assert!(urls(&index, "pdx ", Some("nl")).is_empty());
    assert_eq!(top(&index, "pdf", Some("nl")), "/nl/facturen/factuur-downloaden/");
}

#[test]
fn accents_do_not_matter() {
    let index = fixture().open();
    for q in ["ideeen", "ideeën", "IDEEËN", "cafe module", "één scherm", "een scherm"] {
        assert_eq!(top(&index, q, Some("nl")), "/nl/facturen/ideeen/", "{q}");
    }
}

#[test]
fn english_pages_are_stemmed_as_english() {
    let index = fixture().open();
    assert_eq!(top(&index, "invoice", Some("en")), "/en/facturen/factuur-downloaden/");
    assert_eq!(top(&index, "download", Some("en")), "/en/facturen/factuur-downloaden/");
    let real = real_index();
    assert_eq!(top(real, "attachment", Some("en")), "/en/tickets/bijlagen-toevoegen/");
    assert_eq!(top(real, "creating tickets", Some("en")), "/en/tickets/ticket-aanmaken/");
}

#[test]
fn the_language_filter_keeps_languages_apart() {
    let index = fixture().open();
    assert!(urls(&index, "pdf", Some("en")).iter().all(|u| u.starts_with("/en/")));
    assert!(urls(&index, "pdf", Some("nl")).iter().all(|u| u.starts_with("/nl/")));
    let both = urls(&index, "pdf", None);
    assert!(both.iter().any(|u| u.starts_with("/en/")) && both.iter().any(|u| u.starts_with("/nl/")), "{both:?}");
    assert!(urls(&index, "pdf", Some("de")).is_empty(), "a language without articles has no results");
}

#[test]
fn the_category_filter_keeps_categories_apart() {
    let index = fixture().open();
    let req = SearchRequest::new("wachtwoorden bijlage factuur").lang("nl");
    assert_eq!(index.search(&req).expect("search").total, 2);
    let res = index.search(&req.clone().category("tickets")).expect("search");
    assert_eq!(res.total, 1);
    assert_eq!(article_urls(&res), vec!["/nl/tickets/alles-over-tickets/"]);
    assert_eq!(res.results[0].category, "Tickets");
    assert_eq!(index.search(&req.category("nope")).expect("search").total, 0);
}

#[test]
fn syntax_characters_never_cause_an_error() {
    let index = fixture().open();
    let nasty = [
        "\"(:*^~",
        "factuur\"",
        "(factuur",
        "factuur~2",
        "title:factuur",
        "+factuur -pdf",
        "fact*",
        "[a TO z]",
        "\\",
        "\"",
        "AND OR NOT",
        "'; DROP TABLE",
        "<script>alert(1)</script>",
        "\u{0}\u{1}\u{7f}",
        "🙂 factuur 🙂",
        "",
        "   ",
        &"x".repeat(10_000),
        &"factuur ".repeat(200),
    ];
    for q in nasty {
        let res = index.search(&SearchRequest::new(q)).unwrap_or_else(|e| panic!("{q:?}: {e}"));
        assert!(res.results.len() <= 10);
        for h in &res.results {
            assert!(!h.snippet.contains("<script"), "{q:?}: {}", h.snippet);
        }
    }
    assert_eq!(top(&index, "\"factuur\"~^*", Some("nl")), "/nl/facturen/factuur-downloaden/");
    assert_eq!(top(&index, "title:factuur", Some("nl")), "/nl/facturen/factuur-downloaden/");
}

#[test]
fn snippets_highlight_the_matches_and_escape_the_text() {
    let index = fixture().open();
    let res = index.search(&SearchRequest::new("facturen pdf").lang("nl")).expect("search");
    let hit = &res.results[0];
    assert_eq!(hit.title, "Een factuur downloaden");
    assert!(hit.snippet.contains("<mark>factuur</mark>"), "{}", hit.snippet);
    assert!(hit.snippet.contains("<mark>PDF</mark>"), "{}", hit.snippet);
    assert_eq!(hit.category, "Facturen");
    assert!(hit.score > 0.0);
    let text = serde_json::to_string(&res).expect("json");
    assert!(
        text.starts_with(r#"{"query":"facturen pdf","total":1,"results":[{"title":"Een factuur downloaden","url":"#),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut keys: Vec<&str> = json["results"][0].as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["category", "score", "snippet", "title", "url"]);
}

#[test]
fn long_articles_are_found_per_section() {
    let index = fixture().open();
    let res = index.search(&SearchRequest::new("schermafdruk bijlage").lang("nl")).expect("search");
    let hit = &res.results[0];
    assert_eq!(hit.url, "/nl/tickets/alles-over-tickets/#een-bijlage-toevoegen");
    assert_eq!(hit.title, "Alles over tickets › Een bijlage toevoegen");
    assert!(hit.snippet.contains("<mark>schermafdruk</mark>"), "{}", hit.snippet);
    let res = index.search(&SearchRequest::new("heropenen afsluiten").lang("nl")).expect("search");
    assert_eq!(res.results[0].url, "/nl/tickets/alles-over-tickets/#het-ticket-sluiten");
    // Every section says "ticket": the article is still one result.
    let res = index.search(&SearchRequest::new("ticket").lang("nl")).expect("search");
    assert_eq!(res.total, 1);
    assert_eq!(res.results.len(), 1);
}

#[test]
fn the_word_being_typed_matches_as_a_prefix() {
    let index = fixture().open();
    assert_eq!(top(&index, "schermaf", Some("nl")), "/nl/tickets/alles-over-tickets/");
    assert_eq!(top(&index, "een fact", Some("nl")), "/nl/facturen/factuur-downloaden/");
    // A finished word (followed by a space) is not a prefix.
    assert!(urls(&index, "schermaf ", Some("nl")).is_empty());
}

#[test]
fn paging_and_limits() {
    let real = real_index();
    let all = real.search(&SearchRequest::new("ticket").lang("nl").limit(50)).expect("search");
    assert!(all.total > 10, "{}", all.total);
    assert_eq!(all.results.len(), all.total.min(50));
    let page2 = real.search(&SearchRequest::new("ticket").lang("nl").limit(5).offset(5)).expect("search");
    let urls2: Vec<&str> = page2.results.iter().map(|h| h.url.as_str()).collect();
    let expected: Vec<&str> = all.results[5..10].iter().map(|h| h.url.as_str()).collect();
    assert_eq!(urls2, expected);
    let mut seen = std::collections::HashSet::new();
    assert!(all.results.iter().all(|h| seen.insert(h.url.split('#').next().unwrap_or_default().to_owned())));
}

#[test]
fn the_packed_index_round_trips_and_rejects_garbage() {
    let f = fixture();
    let index = f.open();
    let bytes = std::fs::read(f.out().join("search").join(search_index::INDEX_FILE)).expect("read");
    assert_eq!(SearchIndex::peek_fingerprint(&bytes), Some(index.fingerprint()));
    let again = SearchIndex::from_bytes(&bytes).expect("open");
    assert_eq!(again.articles(), 4);
    assert!(SearchIndex::from_bytes(b"HDSEARCH").is_err());
    assert!(SearchIndex::from_bytes(&bytes[..bytes.len() / 2]).is_err());
    assert!(SearchIndex::from_bytes(b"not an index at all").is_err());
}
