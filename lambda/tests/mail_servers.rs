//! Mail on one machine through real servers the test starts on loopback: the SMTP mailer hands
//! the acknowledgement to an SMTP server (aiosmtpd, `tests/smtp_sink.py`) as real MIME, and the
//! IMAP poller reads a Dovecot mailbox (`tests/dovecot.sh`), makes tickets of what it finds and
//! moves or marks what it handled.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use helpdesk::Service;
use helpdesk::model::{Org, Role};
use helpdesk::service::inbound::Received;
use helpdesk::store::sqlite::SqliteStore;

const FROM: &str = "Klaver Helpdesk <helpdesk@klaver.example>";
const ANNA: &str = "anna@ede.example";

/// A service on SQLite in `dir`, with Anna as a subscriber (the mail it queues is not sent
/// until a test delivers it).
async fn service(dir: &Path) -> Service {
    let config_path = common::repo_content().join("helpdesk.toml");
    let config = site_builder::HelpdeskConfig::load(&config_path, &config_path).expect("config");
    let store = Arc::new(SqliteStore::open(&dir.join("helpdesk.db")).expect("store"));
    let svc = Service::new(config, store, "http://127.0.0.1".into(), FROM.into(), dir.join("attachments"));
    let org = Org {
        id: "ede".into(),
        name: "Gemeente Ede".into(),
        sector: "overheid".into(),
        plan: "plus".into(),
        share_tickets: false,
        created: chrono::Utc::now(),
    };
    svc.store.create_org(&org).await.expect("org");
    svc.invite(ANNA, "Anna Jansen", &org, Role::Subscriber).await.expect("invite");
    svc
}

fn question(message_id: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/new-question.eml"))
        .expect("fixture")
        .replace("{{FROM}}", ANNA)
        .replace("{{TO}}", "helpdesk@klaver.example")
        .replace("{{MSGID}}", message_id)
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// aiosmtpd on a free port, writing what it receives into `dir`.
fn smtp_sink(dir: &Path) -> (Server, u16) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
    let mut child = Command::new(common::moto::python())
        .arg(script)
        .arg("0")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the SMTP sink (aiosmtpd in .venv: run scripts/test.sh once)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("READY line");
    let port = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok()).unwrap_or_else(|| {
        panic!("the SMTP sink did not start (is aiosmtpd installed in .venv?): {line:?}");
    });
    (Server(child), port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smtp_mailer_delivers_real_mime() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = service(dir.path()).await;
    let received = dir.path().join("smtp");
    std::fs::create_dir_all(&received).expect("dir");
    let (_sink, port) = smtp_sink(&received);
    let Received::NewTicket(number) = svc.receive_mail(question("q1@ede.example").as_bytes()).await.expect("mail")
    else {
        panic!("no ticket")
    };

    // The SMTP server is down: nothing is lost, the mail stays queued for a retry.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let down = helpdesk::mail::smtp::SmtpMailer::new(&format!("smtp://127.0.0.1:{closed}"), FROM).expect("mailer");
    let now = chrono::Utc::now();
    assert_eq!(helpdesk::mail::deliver_due(svc.store.as_ref(), &down, now).await, 0);
    let waiting = svc.store.due_mail(now + chrono::Duration::hours(2), 10).await.expect("due");
    assert_eq!(waiting.len(), 2, "the invitation and the acknowledgement wait for the next attempt");
    assert!(waiting.iter().all(|m| m.attempts == 1 && m.last_error.is_some()));

    let smtp = helpdesk::mail::smtp::SmtpMailer::new(&format!("smtp://127.0.0.1:{port}"), FROM).expect("mailer");
    let later = now + chrono::Duration::hours(2);
    assert_eq!(helpdesk::mail::deliver_due(svc.store.as_ref(), &smtp, later).await, 2);

    let mut emls: Vec<PathBuf> = std::fs::read_dir(&received)
        .expect("read")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    emls.sort();
    assert_eq!(emls.len(), 2);
    let ack_path = emls
        .iter()
        .find(|p| common::parse_mail(&std::fs::read(p).expect("read")).subject.contains(&number))
        .expect("the acknowledgement arrived");
    let ack = common::parse_mail(&std::fs::read(ack_path).expect("read"));
    assert!(ack.text.contains(&number) && ack.html.contains(&number));
    let raw = mail_parser::MessageParser::default().parse(&ack.raw).expect("MIME");
    assert_eq!(raw.in_reply_to().as_text(), Some("q1@ede.example"));
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ack_path.with_extension("json")).expect("envelope")).expect("json");
    assert_eq!(envelope["mail_from"], "helpdesk@klaver.example");
    assert_eq!(envelope["rcpt_tos"], serde_json::json!([ANNA]));
    // The id the recipient sees leads back to the ticket.
    let ids = vec![ack.message_id.clone()];
    assert_eq!(svc.store.ticket_by_mail_id(&ids).await.expect("read"), Some(number));
}

/// Dovecot on a free port, with user `helpdesk` and its Maildir under `dir`.
fn dovecot(dir: &Path) -> (Server, u16) {
    assert!(
        Command::new("sh").args(["-c", "command -v dovecot"]).output().is_ok_and(|o| o.status.success()),
        "Dovecot is not installed: run scripts/test.sh once (it installs dovecot-imapd)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dovecot.sh");
    let child = Command::new("sh")
        .arg(script)
        .arg(dir)
        .args([&port.to_string(), "helpdesk", "geheim wachtwoord"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start dovecot");
    let server = Server(child);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (server, port);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("Dovecot did not start; see {}", dir.join("dovecot.log").display());
}

/// Puts a message into the mailbox the way a delivery agent does (Maildir: tmp/, then new/).
fn deliver(maildir: &Path, name: &str, raw: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("maildir");
    }
    let tmp = maildir.join("tmp").join(name);
    std::fs::write(&tmp, raw).expect("write");
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::rename(&tmp, maildir.join("new").join(name)).expect("deliver");
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_imap_poller_makes_tickets_and_marks_what_it_handled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = service(&dir.path().join("service")).await;
    let mail_dir = dir.path().join("imap");
    let maildir = mail_dir.join("mail/helpdesk");
    deliver(&maildir, "1.eml", &question("imap1@ede.example"));
    deliver(&maildir, "2.eml", "this is not a mail message");
    let (_dovecot, port) = dovecot(&mail_dir);

    // Handled messages move to a folder of their own (made on first use).
    let url = format!("imap://helpdesk:geheim%20wachtwoord@127.0.0.1:{port}/INBOX?move=Verwerkt");
    let source = helpdesk::intake::ImapSource::parse(&url).expect("url");
    assert_eq!(helpdesk::intake::poll_imap(&svc, &source).await.expect("poll"), 2);
    assert_eq!(svc.store.state_counts().await.expect("counts").open, 1, "one ticket; the unreadable one refused");
    assert!(files_in(&maildir.join("new")).is_empty() && files_in(&maildir.join("cur")).is_empty());
    let moved = [".Verwerkt/cur", ".Verwerkt/new"].iter().map(|d| files_in(&maildir.join(d)).len()).sum::<usize>();
    assert_eq!(moved, 2, "both moved out of the inbox: {:?}", files_in(&maildir));
    assert_eq!(helpdesk::intake::poll_imap(&svc, &source).await.expect("poll"), 0, "nothing is handled twice");

    // Without a folder to move to, handled messages are marked seen and stay.
    deliver(&maildir, "3.eml", &question("imap3@ede.example"));
    let url = format!("imap://helpdesk:geheim%20wachtwoord@127.0.0.1:{port}");
    let source = helpdesk::intake::ImapSource::parse(&url).expect("url");
    assert_eq!(helpdesk::intake::poll_imap(&svc, &source).await.expect("poll"), 1);
    assert_eq!(svc.store.state_counts().await.expect("counts").open, 2);
    let cur = files_in(&maildir.join("cur"));
    assert_eq!(cur.len(), 1);
    assert!(cur[0].ends_with(",S"), "marked seen: {cur:?}");
    assert_eq!(helpdesk::intake::poll_imap(&svc, &source).await.expect("poll"), 0);

    // A wrong password is an error the poller reports (and retries), not a silent nothing.
    let wrong = helpdesk::intake::ImapSource::parse(&format!("imap://helpdesk:fout@127.0.0.1:{port}")).expect("url");
    assert!(helpdesk::intake::poll_imap(&svc, &wrong).await.is_err());
}
