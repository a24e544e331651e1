//! The `helpdesk` binary as a Lambda function: `cargo lambda watch` emulates the Lambda
//! Runtime API and Function URLs locally, the binary (with `AWS_LAMBDA_RUNTIME_API` set) runs
//! under `lambda_http`, and its data and mail go to DynamoDB and SES on a moto server.
//! Requests travel as Function URL events: log in, file a ticket, read it back.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{field, moto, ticket_form};
use helpdesk::model::Role;

fn cargo_lambda() -> PathBuf {
    if let Ok(p) = std::env::var("CARGO_LAMBDA") {
        return p.into();
    }
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/cargo-lambda");
    assert!(
        venv.exists(),
        "cargo-lambda not found: run scripts/test.sh once (it installs it into .venv) or set CARGO_LAMBDA"
    );
    venv
}

struct Killed(Vec<Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Cookies by name, as the service set them.
#[derive(Default)]
struct Jar(std::collections::BTreeMap<String, String>);

impl Jar {
    fn absorb(&mut self, resp: &reqwest::Response) {
        for v in resp.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
            if let Some((name, value)) = v.split(';').next().and_then(|pair| pair.split_once('=')) {
                self.0.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }

    fn header(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port()
}

/// `cargo lambda watch` on a free port and the `helpdesk` binary connected to it as the
/// function `_`, on the table `table`; `role` selects `HELPDESK_LAMBDA_ROLE`.
struct Function {
    port: u16,
    children: Killed,
    logs: std::sync::mpsc::Receiver<String>,
}

impl Function {
    fn start(table: &str, role: Option<&str>) -> Function {
        let port = free_port();
        let emulator = Command::new(cargo_lambda())
            .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1", "--invoke-port"])
            .arg(port.to_string())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cargo lambda watch");
        let mut children = Killed(vec![emulator]);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(30), "cargo lambda watch did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut function = Command::new(env!("CARGO_BIN_EXE_helpdesk"));
        function
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("HELPDESK_STORE", "dynamodb")
            .env("HELPDESK_TABLE", table)
            .env("HELPDESK_MAILER", "ses")
            .env("HELPDESK_FROM", "Klaver Helpdesk <helpdesk@klaver.example>")
            .env("HELPDESK_BASE_URL", "https://helpdesk.klaver.example")
            .env("HELPDESK_ORIGIN_SECRET", "from-cloudfront")
            .env("HELPDESK_SECRET", "a-test-signing-key-of-some-length")
            .env("AWS_ENDPOINT_URL", moto::endpoint())
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(role) = role {
            function.env("HELPDESK_LAMBDA_ROLE", role);
        }
        children.0.push(function.spawn().expect("start the function"));
        let out = children.0[1].stdout.take().expect("stdout");
        let (log_tx, logs) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = log_tx.send(line);
            }
        });
        Function { port, children, logs }
    }

    /// The function's cold-start log line, as JSON.
    fn cold_start(&self) -> serde_json::Value {
        let logs: Vec<String> = self.logs.try_iter().collect();
        let cold =
            logs.iter().find(|l| l.contains("cold start")).unwrap_or_else(|| panic!("no cold start log in {logs:#?}"));
        serde_json::from_str(cold).expect("a JSON log line")
    }
}

/// The subscriber's service on `store`, for setting things up the way the admin command does.
fn service(store: std::sync::Arc<dyn helpdesk::store::Store>) -> helpdesk::Service {
    let config_path = common::repo_content().join("helpdesk.toml");
    let config = site_builder::HelpdeskConfig::load(&config_path, &config_path).expect("config");
    helpdesk::Service::new(
        config,
        store,
        "https://helpdesk.klaver.example".into(),
        "Klaver Helpdesk <helpdesk@klaver.example>".into(),
        std::env::temp_dir(),
    )
}

fn org(name: &str) -> helpdesk::model::Org {
    helpdesk::model::Org {
        id: helpdesk::auth::random_token(9),
        name: name.into(),
        sector: "overheid".into(),
        plan: "plus".into(),
        share_tickets: true,
        created: chrono::Utc::now(),
    }
}

async fn ses_raw_mails() -> Vec<String> {
    let data = moto::data().await;
    let sent = data["ses"]["RawMessage"].as_array().cloned().unwrap_or_default();
    sent.iter().filter_map(|m| m["raw_data"].as_str()).map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_function_answers_function_url_requests() {
    // The table, an organisation and an invited subscriber, made with the same code the
    // admin command runs.
    let store = moto::dynamo_store().await;
    let table = store.table().to_owned();
    let ses = aws_sdk_sesv2::Client::new(&moto::sdk_config().await);
    let _ = ses.create_email_identity().email_identity("klaver.example").send().await;
    let function = Function::start(&table, None);
    let port = function.port;

    // Set up the subscriber directly in the store the function uses.
    let store: std::sync::Arc<dyn helpdesk::store::Store> = std::sync::Arc::new(store);
    let svc = service(store.clone());
    let org = org("Gemeente Wolde");
    store.create_org(&org).await.expect("org");
    let (user, _) = svc.invite("anna@wolde.example", "Anna", &org, Role::Subscriber).await.expect("invite");
    let pw = "een heel goed wachtwoord";
    store.set_password(&user.id, &helpdesk::auth::hash_password(pw), chrono::Utc::now()).await.expect("password");

    let base = format!("http://127.0.0.1:{port}/lambda-url/_");
    // A function that dies leaves the emulator waiting: time out instead of hanging.
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    // The public URL is https, so cookies are `Secure`; the emulator speaks plain http, so the
    // test carries them itself, as a browser would over https.
    let mut jar = Jar::default();
    let get = |jar: &Jar, path: &str| {
        c.get(format!("{base}{path}")).header("cookie", jar.header()).header("x-origin-verify", "from-cloudfront")
    };
    let post = |jar: &Jar, path: &str| {
        c.post(format!("{base}{path}")).header("cookie", jar.header()).header("x-origin-verify", "from-cloudfront")
    };

    // Straight to the function without CloudFront's secret: refused.
    let direct = c.get(format!("{base}/login")).send().await.expect("direct");
    assert_eq!(direct.status(), 403);

    let login = get(&jar, "/login").send().await.expect("login page");
    assert_eq!(login.status(), 200);
    jar.absorb(&login);
    let csrf = field(&login.text().await.expect("text"), "csrf_token").expect("csrf");
    let resp = post(&jar, "/login")
        .form(&[("csrf_token", csrf.as_str()), ("email", "anna@wolde.example"), ("password", pw)])
        .send()
        .await
        .expect("log in");
    assert_eq!(resp.status(), 303, "logged in");
    let session = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("__Host-hd_session="));
    let session = session.expect("a session cookie with the __Host- prefix (https)");
    assert!(session.contains("Secure") && session.contains("HttpOnly") && session.contains("SameSite"), "{session}");
    jar.absorb(&resp);

    let form = get(&jar, "/portal/tickets/new").send().await.expect("form");
    assert_eq!(form.status(), 200);
    jar.absorb(&form);
    let page = form.text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let submission = field(&page, "submission_id").expect("submission");
    let filed = post(&jar, "/portal/tickets")
        .multipart(ticket_form(&csrf, &submission, "Vergunning via Lambda"))
        .send()
        .await
        .expect("file");
    assert_eq!(filed.status(), 303, "{}", filed.text().await.unwrap_or_default());
    let location = filed.headers()["location"].to_str().expect("location").to_owned();
    let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number").to_owned();
    let stored = store.ticket(&number).await.expect("get").expect("the ticket is in DynamoDB");
    assert_eq!(stored.subject, "Vergunning via Lambda");

    let ticket = get(&jar, &location).send().await.expect("ticket");
    assert_eq!(ticket.status(), 200);
    assert!(ticket.text().await.expect("text").contains("Vergunning via Lambda"));

    // The acknowledgement left through SES before the answer returned.
    assert!(ses_raw_mails().await.iter().any(|raw| raw.contains(&number)), "SES has the acknowledgement of {number}");

    // The function logs JSON lines, one of them its cold start.
    println!("cold start: {}", function.cold_start()["fields"]);
}

/// Mail that could not leave with its request (queued while SES was down, say) is sent by the
/// scheduled function: the same binary with `HELPDESK_LAMBDA_ROLE=mail-retry`, invoked the way
/// EventBridge does, with a scheduled event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_function_sends_queued_mail() {
    let store = moto::dynamo_store().await;
    let table = store.table().to_owned();
    let ses = aws_sdk_sesv2::Client::new(&moto::sdk_config().await);
    let _ = ses.create_email_identity().email_identity("klaver.example").send().await;
    let store: std::sync::Arc<dyn helpdesk::store::Store> = std::sync::Arc::new(store);
    let svc = service(store.clone());
    let org = org("Waterschap Aa");
    store.create_org(&org).await.expect("org");
    let email = format!("{}@aa.example", moto::unique("kees"));
    // Queued in the store; no worker runs here, so nothing sends it.
    svc.invite(&email, "Kees", &org, Role::Subscriber).await.expect("invite");
    assert!(!ses_raw_mails().await.iter().any(|raw| raw.contains(&email)), "not sent yet");

    let function = Function::start(&table, Some("mail-retry"));
    let event = serde_json::json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-11-23T10:00:00Z",
        "region": "eu-west-1", "resources": ["arn:aws:events:eu-west-1:123456789012:rule/mail-retry"], "detail": {}
    });
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/2015-03-31/functions/_/invocations", function.port))
        .timeout(Duration::from_secs(30))
        .json(&event)
        .send()
        .await
        .expect("invoke")
        .json()
        .await
        .expect("json");
    assert!(answer["sent"].as_u64().is_some_and(|n| n >= 1), "{answer}");
    assert!(ses_raw_mails().await.iter().any(|raw| raw.contains(&email)), "the invitation went out through SES");
    assert!(store.due_mail(chrono::Utc::now(), 50).await.expect("due").is_empty(), "nothing left to send");
    println!("cold start (mail retry): {}", function.cold_start()["fields"]);
    drop(function.children);
}
