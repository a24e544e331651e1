//! Where incoming mail comes from, on one machine; every source hands the raw message to
//! [`Service::receive_mail`]:
//!
//! - the `inbox/` folder under the data directory, watched by `helpdesk serve` (drop `.eml`
//!   files in; handled ones move to `inbox/done/`, unreadable ones to `inbox/failed/` with the
//!   reason beside them in `<name>.reason.txt`);
//! - an IMAP mailbox (`HELPDESK_IMAP_URL`), polled by `helpdesk serve`: unseen messages are
//!   handled, then marked seen or moved to another folder.
//!
//! On AWS the SES receipt rule stores each message in S3 and then invokes the inbound-mail
//! function (`aws_lambda.rs`), which reads it from there: [`receive_from_s3`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt as _;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::Service;
use crate::service::ServiceError;

/// How often the inbox folder and the IMAP mailbox are looked at.
pub const POLL_EVERY: Duration = Duration::from_secs(5);

/// Handles every file waiting in `inbox`; returns how many were handled (done or failed).
/// A store failure leaves the file where it is, for the next round.
pub async fn drain_inbox(service: &Service, inbox: &Path) -> std::io::Result<usize> {
    let (done, failed) = (inbox.join("done"), inbox.join("failed"));
    tokio::fs::create_dir_all(&done).await?;
    tokio::fs::create_dir_all(&failed).await?;
    let mut names = Vec::new();
    let mut dir = tokio::fs::read_dir(inbox).await?;
    while let Some(entry) = dir.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        // Hidden files are being written (a mail client saves under a temporary name).
        if entry.file_type().await?.is_file() && !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    let mut handled = 0;
    for name in names {
        let path = inbox.join(&name);
        let raw = tokio::fs::read(&path).await?;
        match service.receive_mail(&raw).await {
            Ok(outcome) => {
                tracing::info!(file = %name, %outcome, "inbox");
                tokio::fs::rename(&path, done.join(&name)).await?;
                handled += 1;
            }
            Err(ServiceError::Invalid(reason)) => {
                tracing::warn!(file = %name, %reason, "inbox: message refused");
                tokio::fs::write(failed.join(format!("{name}.reason.txt")), format!("{reason}\n")).await?;
                tokio::fs::rename(&path, failed.join(&name)).await?;
                handled += 1;
            }
            Err(e) => {
                tracing::warn!(file = %name, error = %e, "inbox: will try again");
            }
        }
    }
    Ok(handled)
}

/// Watches `inbox` for as long as the process runs.
pub fn spawn_inbox_watcher(service: Arc<Service>, inbox: PathBuf) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(POLL_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = drain_inbox(&service, &inbox).await {
                tracing::warn!(inbox = %inbox.display(), error = %e, "cannot read the inbox folder");
            }
        }
    });
}

/// Where and how to read mail over IMAP, from `HELPDESK_IMAP_URL`:
///
/// - `imaps://user:password@imap.example.com/INBOX`: TLS (port 993 by default);
/// - `imap://user:password@imap.example.com/INBOX?tls=required`: STARTTLS (port 143);
/// - `imap://user:password@127.0.0.1:1143/INBOX`: no TLS, for a server on the same machine.
///
/// The path names the folder (default `INBOX`); `?move=Processed` moves handled messages to
/// that folder (made if missing) instead of only marking them seen. User and password are
/// percent-encoded.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapSource {
    pub host: String,
    pub port: u16,
    pub tls: ImapTls,
    pub user: String,
    password: String,
    pub folder: String,
    pub move_to: Option<String>,
}

impl std::fmt::Debug for ImapSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {}@{}:{}/{}", self.tls, self.user, self.host, self.port, self.folder)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapTls {
    Tls,
    StartTls,
    None,
}

impl ImapSource {
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let u = url::Url::parse(url).context("HELPDESK_IMAP_URL is not a URL")?;
        let query = |k: &str| u.query_pairs().find(|(q, _)| q == k).map(|(_, v)| v.into_owned());
        let tls = match (u.scheme(), query("tls").as_deref()) {
            ("imaps", _) => ImapTls::Tls,
            ("imap", Some("required")) => ImapTls::StartTls,
            ("imap", None) => ImapTls::None,
            (scheme, tls) => anyhow::bail!("HELPDESK_IMAP_URL: unknown scheme `{scheme}` or tls `{tls:?}`"),
        };
        let decode = |s: &str| percent_decode(s);
        let folder = decode(u.path().trim_start_matches('/'));
        Ok(Self {
            host: u.host_str().context("HELPDESK_IMAP_URL has no host")?.to_owned(),
            port: u.port().unwrap_or(if tls == ImapTls::Tls { 993 } else { 143 }),
            tls,
            user: decode(u.username()),
            password: decode(u.password().unwrap_or_default()),
            folder: if folder.is_empty() { "INBOX".into() } else { folder },
            move_to: query("move").filter(|m| !m.is_empty()),
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Any byte stream IMAP can run over (plain TCP or TLS).
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}

async fn tls(host: &str, tcp: tokio::net::TcpStream) -> anyhow::Result<Box<dyn Stream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await?;
    Ok(Box::new(stream))
}

/// Logs in, handles every unseen message in the folder, logs out. Returns how many were handled.
pub async fn poll_imap(service: &Service, source: &ImapSource) -> anyhow::Result<usize> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::net::TcpStream::connect((source.host.as_str(), source.port)),
    )
    .await??;
    let stream: Box<dyn Stream> = match source.tls {
        ImapTls::Tls => tls(&source.host, tcp).await?,
        ImapTls::None => Box::new(tcp),
        ImapTls::StartTls => {
            let mut plain = async_imap::Client::new(tcp);
            plain.read_response().await?.ok_or_else(|| anyhow::anyhow!("the IMAP server said nothing"))?;
            plain.run_command_and_check_ok("STARTTLS", None).await?;
            tls(&source.host, plain.into_inner()).await?
        }
    };
    let mut client = async_imap::Client::new(stream);
    // After STARTTLS the server does not greet again.
    if source.tls != ImapTls::StartTls {
        client.read_response().await?.ok_or_else(|| anyhow::anyhow!("the IMAP server said nothing"))?;
    }
    let mut session = client.login(&source.user, &source.password).await.map_err(|(e, _)| e)?;
    session.select(&source.folder).await?;
    if let Some(folder) = &source.move_to {
        // Made if missing; "already exists" is fine.
        let _ = session.create(folder).await;
    }
    let mut uids: Vec<u32> = session.uid_search("UNSEEN").await?.into_iter().collect();
    uids.sort_unstable();
    let mut handled = 0;
    for uid in uids {
        let raw: Option<Vec<u8>> = {
            let fetches: Vec<_> = session.uid_fetch(uid.to_string(), "BODY.PEEK[]").await?.try_collect().await?;
            fetches.iter().find_map(|f| f.body().map(<[u8]>::to_vec))
        };
        let Some(raw) = raw else { continue };
        match service.receive_mail(&raw).await {
            Ok(outcome) => tracing::info!(uid, %outcome, "imap"),
            Err(ServiceError::Invalid(reason)) => tracing::warn!(uid, %reason, "imap: message refused"),
            // Left unseen: the next poll tries it again.
            Err(e) => {
                tracing::warn!(uid, error = %e, "imap: will try again");
                continue;
            }
        }
        match &source.move_to {
            Some(folder) => session.uid_mv(uid.to_string(), folder).await?,
            None => {
                let _: Vec<_> = session.uid_store(uid.to_string(), "+FLAGS (\\Seen)").await?.try_collect().await?;
            }
        }
        handled += 1;
    }
    session.logout().await?;
    Ok(handled)
}

/// Polls the mailbox for as long as the process runs.
pub fn spawn_imap_poller(service: Arc<Service>, source: ImapSource) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(POLL_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = poll_imap(&service, &source).await {
                tracing::warn!(mailbox = ?source, error = %e, "cannot read the IMAP mailbox");
            }
        }
    });
}

/// One stored incoming message an event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMail {
    pub bucket: String,
    pub key: String,
    /// SES found a virus or spam in it: it is not read.
    pub rejected: Option<&'static str>,
}

/// The messages an event names: an SES receipt-rule event (the rule's S3 action stored the
/// message as `<prefix><messageId>` in `bucket`) or an S3 `ObjectCreated` event.
pub fn stored_mails(event: &serde_json::Value, bucket: Option<&str>, prefix: &str) -> Vec<StoredMail> {
    let records = event.get("Records").and_then(|r| r.as_array()).cloned().unwrap_or_default();
    let text = |v: &serde_json::Value, path: &[&str]| {
        path.iter().try_fold(v, |v, k| v.get(k)).and_then(|v| v.as_str()).map(str::to_owned)
    };
    let mut out = Vec::new();
    for r in &records {
        if let Some(id) = text(r, &["ses", "mail", "messageId"]) {
            let Some(bucket) = bucket else {
                tracing::error!("an SES event, but HELPDESK_INBOUND_BUCKET is not set");
                continue;
            };
            let verdict = |name: &str| text(r, &["ses", "receipt", name, "status"]).is_some_and(|s| s == "FAIL");
            let rejected = if verdict("virusVerdict") {
                Some("SES found a virus")
            } else if verdict("spamVerdict") {
                Some("SES judged it spam")
            } else {
                None
            };
            out.push(StoredMail { bucket: bucket.to_owned(), key: format!("{prefix}{id}"), rejected });
        } else if let (Some(b), Some(k)) = (text(r, &["s3", "bucket", "name"]), text(r, &["s3", "object", "key"])) {
            // S3 event keys are URL-encoded, with `+` for a space.
            out.push(StoredMail { bucket: b, key: percent_decode(&k.replace('+', " ")), rejected: None });
        }
    }
    out
}

/// Reads and handles every message `event` names. An `Err` (S3 or the store failed) makes the
/// invocation fail, so that Lambda tries it again (a message handled before is not handled twice).
pub async fn receive_from_s3(
    service: &Service,
    s3: &aws_sdk_s3::Client,
    event: &serde_json::Value,
    bucket: Option<&str>,
    prefix: &str,
) -> anyhow::Result<Vec<String>> {
    let mut outcomes = Vec::new();
    for mail in stored_mails(event, bucket, prefix) {
        if let Some(why) = mail.rejected {
            tracing::warn!(key = %mail.key, why, "incoming mail not read");
            outcomes.push(format!("{}: not read: {why}", mail.key));
            continue;
        }
        let object = s3.get_object().bucket(&mail.bucket).key(&mail.key).send().await.map_err(|e| {
            anyhow::anyhow!("reading s3://{}/{}: {}", mail.bucket, mail.key, aws_sdk_s3::error::DisplayErrorContext(e))
        })?;
        let raw = object.body.collect().await?.into_bytes();
        match service.receive_mail(&raw).await {
            Ok(outcome) => outcomes.push(format!("{}: {outcome}", mail.key)),
            // Reading it again will not help: logged, and the raw copy stays in the bucket.
            Err(ServiceError::Invalid(reason)) => {
                tracing::warn!(key = %mail.key, %reason, "incoming mail refused");
                outcomes.push(format!("{}: refused: {reason}", mail.key));
            }
            Err(e) => return Err(anyhow::anyhow!("{}: {e}", mail.key)),
        }
    }
    Ok(outcomes)
}
