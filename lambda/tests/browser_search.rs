//! Search-as-you-type in a real (headless) Chromium, on the real content built the way `serve`
//! builds it: what a visitor sees and does with the keyboard. One browser for the whole file.
//!
//! Needs `chromedriver` and Chromium (scripts/test.sh installs both and sets `CHROMEDRIVER`);
//! `SKIP_BROWSER_TESTS=1` skips it knowingly.

mod common;

use common::browser::{Browser, WAIT, keys, skip};
use common::{TestApp, spawn_app_with_site};

/// Opens `path` and waits for search.js to have taken over the search box.
async fn open<'b>(browser: &'b Browser, app: &TestApp, path: &str) -> common::browser::Element<'b> {
    browser.goto(&app.url(path)).await;
    browser.wait_for("form.search-form-enhanced", WAIT).await;
    browser.find(".search-input").await
}

#[tokio::test]
async fn search_as_you_type_with_the_keyboard() {
    if skip() {
        return;
    }
    let app = spawn_app_with_site().await;
    let browser = Browser::start().await;

    // "/" focuses the box; a Dutch word form finds the articles about the word, as you type.
    let input = open(&browser, &app, "/").await;
    assert!(browser.active().await != input, "nothing has the focus yet");
    browser.keys("/").await;
    assert!(browser.active().await == input, "“/” focuses the search box");
    browser.keys("wachtwoorden").await;
    browser.wait_for(".search-suggest-item", WAIT).await;
    assert_eq!(input.attr("aria-expanded").await.as_deref(), Some("true"));
    let items = browser.find_all(".search-suggest-item").await;
    let mut hrefs = Vec::new();
    for item in &items {
        hrefs.push(item.attr("href").await.unwrap_or_default());
    }
    assert!(
        ["/nl/account/wachtwoord-vergeten/", "/nl/account/wachtwoord-aanmaken/"]
            .iter()
            .any(|u| hrefs[0].starts_with(u)),
        "{hrefs:?}"
    );
    // The matches are highlighted, in the title (the word's beginning) and in the snippet
    // (every form of the word).
    let title_marks = browser.find_all(".search-suggest-item .search-suggest-title mark").await;
    let snippet_marks = browser.find_all(".search-suggest-item .search-suggest-snippet mark").await;
    assert!(!title_marks.is_empty() && !snippet_marks.is_empty(), "{}", items[0].html().await);
    for mark in title_marks.iter().chain(&snippet_marks).take(6) {
        let text = mark.text().await.to_lowercase();
        assert!(text.starts_with("wachtwoord"), "highlighted: {text:?}");
    }
    let all = browser.find(".search-suggest-all").await;
    assert!(all.text().await.contains("Alle resultaten voor ‘wachtwoorden’"));

    // ArrowDown selects the first suggestion, Enter opens it.
    browser.keys(keys::ARROW_DOWN).await;
    assert_eq!(items[0].attr("aria-selected").await.as_deref(), Some("true"));
    assert_eq!(input.attr("aria-activedescendant").await, items[0].attr("id").await);
    browser.keys(keys::ENTER).await;
    browser.wait_for_path(&hrefs[0], WAIT).await;
    assert!(browser.find("h1").await.text().await.contains("Wachtwoord"), "{}", browser.title().await);

    // On the article, Ctrl-K focuses the box; Esc closes the suggestions and keeps the words,
    // a second Esc empties the box.
    let input = browser.wait_for("form.search-form-enhanced .search-input", WAIT).await;
    browser.chord(&[keys::CONTROL, "k"]).await;
    assert!(browser.active().await == input, "Ctrl-K focuses the search box");
    browser.keys("bijlagen").await;
    let list = browser.find(".search-suggest").await;
    let first = browser.wait_for(".search-suggest-item", WAIT).await;
    let href = first.attr("href").await.unwrap_or_default();
    assert!(href.starts_with("/nl/tickets/bijlagen-toevoegen/"), "{href}");
    browser.keys(keys::ESCAPE).await;
    browser.wait_until("the suggestions to close", WAIT, || async { !list.is_displayed().await }).await;
    assert_eq!(input.attr("aria-expanded").await.as_deref(), Some("false"));
    assert_eq!(input.prop("value").await, "bijlagen");
    browser.keys(keys::ESCAPE).await;
    assert_eq!(input.prop("value").await, "");

    // Nothing found: the list says so and offers to ask the helpdesk.
    browser.keys("kwantumfysica").await;
    let none = browser.wait_for(".search-suggest-none", WAIT).await;
    assert!(none.text().await.contains("Geen resultaten voor ‘kwantumfysica’"), "{}", none.html().await);
    let ticket = none.find("a").await;
    assert_eq!(ticket.attr("href").await.as_deref(), Some("/portal/tickets/new"));
    assert_eq!(ticket.text().await, "Nieuw ondersteuningsticket");
    ticket.click().await;
    // Not logged in: the portal asks to log in first and comes back to the form.
    let at = browser.wait_for_path("/login", WAIT).await;
    assert!(at.contains("next=%2Fportal%2Ftickets%2Fnew"), "{at}");

    browser.quit().await;
}
