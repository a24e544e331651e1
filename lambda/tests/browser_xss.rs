//! An XSS corpus through every field people fill in (ticket subject, description, administration,
//! attachment name, replies, answers, notes, rating comments, names of people and organisations,
//! an e-mail's sender name, subject and text, the search box), then every page that shows them
//! opened in a real Chromium: no injected script runs (`window.__xss` stays unset), no injected
//! element exists (`[data-xss]`), no dialog opens.

mod common;

use common::browser::{Browser, skip};
use common::*;
use helpdesk::model::{Org, Role};
use helpdesk::service::agent::AgentAction;

/// Each piece tries another way in; each sets `window.__xss` or leaves a `data-xss` element
/// if it ever became markup.
const CORPUS: &[&str] = &[
    "<script>window.__xss='script'</script>",
    "<img src=x data-xss onerror=\"window.__xss='img'\">",
    "\"><svg data-xss onload=\"window.__xss='svg'\">",
    "'><b data-xss>vet</b>",
    "<a data-xss href=\"javascript:window.__xss='href'\">klik</a>",
    "</textarea><img src=x data-xss onerror=window.__xss='textarea'>",
    "<IMG SRC=x DATA-XSS OnErRoR=window.__xss='case'>",
    "<details data-xss open ontoggle=\"window.__xss='details'\">",
    "<iframe data-xss srcdoc=\"<script>parent.__xss='srcdoc'</script>\"></iframe>",
    "<math><mtext><table><mglyph><style><img data-xss src=x onerror=window.__xss='mxss'>",
    "＜script＞window.__xss='fullwidth'＜/script＞",
    "\u{202e}<b data-xss>rtl</b>",
    "{{ 7*7 }}{% if true %}<b data-xss>tpl</b>{% endif %}",
    "javascript:window.__xss='bare'",
];

fn corpus() -> String {
    CORPUS.join(" ")
}

/// The corpus cut to `max` characters at a piece boundary (for short fields).
fn short(max: usize) -> String {
    let mut out = String::new();
    for piece in CORPUS {
        if out.chars().count() + piece.chars().count() + 1 > max {
            break;
        }
        out.push_str(piece);
        out.push(' ');
    }
    out.trim_end().to_owned()
}

/// Opens `path` and reports anything the corpus managed to do there.
async fn inspect(browser: &Browser, app: &TestApp, path: &str, problems: &mut Vec<String>) {
    browser.goto(&app.url(path)).await;
    // Give event handlers (onerror of a broken image, ontoggle) a moment to fire.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    if let Ok(text) = browser.command(reqwest::Method::GET, "/alert/text", None).await {
        problems.push(format!("{path}: a dialog opened: {text}"));
        let _ = browser.command(reqwest::Method::POST, "/alert/dismiss", Some(serde_json::json!({}))).await;
    }
    // An evaluated `{{ 7*7 }}` puts 49 right before `tpl`: looked for apart, a page's clock
    // (`11:49`) next to the corpus's text as text was taken for it.
    let found = browser
        .execute(
            "return [String(window.__xss || ''), document.querySelectorAll('[data-xss]').length,
                     /49\\s*(<b data-xss>)?tpl/.test(document.body.innerText)];",
            vec![],
        )
        .await;
    if found[0].as_str().is_some_and(|s| !s.is_empty()) {
        problems.push(format!("{path}: injected script ran ({})", found[0]));
    }
    if found[1].as_u64().unwrap_or(0) > 0 {
        problems.push(format!("{path}: {} injected element(s)", found[1]));
    }
    if found[2] == true {
        problems.push(format!("{path}: a template expression in user text was evaluated"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_xss_corpus_never_runs() {
    if skip() {
        return;
    }
    let app = spawn_app_with_site().await;
    let org = Org {
        id: "xss-org".into(),
        name: short(80),
        sector: "overheid".into(),
        plan: "plus".into(),
        share_tickets: true,
        created: chrono::Utc::now(),
    };
    app.store().create_org(&org).await.expect("org");
    let anna = app.person("anna@wolde.example", &short(60), &org, Role::Subscriber).await;
    let _ = app.person("sanne@klaver.example", "Sanne", &org, Role::Agent).await;
    let _ = app.person("beheer@klaver.example", "Bea", &org, Role::Admin).await;

    // The ticket form, with an attachment whose name is markup.
    let page = anna.get(app.url("/portal/tickets/new")).send().await.expect("get").text().await.expect("text");
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", field(&page, "csrf_token").expect("csrf"))
        .text("submission_id", field(&page, "submission_id").expect("submission"))
        .text("sector", "overheid")
        .text("subtopic", "overheid/vergunningen")
        .text("subject", short(150))
        .text("preferred_agent", "")
        .text("administration", short(200))
        .text("description", corpus())
        .part(
            "attachments",
            reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec())
                .file_name("<img src=x data-xss onerror=window.__xss='file'>.pdf")
                .mime_str("application/pdf")
                .expect("mime"),
        );
    let resp = anna.post(app.url("/portal/tickets")).multipart(form).send().await.expect("post");
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap_or_default());
    let location = resp.headers()["location"].to_str().expect("location").to_owned();
    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();

    // The helpdesk answers and notes in kind; the subscriber rates with a comment and replies.
    let agent = app.store().user_by_email("sanne@klaver.example").await.expect("read").expect("agent");
    let t = app.store().ticket(&number).await.expect("read").expect("ticket");
    let t = app.service.act(&t, t.version, &agent, AgentAction::Note { body: corpus() }).await.expect("note");
    let answer = AgentAction::Answer { body: corpus(), keep_open: false };
    app.service.act(&t, t.version, &agent, answer).await.expect("answer");
    let rating = link_in(&app.wait_for_mail("anna@wolde.example", "Antwoord").await.text, "/evaluate/").expect("link");
    let rate_page = anna.get(&rating).send().await.expect("get").text().await.expect("text");
    let rate_url = rating.split('?').next().expect("url").to_owned();
    let resp = anna
        .post(&rate_url)
        .form(&[
            ("csrf_token", field(&rate_page, "csrf_token").expect("csrf").as_str()),
            ("rating", "dissatisfied"),
            ("comment", &short(500)),
        ])
        .send()
        .await
        .expect("rate");
    assert!(resp.status().is_success(), "rating: {}", resp.status());

    // Mail in with markup in the sender's name, the subject and an HTML body.
    let mail = format!(
        "From: \"{}\" <anna@wolde.example>\r\nTo: helpdesk@klaver.example\r\nSubject: {}\r\nMessage-ID: <xss1@wolde.example>\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n<p>{}</p>\r\n",
        short(60).replace('"', "'"),
        short(120),
        corpus()
    );
    let received = app.service.receive_mail(mail.as_bytes()).await.expect("mail");
    let mailed = match received {
        helpdesk::service::inbound::Received::NewTicket(n) => n,
        other => panic!("{other:?}"),
    };

    let browser = Browser::start().await;
    let mut problems = Vec::new();
    let q = helpdesk::render::urlencode(&short(200));
    for path in [format!("/search?lang=nl&q={q}"), format!("/login?next={q}"), format!("/nl/{q}")] {
        inspect(&browser, &app, &path, &mut problems).await;
    }
    inspect(&browser, &app, rating.trim_start_matches(&app.base), &mut problems).await;

    browser.log_in(&app.url("/login"), "anna@wolde.example", "een heel goed wachtwoord").await;
    for path in [
        "/portal".to_owned(),
        "/portal/tickets".to_owned(),
        format!("/portal/tickets/{number}"),
        format!("/portal/tickets/{mailed}"),
        format!("/portal/tickets/new?administration={q}&from={q}"),
    ] {
        inspect(&browser, &app, &path, &mut problems).await;
    }
    browser.log_in(&app.url("/login"), "sanne@klaver.example", "een heel goed wachtwoord").await;
    for path in [
        format!("/agent?q={q}"),
        format!("/agent/tickets/{number}"),
        format!("/agent/tickets/{mailed}"),
        "/agent/reports".to_owned(),
    ] {
        inspect(&browser, &app, &path, &mut problems).await;
    }
    browser.log_in(&app.url("/login"), "beheer@klaver.example", "een heel goed wachtwoord").await;
    for path in ["/admin".to_owned(), "/admin/orgs/xss-org".to_owned()] {
        inspect(&browser, &app, &path, &mut problems).await;
    }
    // The corpus did reach the pages (as text): the test would be empty otherwise.
    browser.goto(&app.url(&format!("/agent/tickets/{number}"))).await;
    let text = browser.execute("return document.body.innerText", vec![]).await;
    assert!(
        text.as_str().unwrap_or_default().contains("<script>window.__xss='script'</script>"),
        "the corpus shows as text"
    );
    browser.quit().await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
