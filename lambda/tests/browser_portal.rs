//! The ticket form in a real (headless) Chromium: log in, the subtopic list that follows the
//! sector, FAQ suggestions while typing the subject, a file from disk, "Versturen", and the
//! number on the ticket's page. The same flows without JavaScript are in `portal.rs`.
//!
//! Needs `chromedriver` and Chromium (scripts/test.sh installs both and sets `CHROMEDRIVER`);
//! `SKIP_BROWSER_TESTS=1` skips it knowingly.

mod common;

use common::browser::{Browser, WAIT, skip};
use common::{link_in, spawn_app_with_site};

/// Which subtopic options the subscriber can pick (visible and enabled), as `sector/subtopic`.
async fn pickable_subtopics(browser: &Browser) -> Vec<String> {
    let v = browser
        .execute(
            "return Array.from(document.querySelectorAll('#subtopic optgroup'))
               .filter(g => !g.hidden && !g.disabled)
               .flatMap(g => Array.from(g.querySelectorAll('option')).map(o => o.value));",
            vec![],
        )
        .await;
    v.as_array().expect("array").iter().map(|x| x.as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn filing_a_ticket_in_the_browser() {
    if skip() {
        return;
    }
    let app = spawn_app_with_site().await;
    let org = app.org("Gemeente Wolde", true).await;
    let _ = app.subscriber("anna@wolde.example", &org).await; // invited, password set
    let browser = Browser::start().await;
    // Headless Chromium asks for English (Accept-Language: en-US); this subscriber picks Dutch.
    browser.goto(&app.url("/login")).await;
    assert_eq!(browser.find("html").await.attr("lang").await.as_deref(), Some("en"));
    browser.find("a.lang-switch").await.click().await;
    browser
        .wait_until("the page to be Dutch", WAIT, || async {
            browser.find("html").await.attr("lang").await.as_deref() == Some("nl")
        })
        .await;

    // The "Contact HelpDesk" entry point of the customer's application: log in first, then
    // the form with the administration filled in.
    browser.goto(&app.url("/portal/tickets/new?administration=Wolde%20productie")).await;
    browser.wait_for_path("/login", WAIT).await;
    browser.find("#email").await.send_keys("anna@wolde.example").await;
    browser.find("#password").await.send_keys("een heel goed wachtwoord").await;
    browser.find("form.form button[type=submit]").await.click().await;
    browser.wait_for_path("/portal/tickets/new", WAIT).await;
    assert_eq!(browser.find("#administration").await.prop("value").await, "Wolde productie");
    assert_eq!(browser.find("#email").await.prop("value").await, "anna@wolde.example", "pre-filled from the login");

    // The organisation's sector is chosen already; only its subtopics can be picked.
    assert_eq!(browser.find("#sector").await.prop("value").await, "overheid");
    let overheid = pickable_subtopics(&browser).await;
    assert!(!overheid.is_empty() && overheid.iter().all(|s| s.starts_with("overheid/")), "{overheid:?}");
    browser.find("#subtopic option[value='overheid/vergunningen']").await.click().await;
    // Another sector: its subtopics replace the first ones, and the choice that no longer fits
    // is cleared.
    browser.find("#sector option[value='advies']").await.click().await;
    let advies = pickable_subtopics(&browser).await;
    assert!(!advies.is_empty() && advies.iter().all(|s| s.starts_with("advies/")), "{advies:?}");
    assert_eq!(browser.find("#subtopic").await.prop("value").await, "");
    browser.find("#sector option[value='overheid']").await.click().await;
    browser.find("#subtopic option[value='overheid/vergunningen']").await.click().await;

    // Typing the subject suggests FAQs that may already answer it.
    browser.find("#subject").await.send_keys("wachtwoord vergeten").await;
    let suggestion = browser.wait_for("#subject-suggestions li a", WAIT).await;
    let href = suggestion.attr("href").await.unwrap_or_default();
    assert!(href.starts_with("/nl/account/"), "{href}");
    assert_eq!(suggestion.attr("target").await.as_deref(), Some("_blank"), "the form stays open");

    browser.find("#description").await.send_keys("Na het resetten kan ik nog steeds niet inloggen.").await;
    let file = app.dir.path().join("schermafdruk.png");
    std::fs::write(&file, b"\x89PNG\r\n\x1a\n not really an image").expect("write file");
    browser.find("#attachments").await.send_keys(&file.to_string_lossy()).await;
    browser.find("form.ticket-form button[type=submit]").await.click().await;

    let at = browser.wait_for_path("/portal/tickets/INC-", WAIT).await;
    let notice = browser.wait_for(".notice", WAIT).await.text().await;
    let number = at.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();
    assert!(notice.contains(&number), "the number is on the page: {notice}");
    let attachment = browser.find(".attachments a").await;
    assert_eq!(attachment.text().await, "schermafdruk.png");
    let ticket = app.store().ticket(&number).await.expect("get").expect("stored");
    assert_eq!(ticket.administration.as_deref(), Some("Wolde productie"));
    assert_eq!((ticket.sector.as_str(), ticket.subtopic.as_str()), ("overheid", "vergunningen"));
    app.wait_for_mail("anna@wolde.example", &number).await;

    browser.quit().await;
}

/// Finding 10 of the security review, as a person sees it: the invitation's code comes after
/// `#` (never sent to a server or a CDN log); the page's script puts it in the form, hides the
/// field that asks for it and drops it from the address bar.
#[tokio::test]
async fn an_invitation_link_in_the_browser() {
    if skip() {
        return;
    }
    let app = spawn_app_with_site().await;
    let org = app.org("Gemeente Wolde", true).await;
    app.service.invite("nieuw@wolde.example", "", &org, helpdesk::model::Role::Subscriber).await.expect("invite");
    let link = link_in(&app.wait_for_mail("nieuw@wolde.example", "Uitnodiging").await.text, "/invite#").expect("link");
    let code = link.split_once('#').expect("fragment").1.to_owned();
    let browser = Browser::start().await;
    browser.goto(&link).await;
    browser
        .wait_until("the code to be in the form", WAIT, || async {
            browser.find("#token").await.prop("value").await == code.as_str()
        })
        .await;
    assert!(!browser.find("#token").await.is_displayed().await, "the field asking for the code is hidden");
    assert!(!browser.url().await.contains('#'), "the code left the address bar: {}", browser.url().await);
    browser.find("#password").await.send_keys("een heel goed wachtwoord").await;
    browser.find("#password_repeat").await.send_keys("een heel goed wachtwoord").await;
    browser.find("form.form button[type=submit]").await.click().await;
    browser.wait_for_path("/portal", WAIT).await;
    browser.quit().await;
}
