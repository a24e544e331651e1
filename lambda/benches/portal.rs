//! Portal throughput on the embedded store: 64 concurrent clients filing tickets over local
//! HTTP against the real service (SQLite + outbox). Prints tickets per second and latency
//! percentiles.
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
    let tickets = args.first().copied().unwrap_or(10_000);
    let clients = args.get(1).copied().unwrap_or(64);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(run(tickets, clients));
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
    let router = app(AppState { site_dir: dir.path().join("site"), builds: None, service: svc.clone() });
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
    let page = c.get(&link).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token");
    let pw = "een heel goed wachtwoord";
    c.post(&link)
        .form(&[("csrf_token", csrf.as_str()), ("password", pw), ("password_repeat", pw)])
        .send()
        .await
        .expect("set");
    let page = c.get(format!("{base}/portal/tickets/new")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token");

    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (c, base, csrf, next) = (c.clone(), base.clone(), csrf.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= tickets {
                    return lat;
                }
                let form = reqwest::multipart::Form::new()
                    .text("csrf_token", csrf.clone())
                    .text("submission_id", format!("s{i}"))
                    .text("sector", "overheid")
                    .text("subtopic", "overheid/vergunningen")
                    .text("subject", format!("Vraag {i}"))
                    .text("description", "De vergunningaanvraag blijft hangen op stap 3.");
                let t = Instant::now();
                let r = c.post(format!("{base}/portal/tickets")).multipart(form).send().await.expect("post");
                assert_eq!(r.status(), 303);
                lat.push(t.elapsed());
            }
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("task"));
    }
    let elapsed = start.elapsed();
    lat.sort();
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    println!(
        "{tickets} tickets, {clients} clients: {:.0} tickets/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        tickets as f64 / elapsed.as_secs_f64(),
        p(0.50).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3,
        lat[lat.len() - 1].as_secs_f64() * 1e3
    );
}
