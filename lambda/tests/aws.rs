//! The AWS backends end to end against a moto server: SES v2 sends read back from moto and
//! parsed as MIME, and the whole portal run by the `helpdesk` binary with
//! `HELPDESK_STORE=dynamodb HELPDESK_MAILER=ses HELPDESK_ATTACHMENTS=s3` (admin commands
//! included), with attachments uploaded straight to S3 through presigned links.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::moto;
use common::{Mail, client, field, parse_mail, ticket_form};
use helpdesk::mail::Mailer;

const SENDER_DOMAIN: &str = "klaver.example";

async fn verify_sender() {
    let ses = aws_sdk_sesv2::Client::new(&moto::sdk_config().await);
    // Verifying twice is fine for moto; the tests share one server.
    let _ = ses.create_email_identity().email_identity(SENDER_DOMAIN).send().await;
}

/// Every raw message moto's SES received, parsed.
async fn sent_mails() -> Vec<Mail> {
    let data = moto::data().await;
    let Some(raws) = data["ses"]["RawMessage"].as_array() else { return vec![] };
    raws.iter().filter_map(|m| m["raw_data"].as_str()).map(|raw| parse_mail(raw.as_bytes())).collect()
}

async fn wait_for_sent(to: &str, subject: &str) -> Mail {
    for _ in 0..100 {
        if let Some(m) = sent_mails().await.into_iter().find(|m| m.to == to && m.subject.contains(subject)) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("SES (moto) never got a mail to {to} about {subject:?}");
}

#[tokio::test]
async fn ses_sends_the_composed_mime_unchanged() {
    verify_sender().await;
    let mailer = helpdesk::mail::ses::SesMailer::new(aws_sdk_sesv2::Client::new(&moto::sdk_config().await), None);
    let draft = helpdesk::mail::Draft {
        from: format!("Klaver Helpdesk <helpdesk@{SENDER_DOMAIN}>"),
        to: "bert@ses.example".into(),
        subject: "[INC-2026-00042] Ontvangstbevestiging: één vraag".into(),
        text: "Beste Anna,\n\nWij hebben uw vraag ontvangen.".into(),
        html: "<p>Beste Anna,</p><p>Wij hebben uw vraag ontvangen.</p>".into(),
        ..Default::default()
    };
    let mail = helpdesk::mail::compose(&draft, chrono::Utc::now()).expect("compose");
    let id = mailer.send(&mail).await.expect("send");
    assert!(!id.is_empty(), "SES returns its message id");

    let got = wait_for_sent("bert@ses.example", "INC-2026-00042").await;
    assert_eq!(got.subject, draft.subject, "the encoded Dutch subject survives");
    assert!(got.text.contains("Wij hebben uw vraag ontvangen."));
    assert!(got.html.contains("<p>Beste Anna,</p>"));
    assert!(got.date && !got.message_id.is_empty());

    // An unverified sender is refused by SES: the mailer reports it, it does not panic or hide it.
    let mut stranger = mail.clone();
    stranger.raw =
        String::from_utf8(mail.raw.clone()).expect("utf8").replace(SENDER_DOMAIN, "elders.example").into_bytes();
    assert!(mailer.send(&stranger).await.is_err());
}

const BUCKET: &str = "helpdesk-attachments";

async fn s3() -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&moto::sdk_config().await).force_path_style(true).build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    create_bucket(&s3, BUCKET).await;
    s3
}

/// Creating it twice is fine for moto; the tests share one server.
async fn create_bucket(s3: &aws_sdk_s3::Client, name: &str) {
    let _ = s3
        .create_bucket()
        .bucket(name)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await;
}

fn helpdesk(table: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_helpdesk"));
    cmd.arg("--content")
        .arg(common::repo_content())
        .env("HELPDESK_STORE", "dynamodb")
        .env("HELPDESK_TABLE", table)
        .env("HELPDESK_MAILER", "ses")
        .env("HELPDESK_ATTACHMENTS", "s3")
        .env("HELPDESK_BUCKET", BUCKET)
        .env("HELPDESK_FROM", format!("Klaver Helpdesk <helpdesk@{SENDER_DOMAIN}>"))
        .env("AWS_ENDPOINT_URL", moto::endpoint())
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE");
    cmd
}

fn admin(table: &str, data: &std::path::Path, args: &[&str]) -> String {
    let out = helpdesk(table).arg("admin").arg("--data-dir").arg(data).args(args).output().expect("run admin");
    assert!(out.status.success(), "admin {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_runs_on_dynamodb_and_ses() {
    verify_sender().await;
    let table = moto::unique("portal");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");

    assert!(admin(&table, &data, &["dynamodb", "create-table"]).contains(&table));
    admin(&table, &data, &["org", "create", "--name", "Gemeente Wolde", "--sector", "overheid", "--share-tickets"]);
    let printed = admin(&table, &data, &["invite", "--email", "anna@wolde.example", "--org", "Gemeente Wolde"]);
    let invitation = wait_for_sent("anna@wolde.example", "Uitnodiging").await;
    let link = common::link_in(&invitation.text, "/invite#").expect("link in the e-mail");
    assert!(printed.contains(&link), "the admin command prints the same link");
    assert!(!data.join("helpdesk.db").exists(), "nothing went to SQLite");

    let mut server = helpdesk(&table)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut lines = BufReader::new(server.stderr.take().expect("stderr")).lines();
    let base = loop {
        let line = lines.next().expect("server exited").expect("stderr");
        if let Some(a) = line.split("serving on ").nth(1) {
            break a.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    // The invitation was made with the default address; the path is what matters.
    let path = &link[link.find("/invite#").expect("path")..];
    let c = client();
    let set = common::set_password_at(&c, &format!("{base}{path}"), "een heel goed wachtwoord").await;
    assert_eq!(set.status(), 303);

    let page = c.get(format!("{base}/portal/tickets/new")).send().await.expect("form").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let submission = field(&page, "submission_id").expect("submission");
    let filed = c
        .post(format!("{base}/portal/tickets"))
        .multipart(ticket_form(&csrf, &submission, "Vergunning blijft hangen"))
        .send()
        .await
        .expect("file");
    assert_eq!(filed.status(), 303);
    let location = filed.headers()["location"].to_str().expect("location").to_owned();
    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();

    let ack = wait_for_sent("anna@wolde.example", &number).await;
    assert!(ack.subject.contains("Ontvangstbevestiging"), "{}", ack.subject);
    assert!(ack.text.contains(&format!("/portal/tickets/{number}")), "the acknowledgement links to the ticket");
    let ticket = c.get(format!("{base}{location}")).send().await.expect("ticket");
    assert_eq!(ticket.status(), 200);
    assert!(ticket.text().await.expect("text").contains("Vergunning blijft hangen"));
    let list = c.get(format!("{base}/portal/tickets")).send().await.expect("list").text().await.expect("text");
    assert!(list.contains(&number), "the list (a DynamoDB index) has the ticket");

    direct_upload_to_s3(&c, &base, &table, &data).await;

    let _ = server.kill();
    let _ = server.wait();
}

/// A subscriber's browser asks for a presigned link, sends the file straight to S3 and files the
/// ticket with only the upload's id; the download is a presigned S3 link after the ticket's
/// authorization check. Unfinished or someone else's uploads are refused, the form kept.
async fn direct_upload_to_s3(c: &reqwest::Client, base: &str, table: &str, data: &std::path::Path) {
    let s3 = s3().await;
    let page = c.get(format!("{base}/portal/tickets/new")).send().await.expect("form").text().await.expect("text");
    assert!(page.contains("data-direct-upload=\"/portal/uploads\""), "the form uploads ahead on S3");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let submission = field(&page, "submission_id").expect("submission");
    let content = "datum;bedrag\n2026-11-02;12,50\n".repeat(100).into_bytes();
    let ask = |body: serde_json::Value, csrf: Option<&str>| {
        let mut req = c.post(format!("{base}/portal/uploads")).json(&body);
        if let Some(csrf) = csrf {
            req = req.header("X-CSRF-Token", csrf);
        }
        req.send()
    };
    let wanted =
        serde_json::json!({ "filename": "export november.csv", "size": content.len(), "content_type": "text/csv" });

    assert_eq!(ask(wanted.clone(), None).await.expect("ask").status(), 403, "no CSRF token, no upload");
    let too_big =
        serde_json::json!({ "filename": "groot.pdf", "size": 11 * 1024 * 1024, "content_type": "application/pdf" });
    let refused = ask(too_big, Some(&csrf)).await.expect("ask");
    assert_eq!(refused.status(), 422);
    let why: serde_json::Value = refused.json().await.expect("json");
    assert!(why["error"].as_str().expect("error").contains("groter dan 10 MB"), "{why}");
    let exe = serde_json::json!({ "filename": "setup.exe", "size": 10, "content_type": "application/x-msdownload" });
    assert_eq!(ask(exe, Some(&csrf)).await.expect("ask").status(), 422, "types outside the list are refused");

    let target: serde_json::Value = ask(wanted, Some(&csrf)).await.expect("ask").json().await.expect("json");
    let url = target["url"].as_str().expect("url");
    assert!(url.contains("X-Amz-Signature=") && url.contains("/uploads/"), "a presigned upload link: {url}");
    let mut put = client().put(url).body(content.clone());
    for (k, v) in target["headers"].as_object().expect("headers") {
        put = put.header(k, v.as_str().expect("header value"));
    }
    let put = put.send().await.expect("put");
    assert!(put.status().is_success(), "S3 took the upload: {}", put.status());

    let uploaded = target["field"].as_str().expect("field").to_owned();
    let filed = c
        .post(format!("{base}/portal/tickets"))
        .multipart(ticket_form(&csrf, &submission, "Export met bijlage").text("uploaded", uploaded.clone()))
        .send()
        .await
        .expect("file");
    assert_eq!(filed.status(), 303, "{}", filed.text().await.unwrap_or_default());
    let location = filed.headers()["location"].to_str().expect("location").to_owned();
    let ticket = c.get(format!("{base}{location}")).send().await.expect("ticket").text().await.expect("text");
    assert!(ticket.contains("export november.csv"), "the attachment is listed");
    let id = target["id"].as_str().expect("id");
    let kept = s3.get_object().bucket(BUCKET).key(format!("attachments/{id}")).send().await.expect("claimed");
    assert_eq!(kept.body.collect().await.expect("body").into_bytes().as_ref(), content.as_slice());

    // Security review, finding 9: the claimed file cannot be replaced through the upload link
    // that is still valid: the link writes an upload nobody claims again, even when the same
    // form is sent once more (a retry).
    let mut put = client().put(url).body(vec![b'x'; content.len()]);
    for (k, v) in target["headers"].as_object().expect("headers") {
        put = put.header(k, v.as_str().expect("header value"));
    }
    let _ = put.send().await.expect("put");
    let retried = c
        .post(format!("{base}/portal/tickets"))
        .multipart(ticket_form(&csrf, &submission, "Export met bijlage").text("uploaded", uploaded.clone()))
        .send()
        .await
        .expect("retry");
    assert_eq!(retried.status(), 303);
    let kept = s3.get_object().bucket(BUCKET).key(format!("attachments/{id}")).send().await.expect("claimed");
    assert_eq!(kept.body.collect().await.expect("body").into_bytes().as_ref(), content.as_slice(), "unchanged");

    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number");
    let download = c.get(format!("{base}/portal/tickets/{number}/attachments/{id}")).send().await.expect("download");
    assert_eq!(download.status(), 303);
    let signed = download.headers()["location"].to_str().expect("location").to_owned();
    assert!(signed.contains("X-Amz-Signature="), "a presigned download: {signed}");
    let got = client().get(&signed).send().await.expect("s3 get");
    assert!(got.headers()["content-disposition"].to_str().expect("cd").starts_with("attachment;"));
    assert_eq!(got.bytes().await.expect("bytes").as_ref(), content.as_slice());

    // An upload that never arrived: the form comes back with everything, and says which file.
    let page = c.get(format!("{base}/portal/tickets/new")).send().await.expect("form").text().await.expect("text");
    let submission = field(&page, "submission_id").expect("submission");
    let missing = c
        .post(format!("{base}/portal/tickets"))
        .multipart(ticket_form(&csrf, &submission, "Nooit aangekomen").text("uploaded", "nietbestaand01/plan.pdf"))
        .send()
        .await
        .expect("file");
    assert_eq!(missing.status(), 422);
    let again = missing.text().await.expect("text");
    assert!(again.contains("plan.pdf: het uploaden is niet afgerond"), "{again}");
    assert!(again.contains("value=\"Nooit aangekomen\""), "the subject is kept");
    assert!(again.contains("value=\"nietbestaand01/plan.pdf\""), "the upload is kept in the form");

    // Another subscriber cannot claim Anna's upload, even knowing its id.
    admin(table, data, &["invite", "--email", "bert@wolde.example", "--org", "Gemeente Wolde"]);
    let invitation = wait_for_sent("bert@wolde.example", "Uitnodiging").await;
    let link = common::link_in(&invitation.text, "/invite#").expect("link");
    let path = &link[link.find("/invite#").expect("path")..];
    let bert = client();
    common::set_password_at(&bert, &format!("{base}{path}"), "nog een heel goed wachtwoord").await;
    let page = bert.get(format!("{base}/portal/tickets/new")).send().await.expect("form").text().await.expect("text");
    let bert_csrf = field(&page, "csrf_token").expect("csrf");
    let submission = field(&page, "submission_id").expect("submission");
    let stolen = bert
        .post(format!("{base}/portal/tickets"))
        .multipart(ticket_form(&bert_csrf, &submission, "Van Anna").text("uploaded", uploaded))
        .send()
        .await
        .expect("file");
    assert_eq!(stolen.status(), 422, "someone else's upload is not there for Bert");
}

const INBOUND: &str = "helpdesk-inbound";

/// The receipt-rule path: SES stored a message in the inbound bucket and invokes the function
/// with the receipt event; the ticket lands in DynamoDB and the acknowledgement goes out
/// through SES, threaded to the sender's message; a reply to it joins the ticket; a message
/// SES found a virus in is not read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_received_by_ses_becomes_a_ticket_in_dynamodb() {
    use helpdesk::service::inbound::Received;
    use helpdesk::store::Store as _;
    use std::sync::Arc;

    verify_sender().await;
    let s3 = s3().await;
    create_bucket(&s3, INBOUND).await;
    let store = Arc::new(moto::dynamo_store().await);
    let config_path = common::repo_content().join("helpdesk.toml");
    let config = site_builder::HelpdeskConfig::load(&config_path, &config_path).expect("config");
    let dir = tempfile::tempdir().expect("tempdir");
    let service = helpdesk::Service::new(
        config,
        store.clone(),
        "https://helpdesk.klaver.example".into(),
        format!("Klaver Helpdesk <helpdesk@{SENDER_DOMAIN}>"),
        dir.path().join("attachments"),
    )
    .with_files(Arc::new(helpdesk::files::S3Files::new(s3.clone(), BUCKET)));
    let mailer = helpdesk::mail::ses::SesMailer::new(aws_sdk_sesv2::Client::new(&moto::sdk_config().await), None);
    let org = helpdesk::model::Org {
        id: moto::unique("org"),
        name: moto::unique("Gemeente Epe"),
        sector: "overheid".into(),
        plan: "plus".into(),
        share_tickets: false,
        created: chrono::Utc::now(),
    };
    store.create_org(&org).await.expect("org");
    let sender = format!("{}@epe.example", moto::unique("anna"));
    service.invite(&sender, "Anna", &org, helpdesk::model::Role::Subscriber).await.expect("invite");

    let mail_id = moto::unique("ses-message");
    let raw =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/new-question.eml"))
            .expect("fixture")
            .replace("{{FROM}}", &sender)
            .replace("{{TO}}", &format!("helpdesk@{SENDER_DOMAIN}"))
            .replace("{{MSGID}}", &format!("{mail_id}@epe.example"));
    s3.put_object()
        .bucket(INBOUND)
        .key(format!("inbound/{mail_id}"))
        .body(raw.into_bytes().into())
        .send()
        .await
        .expect("put");
    // What the receipt rule's Lambda action sends (trimmed to what the handler reads).
    let event = |id: &str, virus: &str| {
        serde_json::json!({ "Records": [{
            "eventSource": "aws:ses",
            "eventVersion": "1.0",
            "ses": {
                "mail": { "messageId": id, "source": sender, "destination": [format!("helpdesk@{SENDER_DOMAIN}")] },
                "receipt": {
                    "recipients": [format!("helpdesk@{SENDER_DOMAIN}")],
                    "spamVerdict": { "status": "PASS" },
                    "virusVerdict": { "status": virus },
                    "action": { "type": "Lambda", "invocationType": "Event" }
                }
            }
        }]})
    };
    let outcomes =
        helpdesk::aws_lambda::handle_inbound(&service, &mailer, &s3, &event(&mail_id, "PASS"), Some(INBOUND)).await;
    let outcomes = outcomes.expect("handled");
    assert_eq!(outcomes.len(), 1);
    let number = outcomes[0].split("new ticket ").nth(1).unwrap_or_else(|| panic!("{outcomes:?}")).to_owned();
    let ticket = store.ticket(&number).await.expect("read").expect("ticket in DynamoDB");
    assert_eq!((ticket.channel, ticket.requester_email.as_str()), (helpdesk::model::Channel::Email, sender.as_str()));

    let ack = wait_for_sent(&sender, &number).await;
    assert!(ack.subject.contains("Ontvangstbevestiging"));
    let parsed = mail_parser::MessageParser::default().parse(&ack.raw).expect("MIME");
    assert_eq!(parsed.in_reply_to().as_text(), Some(format!("{mail_id}@epe.example").as_str()));

    // The answer to the acknowledgement, stored and announced the same way, joins the ticket.
    let reply_id = moto::unique("ses-reply");
    let reply = format!(
        "From: Anna <{sender}>\r\nTo: helpdesk@{SENDER_DOMAIN}\r\nSubject: Re: {}\r\nMessage-ID: <{reply_id}@epe.example>\r\nIn-Reply-To: <{}>\r\n\r\nStap 4 nu ook.\r\n",
        ack.subject, ack.message_id
    );
    s3.put_object()
        .bucket(INBOUND)
        .key(format!("inbound/{reply_id}"))
        .body(reply.into_bytes().into())
        .send()
        .await
        .expect("put");
    let outcomes =
        helpdesk::aws_lambda::handle_inbound(&service, &mailer, &s3, &event(&reply_id, "PASS"), Some(INBOUND))
            .await
            .expect("handled");
    assert_eq!(outcomes, [format!("inbound/{reply_id}: {}", Received::Added(number.clone()))]);
    let thread = store.messages(&number).await.expect("thread");
    assert_eq!(thread.last().map(|m| m.body.as_str()), Some("Stap 4 nu ook."));
    let original = thread.last().and_then(|m| m.original.clone()).expect("original kept");
    let kept = s3.get_object().bucket(BUCKET).key(format!("attachments/{}", original.id)).send().await;
    assert!(kept.is_ok(), "the original mail is kept with the attachments");

    // A virus verdict: the message is not even read.
    let outcomes =
        helpdesk::aws_lambda::handle_inbound(&service, &mailer, &s3, &event("no-such-object", "FAIL"), Some(INBOUND))
            .await
            .expect("handled");
    assert!(outcomes[0].contains("virus"), "{outcomes:?}");
}
