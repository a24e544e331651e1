//! `spawn_app()`: the real service on a random port, with a temporary data directory, and a
//! browser-like client (cookies, no automatic redirects). [`browser`] drives a real headless
//! Chromium, [`moto`] starts a local AWS stand-in.
#![allow(dead_code)]

/// One test per store for each scenario: `on_both_stores!(a, b)` runs `async fn a(app: TestApp)`
/// on SQLite and on DynamoDB (moto).
#[allow(unused_macros)]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(crate::common::spawn_app_on(None).await).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let store = crate::common::moto::dynamo_store().await;
                    super::$name(crate::common::spawn_app_on(Some(std::sync::Arc::new(store))).await).await;
                }
            )*
        }
    };
}

pub mod browser;
pub mod moto;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use helpdesk::mail::outbox::OutboxMailer;
use helpdesk::model::{Org, Role};
use helpdesk::store::Store;
use helpdesk::store::sqlite::SqliteStore;
use helpdesk::{AppState, Service, app};

pub struct TestApp {
    pub base: String,
    pub service: Arc<Service>,
    pub dir: tempfile::TempDir,
}

pub fn repo_content() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../content")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_on(None).await
}

/// The service on `store` (None: SQLite in the app's temporary directory).
pub async fn spawn_app_on(store: Option<Arc<dyn Store>>) -> TestApp {
    spawn(store, None).await
}

/// The service as it runs on Lambda: no mail worker; what a POST queued goes out through
/// `mailer` before the answer does.
#[allow(dead_code)]
pub async fn spawn_app_delivering(mailer: Arc<dyn helpdesk::mail::Mailer>) -> TestApp {
    spawn(None, Some(mailer)).await
}

async fn spawn(store: Option<Arc<dyn Store>>, deliver_after_posts: Option<Arc<dyn helpdesk::mail::Mailer>>) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let config_path = repo_content().join("helpdesk.toml");
    let config = site_builder::HelpdeskConfig::load(&config_path, &config_path).expect("config");
    let store: Arc<dyn Store> = match store {
        Some(s) => s,
        None => Arc::new(SqliteStore::open(&dir.path().join("helpdesk.db")).expect("store")),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let service = Arc::new(Service::new(
        config,
        store,
        base.clone(),
        "Klaver Helpdesk <helpdesk@klaver.example>".into(),
        dir.path().join("attachments"),
    ));
    let mailer = Arc::new(OutboxMailer::new(dir.path().join("outbox")).expect("outbox"));
    if deliver_after_posts.is_none() {
        helpdesk::mail::spawn_worker(service.store.clone(), mailer, service.kick.clone(), Duration::from_millis(200));
    }
    std::fs::create_dir_all(dir.path().join("site")).expect("site");
    std::fs::write(dir.path().join("site/404.html"), "<!DOCTYPE html><title>404</title>").expect("404");
    let search = helpdesk::search::SearchHandle::new(dir.path().join("site/search"), None, Some(service.store.clone()));
    let router = app(AppState {
        site_dir: dir.path().join("site"),
        builds: None,
        service: service.clone(),
        search: Arc::new(search),
        deliver_after_posts,
    });
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.expect("serve");
    });
    TestApp { base, service, dir }
}

/// [`spawn_app`] with the real content's site built into it (fixed dates, for stable pages).
pub async fn spawn_app_with_site() -> TestApp {
    let app = spawn_app().await;
    let mut opts = site_builder::BuildOptions::new(repo_content(), app.dir.path().join("site"));
    opts.dates = site_builder::Dates::Fixed(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"));
    site_builder::build(&opts).unwrap_or_else(|e| panic!("build: {e}"));
    app
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn store(&self) -> &dyn Store {
        self.service.store.as_ref()
    }

    pub async fn org(&self, name: &str, share: bool) -> Org {
        let org = Org {
            id: helpdesk::auth::random_token(9),
            name: name.into(),
            sector: "overheid".into(),
            plan: "plus".into(),
            share_tickets: share,
            created: chrono::Utc::now(),
        };
        self.store().create_org(&org).await.expect("org");
        org
    }

    /// Invites `email`, reads the invitation from the outbox, sets the password through the
    /// link and returns a logged-in client.
    pub async fn subscriber(&self, email: &str, org: &Org) -> reqwest::Client {
        self.person(email, "", org, Role::Subscriber).await
    }

    /// Like [`subscriber`], for any role and with a display name.
    pub async fn person(&self, email: &str, name: &str, org: &Org, role: Role) -> reqwest::Client {
        self.service.invite(email, name, org, role).await.expect("invite");
        let mail = self.wait_for_mail(email, "Uitnodiging").await;
        let link = link_in(&mail.text, "/invite#").expect("link in the invitation");
        let c = client();
        self.set_password(&c, &link, "een heel goed wachtwoord").await;
        c
    }

    /// A new client logged in through the login form (password as `subscriber` sets it).
    pub async fn login(&self, email: &str) -> reqwest::Client {
        let c = client();
        let page = c.get(self.url("/login")).send().await.expect("get").text().await.expect("text");
        let csrf = field(&page, "csrf_token").expect("csrf");
        let resp = c
            .post(self.url("/login"))
            .form(&[("csrf_token", csrf.as_str()), ("email", email), ("password", "een heel goed wachtwoord")])
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 303, "login of {email}");
        c
    }

    pub async fn set_password(&self, c: &reqwest::Client, link: &str, password: &str) -> reqwest::Response {
        set_password_at(c, link, password).await
    }

    /// Waits (up to 5 s) for an `.eml` to `to` whose subject contains `subject`, and parses it.
    pub async fn wait_for_mail(&self, to: &str, subject: &str) -> Mail {
        for _ in 0..100 {
            if let Some(m) = self.mails().into_iter().find(|m| m.to.contains(to) && m.subject.contains(subject)) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no mail to {to} about {subject:?}; outbox: {:#?}",
            self.mails().iter().map(|m| &m.subject).collect::<Vec<_>>()
        );
    }

    /// Every `.eml` in the outbox, parsed by a real MIME parser.
    pub fn mails(&self) -> Vec<Mail> {
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("outbox")) else { return vec![] };
        let mut paths: Vec<_> =
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
        paths.sort();
        paths.iter().map(|p| parse_mail(&std::fs::read(p).expect("read eml"))).collect()
    }
}

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub raw: Vec<u8>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
    pub date: bool,
}

pub fn parse_mail(raw: &[u8]) -> Mail {
    let m = mail_parser::MessageParser::default().parse(raw).expect("valid MIME");
    let to = m.to().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned).unwrap_or_default();
    Mail {
        to,
        raw: raw.to_vec(),
        subject: m.subject().unwrap_or_default().to_owned(),
        text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        message_id: m.message_id().unwrap_or_default().to_owned(),
        date: m.date().is_some(),
    }
}

/// Follows an invitation or reset link as a browser would: the page without the part after
/// `#`, which the form then posts as `token`.
pub async fn set_password_at(c: &reqwest::Client, link: &str, password: &str) -> reqwest::Response {
    let (page_url, code) = link.split_once('#').unwrap_or((link, ""));
    let page = c.get(page_url).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let mut form = vec![("csrf_token", csrf.as_str()), ("password", password), ("password_repeat", password)];
    if !code.is_empty() {
        form.push(("token", code));
    }
    c.post(page_url).form(&form).send().await.expect("post")
}

/// The first URL in `text` containing `marker`.
pub fn link_in(text: &str, marker: &str) -> Option<String> {
    text.split_whitespace().find(|w| w.contains(marker) && w.starts_with("http")).map(str::to_owned)
}

/// The `value` of the form field named `name`.
pub fn field(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.split("value=\"").nth(1)?;
    Some(v[..v.find('"')?].to_owned())
}

/// A filled-in ticket form (multipart, like a browser sends it).
pub fn ticket_form(csrf: &str, submission: &str, subject: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("csrf_token", csrf.to_owned())
        .text("submission_id", submission.to_owned())
        .text("sector", "overheid")
        .text("subtopic", "overheid/vergunningen")
        .text("subject", subject.to_owned())
        .text("preferred_agent", "")
        .text("administration", "")
        .text("description", "De vergunningaanvraag blijft hangen op stap 3.")
}

/// Opens the form and files a ticket; returns the redirect target.
pub async fn file_ticket(app: &TestApp, c: &reqwest::Client, subject: &str) -> String {
    let page = c.get(app.url("/portal/tickets/new")).send().await.expect("get").text().await.expect("text");
    let csrf = field(&page, "csrf_token").expect("csrf");
    let submission = field(&page, "submission_id").expect("submission");
    let resp = c
        .post(app.url("/portal/tickets"))
        .multipart(ticket_form(&csrf, &submission, subject))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap_or_default());
    resp.headers()["location"].to_str().expect("location").to_owned()
}
