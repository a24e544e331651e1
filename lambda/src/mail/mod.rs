//! E-mail: messages are composed once (real RFC 5322 + MIME: multipart text and HTML, encoded
//! Dutch subjects, Message-ID, Date), queued in the store together with the change that caused
//! them, and handed to a [`Mailer`] by a worker that retries with backoff. A failing mail
//! provider therefore never loses or blocks a ticket.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, header};

use crate::model::OutgoingMail;
use crate::store::Store;

pub mod inbound;
pub mod outbox;
pub mod ses;
pub mod smtp;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address {0}")]
    Address(String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("the mail provider failed: {0}")]
    Provider(String),
}

/// Hands a composed message to the outside world.
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    /// Delivers `mail.raw` to `mail.to`; returns the provider's message id.
    async fn send(&self, mail: &OutgoingMail) -> Result<String, MailError>;

    /// How many messages [`deliver_due`] hands it at once. Several at a time let the store's
    /// claims and marks share commits; a provider with a per-second quota wants fewer.
    fn in_flight(&self) -> usize {
        16
    }
}

/// What a message says; [`compose`] makes the MIME.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Threading: the Message-ID this one answers (without angle brackets), if any ...
    pub in_reply_to: Option<String>,
    /// ... and the ids of the thread before it, oldest first.
    pub references: Vec<String>,
    /// The ticket the mail is about: replies to it are added to that ticket.
    pub ticket: Option<String>,
    /// Written by the service in answer to an incoming mail (RFC 3834: `Auto-Submitted:
    /// auto-replied`, so that other robots do not answer it).
    pub auto_reply: bool,
}

pub fn compose(draft: &Draft, now: DateTime<Utc>) -> Result<OutgoingMail, MailError> {
    let from: Mailbox = draft.from.parse().map_err(|_| MailError::Address(draft.from.clone()))?;
    let to: Mailbox = draft.to.parse().map_err(|_| MailError::Address(draft.to.clone()))?;
    let id = crate::auth::random_token(16);
    let domain = from.email.domain().to_owned();
    let message_id = format!("{id}@{domain}");
    let own_address = from.email.to_string();
    let mut builder = lettre::Message::builder()
        .from(from)
        .to(to)
        // One line, single spaces: a run of spaces between encoded words would not survive
        // RFC 2047 (whitespace between encoded words is dropped by readers).
        .subject(draft.subject.split_whitespace().collect::<Vec<_>>().join(" "))
        .message_id(Some(format!("<{message_id}>")))
        .date(now.into())
        .header(header::MIME_VERSION_1_0);
    if let Some(parent) = &draft.in_reply_to {
        let mut thread: Vec<String> = draft.references.iter().filter(|r| *r != parent).cloned().collect();
        thread.push(parent.clone());
        let references = thread.iter().map(|r| format!("<{r}>")).collect::<Vec<_>>().join(" ");
        builder = builder.in_reply_to(format!("<{parent}>")).references(references);
    }
    if draft.auto_reply {
        builder = builder
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-replied".into()))
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Loop"), own_address));
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(draft.text.clone(), draft.html.clone()))
        .map_err(|e| MailError::Build(e.to_string()))?;
    Ok(OutgoingMail {
        id,
        to: draft.to.clone(),
        subject: draft.subject.clone(),
        raw: message.formatted(),
        attempts: 0,
        next_attempt: now,
        created: now,
        last_error: None,
        message_id,
        ticket: draft.ticket.clone(),
    })
}

/// Backoff after the `attempts`-th failure: 30 s, 1 min, 2 min, ... capped at 1 hour.
pub fn retry_delay(attempts: u32) -> chrono::Duration {
    let secs = 30i64.saturating_mul(1 << attempts.min(7));
    chrono::Duration::seconds(secs.min(3600))
}

/// How long a claimed mail is left to its sender before it is due again (a sender that died).
const CLAIM: chrono::Duration = chrono::Duration::minutes(2);

/// Sends every due mail once, [`Mailer::in_flight`] at a time: each claim and mark is a store
/// write, and writes that arrive together share one commit (SQLite's writer groups them), so a
/// burst of acknowledgements is not held to one fsync per step. Returns how many went out.
pub async fn deliver_due(store: &dyn Store, mailer: &dyn Mailer, now: DateTime<Utc>) -> usize {
    use futures::StreamExt as _;
    let due = match store.due_mail(now, 64).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the mail outbox");
            return 0;
        }
    };
    futures::stream::iter(due)
        .map(|mail| deliver_one(store, mailer, mail, now))
        .buffer_unordered(mailer.in_flight().max(1))
        .filter(|sent| std::future::ready(*sent))
        .count()
        .await
}

/// Claims, sends and marks one mail; true when it went out.
async fn deliver_one(store: &dyn Store, mailer: &dyn Mailer, mail: OutgoingMail, now: DateTime<Utc>) -> bool {
    // Two workers (two Lambda instances, the scheduled function) may read the same due mail:
    // only the one that claims it sends it.
    match store.claim_mail(&mail, now + CLAIM).await {
        Ok(true) => {}
        Ok(false) => return false,
        Err(e) => {
            tracing::warn!(mail = %mail.id, error = %e, "cannot claim a mail");
            return false;
        }
    }
    match mailer.send(&mail).await {
        Ok(provider_id) => {
            if let Err(e) = store.mail_sent(&mail.id, &provider_id).await {
                tracing::warn!(mail = %mail.id, error = %e, "mail sent but not marked");
            }
            // A reply names the id the recipient saw: the one written (outbox, SMTP) or the
            // one the provider gave the message (SES).
            if let Some(ticket) = &mail.ticket {
                let ids: Vec<String> =
                    [mail.message_id.clone(), provider_id].into_iter().filter(|i| !i.is_empty()).collect();
                if let Err(e) = store.remember_mail_ids(&ids, ticket).await {
                    tracing::warn!(mail = %mail.id, error = %e, "mail sent but its id not remembered");
                }
            }
            true
        }
        Err(e) => {
            let next = now + retry_delay(mail.attempts);
            tracing::warn!(mail = %mail.id, attempts = mail.attempts + 1, error = %e, "mail failed; will retry");
            let _ = store.mail_failed(&mail.id, next, &e.to_string()).await;
            false
        }
    }
}

/// Wakes up the worker right away (after a state change queued mail) instead of at its next tick.
#[derive(Debug, Clone, Default)]
pub struct Kick(Arc<tokio::sync::Notify>);

impl Kick {
    pub fn kick(&self) {
        self.0.notify_one();
    }
}

/// The mail worker: delivers due mail when kicked and every `tick`.
pub fn spawn_worker(store: Arc<dyn Store>, mailer: Arc<dyn Mailer>, kick: Kick, tick: Duration) {
    tokio::spawn(async move {
        loop {
            while deliver_due(store.as_ref(), mailer.as_ref(), Utc::now()).await > 0 {}
            tokio::select! {
                _ = kick.0.notified() => {}
                _ = tokio::time::sleep(tick) => {}
            }
        }
    });
}
