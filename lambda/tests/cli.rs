//! The `helpdesk` command as a user runs it: `check`, `build` and `serve`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn helpdesk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_helpdesk"))
}

fn repo_content() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../content")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() { copy_dir(&src, &dst) } else { std::fs::copy(&src, &dst).map(drop).expect("copy") }
    }
}

#[test]
fn check_passes_on_the_real_content() {
    let out = helpdesk().arg("--content").arg(repo_content()).arg("check").output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "content is fine\n");
}

#[test]
fn check_fails_with_file_and_line_on_broken_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let content = dir.path().join("content");
    copy_dir(&repo_content(), &content);
    let page = content.join("faq/nl/tickets/ticket-aanmaken.md");
    let text = std::fs::read_to_string(&page).expect("read");
    std::fs::write(&page, format!("{text}\nZie [weg](bestaat-niet.md).\n")).expect("write");
    let line = text.lines().count() + 2;

    let out = helpdesk().current_dir(dir.path()).arg("check").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = format!("content/faq/nl/tickets/ticket-aanmaken.md:{line}: ");
    assert!(stdout.starts_with(&expected), "{stdout}");
    assert!(stdout.contains("bestaat-niet.md"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 problem(s) found"));

    // `build` refuses too, and writes nothing.
    let out = helpdesk().current_dir(dir.path()).args(["build", "--out", "dist"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path().join("dist").exists());
}

#[test]
fn build_writes_the_site() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = helpdesk()
        .arg("--content")
        .arg(repo_content())
        .arg("build")
        .arg("--out")
        .arg(dir.path().join("dist"))
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("built "));
    assert!(dir.path().join("dist/nl/tickets/ticket-aanmaken/index.html").is_file());
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(content: &Path, data_dir: &Path) -> Server {
    let mut child = helpdesk()
        .arg("--content")
        .arg(content)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let base = loop {
        let line = lines.next().expect("server exited before listening").expect("read stderr");
        if let Some(addr) = line.split("serving on ").nth(1) {
            break addr.trim().to_string();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, base }
}

#[tokio::test]
async fn serve_answers_pages_health_and_404() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = serve(&repo_content(), &dir.path().join("data"));
    let client = reqwest::Client::new();

    let health = client.get(format!("{}/healthz", server.base)).send().await.expect("healthz");
    assert_eq!(health.status(), 200);

    let home = client.get(format!("{}/", server.base)).send().await.expect("home");
    assert_eq!(home.status(), 200);
    let html = home.text().await.expect("text");
    assert!(html.contains("Nieuw ondersteuningsticket"), "{html}");
    assert!(html.contains("/static/js/livereload.js"), "serve adds live reload");

    let article = client.get(format!("{}/nl/tickets/ticket-aanmaken/", server.base)).send().await.expect("article");
    assert_eq!(article.status(), 200);
    assert!(article.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/html"));

    let css = client.get(format!("{}/static/css/site.css", server.base)).send().await.expect("css");
    assert_eq!(css.status(), 200);

    let missing = client.get(format!("{}/nl/bestaat/niet/", server.base)).send().await.expect("404");
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.expect("text").contains("<html"), "the site's 404 page");
}

#[tokio::test]
async fn serve_rebuilds_when_content_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let content = dir.path().join("content");
    copy_dir(&repo_content(), &content);
    let server = serve(&content, &dir.path().join("data"));
    let client = reqwest::Client::new();
    let url = format!("{}/nl/tickets/ticket-aanmaken/", server.base);

    let page = content.join("faq/nl/tickets/ticket-aanmaken.md");
    let text = std::fs::read_to_string(&page).expect("read");
    std::fs::write(&page, format!("{text}\nEen gloednieuwe alinea over de zonneboilerkraan.\n")).expect("write");
    let mut rebuilt = false;
    for _ in 0..100 {
        let html = client.get(&url).send().await.expect("get").text().await.expect("text");
        if html.contains("Een gloednieuwe alinea") {
            rebuilt = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(rebuilt, "the page was not rebuilt within 5 s");
    // The search index has the new word too (the server loads it once the build is done, a
    // moment after the pages are written).
    let found = |q: &'static str, url: &'static str| {
        let client = client.clone();
        let api = format!("{}/api/search?lang=nl&q={q}", server.base);
        async move {
            for _ in 0..200 {
                let answer = client.get(&api).send().await.expect("search").text().await.expect("text");
                if answer.contains(url) {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("{q} did not find {url} within 10 s");
        }
    };
    found("zonneboilerkraan", "/nl/tickets/ticket-aanmaken/").await;

    // A new article: everything is built again, and it is there.
    std::fs::write(
        content.join("faq/nl/tickets/nieuw-artikel.md"),
        "+++\ntitle = \"Een nieuw artikel\"\n+++\nOver de warmtepompregeling.\n",
    )
    .expect("write");
    found("warmtepompregeling", "/nl/tickets/nieuw-artikel/").await;
    let page = client.get(format!("{}/nl/tickets/nieuw-artikel/", server.base)).send().await.expect("get");
    assert_eq!(page.status(), 200);
}

/// `helpdesk search misses` lists what visitors searched for on a running `serve` and did not
/// find, read from the same data directory.
#[tokio::test]
async fn search_misses_lists_the_searches_that_found_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let misses = |limit: Option<&str>| {
        let mut cmd = helpdesk();
        cmd.args(["search", "misses"]);
        if let Some(l) = limit {
            cmd.args(["--limit", l]);
        }
        // `--data-dir` and HELPDESK_DATA_DIR, like `serve`.
        let out = cmd.env("HELPDESK_DATA_DIR", &data).output().expect("run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (stdout, stderr) = misses(None);
    assert_eq!(stdout, "");
    assert!(stderr.contains("no searches without results"), "{stderr}");

    let server = serve(&repo_content(), &data);
    let client = reqwest::Client::new();
    for q in ["kwantumfysica", "Kwantumfysica", "ruimtevaart", "wachtwoord", "jan%40example.nl", "kwantumfysica"] {
        let url = format!("{}/search?lang=nl&q={q}", server.base);
        let resp = client.get(&url).send().await.expect("search");
        assert_eq!(resp.status(), 200, "{url}");
    }
    // Search-as-you-type asks the API for every unfinished word: those are not counted.
    let resp = client.get(format!("{}/api/search?lang=nl&q=kwantumfysica", server.base)).send().await.expect("api");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-cache", "serve rebuilds as content changes: answers are not kept");

    // The service saves the counts a few seconds after a miss.
    let mut stdout = String::new();
    for _ in 0..150 {
        stdout = misses(None).0;
        if !stdout.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(stdout, "3  kwantumfysica\n1  ruimtevaart\n", "found words and e-mail addresses are not listed");
    assert_eq!(misses(Some("1")).0, "3  kwantumfysica\n");
    drop(server);
}

#[tokio::test]
async fn ingest_mail_and_the_inbox_folder_make_tickets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let admin = |args: &[&str]| {
        let out = helpdesk()
            .arg("--content")
            .arg(repo_content())
            .arg("admin")
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output();
        let out = out.expect("run");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    assert!(admin(&["org", "create", "--name", "Gemeente Ede", "--sector", "overheid"]).0);
    assert!(admin(&["invite", "--email", "anna@ede.example", "--org", "Gemeente Ede"]).0);
    let fixture = |id: &str| {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/new-question.eml"))
            .expect("fixture")
            .replace("{{FROM}}", "anna@ede.example")
            .replace("{{TO}}", "helpdesk@klaver.example")
            .replace("{{MSGID}}", id)
    };
    let mail = dir.path().join("vraag.eml");
    std::fs::write(&mail, fixture("cli1@ede.example")).expect("write");
    let (ok, stdout) = admin(&["ingest-mail", mail.to_str().expect("path")]);
    assert!(ok, "{stdout}");
    assert!(stdout.contains("vraag.eml: new ticket "), "{stdout}");
    let (ok, stdout) = admin(&["ingest-mail", mail.to_str().expect("path")]);
    assert!(ok && stdout.contains("already received"), "{stdout}");
    let acks = std::fs::read_dir(data.join("outbox")).expect("outbox").count();
    assert_eq!(acks, 2, "the invitation and the acknowledgement");

    // `serve` watches <data-dir>/inbox.
    let server = serve(&repo_content(), &data);
    std::fs::create_dir_all(data.join("inbox")).expect("inbox");
    // Written under a hidden name and renamed, as a mail client does: the watcher may look
    // while the file is being written, and would refuse the half-written message.
    std::fs::write(data.join("inbox/.tweede.eml"), fixture("cli2@ede.example")).expect("write");
    std::fs::rename(data.join("inbox/.tweede.eml"), data.join("inbox/tweede.eml")).expect("rename");
    // The watcher looks every 5 s; on a loaded machine (the whole suite on two cores, the
    // server's first build beside it) a look can take a while: wait up to a minute.
    for _ in 0..600 {
        if data.join("inbox/done/tweede.eml").exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(data.join("inbox/done/tweede.eml").exists(), "the inbox folder was not handled");
    drop(server);
}
