//! The agents' queue (`/agent`) with many waiting tickets, on both stores: SQLite, and DynamoDB
//! through a local moto server. Seeds the tickets directly through the store, logs an agent in,
//! then times pages over local HTTP against the real service: the first page (counts and 50
//! tickets by due day), later pages reached through the "more" link (cursor) and filtered
//! pages. Prints p50/p99/max latency and requests/s per page, sequentially and with 4
//! concurrent clients.
//!
//! The DynamoDB figures come from moto, a Python stand-in that keeps the table in memory in one
//! local process (one request at a time under Python's GIL, so 4 clients only queue up) and
//! answers every query on an index by scanning and sorting the whole table: its absolute numbers
//! say little about AWS. They compare code paths (how many reads a page takes, how much is read
//! and thrown away), not DynamoDB itself.
//! moto copies the whole table before each transaction (to undo it on failure), which makes
//! seeding 10,000 tickets quadratic (hours); the bench's moto copies only the partitions a
//! transaction touches instead (same undo, see `MOTO_MAIN`).
//!
//! Run: `cargo bench -p helpdesk --bench queue` or
//! `-- <tickets> <requests per page, SQLite> <requests per page, moto>` (default 10000 200 5);
//! add `sqlite` or `dynamodb` to run one store only. Needs `.venv` with moto for DynamoDB
//! (`scripts/test.sh` installs it, or set `MOTO_SERVER`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use helpdesk::model::*;
use helpdesk::store::{MailsFor, NewTicket, Store};
use helpdesk::{AppState, Service, app};

const AGENT_EMAIL: &str = "anne@klaver.example";
const PASSWORD: &str = "een heel goed wachtwoord";
const ORGS: usize = 50;
const CREATORS: usize = 16;
const CLIENTS: usize = 4;
/// One ticket in this many has "spoed" in its subject: a rare word, `?q=spoed`.
const RARE_EVERY: usize = 1000;

/// (sector, its subtopics, share of the tickets in %), as in `content/helpdesk.toml`.
const SECTORS: [(&str, &[&str], u64); 4] = [
    ("overheid", &["omgevingsplan", "vergunningen", "publicatie", "koppelingen"], 40),
    ("advies", &["projecten", "kaarten", "rapportage"], 25),
    ("accountancy", &["boekhouding", "facturen", "btw", "bank"], 25),
    ("onderwijs", &["licenties", "lesmateriaal"], 10),
];

const SUBJECTS: [&str; 8] = [
    "Vergunningaanvraag blijft hangen op stap 3",
    "Import van het omgevingsplan geeft een foutmelding",
    "Factuur wordt niet verstuurd",
    "Btw-aangifte sluit niet aan op de grootboekrekening",
    "Bankkoppeling werkt niet meer sinds de update",
    "Nieuwe gebruiker toevoegen aan de licentie",
    "Rapportage toont verkeerde uren",
    "Kaartlaag laadt niet in het projectdossier",
];

fn main() {
    // The service's errors (a failed page says only "something went wrong"); `RUST_LOG` for more.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let nums: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let tickets = nums.first().copied().unwrap_or(10_000);
    let requests = nums.get(1).copied().unwrap_or(200);
    let moto_requests = nums.get(2).copied().unwrap_or(5);
    let only: Vec<&str> = args.iter().map(String::as_str).filter(|a| ["sqlite", "dynamodb"].contains(a)).collect();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if only.is_empty() || only.contains(&"sqlite") {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = helpdesk::store::sqlite::SqliteStore::open(&dir.path().join("helpdesk.db")).expect("store");
        rt.block_on(run("SQLite", Arc::new(store), dir, tickets, requests));
    }
    if only.is_empty() || only.contains(&"dynamodb") {
        let mut moto = Moto::start();
        let store = rt.block_on(async {
            let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
            let table = format!("queue-bench-{}", helpdesk::auth::random_token(6).to_lowercase());
            let store = helpdesk::store::dynamodb::DynamoStore::new(client, table);
            store.create_table().await.expect("create table");
            store
        });
        let dir = tempfile::tempdir().expect("tempdir");
        rt.block_on(run("DynamoDB (moto)", Arc::new(store), dir, tickets, moto_requests));
        moto.stop();
    }
}

async fn run(name: &str, store: Arc<dyn Store>, dir: tempfile::TempDir, tickets: usize, requests: usize) {
    let seeding = seed(&store, tickets).await;
    println!(
        "\n== {name}: {tickets} waiting tickets seeded in {:.1} s ({:.0} tickets/s, {CREATORS} concurrent creators)",
        seeding.as_secs_f64(),
        tickets as f64 / seeding.as_secs_f64()
    );
    let base = serve(store, dir.path()).await;
    let c = login(&base).await;

    // Pages reached through the "more" link, as an agent clicks through.
    let mut chain = vec![format!("{base}/agent")];
    while chain.len() < 50 {
        let (_, next) = get_page(&c, chain.last().expect("page")).await;
        let Some(next) = next else { break };
        chain.push(format!("{base}{next}"));
    }
    let org = "Organisatie 17";
    let mut pages: Vec<(String, Vec<String>)> = vec![
        ("/agent (first page)".into(), vec![format!("{base}/agent")]),
        ("pages 2-5 (cursor)".into(), chain.iter().skip(1).take(4).cloned().collect()),
    ];
    if chain.len() == 50 {
        pages.push(("page 50 (cursor)".into(), vec![chain[49].clone()]));
    }
    for filter in ["level=2", "assignee=anne", "assignee=none", "sector=onderwijs", "subtopic=btw", "q=niet", "q=spoed"]
    {
        pages.push((format!("?{filter}"), vec![format!("{base}/agent?{filter}")]));
    }
    pages.push((format!("?org={org}"), vec![format!("{base}/agent?org={}", org.replace(' ', "+"))]));
    pages.retain(|(_, urls)| !urls.is_empty());

    println!(
        "{:<24} {:>4}   {:^34}   {:^34}",
        "page",
        "rows",
        format!("sequential, {requests} requests"),
        format!("{CLIENTS} concurrent clients, {requests} requests")
    );
    println!(
        "{:<24} {:>4}   {:>7} {:>7} {:>7} {:>10}   {:>7} {:>7} {:>7} {:>10}",
        "", "", "p50 ms", "p99 ms", "max ms", "req/s", "p50 ms", "p99 ms", "max ms", "req/s"
    );
    let mut all = Run::default();
    for (label, urls) in &pages {
        let (rows, _) = get_page(&c, &urls[0]).await;
        let seq = measure(&c, urls, requests, 1).await;
        let conc = measure(&c, urls, requests, CLIENTS).await;
        println!("{label:<24} {rows:>4}   {}   {}", seq.figures(), conc.figures());
        all.elapsed += seq.elapsed + conc.elapsed;
        all.lat.extend(seq.lat.iter().chain(&conc.lat));
    }
    all.lat.sort();
    println!("{:<24} {:>4}   {}", "all of the above", "", all.figures());
}

/// splitmix64: a well-spread number from a ticket's index, so the data is the same each run.
fn mix(i: usize) -> u64 {
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 50 organisations with a requester each, the agent Anne (Klaver Online), and `tickets`
/// waiting tickets: due over the next 30 days, levels 1/2/3 (60/30/10 %), four sectors,
/// 10 % assigned to anne and 10 % to bram (those in progress, the rest open).
async fn seed(store: &Arc<dyn Store>, tickets: usize) -> Duration {
    let now = Utc::now();
    let klaver = org("Klaver Online", "advies");
    store.create_org(&klaver).await.expect("org");
    let mut anne = user(AGENT_EMAIL, "Anne de Vries", &klaver.id, Role::Agent);
    anne.password_hash = Some(helpdesk::auth::hash_password(PASSWORD));
    store.create_user(&anne).await.expect("agent");
    let mut requesters = Vec::new();
    for k in 0..ORGS {
        let o = org(&format!("Organisatie {k:02}"), SECTORS[k % SECTORS.len()].0);
        store.create_org(&o).await.expect("org");
        let u = user(&format!("vraag@org{k:02}.example"), &format!("Vrager {k:02}"), &o.id, Role::Subscriber);
        store.create_user(&u).await.expect("user");
        requesters.push(u);
    }
    let requesters = Arc::new(requesters);
    let numbering = Arc::new(Numbering::new("#{seq}"));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CREATORS {
        let (store, requesters, numbering, next) = (store.clone(), requesters.clone(), numbering.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= tickets {
                    return;
                }
                let new = ticket(i, &requesters[(mix(i) % ORGS as u64) as usize], now);
                let no_mail: MailsFor = Box::new(|_| Vec::new());
                let (_, created) = store.create_ticket(new, &numbering, no_mail).await.expect("create ticket");
                assert!(created);
            }
        }));
    }
    for t in tasks {
        t.await.expect("creator");
    }
    start.elapsed()
}

fn org(name: &str, sector: &str) -> Org {
    Org {
        id: helpdesk::auth::random_token(9),
        name: name.into(),
        sector: sector.into(),
        plan: "plus".into(),
        share_tickets: true,
        created: Utc::now(),
    }
}

fn user(email: &str, name: &str, org_id: &str, role: Role) -> User {
    User {
        id: helpdesk::auth::random_token(9),
        email: email.into(),
        name: name.into(),
        org_id: org_id.into(),
        role,
        password_hash: None,
        created: Utc::now(),
        active: true,
        password_changed: None,
    }
}

fn ticket(i: usize, requester: &User, now: chrono::DateTime<Utc>) -> NewTicket {
    let h = mix(i);
    let mut pick = (h >> 8) % 100;
    let (sector, subtopics, _) = SECTORS
        .iter()
        .find(|(_, _, share)| {
            let hit = pick < *share;
            pick = pick.saturating_sub(*share);
            hit
        })
        .copied()
        .unwrap_or(SECTORS[0]);
    let subtopic = subtopics[((h >> 16) % subtopics.len() as u64) as usize];
    let level = match (h >> 24) % 10 {
        0..=5 => "1",
        6..=8 => "2",
        _ => "3",
    };
    let assignee = match (h >> 32) % 10 {
        0 => Some("anne".to_owned()),
        1 => Some("bram".to_owned()),
        _ => None,
    };
    let mut subject = format!("{} ({i})", SUBJECTS[((h >> 40) % SUBJECTS.len() as u64) as usize]);
    if i % RARE_EVERY == 7 {
        subject = format!("Spoed: {subject}");
    }
    let created = now - TimeDelta::minutes((h >> 48) as i64 % (60 * 24 * 20));
    NewTicket {
        ticket: Ticket {
            number: String::new(),
            seq: 0,
            org_id: requester.org_id.clone(),
            requester_id: requester.id.clone(),
            requester_email: requester.email.clone(),
            requester_name: requester.name.clone(),
            sector: sector.into(),
            subtopic: subtopic.into(),
            subject: subject.clone(),
            preferred_agent: None,
            administration: None,
            state: if assignee.is_some() { TicketState::InProgress } else { TicketState::Open },
            level: level.into(),
            assignee,
            created,
            updated: created,
            due: now.date_naive() + TimeDelta::days((h % 30) as i64),
            lang: "nl".into(),
            version: 0,
            channel: Channel::Web,
            first_answer: None,
            resolved_at: None,
            follows: None,
            origin: None,
        },
        first: Message {
            id: helpdesk::auth::random_token(9),
            ticket: String::new(),
            kind: MessageKind::Customer,
            author_id: Some(requester.id.clone()),
            author_name: requester.name.clone(),
            body: format!("{subject}. Wat moet ik doen?"),
            attachments: vec![],
            created,
            event: None,
            original: None,
        },
        idempotency_key: format!("seed:{i}"),
    }
}

/// The service on `store` on a random local port (no mail worker: nothing here sends mail).
async fn serve(store: Arc<dyn Store>, dir: &Path) -> String {
    let config_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content/helpdesk.toml");
    let config = site_builder::HelpdeskConfig::load(&config_path, &config_path).expect("config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let service = Arc::new(Service::new(
        config,
        store,
        base.clone(),
        "Klaver Helpdesk <helpdesk@klaver.example>".into(),
        dir.join("attachments"),
    ));
    std::fs::create_dir_all(dir.join("site")).expect("site");
    let search = Arc::new(helpdesk::search::SearchHandle::new(dir.join("site/search"), None, None));
    let router = app(AppState { site_dir: dir.join("site"), builds: None, service, search, deliver_after_posts: None });
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.expect("serve");
    });
    base
}

/// A client logged in as the agent through the login form (cookies kept, no redirects followed).
async fn login(base: &str) -> reqwest::Client {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = c.get(format!("{base}/login")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token");
    let resp = c
        .post(format!("{base}/login"))
        .form(&[("csrf_token", csrf.as_str()), ("email", AGENT_EMAIL), ("password", PASSWORD)])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303, "login");
    c
}

fn field(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).expect("field");
    let v = html[at..].split("value=\"").nth(1).expect("value");
    v[..v.find('"').expect("quote")].to_owned()
}

/// What an HTML attribute value means (minijinja escapes `&`, `/`, quotes).
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/").replace("&#x27;", "'").replace("&quot;", "\"").replace("&amp;", "&")
}

/// One queue page: its ticket rows and its "more" link.
async fn get_page(c: &reqwest::Client, url: &str) -> (usize, Option<String>) {
    let resp = c.get(url).send().await.expect("get");
    let status = resp.status();
    let html = resp.text().await.expect("text");
    assert_eq!(status, 200, "{url}: {html}");
    let hrefs: Vec<String> = html.split("href=\"").skip(1).filter_map(|h| h.split('"').next()).map(unescape).collect();
    let rows = hrefs.iter().filter(|h| h.starts_with("/agent/tickets/")).count();
    let next = hrefs.into_iter().find(|h| h.starts_with("/agent?") && h.contains("cursor="));
    (rows, next)
}

/// `requests` GETs spread over `urls`, by `clients` clients that each send their next request
/// as soon as the last one is answered (body read).
async fn measure(c: &reqwest::Client, urls: &[String], requests: usize, clients: usize) -> Run {
    let urls = Arc::new(urls.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (c, urls, next) = (c.clone(), urls.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    return lat;
                }
                let t = Instant::now();
                let resp = c.get(&urls[i % urls.len()]).send().await.expect("get");
                assert_eq!(resp.status(), 200);
                resp.bytes().await.expect("body");
                lat.push(t.elapsed());
            }
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("client"));
    }
    lat.sort();
    Run { elapsed: start.elapsed(), lat }
}

#[derive(Debug, Default)]
struct Run {
    elapsed: Duration,
    lat: Vec<Duration>,
}

impl Run {
    fn figures(&self) -> String {
        let p = |q: f64| self.lat[((self.lat.len() as f64 * q) as usize).min(self.lat.len() - 1)].as_secs_f64() * 1e3;
        format!(
            "{:>7.1} {:>7.1} {:>7.1} {:>10.1}",
            p(0.50),
            p(0.99),
            p(1.0),
            self.lat.len() as f64 / self.elapsed.as_secs_f64()
        )
    }
}

/// Runs `tests/moto_server.py` (exits when our stdin closes, one transaction at a time) with
/// one more change for seeding: before a transaction moto deep-copies the whole table to undo
/// it on failure, which at 10,000 tickets takes seconds per ticket. This copies the table's
/// partition map and only the partitions the transaction writes (and deep-copies the items it
/// updates in place), which undoes it just as well.
const MOTO_MAIN: &str = r#"
import copy, runpy, sys, threading
import moto.dynamodb.models as dm
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

ns = runpy.run_path(sys.argv[1], run_name="moto_server")
current = threading.local()

def snapshot(table):
    snap = copy.copy(table)
    snap.items = copy.copy(table.items)
    for kind, op in current.ops:
        if op.get("TableName") != table.name:
            continue
        attrs = op["Item"] if kind == "Put" else op["Key"]
        h = DynamoType(attrs[table.hash_key_attr])
        if h not in table.items:
            continue
        if table.range_key_attr:
            part = dict(table.items[h])
            r = DynamoType(attrs[table.range_key_attr])
            if kind == "Update" and r in part:
                part[r] = copy.deepcopy(part[r])
            snap.items[h] = part
        elif kind == "Update":
            snap.items[h] = copy.deepcopy(table.items[h])
    return snap

once_deepcopy = ns["_OncePerCall"].deepcopy

def deepcopy(self, obj):
    if isinstance(obj, Table):
        if id(obj) not in self.seen:
            self.seen[id(obj)] = snapshot(obj)
        return self.seen[id(obj)]
    return once_deepcopy(self, obj)

ns["_OncePerCall"].deepcopy = deepcopy
wrapped = dm.DynamoDBBackend.transact_write_items

def transact_write_items(self, transact_items):
    current.ops = [next(iter(i.items())) for i in transact_items]
    return wrapped(self, transact_items)

dm.DynamoDBBackend.transact_write_items = transact_write_items
threading.Thread(target=ns["exit_with_parent"], daemon=True).start()
ns["main"](sys.argv[2:])
"#;

#[derive(Debug)]
struct Moto {
    child: std::process::Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let moto = std::env::var("MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server"));
        let python = moto.with_file_name("python");
        assert!(
            python.exists(),
            "no Python with moto next to {}: run scripts/test.sh once or set MOTO_SERVER",
            moto.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto_server.py");
        let child = std::process::Command::new(python)
            .arg("-c")
            .arg(MOTO_MAIN)
            .arg(script)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start moto");
        let addr = format!("127.0.0.1:{port}");
        let start = Instant::now();
        loop {
            use std::io::{Read, Write};
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                let _ = write!(s, "GET /moto-api/ HTTP/1.0\r\n\r\n");
                if s.read(&mut [0u8; 12]).is_ok_and(|n| n > 0) {
                    break;
                }
            }
            assert!(start.elapsed() < Duration::from_secs(60), "moto did not start on {addr}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto { child, endpoint: format!("http://{addr}") }
    }

    async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("eu-west-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
