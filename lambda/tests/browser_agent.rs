//! The agent's side in a real (headless) Chromium: a subscriber files a ticket (over HTTP), the
//! agent Anne logs in through the login page, finds the ticket in the queue, opens it, types an
//! answer and sends it, and sees the confirmation; the ticket is then resolved with that answer
//! and the subscriber has the answer e-mail. The same flows without a browser are in `agent.rs`.
//!
//! Needs `chromedriver` and Chromium (scripts/test.sh installs both and sets `CHROMEDRIVER`);
//! `SKIP_BROWSER_TESTS=1` skips it knowingly.

mod common;

use common::browser::{Browser, WAIT, skip};
use common::{file_ticket, spawn_app_with_site};
use helpdesk::model::{MessageKind, Role, TicketState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answering_a_ticket_in_the_browser() {
    if skip() {
        return;
    }
    let app = spawn_app_with_site().await;
    let org = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &org).await;
    let location = file_ticket(&app, &alice, "Vergunning blijft hangen").await;
    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();
    // The agent `anne` of content/helpdesk.toml: invited, password set.
    let klaver = app.org("Klaver Online", false).await;
    let _ = app.person("anne@klaver.example", "Anne de Vries", &klaver, Role::Agent).await;

    // The workspace asks for a login first, then comes back to the queue.
    let browser = Browser::start().await;
    browser.goto(&app.url("/agent")).await;
    browser.wait_for_path("/login", WAIT).await;
    browser.find("#email").await.send_keys("anne@klaver.example").await;
    browser.find("#password").await.send_keys("een heel goed wachtwoord").await;
    browser.find("form.form button[type=submit]").await.click().await;
    browser.wait_for_path("/agent", WAIT).await;
    assert_eq!(browser.path().await, "/agent", "back on the queue after the login");
    assert_eq!(browser.find(".user-name").await.text().await, "Anne de Vries");

    // The new ticket is in the queue; its number leads to it.
    let href = format!("/agent/tickets/{number}");
    let row = browser.wait_for("table.queue tbody tr", WAIT).await;
    assert!(row.text().await.contains("Vergunning blijft hangen"), "{}", row.text().await);
    browser.find(&format!("table.queue a[href='{href}']")).await.click().await;
    browser.wait_for_path(&href, WAIT).await;
    assert!(browser.find("h1").await.text().await.contains(&number));
    assert!(
        browser.find(".message-body").await.text().await.contains("De vergunningaanvraag blijft hangen op stap 3."),
        "the question is on the page"
    );

    // Typed and sent: back on the ticket with the confirmation.
    let answer = "Kies bij stap 3 eerst het bevoegd gezag; dan gaat het verder.";
    browser.find("#answer-body").await.send_keys(answer).await;
    browser.find("#answer button[type=submit]").await.click().await;
    browser.wait_for_path(&format!("{href}?done=answer"), WAIT).await;
    let notice = browser.wait_for(".notice[role=status]", WAIT).await.text().await;
    let lang = browser.find("html").await.attr("lang").await.unwrap_or_default();
    let expected = if lang == "en" { "The answer has been sent." } else { "Het antwoord is verstuurd." };
    assert_eq!(notice, expected, "the confirmation in the page's language ({lang})");
    let answers = browser.find_all(".message-answer .message-body").await;
    assert_eq!(answers.len(), 1, "the answer is in the thread");
    assert_eq!(answers[0].text().await, answer);
    browser.quit().await;

    // Stored: resolved, with the answer as typed; and mailed to the subscriber.
    let t = app.store().ticket(&number).await.expect("get").expect("ticket");
    assert_eq!(t.state, TicketState::Resolved);
    let thread = app.store().messages(&number).await.expect("thread");
    let sent = thread.iter().rfind(|m| m.kind == MessageKind::Answer).expect("an answer");
    assert_eq!(sent.body, answer);
    assert_eq!(sent.author_name, "Anne de Vries");
    let mail = app.wait_for_mail("alice@aadorp.example", "Antwoord").await;
    assert!(mail.subject.contains(&number), "{}", mail.subject);
    assert!(mail.text.contains(answer), "{}", mail.text);
}
