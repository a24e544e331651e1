//! "Contact HelpDesk" from inside the customer's application: the form link carries the
//! administration and the page the user was on (only from the application's own origins), agents
//! see both and filter by administration, and the embeddable snippet on the demo page opens the
//! form with the administration filled in (real Chromium, with an axe check of the page). The
//! e-mail way (plus-address, subject tag) is in `mail_in.rs`.

mod common;

use common::browser::{Browser, WAIT, keys, skip};
use common::*;
use helpdesk::model::Role;

const PAGE: &str = "https://app.klaver.example/plannen/12?tab=kaart";

fn form(csrf: &str, submission: &str, administration: &str, from: &str) -> reqwest::multipart::Form {
    ticket_form(csrf, submission, "Kaartlaag ontbreekt")
        .text("administration", administration.to_owned())
        .text("from", from.to_owned())
}

async fn file(app: &TestApp, c: &reqwest::Client, query: &str, administration: &str, from: &str) -> String {
    let page = c.get(app.url(&format!("/portal/tickets/new?{query}"))).send().await.expect("get");
    let page = page.text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let submission = field(&page, "submission_id").expect("submission");
    let resp = c
        .post(app.url("/portal/tickets"))
        .multipart(form(&csrf, &submission, administration, from))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap_or_default());
    let location = resp.headers()["location"].to_str().expect("location").to_owned();
    location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned()
}

#[tokio::test]
async fn the_form_link_carries_the_administration_and_the_page() {
    let app = spawn_app().await;
    let org = app.org("Gemeente Wolde", false).await;
    let query = format!("administration=adm-0042&from={}", helpdesk::render::urlencode(PAGE));

    // Not logged in yet: the login comes back to the form with both values.
    let visitor = client();
    let resp = visitor.get(app.url(&format!("/portal/tickets/new?{query}"))).send().await.expect("get");
    assert_eq!(resp.status(), 303);
    let login = resp.headers()["location"].to_str().expect("location").to_owned();
    assert!(login.contains("adm-0042") && login.contains("app.klaver.example"), "{login}");

    let anna = app.subscriber("anna@wolde.example", &org).await;
    let page = anna.get(app.url(&format!("/portal/tickets/new?{query}"))).send().await.expect("get");
    let page = page.text().await.expect("text");
    assert_eq!(field(&page, "administration").as_deref(), Some("adm-0042"));
    assert!(field(&page, "from").is_some(), "the page travels with the form");
    let first = file(&app, &anna, &query, "adm-0042", PAGE).await;
    let t = app.store().ticket(&first).await.expect("read").expect("ticket");
    assert_eq!((t.administration.as_deref(), t.origin.as_deref()), (Some("adm-0042"), Some(PAGE)));

    // Markup as the administration, a page on another site: neither is taken from the link.
    let bad = "administration=%3Cscript%3Ealert(1)%3C%2Fscript%3E&from=https%3A%2F%2Fevil.example%2Fphish";
    let page = anna.get(app.url(&format!("/portal/tickets/new?{bad}"))).send().await.expect("get");
    let page = page.text().await.expect("text");
    assert_eq!(field(&page, "administration").as_deref(), Some(""));
    assert!(field(&page, "from").is_none() && !page.contains("evil.example") && !page.contains("<script>alert"));
    // A control character in the administration: not taken either.
    let page = anna.get(app.url("/portal/tickets/new?administration=adm%0A0042")).send().await.expect("get");
    assert_eq!(field(&page.text().await.expect("text"), "administration").as_deref(), Some(""));
    // A forged form: the other site's page is dropped, look-alike origins too.
    let mut other = String::new();
    for forged in [
        "https://evil.example/phish",
        "https://app.klaver.example.evil.example/x",
        "https://app.klaver.example@evil.example/x",
        "javascript:alert(1)//https://app.klaver.example/",
    ] {
        other = file(&app, &anna, "", "", forged).await;
        let t = app.store().ticket(&other).await.expect("read").expect("ticket");
        assert_eq!(t.origin, None, "{forged} is not kept");
    }

    // Agents see both, and filter the queue by administration.
    let agent = app.person("sanne@klaver.example", "Sanne", &org, Role::Agent).await;
    let html = agent.get(app.url(&format!("/agent/tickets/{first}"))).send().await.expect("get");
    let html = html.text().await.expect("text");
    assert!(html.contains("adm-0042"));
    let link = html.split("rel=\"noopener noreferrer\"").next().and_then(|h| h.rsplit("href=\"").next()).unwrap_or("");
    assert!(link.contains("app.klaver.example") && link.contains("plannen"), "the page, as a link: {link}");
    let queue = agent.get(app.url("/agent?administration=adm-0042")).send().await.expect("get");
    let queue = queue.text().await.expect("text");
    assert!(queue.contains(&first));
    assert!(!queue.contains(&other), "tickets of other administrations are filtered out");
    let queue = agent.get(app.url("/agent?administration=adm-9999")).send().await.expect("get");
    assert!(!queue.text().await.expect("text").contains(&first));
}

#[tokio::test]
async fn the_snippet_opens_the_form_with_the_administration() {
    if skip() {
        return;
    }
    let app = spawn_app_with_site().await;
    let org = app.org("Gemeente Wolde", false).await;
    let _ = app.subscriber("anna@wolde.example", &org).await;
    let browser = Browser::start().await;
    browser.goto(&app.url("/login")).await;
    browser.find("#email").await.send_keys("anna@wolde.example").await;
    browser.find("#password").await.send_keys("een heel goed wachtwoord").await;
    browser.find("form.form button[type=submit]").await.click().await;
    browser.wait_for_path("/portal", WAIT).await;

    browser.goto(&app.url("/static/demo/contact-helpdesk.html")).await;
    let button = browser.wait_for(".contact-helpdesk-button", WAIT).await;
    let violations = browser.axe_violations().await;
    assert!(violations.is_empty(), "axe on the demo page: {violations:#?}");
    assert_eq!(button.attr("aria-expanded").await.as_deref(), Some("false"));
    assert!(!browser.find(".contact-helpdesk-menu").await.is_displayed().await);

    // Keyboard: Enter opens and puts the focus on the first choice, arrows move, Escape closes
    // and gives the focus back to the button.
    browser.execute("arguments[0].focus(); return true;", vec![button.json()]).await;
    browser.keys(keys::ENTER).await;
    assert_eq!(button.attr("aria-expanded").await.as_deref(), Some("true"));
    let links = browser.find_all(".contact-helpdesk-menu a").await;
    assert_eq!(links.len(), 2);
    let form_href = links[0].attr("href").await.unwrap_or_default();
    let mail_href = links[1].attr("href").await.unwrap_or_default();
    assert!(form_href.contains("/portal/tickets/new?administration=adm-0042&from="), "{form_href}");
    assert!(mail_href.starts_with("mailto:support+adm-0042@klaver.example?subject="), "{mail_href}");
    assert_eq!(browser.active().await.text().await, "Vraag stellen via het formulier");
    browser.keys(keys::ARROW_DOWN).await;
    assert_eq!(browser.active().await.text().await, "E-mail de helpdesk");
    browser.keys(keys::ESCAPE).await;
    assert_eq!(button.attr("aria-expanded").await.as_deref(), Some("false"));
    assert_eq!(browser.active().await.attr("class").await.as_deref(), Some("contact-helpdesk-button"));
    let violations = browser.axe_violations().await;
    assert!(violations.is_empty(), "axe with the menu used: {violations:#?}");

    // A click on the button, then on the form choice: the form, administration filled in.
    button.click().await;
    browser.find(".contact-helpdesk-menu a").await.click().await;
    browser.wait_for_path("/portal/tickets/new", WAIT).await;
    assert_eq!(browser.find("#administration").await.prop("value").await, "adm-0042");
    // The demo page is not on the application's origins: its address is not taken.
    assert!(browser.try_find("input[name=from]").await.is_none());

    // The check itself works: an image without a text alternative is reported.
    browser
        .execute("document.body.appendChild(document.createElement('img')).src = '/x.png'; return true;", vec![])
        .await;
    let violations = browser.axe_violations().await;
    assert!(violations.iter().any(|v| v.starts_with("image-alt")), "{violations:?}");
    browser.quit().await;
}
