//! Mail to the helpdesk, on both stores: a corpus of messages shaped like real clients' mail
//! (`tests/mail/*.eml`, with `{{FROM}}`, `{{NUMBER}}`, `{{PARENT}}` ... filled in per test)
//! becomes tickets and replies; strangers get one answer a day; machines get nothing; the same
//! message twice is one ticket; the `inbox/` folder moves what it handled.

#[macro_use]
mod common;

use common::*;
use helpdesk::model::*;
use helpdesk::service::agent::AgentAction;
use helpdesk::service::inbound::Received;

on_both_stores!(
    a_subscribers_mail_becomes_a_ticket_with_a_threaded_acknowledgement,
    replies_thread_by_message_id_and_by_number,
    someone_elses_number_makes_a_new_ticket,
    strangers_get_one_answer_a_day,
    machines_get_nothing_back,
    the_same_message_twice_is_one_ticket,
    real_clients_mail_reads_cleanly,
    the_plus_address_names_the_administration,
);

const ANNA: &str = "anna@ede.example";

/// A fixture with its placeholders filled in.
fn fixture(name: &str, fill: &[(&str, &str)]) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail").join(name);
    let mut text = String::from_utf8(std::fs::read(&path).expect("fixture")).expect("fixtures are ASCII");
    for (k, v) in fill {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    assert!(!text.contains("{{"), "{name}: a placeholder is left: {text}");
    text.into_bytes()
}

fn question(from: &str, message_id: &str) -> Vec<u8> {
    fixture("new-question.eml", &[("FROM", from), ("TO", "helpdesk@klaver.example"), ("MSGID", message_id)])
}

async fn ede(app: &TestApp) -> Org {
    let org = app.org("Gemeente Ede", false).await;
    app.service.invite(ANNA, "Anna Jansen", &org, Role::Subscriber).await.expect("invite");
    org
}

async fn receive(app: &TestApp, raw: &[u8]) -> Received {
    app.service.receive_mail(raw).await.expect("handled")
}

fn new_ticket(r: Received) -> String {
    match r {
        Received::NewTicket(n) => n,
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

/// A header of a raw message, unfolded.
fn header(raw: &[u8], name: &str) -> Option<String> {
    let m = mail_parser::MessageParser::default().parse(raw).expect("MIME");
    m.header_raw(name).map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
}

async fn a_subscribers_mail_becomes_a_ticket_with_a_threaded_acknowledgement(app: TestApp) {
    let org = ede(&app).await;
    let number = new_ticket(receive(&app, &question(ANNA, "q1@ede.example")).await);
    let t = app.store().ticket(&number).await.expect("read").expect("stored");
    assert_eq!((t.channel, t.requester_email.as_str(), t.org_id.as_str()), (Channel::Email, ANNA, org.id.as_str()));
    assert_eq!(t.subject, "Vergunning blijft hangen");
    assert_eq!(t.sector, "overheid", "the organisation's sector; the subtopic is for an agent to set");
    let first = &app.store().messages(&number).await.expect("thread")[0];
    assert_eq!(first.body, "Goedemiddag,\n\nDe vergunningaanvraag blijft hangen op stap 3 van het formulier.");
    assert!(first.original.is_some(), "the mail as it came in is kept");

    let ack = app.wait_for_mail(ANNA, &number).await;
    assert!(ack.subject.contains("Ontvangstbevestiging"));
    assert!(ack.text.contains(&number) && ack.text.contains("via e-mail"));
    assert_eq!(header(&ack.raw, "In-Reply-To").as_deref(), Some("<q1@ede.example>"));
    assert_eq!(header(&ack.raw, "References").as_deref(), Some("<q1@ede.example>"));
    assert_eq!(header(&ack.raw, "Auto-Submitted").as_deref(), Some("auto-replied"));

    // The original is for the helpdesk only (it holds quoted history and every attachment).
    let original = first.original.clone().expect("original");
    let url = app.url(&format!("/portal/tickets/{number}/attachments/{}", original.id));
    let anna = {
        let link = link_in(&app.wait_for_mail(ANNA, "Uitnodiging").await.text, "/invite#").expect("link");
        let c = client();
        app.set_password(&c, &link, "een heel goed wachtwoord").await;
        c
    };
    assert_eq!(anna.get(&url).send().await.expect("get").status(), 404);
    let agent = app.person("sanne@klaver.example", "Sanne", &org, Role::Agent).await;
    let resp = agent.get(&url).send().await.expect("get");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.expect("body").as_ref(), question(ANNA, "q1@ede.example").as_slice());
    let page = agent.get(app.url(&format!("/agent/tickets/{number}"))).send().await.expect("get");
    let page = page.text().await.expect("text");
    assert!(page.contains("per e-mail") && page.contains(ANNA), "agents see the channel and the sender");

    // The agent files it under a subtopic (a mail comes in without one).
    let form = |subtopic: &str| {
        vec![
            ("csrf_token".to_owned(), field(&page, "csrf_token").expect("csrf")),
            ("version".to_owned(), field(&page, "version").expect("version")),
            ("subtopic".to_owned(), subtopic.to_owned()),
        ]
    };
    let post =
        |subtopic: &str| agent.post(app.url(&format!("/agent/tickets/{number}/category"))).form(&form(subtopic)).send();
    assert_eq!(post("overheid/bestaat-niet").await.expect("post").status(), 422);
    assert_eq!(post("overheid/vergunningen").await.expect("post").status(), 303);
    let t = app.store().ticket(&number).await.expect("read").expect("ticket");
    assert_eq!((t.sector.as_str(), t.subtopic.as_str()), ("overheid", "vergunningen"));
    let page = agent.get(app.url(&format!("/agent/tickets/{number}"))).send().await.expect("get");
    assert!(page.text().await.expect("text").contains("ingedeeld onder Overheid / Vergunningen"));
}

async fn replies_thread_by_message_id_and_by_number(app: TestApp) {
    let org = ede(&app).await;
    let number = new_ticket(receive(&app, &question(ANNA, "q1@ede.example")).await);
    let ack = app.wait_for_mail(ANNA, &number).await;
    let ack_id = ack.message_id.clone();
    // The worker records the id once the mail has gone out.
    wait_until(|| async {
        app.store().ticket_by_mail_id(std::slice::from_ref(&ack_id)).await.expect("read").is_some()
    })
    .await;

    // Outlook, answering the acknowledgement: found by In-Reply-To.
    let outlook = fixture("outlook-reply.eml", &[("FROM", ANNA), ("NUMBER", &number), ("PARENT", &ack_id)]);
    assert_eq!(receive(&app, &outlook).await, Received::Added(number.clone()));
    let thread = app.store().messages(&number).await.expect("thread");
    let reply = thread.last().expect("reply");
    assert_eq!(reply.kind, MessageKind::Customer);
    assert_eq!(
        reply.body,
        "Hallo,\n\nHet probleem doet zich nu ook voor bij stap 4. Ik heb de browser al opnieuw gestart.\n\nMet vriendelijke groet,\nAnna Jansen\nGemeente Ede",
        "the quoted acknowledgement below Outlook's line is gone"
    );

    // An answer resolves the ticket; a reply to the answer mail opens it again.
    let agent = {
        app.service.invite("sanne@klaver.example", "Sanne", &org, Role::Agent).await.expect("invite");
        app.store().user_by_email("sanne@klaver.example").await.expect("read").expect("agent")
    };
    let t = app.store().ticket(&number).await.expect("read").expect("ticket");
    let answer = AgentAction::Answer { body: "Wis de cache en probeer het opnieuw.".into(), keep_open: false };
    let t = app.service.act(&t, t.version, &agent, answer).await.expect("answer");
    assert_eq!(t.state, TicketState::Resolved);
    let answer_mail = app.wait_for_mail(ANNA, "Antwoord").await;
    let answer_id = answer_mail.message_id.clone();
    wait_until(|| async {
        app.store().ticket_by_mail_id(std::slice::from_ref(&answer_id)).await.expect("read").is_some()
    })
    .await;
    // Gmail, answering the answer, the number in the subject: by In-Reply-To again.
    let gmail = fixture("gmail-reply.eml", &[("FROM", ANNA), ("NUMBER", &number), ("PARENT", &answer_id)]);
    assert_eq!(receive(&app, &gmail).await, Received::Added(number.clone()));
    let t = app.store().ticket(&number).await.expect("read").expect("ticket");
    assert_eq!(t.state, TicketState::Open, "a reply reopens a resolved ticket");
    let reply = app.store().messages(&number).await.expect("thread").pop().expect("reply");
    assert_eq!(
        reply.body, "Dank u, dat werkte! Eén vraag nog: geldt dit ook voor de proefomgeving?\n\nGroet,\nBram",
        "Gmail's wrapped attribution line and the quote are gone"
    );

    // Only the number (a new mail, or a client that drops the headers): still the same ticket.
    let by_number = String::from_utf8(fixture(
        "gmail-reply.eml",
        &[("FROM", ANNA), ("NUMBER", &number), ("PARENT", "lost@elsewhere.example")],
    ))
    .expect("utf8")
    .replace("CAB7x=9qkQ1mXvT2eWq@mail.gmail.com", "other-id@mail.gmail.com");
    assert_eq!(receive(&app, by_number.as_bytes()).await, Received::Added(number.clone()));
    assert_eq!(app.store().messages(&number).await.expect("thread").iter().filter(|m| m.original.is_some()).count(), 4);
}

async fn someone_elses_number_makes_a_new_ticket(app: TestApp) {
    ede(&app).await;
    let annas = new_ticket(receive(&app, &question(ANNA, "q1@ede.example")).await);
    let other = app.org("Waterschap Rijn", false).await;
    app.service.invite("bram@rijn.example", "Bram", &other, Role::Subscriber).await.expect("invite");
    let before = app.store().messages(&annas).await.expect("thread").len();

    let guess = fixture("gmail-reply.eml", &[("FROM", "bram@rijn.example"), ("NUMBER", &annas), ("PARENT", "x@y")]);
    let brams = new_ticket(receive(&app, &guess).await);
    assert_ne!(brams, annas);
    assert_eq!(app.store().messages(&annas).await.expect("thread").len(), before, "nothing added to Anna's ticket");
    let t = app.store().ticket(&brams).await.expect("read").expect("ticket");
    assert_eq!(t.requester_email, "bram@rijn.example");
    let ack = app.wait_for_mail("bram@rijn.example", &brams).await;
    assert!(!ack.text.contains("stap 3"), "nothing of Anna's ticket leaks into Bram's mail");
}

async fn strangers_get_one_answer_a_day(app: TestApp) {
    ede(&app).await;
    let stranger = "onbekend@elders.example";
    assert_eq!(
        receive(&app, &question(stranger, "s1@elders.example")).await,
        Received::UnknownSender { replied: true }
    );
    assert_eq!(
        receive(&app, &question(stranger, "s2@elders.example")).await,
        Received::UnknownSender { replied: false }
    );
    let answer = app.wait_for_mail(stranger, "Uw bericht aan de helpdesk").await;
    assert!(answer.text.contains("hoort niet bij een account"));
    assert_eq!(header(&answer.raw, "In-Reply-To").as_deref(), Some("<s1@elders.example>"));
    assert_eq!(header(&answer.raw, "Auto-Submitted").as_deref(), Some("auto-replied"));
    let counts = app.store().state_counts().await.expect("counts");
    assert_eq!(counts.open, 0, "no ticket for a stranger");

    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(app.mails().iter().filter(|m| m.to == stranger).count(), 1, "one answer on the first day");
    app.service.clock.advance(chrono::Duration::days(1));
    assert_eq!(
        receive(&app, &question(stranger, "s3@elders.example")).await,
        Received::UnknownSender { replied: true }
    );
}

async fn machines_get_nothing_back(app: TestApp) {
    let org = ede(&app).await;
    let number = new_ticket(receive(&app, &question(ANNA, "q1@ede.example")).await);
    let ack = app.wait_for_mail(ANNA, &number).await;
    let mails_before = app.mails().len();
    let thread_before = app.store().messages(&number).await.expect("thread").len();

    let ooo = fixture("out-of-office.eml", &[("FROM", ANNA), ("NUMBER", &number), ("PARENT", &ack.message_id)]);
    assert!(matches!(receive(&app, &ooo).await, Received::Ignored(_)), "an out-of-office answer");
    let bounce = fixture("bounce-dsn.eml", &[]);
    assert!(matches!(receive(&app, &bounce).await, Received::Ignored(_)), "a delivery failure report");
    let list = fixture("mailing-list.eml", &[("FROM", ANNA)]);
    assert!(matches!(receive(&app, &list).await, Received::Ignored(_)), "a list mail from a subscriber's address");
    // Our own acknowledgement coming back (a forwarding loop).
    assert!(matches!(receive(&app, &ack.raw).await, Received::Ignored(_)), "the helpdesk's own mail");
    // Helpdesk staff mailing the helpdesk is not a subscriber's question.
    app.service.invite("sanne@klaver.example", "Sanne", &org, Role::Agent).await.expect("invite");
    let staff = question("sanne@klaver.example", "staff1@klaver.example");
    assert!(matches!(receive(&app, &staff).await, Received::Ignored(_)));

    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let invitation = 1;
    assert_eq!(app.mails().len(), mails_before + invitation, "no mail back to any of them");
    assert_eq!(app.store().messages(&number).await.expect("thread").len(), thread_before);
    assert_eq!(app.store().state_counts().await.expect("counts").open, 1);
}

async fn the_same_message_twice_is_one_ticket(app: TestApp) {
    ede(&app).await;
    let raw = question(ANNA, "twice@ede.example");
    let number = new_ticket(receive(&app, &raw).await);
    assert_eq!(receive(&app, &raw).await, Received::Duplicate);
    // Delivered again by another route: the Message-ID decides, not the bytes.
    let again = String::from_utf8(raw).expect("utf8").replace("Date: Mon", "X-Relayed: yes\r\nDate: Mon");
    assert_eq!(receive(&app, again.as_bytes()).await, Received::Duplicate);
    assert_eq!(app.store().state_counts().await.expect("counts").open, 1);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(app.mails().iter().filter(|m| m.subject.contains(&number)).count(), 1, "one acknowledgement");
}

async fn real_clients_mail_reads_cleanly(app: TestApp) {
    ede(&app).await;
    let first = |number: String| {
        let app = &app;
        async move { app.store().messages(&number).await.expect("thread").remove(0) }
    };

    // Apple Mail with a PDF (kept) and a program (left out, and the text says so).
    let n = new_ticket(receive(&app, &fixture("apple-mail-attachment.eml", &[("FROM", ANNA)])).await);
    let m = first(n).await;
    assert_eq!(m.attachments.iter().map(|a| a.filename.as_str()).collect::<Vec<_>>(), ["jaaroverzicht.pdf"]);
    assert!(m.body.starts_with("Goedemorgen,\n\nBij het exporteren"));
    assert!(!m.body.contains("Verzonden vanaf mijn Mac"), "the signature line is trimmed");
    assert!(m.body.contains("hulpje.exe"), "the text says which file was left out: {}", m.body);

    // HTML only: readable text, no markup, script, style or remote images.
    let n = new_ticket(receive(&app, &fixture("html-only.eml", &[("FROM", ANNA)])).await);
    let m = first(n).await;
    assert!(m.body.contains("Beste helpdesk,") && m.body.contains("foutcode 502"), "{}", m.body);
    for gone in ["<", "alert", "color: red", "tracker.example", "display:none"] {
        assert!(!m.body.contains(gone), "{gone:?} in {:?}", m.body);
    }

    // Windows-1252, quoted-printable, encoded subject and sender name.
    let n = new_ticket(receive(&app, &fixture("windows-1252-qp.eml", &[("FROM", ANNA)])).await);
    let t = app.store().ticket(&n).await.expect("read").expect("ticket");
    assert_eq!(t.subject, "Factuur € 1.250 niet geboekt");
    let m = first(n).await;
    assert!(m.body.contains("€ 1.250") && m.body.contains("“periode gesloten”") && m.body.contains("Coördinatie"));

    // A forward: the forwarded message is the question, so it stays.
    let n = new_ticket(receive(&app, &fixture("forwarded.eml", &[("FROM", ANNA)])).await);
    let m = first(n.clone()).await;
    assert!(m.body.contains("lege pagina na het uploaden"), "{}", m.body);
    let t = app.store().ticket(&n).await.expect("read").expect("ticket");
    assert_eq!(t.subject, "Fwd: Melding van een inwoner over het aanvraagformulier");
}

async fn the_plus_address_names_the_administration(app: TestApp) {
    ede(&app).await;
    let to = |tag: &str, id: &str| {
        fixture("new-question.eml", &[("FROM", ANNA), ("TO", &format!("helpdesk+{tag}@klaver.example")), ("MSGID", id)])
    };
    let n = new_ticket(receive(&app, &to("adm-0042", "p1@ede.example")).await);
    let t = app.store().ticket(&n).await.expect("read").expect("ticket");
    assert_eq!(t.administration.as_deref(), Some("adm-0042"));
    let ack = app.wait_for_mail(ANNA, &n).await;
    assert!(ack.text.contains("adm-0042"), "the acknowledgement names the administration");

    // An administration a mail address cannot carry comes as a tag in the subject.
    let tagged = String::from_utf8(question(ANNA, "p5@ede.example")).expect("utf8").replace(
        "Subject: Vergunning blijft hangen",
        "Subject: Vraag aan de helpdesk [administratie: Wolde productie]",
    );
    let n = new_ticket(receive(&app, tagged.as_bytes()).await);
    let t = app.store().ticket(&n).await.expect("read").expect("ticket");
    assert_eq!(t.administration.as_deref(), Some("Wolde productie"));
    let markup = tagged.replace("p5@ede.example", "p6@ede.example").replace("Wolde productie", "<b>x</b>");
    let n = new_ticket(receive(&app, markup.as_bytes()).await);
    assert_eq!(app.store().ticket(&n).await.expect("read").expect("ticket").administration, None);

    for (tag, id) in [("a".repeat(60), "p2@ede.example"), ("x%3Cb%3E".into(), "p3@ede.example"), ("a=b".into(), "p4")] {
        let n = new_ticket(receive(&app, &to(&tag, id)).await);
        let t = app.store().ticket(&n).await.expect("read").expect("ticket");
        assert_eq!(t.administration, None, "{tag:?} is not taken as an administration");
    }
}

/// Waits (up to 5 s) until `check` holds.
async fn wait_until<F, Fut>(check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("condition not met in 5 s");
}

#[tokio::test]
async fn the_inbox_folder_moves_what_it_handled() {
    let app = spawn_app().await;
    ede(&app).await;
    let inbox = app.dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    std::fs::write(inbox.join("1-question.eml"), question(ANNA, "f1@ede.example")).expect("write");
    std::fs::write(inbox.join("2-garbage.eml"), b"this is not a mail message at all").expect("write");
    std::fs::write(inbox.join(".3-being-written.eml"), b"half").expect("write");
    let handled = helpdesk::intake::drain_inbox(&app.service, &inbox).await.expect("drain");
    assert_eq!(handled, 2);
    assert!(inbox.join("done/1-question.eml").exists());
    assert!(inbox.join("failed/2-garbage.eml").exists());
    let reason = std::fs::read_to_string(inbox.join("failed/2-garbage.eml.reason.txt")).expect("reason");
    assert!(reason.contains("not an e-mail message") || reason.contains("no sender"), "{reason}");
    assert!(inbox.join(".3-being-written.eml").exists(), "files still being written are left alone");
    assert_eq!(app.store().state_counts().await.expect("counts").open, 1);
}
