//! The helpdesk's side over HTTP, on both stores: the whole life of a ticket (filed, assigned,
//! noted, escalated, answered, rated, reopened, answered again, closed by itself), who may
//! reach the agent pages, and two agents answering one ticket at the same moment.

#[macro_use]
mod common;

use chrono::Duration;
use common::*;
use helpdesk::model::*;

on_both_stores!(
    life_of_a_ticket,
    two_agents_answer_at_once,
    reports_count_the_weeks,
    admin_manages_organisations_and_people
);

const QUESTION: &str = "De vergunningaanvraag blijft hangen op stap 3.";

async fn page(c: &reqwest::Client, url: &str) -> (reqwest::StatusCode, String) {
    let resp = c.get(url).send().await.expect("get");
    (resp.status(), resp.text().await.expect("text"))
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

async fn ticket_page(app: &TestApp, c: &reqwest::Client, number: &str) -> String {
    let (status, html) = page(c, &app.url(&format!("/agent/tickets/{number}"))).await;
    assert_eq!(status, 200, "{html}");
    html
}

async fn staff(app: &TestApp, email: &str, name: &str, role: Role) -> reqwest::Client {
    let helpdesk = match app.store().org_by_name("Klaver Online").await.expect("org") {
        Some(o) => o,
        None => app.org("Klaver Online", false).await,
    };
    app.person(email, name, &helpdesk, role).await
}

async fn life_of_a_ticket(app: TestApp) {
    let org = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &org).await;
    let anne = staff(&app, "anne@klaver.example", "Anne de Vries", Role::Agent).await;

    // Filed and acknowledged.
    let location = file_ticket(&app, &alice, "Vergunning blijft hangen").await;
    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();
    let ack = app.wait_for_mail("alice@aadorp.example", "Ontvangstbevestiging").await;
    assert!(ack.subject.contains(&number));
    let filed = app.store().ticket(&number).await.expect("get").expect("ticket");

    // In the queue, with the counts.
    let (status, queue) = page(&anne, &app.url("/agent")).await;
    assert_eq!(status, 200);
    assert!(queue.contains(&number), "the new ticket is in the queue");

    // Assigned to Anne.
    let html = ticket_page(&app, &anne, &number).await;
    assert!(html.contains(QUESTION));
    let resp = agent_post(&app, &anne, &html, &number, "assign", &[("agent", "anne")]).await;
    assert_eq!(resp.status(), 303);
    let t = app.store().ticket(&number).await.expect("get").expect("ticket");
    assert_eq!(t.assignee.as_deref(), Some("anne"));
    assert_eq!(t.state, TicketState::InProgress);

    // An internal note: never on the subscriber's page nor in a mail to them.
    let secret_note = "Interne notitie: klant heeft oude versie";
    let html = ticket_page(&app, &anne, &number).await;
    assert_eq!(agent_post(&app, &anne, &html, &number, "note", &[("body", secret_note)]).await.status(), 303);
    let html = ticket_page(&app, &anne, &number).await;
    assert!(html.contains(secret_note), "agents see the note");
    let (_, portal) = page(&alice, &app.url(&location)).await;
    assert!(!portal.contains(secret_note) && !portal.contains("Interne notitie"), "subscribers never see notes");

    // Escalated: the level moves on, the question stays exactly as written.
    assert_eq!(agent_post(&app, &anne, &html, &number, "escalate", &[]).await.status(), 303);
    let t = app.store().ticket(&number).await.expect("get").expect("ticket");
    assert_eq!(t.level, "2");
    let thread = app.store().messages(&number).await.expect("thread");
    assert_eq!(thread[0].body, QUESTION, "the question is unchanged");
    assert!(
        thread
            .iter()
            .any(|m| matches!(&m.event, Some(TicketEvent::Escalated { from, to }) if from == "1" && to == "2"))
    );

    // Answered: on the portal at once, and by mail with the number and the rating links.
    let answer = "Kies bij stap 3 eerst het bevoegd gezag; dan gaat het verder.";
    let html = ticket_page(&app, &anne, &number).await;
    assert_eq!(agent_post(&app, &anne, &html, &number, "answer", &[("body", answer)]).await.status(), 303);
    let t = app.store().ticket(&number).await.expect("get").expect("ticket");
    assert_eq!(t.state, TicketState::Resolved);
    let (_, portal) = page(&alice, &app.url(&location)).await;
    assert!(portal.contains(answer));
    let mail = app.wait_for_mail("alice@aadorp.example", "Antwoord").await;
    assert!(mail.subject.contains(&number), "{}", mail.subject);
    assert!(mail.text.contains(answer));
    assert!(!String::from_utf8_lossy(&mail.raw).contains(secret_note), "no note in any mail");
    for m in app.mails() {
        assert!(!m.text.contains(secret_note) && !m.html.contains(secret_note));
    }
    let rate = link_in(&mail.text, "rating=satisfied").expect("rating link");
    assert!(link_in(&mail.text, "rating=dissatisfied").is_some());
    let answer_id = app
        .store()
        .messages(&number)
        .await
        .expect("thread")
        .into_iter()
        .rfind(|m| m.kind == MessageKind::Answer)
        .expect("answer")
        .id;

    // A GET (what a mail scanner does) records nothing; the POST records once, then changes.
    let rater = client();
    let (status, form) = page(&rater, &rate).await;
    assert_eq!(status, 200);
    assert!(form.contains(r#"value="satisfied" checked"#), "the link's rating is pre-selected");
    assert_eq!(app.store().evaluation(&answer_id).await.expect("get"), None, "a GET casts no vote");
    let csrf = field(&form, "csrf_token").expect("csrf");
    let post_url = rate.split('?').next().expect("url").to_owned();
    let resp = rater
        .post(&post_url)
        .form(&[("csrf_token", csrf.as_str()), ("rating", "satisfied"), ("comment", "Snel geholpen")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    let e = app.store().evaluation(&answer_id).await.expect("get").expect("recorded");
    assert_eq!(
        (e.rating, e.comment.as_str(), e.ticket.as_str()),
        (Rating::Satisfied, "Snel geholpen", number.as_str())
    );
    let resp = rater
        .post(&post_url)
        .form(&[("csrf_token", csrf.as_str()), ("rating", "neutral"), ("comment", "")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    let changed = app.store().evaluation(&answer_id).await.expect("get").expect("recorded");
    assert_eq!(changed.rating, Rating::Neutral);
    assert_eq!(changed.created, e.created, "one rating, changed");
    // A forged or altered token is refused.
    assert_eq!(page(&rater, &format!("{post_url}x")).await.0, 404);

    // 28 days later the link has expired.
    app.service.clock.advance(Duration::days(29));
    assert_eq!(page(&rater, &rate).await.0, 410);
    let resp = rater
        .post(&post_url)
        .form(&[("csrf_token", csrf.as_str()), ("rating", "dissatisfied")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 410);
    assert_eq!(app.store().evaluation(&answer_id).await.expect("get").expect("kept").rating, Rating::Neutral);

    // The subscriber replies: open again, with a new due day. (A month on, both log in again.)
    let alice = app.login("alice@aadorp.example").await;
    let anne = app.login("anne@klaver.example").await;
    let (_, portal) = page(&alice, &app.url(&location)).await;
    let csrf = field(&portal, "csrf_token").expect("csrf");
    let form = reqwest::multipart::Form::new().text("csrf_token", csrf).text("description", "Stap 4 blijft nu hangen.");
    let resp =
        alice.post(app.url(&format!("/portal/tickets/{number}/reply"))).multipart(form).send().await.expect("post");
    assert_eq!(resp.status(), 303);
    let t = app.store().ticket(&number).await.expect("get").expect("ticket");
    assert_eq!(t.state, TicketState::Open);
    assert!(t.due > filed.due, "a reopened ticket gets a new due day: {} after {}", t.due, filed.due);

    // Answered again, then closed by itself after the configured days without a reaction.
    let html = ticket_page(&app, &anne, &number).await;
    let resp = agent_post(&app, &anne, &html, &number, "answer", &[("body", "Dan is de cache leeg te maken.")]).await;
    assert_eq!(resp.status(), 303);
    let days = app.service.config.tickets.auto_close_days as i64;
    app.service.clock.advance(Duration::days(days) - Duration::hours(1));
    assert_eq!(app.service.close_quiet_tickets().await.expect("job"), 0, "not yet");
    app.service.clock.advance(Duration::hours(2));
    assert_eq!(app.service.close_quiet_tickets().await.expect("job"), 1);
    let t = app.store().ticket(&number).await.expect("get").expect("ticket");
    assert_eq!(t.state, TicketState::Closed);

    // A closed ticket takes no more replies; its page offers a follow-up ticket.
    let alice = app.login("alice@aadorp.example").await;
    let (_, portal) = page(&alice, &app.url(&location)).await;
    assert!(portal.contains(&format!("/portal/tickets/new?follows={number}")));
    let csrf = field(&portal, "csrf_token").expect("csrf");
    let form = reqwest::multipart::Form::new().text("csrf_token", csrf).text("description", "Nog iets.");
    let resp =
        alice.post(app.url(&format!("/portal/tickets/{number}/reply"))).multipart(form).send().await.expect("post");
    assert_eq!(resp.status(), 422);
    assert_eq!(app.store().ticket(&number).await.expect("get").expect("ticket").state, TicketState::Closed);
}

async fn two_agents_answer_at_once(app: TestApp) {
    let org = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &org).await;
    let anne = staff(&app, "anne@klaver.example", "Anne de Vries", Role::Agent).await;
    let bram = staff(&app, "bram@klaver.example", "Bram Jansen", Role::Agent).await;
    let location = file_ticket(&app, &alice, "Twee antwoorden").await;
    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();
    // Both open the ticket, then both send an answer at the same moment.
    let (a_html, b_html) = tokio::join!(ticket_page(&app, &anne, &number), ticket_page(&app, &bram, &number));
    let a_text = "Antwoord van Anne";
    let b_text = "Antwoord van Bram";
    let (a_form, b_form) = ([("body", a_text)], [("body", b_text)]);
    let (a, b) = tokio::join!(
        agent_post(&app, &anne, &a_html, &number, "answer", &a_form),
        agent_post(&app, &bram, &b_html, &number, "answer", &b_form),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [303, 409], "one answer goes through, the other agent is told");
    let (loser_page, loser_text) = if a.status() == 409 {
        (a.text().await.expect("text"), a_text)
    } else {
        (b.text().await.expect("text"), b_text)
    };
    assert!(loser_page.contains(loser_text), "the typed answer is kept in the form");
    let answers: Vec<_> = app
        .store()
        .messages(&number)
        .await
        .expect("thread")
        .into_iter()
        .filter(|m| m.kind == MessageKind::Answer)
        .collect();
    assert_eq!(answers.len(), 1, "no answer written over another, none lost silently");
    let t = app.store().ticket(&number).await.expect("get").expect("ticket");
    assert_eq!(t.version, 1);
}

/// Every `/agent*` route: anonymous visitors go to the login page, subscribers find nothing,
/// agents and admins get in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_routes_are_for_staff_only() {
    let app = spawn_app().await;
    let org = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &org).await;
    let location = file_ticket(&app, &alice, "Vraag").await;
    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();
    let anne = staff(&app, "anne@klaver.example", "Anne de Vries", Role::Agent).await;
    let boss = staff(&app, "baas@klaver.example", "De Baas", Role::Admin).await;
    let gets = [
        "/agent".to_owned(),
        format!("/agent/tickets/{number}"),
        "/agent/calls/new".to_owned(),
        "/agent/reports".to_owned(),
        "/agent/reports.csv?table=weeks".to_owned(),
    ];
    let posts = ["answer", "note", "assign", "state", "escalate", "category", "faq"]
        .map(|a| format!("/agent/tickets/{number}/{a}"));
    let anonymous = client();
    for path in &gets {
        let resp = anonymous.get(app.url(path)).send().await.expect("get");
        assert_eq!(resp.status(), 303, "{path} anonymous");
        assert!(resp.headers()["location"].to_str().expect("location").starts_with("/login"));
        assert_eq!(alice.get(app.url(path)).send().await.expect("get").status(), 404, "{path} as subscriber");
        assert_eq!(anne.get(app.url(path)).send().await.expect("get").status(), 200, "{path} as agent");
        assert_eq!(boss.get(app.url(path)).send().await.expect("get").status(), 200, "{path} as admin");
    }
    let (_, portal) = page(&alice, &app.url(&location)).await;
    let csrf = field(&portal, "csrf_token").expect("csrf");
    for path in posts.iter().chain(std::iter::once(&"/agent/calls".to_owned())) {
        let form = [("csrf_token", csrf.as_str()), ("version", "0"), ("body", "x"), ("state", "closed")];
        let resp = anonymous.post(app.url(path)).form(&form).send().await.expect("post");
        assert_eq!(resp.status(), 303, "{path} anonymous");
        let resp = alice.post(app.url(path)).form(&form).send().await.expect("post");
        assert_eq!(resp.status(), 404, "{path} as subscriber");
    }
    let t = app.store().ticket(&number).await.expect("get").expect("ticket");
    assert_eq!((t.state, t.version), (TicketState::Open, 0), "nothing changed");
}

/// A phone call logged by an agent becomes the subscriber's ticket, answered at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_phone_call_becomes_an_answered_ticket() {
    let app = spawn_app().await;
    let org = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &org).await;
    let anne = staff(&app, "anne@klaver.example", "Anne de Vries", Role::Agent).await;
    let (_, form) = page(&anne, &app.url("/agent/calls/new")).await;
    let csrf = field(&form, "csrf_token").expect("csrf");
    let submission = field(&form, "submission_id").expect("submission");
    // A mistake first: the form comes back with what was typed.
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("submission_id", submission.as_str()),
        ("email", "onbekend@aadorp.example"),
        ("sector", "overheid"),
        ("subtopic", "overheid/vergunningen"),
        ("subject", "Belde over stap 3"),
        ("description", "Mevrouw belde: stap 3 hangt."),
        ("answer", "Eerst het bevoegd gezag kiezen."),
    ];
    let resp = anne.post(app.url("/agent/calls")).form(&fields).send().await.expect("post");
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.expect("text");
    assert!(html.contains("Mevrouw belde: stap 3 hangt.") && html.contains("Belde over stap 3"));
    fields[2] = ("email", "alice@aadorp.example");
    let resp = anne.post(app.url("/agent/calls")).form(&fields).send().await.expect("post");
    assert_eq!(resp.status(), 303);
    let number = resp.headers()["location"]
        .to_str()
        .expect("location")
        .trim_start_matches("/agent/tickets/")
        .split('?')
        .next()
        .expect("n")
        .to_owned();
    let t = app.store().ticket(&number).await.expect("get").expect("ticket");
    assert_eq!(
        (t.channel, t.state, t.requester_email.as_str()),
        (Channel::Phone, TicketState::Resolved, "alice@aadorp.example")
    );
    app.wait_for_mail("alice@aadorp.example", "Antwoord").await;
    let (_, mine) = page(&alice, &app.url("/portal/tickets")).await;
    assert!(mine.contains(&number), "the subscriber finds it among their tickets");
}

async fn reports_count_the_weeks(app: TestApp) {
    let org = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &org).await;
    let anne = staff(&app, "anne@klaver.example", "Anne de Vries", Role::Agent).await;
    let mut numbers = Vec::new();
    for subject in ["Eerste vraag", "Tweede vraag", "Derde vraag"] {
        let location = file_ticket(&app, &alice, subject).await;
        numbers.push(location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned());
    }
    // Two answered at once (within the target), one left waiting; one answer rated.
    for number in &numbers[..2] {
        let html = ticket_page(&app, &anne, number).await;
        let resp = agent_post(&app, &anne, &html, number, "answer", &[("body", "Zo werkt het.")]).await;
        assert_eq!(resp.status(), 303);
    }
    let mail = app.wait_for_mail("alice@aadorp.example", "Antwoord").await;
    let rate = link_in(&mail.text, "rating=dissatisfied").expect("rating link");
    let rater = client();
    let (_, form) = page(&rater, &rate).await;
    let csrf = field(&form, "csrf_token").expect("csrf");
    let comment = "=HYPERLINK(\"http://evil.example\") te traag, <b>jammer</b>";
    let resp = rater
        .post(rate.split('?').next().expect("url"))
        .form(&[("csrf_token", csrf.as_str()), ("rating", "dissatisfied"), ("comment", comment)])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);

    let (status, html) = page(&anne, &app.url("/agent/reports")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<svg class=\"chart\""), "charts are drawn on the server");
    assert!(html.contains("Anne de Vries"), "ratings per agent");
    assert!(html.contains("&lt;b&gt;jammer&lt;/b&gt;"), "comments are escaped");
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 4, "every chart is inline SVG, drawn without JavaScript");
    let report = app.service.report(12).await.expect("report");
    let this_week = report.weeks.last().expect("this week");
    assert_eq!((this_week.filed, this_week.answered, this_week.within_target, this_week.solved), (3, 2, 2, 2));
    assert_eq!(this_week.dissatisfied, 1);
    assert_eq!(report.per_agent.len(), 1);

    let resp = anne.get(app.url("/agent/reports.csv?table=weeks")).send().await.expect("csv");
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = resp.text().await.expect("text");
    let last = csv.lines().last().expect("a row");
    assert!(last.contains(",3,2,2,2,"), "{last}");
    let comments =
        anne.get(app.url("/agent/reports.csv?table=comments")).send().await.expect("csv").text().await.expect("text");
    assert!(comments.contains("'=HYPERLINK"), "a formula in a comment is defused: {comments}");
}

async fn admin_manages_organisations_and_people(app: TestApp) {
    let boss = staff(&app, "baas@klaver.example", "De Baas", Role::Admin).await;
    let anne = staff(&app, "anne@klaver.example", "Anne de Vries", Role::Agent).await;
    // Only admins: agents find nothing, visitors are sent to log in; the same for every form
    // (sent with a valid CSRF token of the caller's own session).
    assert_eq!(anne.get(app.url("/admin")).send().await.expect("get").status(), 404);
    assert_eq!(client().get(app.url("/admin")).send().await.expect("get").status(), 303);
    let own_org = app.store().org_by_name("Klaver Online").await.expect("get").expect("org");
    let me = app.store().user_by_email("anne@klaver.example").await.expect("get").expect("agent");
    let (_, anne_page) = page(&anne, &app.url("/agent")).await;
    let anne_csrf = field(&anne_page, "csrf_token").expect("csrf");
    let admin_posts = [
        "/admin/orgs".to_owned(),
        format!("/admin/orgs/{}", own_org.id),
        format!("/admin/orgs/{}/invite", own_org.id),
        format!("/admin/people/{}", me.id),
    ];
    for path in &admin_posts {
        let form = [
            ("csrf_token", anne_csrf.as_str()),
            ("name", "X"),
            ("sector", "advies"),
            ("plan", "basis"),
            ("email", "x@x.example"),
            ("role", "admin"),
            ("active", "1"),
        ];
        assert_eq!(anne.post(app.url(path)).form(&form).send().await.expect("post").status(), 404, "{path} as agent");
        assert_eq!(
            client().post(app.url(path)).form(&form).send().await.expect("post").status(),
            303,
            "{path} anonymous"
        );
    }
    assert_eq!(app.store().user(&me.id).await.expect("get").expect("agent").role, Role::Agent, "nothing changed");

    // A new organisation; a mistake first keeps what was typed.
    let (_, html) = page(&boss, &app.url("/admin")).await;
    let csrf = field(&html, "csrf_token").expect("csrf");
    let resp = boss
        .post(app.url("/admin/orgs"))
        .form(&[("csrf_token", csrf.as_str()), ("name", ""), ("sector", "advies"), ("plan", "premium")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 422);
    let resp = boss
        .post(app.url("/admin/orgs"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Bureau Veld"),
            ("sector", "advies"),
            ("plan", "premium"),
            ("share_tickets", "1"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    let org_url = resp.headers()["location"].to_str().expect("location").to_owned();
    let org = app.store().org_by_name("Bureau Veld").await.expect("get").expect("created");
    assert_eq!((org.sector.as_str(), org.plan.as_str(), org.share_tickets), ("advies", "premium", true));
    let (_, list) = page(&boss, &app.url("/admin")).await;
    assert!(list.contains("Bureau Veld"));

    // Settings change.
    let resp = boss
        .post(app.url(&org_url))
        .form(&[("csrf_token", csrf.as_str()), ("sector", "overheid"), ("plan", "basis")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    let org = app.store().org(&org.id).await.expect("get").expect("org");
    assert_eq!((org.sector.as_str(), org.plan.as_str(), org.share_tickets), ("overheid", "basis", false));

    // Invite someone, in English; they set a password and log in.
    let resp = boss
        .post(app.url(&format!("{org_url}/invite")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "Piet@Veld.example"),
            ("name", "Piet"),
            ("role", "subscriber"),
            ("lang", "en"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    let invitation = app.wait_for_mail("piet@veld.example", "Invitation").await;
    let piet = client();
    app.set_password(&piet, &link_in(&invitation.text, "/invite#").expect("link"), "een heel goed wachtwoord").await;
    assert_eq!(piet.get(app.url("/portal")).send().await.expect("get").status(), 200);
    let (_, people) = page(&boss, &app.url(&org_url)).await;
    assert!(people.contains("piet@veld.example"));
    let user = app.store().user_by_email("piet@veld.example").await.expect("get").expect("user");

    // Made an agent: the role changes and old sessions end.
    let resp = boss
        .post(app.url(&format!("/admin/people/{}", user.id)))
        .form(&[("csrf_token", csrf.as_str()), ("role", "agent")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    assert_eq!(app.store().user(&user.id).await.expect("get").expect("user").role, Role::Agent);
    assert_eq!(piet.get(app.url("/portal")).send().await.expect("get").status(), 303, "logged out");

    // Deactivated: cannot log in any more.
    let piet = app.login("piet@veld.example").await;
    assert_eq!(piet.get(app.url("/agent")).send().await.expect("get").status(), 200);
    let resp = boss
        .post(app.url(&format!("/admin/people/{}", user.id)))
        .form(&[("csrf_token", csrf.as_str()), ("active", "0")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303);
    assert_eq!(piet.get(app.url("/agent")).send().await.expect("get").status(), 303, "the session ended");
    let c = client();
    let (_, login) = page(&c, &app.url("/login")).await;
    let csrf_login = field(&login, "csrf_token").expect("csrf");
    let resp = c
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf_login.as_str()),
            ("email", "piet@veld.example"),
            ("password", "een heel goed wachtwoord"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 401, "a deactivated account cannot log in");

    // An admin cannot lock themselves out.
    let me = app.store().user_by_email("baas@klaver.example").await.expect("get").expect("admin");
    let resp = boss
        .post(app.url(&format!("/admin/people/{}", me.id)))
        .form(&[("csrf_token", csrf.as_str()), ("active", "0")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 422);
    assert!(app.store().user(&me.id).await.expect("get").expect("admin").active);
}

/// "Make this a FAQ": a draft article without personal data, as a download (AWS) or written
/// into `content/` (one machine), where `helpdesk check` accepts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_answered_ticket_becomes_a_faq_draft() {
    let app = spawn_app().await;
    let org = app.org("Gemeente Aadorp", true).await;
    let alice = app.person("alice@aadorp.example", "Alice de Boer", &org, Role::Subscriber).await;
    let anne = staff(&app, "anne@klaver.example", "Anne de Vries", Role::Agent).await;
    let location = file_ticket(&app, &alice, "Vergunning blijft hangen op stap 3").await;
    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();
    let html = ticket_page(&app, &anne, &number).await;
    // No answer yet: nothing to draft.
    let csrf = field(&html, "csrf_token").expect("csrf");
    let resp = anne
        .post(app.url(&format!("/agent/tickets/{number}/faq")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 409);
    let answer = "Beste Alice, kies bij stap 3 eerst het bevoegd gezag. Bel anders 06-12345678 of mail anne@klaver.example. Groet, Anne de Vries";
    assert_eq!(agent_post(&app, &anne, &html, &number, "answer", &[("body", answer)]).await.status(), 303);

    // On AWS (no content folder) the draft is a download.
    let resp = anne
        .post(app.url(&format!("/agent/tickets/{number}/faq")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-disposition"].to_str().expect("header").contains(".md"));
    let text = resp.text().await.expect("text");
    assert!(
        text.starts_with("+++\ntitle = \"Vergunning blijft hangen op stap 3\"") && text.contains("draft = true"),
        "{text}"
    );
    assert!(text.contains("kies bij stap 3 eerst het bevoegd gezag"));
    for private in ["Alice", "Anne", "Vries", "06-12345678", "anne@klaver.example", "Aadorp", &number] {
        assert!(!text.contains(private), "{private} left in the draft:\n{text}");
    }

    // On one machine it goes into content/, and the content still passes the check.
    let ticket = app.store().ticket(&number).await.expect("get").expect("ticket");
    let draft = app.service.faq_draft(&ticket).await.expect("draft");
    let content = tempfile::tempdir().expect("tempdir");
    copy_dir(&repo_content(), content.path());
    let path = helpdesk::service::faq::write_draft(content.path(), &draft).expect("write");
    assert_eq!(path, std::path::Path::new("faq/nl/vergunningen/vergunning-blijft-hangen-op-stap-3.md"));
    assert!(content.path().join("faq/nl/vergunningen/_index.md").is_file(), "a new category gets its index");
    let again = helpdesk::service::faq::write_draft(content.path(), &draft).expect("write");
    assert!(again.ends_with("vergunning-blijft-hangen-op-stap-3-2.md"), "an existing draft is never overwritten");
    let problems = site_builder::check(content.path());
    assert!(problems.is_empty(), "{problems}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// An overdue ticket is marked in the queue and on its page, with how many working days late.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overdue_tickets_are_marked() {
    let app = spawn_app().await;
    let org = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &org).await;
    let location = file_ticket(&app, &alice, "Blijft liggen").await;
    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();
    let due = app.store().ticket(&number).await.expect("get").expect("ticket").due;
    staff(&app, "anne@klaver.example", "Anne de Vries", Role::Agent).await;
    // Three weeks later (log in again: sessions idle out).
    app.service.clock.advance(Duration::days(21));
    let anne = app.login("anne@klaver.example").await;
    let (status, queue) = page(&anne, &app.url("/agent")).await;
    assert_eq!(status, 200, "{queue}");
    assert!(queue.contains("class=\"overdue\"") && queue.contains("te laat"), "marked overdue");
    let today = chrono::Utc::now().date_naive() + Duration::days(21);
    assert!(due < today);
    let html = ticket_page(&app, &anne, &number).await;
    assert!(html.contains("te laat"));
}
