//! Rebuilding after edits (`Session::update`, what `helpdesk serve` does): the pages an edit
//! touches come out as a full build makes them, the search index finds the new text, nothing
//! else is written, and a broken edit leaves the site alone.

mod common;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{CAT_EN, CAT_NL, Fixture, article};
use search_index::{SearchIndex, SearchRequest};
use site_builder::{BuildError, BuildOptions, Dates, Session};

fn fixture() -> Fixture {
    Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        (
            "faq/nl/tickets/bijlagen.md",
            &article("Bijlagen toevoegen", "Een schermafdruk als bijlage meesturen.\n\n## Meer\n\nTekst.\n"),
        ),
        ("faq/nl/tickets/schermafdruk.md", &article("Een schermafdruk maken", "Zo maakt u een schermafdruk.\n")),
        (
            "faq/nl/tickets/statussen.md",
            &article("Statussen", "Open, in behandeling, opgelost. Zie [bijlagen](bijlagen.md#meer).\n"),
        ),
        ("faq/nl/tickets/termijnen.md", &article("Termijnen", "Binnen vijf werkdagen een antwoord op uw ticket.\n")),
        ("faq/en/tickets/_index.md", CAT_EN),
        ("faq/en/tickets/attachments.md", &article("Adding attachments", "Send a screenshot with your ticket.\n")),
    ])
}

fn options(f: &Fixture, out: &Path) -> BuildOptions {
    let mut opts = BuildOptions::new(f.content(), out);
    opts.dates = Dates::Fixed(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"));
    opts
}

/// Every file under `dir` with its contents.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.insert(
                    e.path().strip_prefix(dir).expect("under").to_path_buf(),
                    std::fs::read(e.path()).expect("read"),
                );
            }
        }
    }
    out
}

fn urls(out: &Path, q: &str) -> Vec<String> {
    let index = SearchIndex::load(&out.join("search")).expect("index");
    index.search(&SearchRequest::new(q)).expect("search").results.into_iter().map(|h| h.url).collect()
}

#[test]
fn an_edited_article_rewrites_the_pages_that_show_it_as_a_full_build_would() {
    let f = fixture();
    let mut session = Session::new(options(&f, &f.out()));
    session.build().expect("build");
    let before = files(&f.out());
    // A new title that moves the article to the front of its category, a new word.
    let path = f.content().join("faq/nl/tickets/statussen.md");
    std::fs::write(
        &path,
        article(
            "Afhandeling en statussen",
            "Open, in behandeling, opgelost: de omvormerkast. Zie [bijlagen](bijlagen.md#meer).\n",
        ),
    )
    .expect("edit");
    let report = session.update(std::slice::from_ref(&path)).expect("update");
    assert!(report.partial, "an update, not a full build: {report:?}");

    assert_eq!(urls(&f.out(), "omvormerkast"), ["/nl/tickets/statussen/"]);
    assert!(urls(&f.out(), "statussen").contains(&"/nl/tickets/statussen/".to_owned()));
    assert_as_full_build(&f, &f.out());
    let after = files(&f.out());
    let changed: Vec<&PathBuf> = after.keys().filter(|rel| before[*rel] != after[*rel]).collect();
    assert!(changed.iter().any(|rel| rel.ends_with("nl/tickets/index.html")), "the category lists the new title");
    assert!(!changed.iter().any(|rel| rel.starts_with("en/tickets")), "other languages' pages stay: {changed:?}");
    assert_eq!(report.written, changed.len(), "{changed:?}");
}

/// Every file of `out` but the index is what a full build of the same content writes.
fn assert_as_full_build(f: &Fixture, out: &Path) {
    let after = files(out);
    let full = f.dir.path().join("full");
    let _ = std::fs::remove_dir_all(&full);
    site_builder::build(&options(f, &full)).expect("full build");
    let expected = files(&full);
    assert_eq!(after.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    for (rel, bytes) in &expected {
        if !rel.ends_with("index.bin") {
            assert!(after[rel] == *bytes, "{} differs from a full build's", rel.display());
        }
    }
}

#[test]
fn an_edit_that_fits_another_articles_related_list_shows_there() {
    let f = Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/bijlagen.md", &article("Bijlagen toevoegen", "Een schermafdruk als bijlage meesturen.\n")),
        ("faq/nl/tickets/statussen.md", &article("Statussen", "Open, in behandeling, opgelost.\n")),
        ("faq/nl/tickets/termijnen.md", &article("Termijnen", "Binnen vijf werkdagen een antwoord.\n")),
        ("faq/nl/tickets/prioriteit.md", &article("Prioriteit kiezen", "Kies hoog of laag.\n")),
        ("faq/nl/tickets/sector.md", &article("Sector kiezen", "Kies de sector van uw vraag.\n")),
        ("faq/nl/account/_index.md", "+++\ntitle = \"Account\"\n+++\n"),
        ("faq/nl/account/wachtwoord.md", &article("Wachtwoord vergeten", "Vraag een nieuw wachtwoord aan.\n")),
        ("faq/nl/account/inloggen.md", &article("Inloggen", "Log in met uw e-mailadres.\n")),
        ("faq/nl/account/profiel.md", &article("Profiel wijzigen", "Uw naam en telefoonnummer.\n")),
        ("faq/nl/account/taal.md", &article("Taal kiezen", "Nederlands of Engels.\n")),
    ]);
    let mut session = Session::new(options(&f, &f.out()));
    session.build().expect("build");
    let related = |page: &str| f.page(page).contains("href=\"/nl/account/profiel/\"");
    assert!(!related("nl/tickets/bijlagen/index.html"), "not related before the edit");
    let path = f.content().join("faq/nl/account/profiel.md");
    std::fs::write(&path, article("Profiel wijzigen", "Een schermafdruk van uw profiel als bijlage meesturen.\n"))
        .expect("edit");
    let report = session.update(std::slice::from_ref(&path)).expect("update");
    assert!(report.partial, "{report:?}");
    assert!(related("nl/tickets/bijlagen/index.html"), "related after the edit");
    assert_as_full_build(&f, &f.out());
}

#[test]
fn an_edit_with_a_problem_is_refused_and_the_site_stays() {
    let f = fixture();
    let mut session = Session::new(options(&f, &f.out()));
    session.build().expect("build");
    let before = files(&f.out());
    // The heading another article links to goes.
    let path = f.content().join("faq/nl/tickets/bijlagen.md");
    std::fs::write(&path, article("Bijlagen toevoegen", "Geen koppen meer.\n")).expect("edit");
    match session.update(std::slice::from_ref(&path)) {
        Err(BuildError::Content(d)) => {
            let text = d.to_string();
            assert!(text.contains("statussen.md:4"), "names the linking file and line: {text}");
            assert!(text.contains("#meer"), "{text}");
        }
        other => panic!("expected a content error, got {other:?}"),
    }
    assert!(files(&f.out()) == before, "nothing written");
    std::fs::write(&path, article("Bijlagen toevoegen", "Weer goed.\n\n## Meer\n\nZonnepaneel.\n")).expect("fix");
    session.update(std::slice::from_ref(&path)).expect("update");
    assert_eq!(urls(&f.out(), "zonnepaneel"), ["/nl/tickets/bijlagen/"]);
}

#[test]
fn a_new_article_builds_everything() {
    let f = fixture();
    let mut session = Session::new(options(&f, &f.out()));
    session.build().expect("build");
    f.write("faq/nl/tickets/nieuw.md", &article("Nieuw artikel", "Over de wachtrij.\n"));
    let report = session.update(&[f.content().join("faq/nl/tickets/nieuw.md")]).expect("update");
    assert!(!report.partial, "a full build: {report:?}");
    assert!(f.page("nl/tickets/nieuw/index.html").contains("Nieuw artikel"));
    assert_eq!(urls(&f.out(), "wachtrij"), ["/nl/tickets/nieuw/"]);
}
