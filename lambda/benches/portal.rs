//! Portal throughput on the embedded store: 64 concurrent clients filing tickets over local
//! HTTP against the real service (SQLite + outbox). Prints tickets per second and latency
//! percentiles.
//!
//! Also measures how long `helpdesk serve` takes from process start to its first answered
//! request, with a fresh data directory and with an existing one.
//!
//! Run: `cargo bench -p helpdesk --bench portal` (or `-- <tickets> <clients>`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use helpdesk::mail::outbox::OutboxMailer;
use helpdesk::model::{Org, Role};
use helpdesk::store::sqlite::SqliteStore;
use helpdesk::{AppState, Service, app};

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let tickets = args.first().copied().unwrap_or(5_000);
    let clients = args.get(1).copied().unwrap_or(64);
    startup();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(run(tickets, clients));
}

/// Starts `helpdesk serve` and times process start -> first `GET /healthz` answered, then
/// -> first `GET /login` (the portal) answered. Median of 15 starts, fresh and warm data dir.
fn startup() {
    use std::io::{BufRead, BufReader, Read, Write};
    let content = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
    let get = |addr: &str, path: &str| {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("write");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("read");
        assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {}", answer.lines().next().unwrap_or_default());
    };
    for warm in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut health = Vec::new();
        let mut portal = Vec::new();
        for _ in 0..15 {
            if !warm {
                let _ = std::fs::remove_dir_all(dir.path().join("data"));
            }
            let start = Instant::now();
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_helpdesk"))
                .arg("--content")
                .arg(&content)
                .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
                .arg(dir.path().join("data"))
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn");
            let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
            let addr = loop {
                let line = lines.next().expect("server exited").expect("stderr");
                if let Some(a) = line.split("serving on http://").nth(1) {
                    break a.trim().to_owned();
                }
            };
            get(&addr, "/healthz");
            health.push(start.elapsed());
            get(&addr, "/login");
            portal.push(start.elapsed());
            // Let the first site build finish so that the next start finds a built site.
            get(&addr, "/");
            let _ = child.kill();
            let _ = child.wait();
        }
        health.sort();
        portal.sort();
        println!(
            "start-up ({} data dir): first /healthz answered after {:.1} ms, first portal page (/login) after {:.1} ms (median of 15)",
            if warm { "existing" } else { "fresh" },
            health[7].as_secs_f64() * 1e3,
            portal[7].as_secs_f64() * 1e3
        );
    }
}

fn field(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).expect("field");
    let v = html[at..].split("value=\"").nth(1).expect("value");
    v[..v.find('"').expect("quote")].to_owned()
}

async fn run(tickets: usize, clients: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let content = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../content/helpdesk.toml");
    let config = site_builder::HelpdeskConfig::load(&content, &content).expect("config");
    let store = Arc::new(SqliteStore::open(&dir.path().join("helpdesk.db")).expect("store"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let svc = Arc::new(Service::new(
        config,
        store,
        base.clone(),
        "Helpdesk <helpdesk@klaver.example>".into(),
        dir.path().join("att"),
    ));
    let mailer = Arc::new(OutboxMailer::new(dir.path().join("outbox")).expect("outbox"));
    helpdesk::mail::spawn_worker(svc.store.clone(), mailer, svc.kick.clone(), Duration::from_secs(1));
    let search = Arc::new(helpdesk::search::SearchHandle::new(dir.path().join("site/search"), None, None));
    let router = app(AppState {
        site_dir: dir.path().join("site"),
        builds: None,
        service: svc.clone(),
        search,
        deliver_after_posts: None,
    });
    tokio::spawn(
        async move { axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await },
    );

    let org = Org {
        id: "org".into(),
        name: "Bench".into(),
        sector: "overheid".into(),
        plan: "plus".into(),
        share_tickets: true,
        created: chrono::Utc::now(),
    };
    svc.store.create_org(&org).await.expect("org");
    let (_, link) = svc.invite("bench@bench.example", "Bench", &org, Role::Subscriber).await.expect("invite");
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    // The link carries its code after `#` (the browser's script moves it into the form).
    let (link, code) = link.split_once('#').expect("code after #");
    let page = c.get(link).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token");
    let pw = "een heel goed wachtwoord";
    let r = c
        .post(link)
        .form(&[("csrf_token", csrf.as_str()), ("token", code), ("password", pw), ("password_repeat", pw)])
        .send()
        .await
        .expect("set");
    assert_eq!(r.status(), 303, "password set");
    let page = c.get(format!("{base}/portal/tickets/new")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token");

    println!("{}", report("as fast as possible", saturate(&c, &base, &csrf, tickets, clients).await, tickets));
    // The open-loop run starts from a steady state: the acknowledgements of the first run sent
    // (at 2,000 tickets/s the worker then sends 2,000 mails/s alongside, which is measured).
    let drained = Instant::now();
    while !svc.store.due_mail(chrono::Utc::now(), 1).await.expect("outbox").is_empty() {
        assert!(drained.elapsed() < Duration::from_secs(120), "the outbox does not drain");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("outbox drained {:.1} s after the first run", drained.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rate = 2_000.0;
    let paced = paced(&c, &base, &csrf, tickets, clients, rate).await;
    println!("{}", report(&format!("paced at {rate:.0}/s"), paced, tickets));
}

/// One submission of the ticket form.
async fn submit(c: &reqwest::Client, base: &str, csrf: &str, i: usize) {
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf.to_owned())
        .text("submission_id", format!("s{i}-{}", std::process::id()))
        .text("sector", "overheid")
        .text("subtopic", "overheid/vergunningen")
        .text("subject", format!("Vraag {i}"))
        .text("description", "De vergunningaanvraag blijft hangen op stap 3.");
    let r = c.post(format!("{base}/portal/tickets")).multipart(form).send().await.expect("post");
    assert_eq!(r.status(), 303);
}

/// Closed loop: each client sends its next ticket as soon as the last one is answered.
async fn saturate(c: &reqwest::Client, base: &str, csrf: &str, tickets: usize, clients: usize) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (c, base, csrf, next) = (c.clone(), base.to_owned(), csrf.to_owned(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= tickets {
                    return lat;
                }
                let t = Instant::now();
                submit(&c, &base, &csrf, i).await;
                lat.push(t.elapsed());
            }
        }));
    }
    collect(tasks, start).await
}

/// Open loop: ticket `i` is due at `i / rate` seconds; latency counts from when it was due, so
/// a server that falls behind shows it (no coordinated omission).
async fn paced(c: &reqwest::Client, base: &str, csrf: &str, tickets: usize, clients: usize, rate: f64) -> Run {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..clients {
        let (c, base, csrf) = (c.clone(), base.to_owned(), csrf.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for i in (k..tickets).step_by(clients) {
                let due = start + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                submit(&c, &base, &csrf, tickets + i).await;
                lat.push(due.elapsed());
            }
            lat
        }));
    }
    collect(tasks, start).await
}

struct Run {
    elapsed: Duration,
    lat: Vec<Duration>,
}

async fn collect(tasks: Vec<tokio::task::JoinHandle<Vec<Duration>>>, start: Instant) -> Run {
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("task"));
    }
    lat.sort();
    Run { elapsed: start.elapsed(), lat }
}

fn report(what: &str, run: Run, tickets: usize) -> String {
    let lat = &run.lat;
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)].as_secs_f64() * 1e3;
    format!(
        "{what}: {tickets} tickets in {:.2} s = {:.0} tickets/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        run.elapsed.as_secs_f64(),
        tickets as f64 / run.elapsed.as_secs_f64(),
        p(0.50),
        p(0.99),
        p(1.0)
    )
}
