//! Load with faults, against the real `helpdesk serve` process (SQLite, mail by SMTP into a
//! sink in this process). Shared by the bench (`cargo bench -p helpdesk --bench faults`, full
//! size) and a test (`tests/faults.rs`, a short run in CI). Three runs, each checked:
//!
//! 1. **clean**: N tickets from C clients; every number a client saw is a ticket, the numbers
//!    are distinct and consecutive, each ticket has exactly one acknowledgement.
//! 2. **mail failing, agents answering**: the SMTP server refuses every other message while
//!    the tickets are filed and four agents answer them (two at times on the same ticket);
//!    then it recovers. Every acknowledgement and answer mail arrives, none twice; every
//!    answer an agent was told was saved is in its ticket, every refused one (409) is not.
//! 3. **SIGKILL**: the server is killed halfway and started again on the same data; clients
//!    send their unanswered form again (same submission id). Every number a client saw is
//!    there, no number is given twice, numbering goes on after the restart.
//!
//! Panics when an invariant does not hold; returns the figures.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use helpdesk::model::MessageKind;
use helpdesk::store::Store;
use helpdesk::store::sqlite::SqliteStore;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

const PASSWORD: &str = "een heel goed wachtwoord";

/// What an SMTP client delivered: (Message-ID, Subject) of each accepted message.
#[derive(Debug, Default)]
pub struct Sink {
    pub accepted: Mutex<Vec<(String, String)>>,
    pub refused: AtomicUsize,
    /// While set, every other message is refused with a temporary error (451).
    pub failing: AtomicBool,
    seen: AtomicUsize,
}

impl Sink {
    /// Listens on a free loopback port; returns the port.
    async fn start(self: &Arc<Self>) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let port = listener.local_addr().expect("addr").port();
        let sink = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let _ = sink.session(stream).await;
                });
            }
        });
        port
    }

    /// One SMTP session: enough of RFC 5321 for a client without TLS or login.
    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = tokio::io::BufReader::new(read);
        write.write_all(b"220 sink ESMTP\r\n").await?;
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                "HELO" | "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 ok\r\n",
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await?;
                    return Ok(());
                }
                "DATA" => {
                    write.write_all(b"354 go on\r\n").await?;
                    let mut message = String::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).await? == 0 {
                            return Ok(());
                        }
                        if line == ".\r\n" {
                            break;
                        }
                        message.push_str(&line);
                    }
                    let n = self.seen.fetch_add(1, Ordering::SeqCst);
                    if self.failing.load(Ordering::SeqCst) && n.is_multiple_of(2) {
                        self.refused.fetch_add(1, Ordering::SeqCst);
                        b"451 4.3.0 try again later\r\n"
                    } else {
                        let header = |name: &str| {
                            message
                                .lines()
                                .find_map(|l| l.strip_prefix(name))
                                .map(|v| v.trim().to_owned())
                                .unwrap_or_default()
                        };
                        let entry = (header("Message-ID:"), header("Subject:"));
                        self.accepted.lock().expect("sink").push(entry);
                        b"250 queued\r\n"
                    }
                }
                _ => b"502 not here\r\n",
            };
            write.write_all(reply).await?;
        }
    }
}

/// One `helpdesk serve` process on a fixed address and data directory.
struct Server {
    child: Child,
}

impl Server {
    fn start(bin: &Path, content: &Path, data: &Path, addr: &str, smtp: u16) -> Server {
        let mut child = Command::new(bin)
            .arg("--content")
            .arg(content)
            .args(["serve", "--addr", addr, "--data-dir"])
            .arg(data)
            .envs(env(smtp, addr))
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        loop {
            let line = lines.next().expect("serve exited before serving").expect("stderr");
            if line.contains("serving on http://") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Server { child }
    }

    fn kill(mut self) {
        // SIGKILL: no shutdown, no flushing; whatever was committed is what there is.
        self.child.kill().expect("kill");
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn env(smtp: u16, addr: &str) -> Vec<(&'static str, String)> {
    vec![
        ("HELPDESK_MAILER", "smtp".into()),
        ("HELPDESK_SMTP_URL", format!("smtp://127.0.0.1:{smtp}")),
        ("HELPDESK_BASE_URL", format!("http://{addr}")),
        ("RUST_LOG", "error".into()),
    ]
}

fn admin(bin: &Path, content: &Path, data: &Path, smtp: u16, addr: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
        .arg("--content")
        .arg(content)
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .envs(env(smtp, addr))
        .output()
        .expect("admin");
    assert!(out.status.success(), "admin {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn field(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no field {name}"));
    let tag = &html[html[..at].rfind('<').expect("tag")..];
    let v = tag.split("value=\"").nth(1).expect("value");
    v[..v.find('"').expect("quote")].to_owned()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(4)
        .build()
        .expect("client")
}

/// Sets the password through the invitation link the admin command printed; returns the
/// logged-in client.
async fn accept(printed: &str) -> reqwest::Client {
    let link = printed.split_whitespace().find(|w| w.starts_with("http") && w.contains("/invite")).expect("link");
    let (page, code) = link.split_once('#').expect("code after #");
    let c = client();
    let html = c.get(page).send().await.expect("invite page").text().await.expect("text");
    let csrf = field(&html, "csrf_token");
    let r = c
        .post(page)
        .form(&[("csrf_token", csrf.as_str()), ("token", code), ("password", PASSWORD), ("password_repeat", PASSWORD)])
        .send()
        .await
        .expect("set password");
    assert_eq!(r.status(), 303, "password set");
    c
}

/// The figures of one run.
#[derive(Debug)]
pub struct Run {
    pub name: &'static str,
    pub tickets: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    pub notes: Vec<String>,
}

impl Run {
    pub fn line(&self) -> String {
        let lat = &self.latencies;
        let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)].as_secs_f64() * 1e3;
        format!(
            "{}: {} tickets in {:.2} s = {:.0} tickets/s; p50 {:.1} ms, p99 {:.1} ms, max {:.0} ms; {}",
            self.name,
            self.tickets,
            self.elapsed.as_secs_f64(),
            self.tickets as f64 / self.elapsed.as_secs_f64(),
            p(0.5),
            p(0.99),
            p(1.0),
            self.notes.join("; ")
        )
    }
}

struct Env {
    bin: PathBuf,
    content: PathBuf,
    data: PathBuf,
    addr: String,
    base: String,
    sink: Arc<Sink>,
    smtp: u16,
    subscriber: reqwest::Client,
    csrf: String,
    server: Option<Server>,
    store: SqliteStore,
    /// How long the last restart took (process start to serving).
    restart: Duration,
}

/// Every figure and check; `tickets` per run, `clients` filing at once.
pub async fn run_all(bin: &Path, tickets: usize, clients: usize) -> Vec<Run> {
    let dir = tempfile::tempdir().expect("tempdir");
    let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
    let data = dir.path().join("data");
    let sink = Arc::new(Sink::default());
    let smtp = sink.start().await;
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().expect("addr").to_string()
    };
    let base = format!("http://{addr}");
    let run = |args: &[&str]| admin(bin, &content, &data, smtp, &addr, args);
    run(&["org", "create", "--name", "Gemeente Bench", "--sector", "overheid", "--share-tickets"]);
    run(&["org", "create", "--name", "Klaver Online", "--sector", "overheid"]);
    let sub = run(&["invite", "--email", "anna@bench.example", "--org", "Gemeente Bench"]);
    let agents: Vec<String> = ["anne", "bram"]
        .iter()
        .map(|a| {
            let email = format!("{a}@klaver.example");
            run(&["invite", "--email", &email, "--org", "Klaver Online", "--role", "agent"])
        })
        .collect();
    let server = Server::start(bin, &content, &data, &addr, smtp);
    // The first site build runs at start; the runs begin once it is done.
    let warm = client();
    while warm.get(format!("{base}/")).send().await.map_or(true, |r| r.status() != 200) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let subscriber = accept(&sub).await;
    let html =
        subscriber.get(format!("{base}/portal/tickets/new")).send().await.expect("form").text().await.expect("t");
    let csrf = field(&html, "csrf_token");
    let mut agent_clients = Vec::new();
    for printed in &agents {
        agent_clients.push(accept(printed).await);
    }
    let store = SqliteStore::open(&data.join("helpdesk.db")).expect("store");
    let mut env = Env {
        bin: bin.to_owned(),
        content,
        data,
        addr,
        base,
        sink,
        smtp,
        subscriber,
        csrf,
        server: Some(server),
        store,
        restart: Duration::ZERO,
    };
    let invitations = env.sink.accepted.lock().expect("sink").len();

    let mut runs = Vec::new();
    // 1. Clean.
    // Mail goes out one message at a time (each claimed and marked in the store): allow it
    // time in proportion.
    let patience = Duration::from_secs(120 + tickets as u64 / 10);
    let (filed, run) = file(&mut env, "clean", 0, tickets, clients, None, false).await;
    let sending = Instant::now();
    let acks = wait_for_acks(&env, &filed, patience).await;
    let send_rate = acks as f64 / (sending.elapsed() + run.elapsed).as_secs_f64();
    check_tickets(&env, &filed, "clean").await;
    let mut run = run;
    run.notes.push(format!(
        "{} tickets, numbers distinct and consecutive, {acks} acknowledgements, all delivered {:.1} s after the last \
         ticket ({send_rate:.0} mails/s from the first ticket on)",
        filed.len(),
        sending.elapsed().as_secs_f64()
    ));
    runs.push(run);

    // 2. Mail failing half the time, agents answering at the same time.
    env.sink.failing.store(true, Ordering::SeqCst);
    let tried_before = env.sink.seen.load(Ordering::SeqCst);
    let answered = Arc::new(Mutex::new(Vec::<(String, String, u16)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let queue = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut agent_tasks = Vec::new();
    for (k, agent) in agent_clients.iter().enumerate() {
        for lane in 0..2 {
            let (agent, base, answered, stop, queue) =
                (agent.clone(), env.base.clone(), answered.clone(), stop.clone(), queue.clone());
            agent_tasks.push(tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    // Both lanes of both agents pick from the newest tickets: now and then two
                    // answer the same one from the same version.
                    let number = queue.lock().expect("queue").iter().rev().nth(i % 3).cloned();
                    let Some(number) = number else {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    };
                    i += 1;
                    let page = agent.get(format!("{base}/agent/tickets/{number}")).send().await.expect("page");
                    let html = page.text().await.expect("text");
                    let body = format!("Antwoord {k}.{lane}.{i}: probeer het opnieuw na het legen van de cache.");
                    let r = agent
                        .post(format!("{base}/agent/tickets/{number}/answer"))
                        .form(&[
                            ("csrf_token", field(&html, "csrf_token")),
                            ("version", field(&html, "version")),
                            ("body", body.clone()),
                        ])
                        .send()
                        .await
                        .expect("answer");
                    answered.lock().expect("answers").push((number, body, r.status().as_u16()));
                }
            }));
        }
    }
    let (filed2, mut run) =
        file(&mut env, "mail failing half, agents answering", tickets, tickets, clients, Some(queue), false).await;
    stop.store(true, Ordering::SeqCst);
    for t in agent_tasks {
        t.await.expect("agent");
    }
    let answers = answered.lock().expect("answers").clone();
    let saved = answers.iter().filter(|a| a.2 == 303).count();
    // The server stays broken until every mail of this run was tried once (half of them
    // refused), then recovers.
    let broken = Instant::now();
    while env.sink.seen.load(Ordering::SeqCst) - tried_before < filed2.len() + saved {
        assert!(broken.elapsed() < patience, "mail is not being tried");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let refused = env.sink.refused.load(Ordering::SeqCst);
    env.sink.failing.store(false, Ordering::SeqCst);
    let recovery = Instant::now();
    let stale = answers.iter().filter(|a| a.2 == 409).count();
    let other: Vec<_> = answers.iter().filter(|a| a.2 != 303 && a.2 != 409).collect();
    assert!(other.is_empty(), "agent answers neither saved nor stale: {:?}", &other[..other.len().min(5)]);
    let acks = wait_for_acks(&env, &filed2, patience).await;
    // Every mail the service queued arrives once: invitations, acknowledgements of both runs and
    // one answer mail per saved answer.
    let expected = invitations + filed.len() + filed2.len() + saved;
    wait_for(&env, expected, patience).await;
    let waited = recovery.elapsed();
    check_tickets(&env, &filed2, "mail failing").await;
    check_answers(&env, &answers).await;
    run.notes.push(format!(
        "{refused} mails refused by the SMTP server; after it recovered all {acks} acknowledgements and {saved} answer mails \
         arrived within {:.0} s (the first retry comes 30 s after a failure), none twice; agents: {saved} answers saved, \
         {stale} refused as stale (409), none lost",
        waited.as_secs_f64()
    ));
    runs.push(run);

    // 3. SIGKILL halfway.
    let (filed3, mut run) = file(&mut env, "SIGKILL halfway", 2 * tickets, tickets, clients, None, true).await;
    check_tickets(&env, &filed3, "SIGKILL").await;
    let before_max = filed2.iter().map(|(_, n)| seq(n)).max().unwrap_or(0);
    assert!(filed3.iter().all(|(_, n)| seq(n) > before_max), "no number from an earlier run given again");
    // Whatever is due goes out; a mail the killed server had claimed waits for its claim to
    // lapse (2 minutes), then goes out too.
    let draining = Instant::now();
    while !env.store.due_mail(chrono::Utc::now(), 1).await.expect("outbox").is_empty() {
        assert!(draining.elapsed() < patience, "the outbox does not drain after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let claimed =
        env.store.due_mail(chrono::Utc::now() + chrono::Duration::minutes(3), 1000).await.expect("outbox").len();
    let delivered = count_acks(&env, &filed3);
    let twice = delivered.values().filter(|&&n| n > 1).count();
    let missing = filed3.len() - delivered.len();
    assert!(missing <= claimed, "{missing} acknowledgements missing, {claimed} held by a claim");
    run.notes.push(format!(
        "server killed with SIGKILL after half, serving again {:.1} s later; {} tickets after the restart, every number a client saw is there, none given twice, numbering goes on; \
         acknowledgements: {} delivered, {missing} held by the killed server's claim (sent once the 2-minute claim \
         lapses), {twice} sent twice (sent but not yet marked when killed)",
        env.restart.as_secs_f64(),
        filed3.len(),
        delivered.len()
    ));
    runs.push(run);
    if let Some(s) = env.server.take() {
        s.kill();
    }
    runs
}

fn seq(number: &str) -> u64 {
    number.rsplit('-').next().and_then(|s| s.parse().ok()).expect("number ends in digits")
}

/// Files `tickets` tickets from `clients` clients (submission ids `offset..`); returns
/// (submission id, number seen) for each. A form whose answer was lost is sent again, as a
/// browser's user would, with the same submission id.
async fn file(
    env: &mut Env,
    name: &'static str,
    offset: usize,
    tickets: usize,
    clients: usize,
    queue: Option<Arc<Mutex<Vec<String>>>>,
    kill_halfway: bool,
) -> (Vec<(String, String)>, Run) {
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (c, base, csrf, next, done, queue) =
            (env.subscriber.clone(), env.base.clone(), env.csrf.clone(), next.clone(), done.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= tickets {
                    return out;
                }
                let id = format!("load-{}", offset + i);
                let t = Instant::now();
                let number = submit(&c, &base, &csrf, &id, i).await;
                out.push((id, number.clone(), t.elapsed()));
                done.fetch_add(1, Ordering::SeqCst);
                if let Some(q) = &queue {
                    q.lock().expect("queue").push(number);
                }
            }
        }));
    }
    if kill_halfway {
        while done.load(Ordering::SeqCst) < tickets / 2 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // The restart is inside the measured time, as the clients feel it.
        env.server.take().expect("running").kill();
        let started = Instant::now();
        let server =
            tokio::task::block_in_place(|| Server::start(&env.bin, &env.content, &env.data, &env.addr, env.smtp));
        env.server = Some(server);
        env.restart = started.elapsed();
    }
    let mut filed = Vec::new();
    let mut latencies = Vec::new();
    for t in tasks {
        for (id, number, lat) in t.await.expect("client") {
            filed.push((id, number));
            latencies.push(lat);
        }
    }
    latencies.sort();
    (filed, Run { name, tickets, elapsed: start.elapsed(), latencies, notes: Vec::new() })
}

/// One ticket form, sent until it is answered; returns the number the answer names.
async fn submit(c: &reqwest::Client, base: &str, csrf: &str, id: &str, i: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", csrf.to_owned())
            .text("submission_id", id.to_owned())
            .text("sector", "overheid")
            .text("subtopic", "overheid/vergunningen")
            .text("subject", format!("Vraag {i}"))
            .text("description", "De vergunningaanvraag blijft hangen op stap 3.");
        match c.post(format!("{base}/portal/tickets")).multipart(form).send().await {
            Ok(r) if r.status() == 303 => {
                let location = r.headers()["location"].to_str().expect("location").to_owned();
                let number = location.trim_start_matches("/portal/tickets/").split('?').next().expect("number");
                return number.to_owned();
            }
            Ok(r) => panic!("{id}: {} {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => {
                // The server is down (killed): send the same form again shortly.
                assert!(Instant::now() < deadline, "{id}: no answer for 60 s: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Every ticket a client saw is in the store, numbers distinct and consecutive.
async fn check_tickets(env: &Env, filed: &[(String, String)], run: &str) {
    let mut numbers = BTreeSet::new();
    for (id, number) in filed {
        assert!(numbers.insert(seq(number)), "{run}: {number} given twice (again for {id})");
        let t = env.store.ticket(number).await.expect("read").unwrap_or_else(|| panic!("{run}: {number} is missing"));
        assert_eq!(&t.number, number);
    }
    let (first, last) = (*numbers.first().expect("some"), *numbers.last().expect("some"));
    assert_eq!(last - first + 1, numbers.len() as u64, "{run}: numbers {first}..{last} have gaps");
}

/// Acknowledgements per ticket number, from the subjects the SMTP server accepted.
fn count_acks(env: &Env, filed: &[(String, String)]) -> HashMap<String, usize> {
    let wanted: BTreeSet<&str> = filed.iter().map(|(_, n)| n.as_str()).collect();
    let mut counts = HashMap::new();
    for (_, subject) in env.sink.accepted.lock().expect("sink").iter() {
        if !subject.contains("Ontvangstbevestiging") {
            continue;
        }
        let number = subject.trim_start_matches('[').split(']').next().unwrap_or_default();
        if wanted.contains(number) {
            *counts.entry(number.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

/// Waits until every ticket in `filed` has its acknowledgement; checks none came twice.
async fn wait_for_acks(env: &Env, filed: &[(String, String)], limit: Duration) -> usize {
    let start = Instant::now();
    loop {
        let counts = count_acks(env, filed);
        let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "acknowledged more than once: {:?}", &twice[..twice.len().min(5)]);
        if counts.len() == filed.len() {
            return counts.len();
        }
        assert!(start.elapsed() < limit, "{} of {} acknowledgements after {limit:?}", counts.len(), filed.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the SMTP server accepted `expected` messages; checks that no Message-ID came twice
/// and no more than expected arrived.
async fn wait_for(env: &Env, expected: usize, limit: Duration) {
    let start = Instant::now();
    loop {
        let accepted = env.sink.accepted.lock().expect("sink").clone();
        let ids: BTreeSet<&str> = accepted.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids.len(), accepted.len(), "a message was delivered twice");
        assert!(accepted.len() <= expected, "{} messages delivered, {expected} queued", accepted.len());
        if accepted.len() == expected {
            return;
        }
        assert!(start.elapsed() < limit, "{} of {expected} messages after {limit:?}", accepted.len());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every answer an agent was told was saved (303) is in its ticket once; no refused one is.
async fn check_answers(env: &Env, answers: &[(String, String, u16)]) {
    let mut by_ticket: BTreeMap<&str, Vec<&(String, String, u16)>> = BTreeMap::new();
    for a in answers {
        by_ticket.entry(a.0.as_str()).or_default().push(a);
    }
    for (number, tried) in by_ticket {
        let stored: Vec<String> = env
            .store
            .messages(number)
            .await
            .expect("messages")
            .into_iter()
            .filter(|m| m.kind == MessageKind::Answer)
            .map(|m| m.body)
            .collect();
        for (_, body, status) in tried {
            let n = stored.iter().filter(|b| b.as_str() == body).count();
            assert_eq!(n, usize::from(*status == 303), "{number}: answer {body:?} ({status}) stored {n} times");
        }
    }
}
