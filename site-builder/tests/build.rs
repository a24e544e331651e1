//! The builder on a small fixture site: what pages exist, what they link to, and what they say.

mod common;
use common::{CAT_EN, CAT_NL, Fixture, article};

const LONG: &str = "+++
title = \"Een ticket aanmaken\"
description = \"Stap voor stap een vraag stellen\"
tags = [\"ticket\", \"formulier\"]
weight = 1
aliases = [\"/nl/vraag-stellen/\"]
+++
Zo stelt u een vraag aan de helpdesk.

## Het formulier openen

Klik op **Nieuw ondersteuningsticket**.

### Sector kiezen

Kies eerst de sector.

## Versturen

Klik op Versturen. Zie ook [de statussen](statussen.md#opgelost).

## Daarna

U krijgt een <script>alert('x')</script> ontvangstbevestiging <span onclick=\"evil()\">met nummer</span>.
";

const STATES: &str = "+++
title = \"Statussen van een ticket\"
tags = [\"ticket\"]
weight = 2
+++
## Open

## Opgelost

Het antwoord staat klaar.
";

fn fixture() -> Fixture {
    Fixture::new(&[
        ("faq/nl/tickets/_index.md", CAT_NL),
        ("faq/nl/tickets/ticket-aanmaken.md", LONG),
        ("faq/nl/tickets/statussen.md", STATES),
        ("faq/nl/tickets/concept.md", "+++\ntitle = \"Nog niet klaar\"\ndraft = true\n+++\nConcept\n"),
        ("faq/en/tickets/_index.md", CAT_EN),
        ("faq/en/tickets/ticket-aanmaken.md", &article("Creating a ticket", "How to ask a question.\n")),
    ])
}

#[test]
fn writes_every_page_and_leaves_drafts_out() {
    let f = fixture();
    let report = f.build();
    assert_eq!(report.articles, 3, "two Dutch + one English article, no draft");
    for page in [
        "index.html",
        "nl/index.html",
        "en/index.html",
        "nl/tickets/index.html",
        "nl/tickets/ticket-aanmaken/index.html",
        "nl/tickets/statussen/index.html",
        "en/tickets/ticket-aanmaken/index.html",
        "404.html",
        "robots.txt",
        "sitemap.xml",
    ] {
        assert!(f.out().join(page).is_file(), "{page} is missing");
    }
    assert!(!f.out().join("nl/tickets/concept").exists(), "drafts are not built");
    assert!(!f.page("sitemap.xml").contains("concept"));
    assert!(!f.page("nl/tickets/index.html").contains("Nog niet klaar"));
}

#[test]
fn long_articles_get_anchors_and_a_table_of_contents() {
    let f = fixture();
    f.build();
    let page = f.page("nl/tickets/ticket-aanmaken/index.html");
    assert!(page.contains(r#"<h2 id="het-formulier-openen">"#), "{page}");
    assert!(page.contains(r##"<a href="#sector-kiezen">Sector kiezen</a>"##), "h3 in the TOC");
    assert!(page.contains(r#"href="/nl/tickets/statussen/#opgelost""#), "file link became a URL");
    // A short article has no table of contents.
    assert!(!f.page("nl/tickets/statussen/index.html").contains("class=\"toc\""));
}

#[test]
fn breadcrumbs_prev_next_related_and_language_switch() {
    let f = fixture();
    f.build();
    let page = f.page("nl/tickets/ticket-aanmaken/index.html");
    assert!(page.contains(r#"<a href="/nl/tickets/">Tickets</a>"#), "breadcrumb to the category");
    assert!(page.contains(r#"rel="next" href="/nl/tickets/statussen/""#), "next by weight");
    assert!(!page.contains("rel=\"prev\""), "first in its category");
    assert!(page.contains(r#"class="related""#) && page.contains("Statussen van een ticket"));
    assert!(page.contains(r#"href="/en/tickets/ticket-aanmaken/" hreflang="en""#), "switch to the translation");
    assert!(page.contains(r#"hreflang="en" href="https://helpdesk.klaver.example/en/tickets/ticket-aanmaken/""#));
    let en = f.page("en/tickets/ticket-aanmaken/index.html");
    assert!(en.contains(r#"<html lang="en">"#));
    assert!(en.contains(r#"href="/nl/tickets/ticket-aanmaken/" hreflang="nl""#));
    assert!(page.contains("2 november 2026"), "last-updated date in Dutch");
    assert!(page.contains("content/faq/nl/tickets/ticket-aanmaken.md"), "edit link names the file");
}

#[test]
fn every_page_has_the_footer_of_its_language() {
    let f = fixture();
    f.build();
    // The footer is rendered once per language and shared by its pages.
    for (page, lang, other) in [
        ("index.html", "nl", "en"),
        ("nl/tickets/index.html", "nl", "en"),
        ("nl/tickets/statussen/index.html", "nl", "en"),
        ("en/index.html", "en", "nl"),
        ("en/tickets/ticket-aanmaken/index.html", "en", "nl"),
        ("en/404.html", "en", "nl"),
    ] {
        let html = f.page(page);
        let footer = &html[html.find("<footer class=\"footer\">").unwrap_or_else(|| panic!("{page}: no footer"))..];
        let nav = &footer[footer.find("footer-nav").expect("category links")..footer.find("</nav>").expect("end")];
        assert!(nav.contains(&format!(r#"<a href="/{lang}/tickets/">"#)), "{page}: {nav}");
        assert!(!nav.contains(&format!("/{other}/")), "{page}: {nav}");
        assert!(footer.contains("mailto:"), "{page}: the support address");
    }
}

#[test]
fn raw_html_is_sanitised() {
    let f = fixture();
    f.build();
    let page = f.page("nl/tickets/ticket-aanmaken/index.html");
    let body = &page[page.find("class=\"prose\"").expect("prose")..];
    assert!(!body.contains("<script>alert"), "script tag removed");
    assert!(!body.contains("onclick"), "event handler removed");
    assert!(body.contains("met nummer"), "text kept");
}

#[test]
fn aliases_redirect_and_the_sitemap_lists_translations() {
    let f = fixture();
    let report = f.build();
    assert_eq!(report.redirects, 1);
    let redirect = f.page("nl/vraag-stellen/index.html");
    assert!(redirect.contains(r#"http-equiv="refresh" content="0; url=/nl/tickets/ticket-aanmaken/""#), "{redirect}");
    assert!(redirect.contains(r#"rel="canonical""#));
    let sitemap = f.page("sitemap.xml");
    assert!(sitemap.contains("<loc>https://helpdesk.klaver.example/nl/tickets/ticket-aanmaken/</loc>"));
    assert!(sitemap.contains(r#"hreflang="en" href="https://helpdesk.klaver.example/en/tickets/ticket-aanmaken/""#));
    assert!(sitemap.contains("<lastmod>2026-11-02</lastmod>"));
    assert!(f.page("robots.txt").contains("Sitemap: https://helpdesk.klaver.example/sitemap.xml"));
    assert!(f.page("robots.txt").contains("Disallow: /portal"));
}

#[test]
fn a_rebuild_replaces_the_output_and_drops_removed_pages() {
    let f = fixture();
    f.build();
    std::fs::remove_file(f.content().join("faq/nl/tickets/statussen.md")).expect("rm");
    f.write(
        "faq/nl/tickets/ticket-aanmaken.md",
        &LONG.replace("[de statussen](statussen.md#opgelost)", "de statussen"),
    );
    f.build();
    assert!(!f.out().join("nl/tickets/statussen").exists(), "stale page removed");
}

#[test]
fn a_broken_build_keeps_the_previous_output() {
    let f = fixture();
    f.build();
    f.write("faq/nl/tickets/kapot.md", "+++\ntitle = \n+++\n");
    let mut opts = site_builder::BuildOptions::new(f.content(), f.out());
    opts.dates = site_builder::Dates::Fixed(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"));
    let err = site_builder::build(&opts).expect_err("broken content");
    assert!(err.to_string().contains("kapot.md:2"), "{err}");
    assert!(f.out().join("nl/tickets/statussen/index.html").is_file(), "old site still served");
}

#[test]
fn article_rendering_snapshot() {
    let f = fixture();
    f.build();
    let page = f.page("nl/tickets/ticket-aanmaken/index.html");
    let main = &page[page.find("<main").expect("main")..page.find("</main>").expect("/main")];
    insta::assert_snapshot!("article_main", main);
}

#[test]
fn category_and_home_snapshots() {
    let f = fixture();
    f.build();
    let cat = f.page("nl/tickets/index.html");
    insta::assert_snapshot!(
        "category_main",
        &cat[cat.find("<main").expect("main")..cat.find("</main>").expect("/main")]
    );
    let home = f.page("nl/index.html");
    insta::assert_snapshot!(
        "home_main",
        &home[home.find("<main").expect("main")..home.find("</main>").expect("/main")]
    );
}
