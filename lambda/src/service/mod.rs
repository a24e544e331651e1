//! The ticket rules that every entry point (portal form, e-mail, agent, scheduled jobs) goes
//! through. The service knows nothing of HTTP: it takes typed requests, applies the rules,
//! and writes through the [`Store`] (with the mails a change causes, in the same transaction).
//!
//! - [`accounts`]: invitations and password resets;
//! - [`tickets`]: a subscriber's side: filing, replying, closing, who may see what;
//! - [`agent`]: the helpdesk's side: answers, notes, assignment, states, escalation, phone calls,
//!   closing resolved tickets nobody reacted to;
//! - [`evaluations`]: signed rating links and the ratings themselves;
//! - [`inbound`]: mail to the helpdesk (new tickets, replies, strangers, machines).

use std::path::PathBuf;
use std::sync::Arc;

use minijinja::Environment;
use site_builder::HelpdeskConfig;

use crate::auth::Throttle;
use crate::calendar::Calendar;
use crate::clock::Clock;
use crate::mail::{Draft, Kick, MailError, compose};
use crate::model::*;
use crate::store::{Store, StoreError};

pub mod accounts;
pub mod admin;
pub mod agent;
pub mod evaluations;
pub mod faq;
pub mod inbound;
pub mod reports;
pub mod tickets;

pub use crate::render::urlencode;
pub use tickets::TicketDraft;

/// Everything a request handler needs, built once at start-up (or Lambda cold start).
#[derive(Debug)]
pub struct Service {
    pub config: Arc<HelpdeskConfig>,
    pub store: Arc<dyn Store>,
    pub kick: Kick,
    pub templates: Arc<Environment<'static>>,
    pub calendar: Calendar,
    pub numbering: Numbering,
    pub throttle: Throttle,
    pub clock: Clock,
    /// Public URL for links in e-mails, without trailing slash.
    pub base_url: String,
    /// Sender of every e-mail.
    pub from: String,
    /// Cookies get `Secure` when the public URL is https.
    pub secure_cookies: bool,
    /// Where attachments are kept.
    pub files: Arc<dyn crate::files::Files>,
    /// The portal's and the e-mails' texts per language.
    pub texts: Arc<crate::i18n::Texts>,
    /// Signs links that need no login (ratings): `HELPDESK_SECRET`.
    secret: crate::auth::Secret,
    /// The `content/` folder when the service runs beside it (`helpdesk serve`): FAQ drafts
    /// made from tickets are written there. On AWS there is none: drafts are downloads.
    pub content_dir: Option<PathBuf>,
    /// Password hashing (argon2id, 19 MiB each) runs at most this many at once.
    hashing: Arc<tokio::sync::Semaphore>,
}

pub const INVITE_VALID: chrono::Duration = chrono::Duration::days(7);
pub const RESET_VALID: chrono::Duration = chrono::Duration::hours(1);
pub const SESSION_VALID: chrono::Duration = chrono::Duration::days(7);
/// A session with no request for this long has ended.
pub const SESSION_IDLE: chrono::Duration = chrono::Duration::hours(2);
/// The longest a ticket's text (description, reply, answer, note) may be, in bytes.
pub const MAX_TEXT: usize = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("template: {0}")]
    Template(#[from] minijinja::Error),
    #[error("{0}")]
    Invalid(String),
    /// The ticket changed since the form was shown (another agent acted first).
    #[error("the ticket changed in the meantime")]
    Stale,
    /// Too many passwords are being checked at once; try again in a moment.
    #[error("busy")]
    Busy,
    /// Not allowed in the ticket's state (e.g. replying to a closed ticket).
    #[error("not possible now: {0}")]
    NotNow(&'static str),
}

impl Service {
    pub fn new(
        config: HelpdeskConfig,
        store: Arc<dyn Store>,
        base_url: String,
        from: String,
        attachments_dir: PathBuf,
    ) -> Self {
        let calendar = Calendar::new(config.holidays.clone()).closing_at(config.office_hours.closes);
        let numbering = Numbering::new(config.tickets.number_format.clone());
        let base_url = base_url.trim_end_matches('/').to_owned();
        let texts = Arc::new(crate::i18n::Texts::embedded(&config.site.default_language));
        Self {
            texts,
            templates: Arc::new(crate::render::templates()),
            calendar,
            numbering,
            throttle: Throttle::default(),
            clock: Clock::default(),
            secure_cookies: base_url.starts_with("https://"),
            base_url,
            from,
            files: Arc::new(crate::files::DirFiles::new(attachments_dir)),
            store,
            kick: Kick::default(),
            config: Arc::new(config),
            secret: crate::auth::Secret::random(),
            content_dir: None,
            hashing: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            )),
        }
    }

    /// Keeps attachments elsewhere than the default folder (S3 on AWS).
    pub fn with_files(mut self, files: Arc<dyn crate::files::Files>) -> Self {
        self.files = files;
        self
    }

    /// Uses texts read from a `content/` folder instead of the ones compiled in.
    pub fn with_texts(mut self, texts: crate::i18n::Texts) -> Self {
        self.texts = Arc::new(texts);
        self
    }

    /// Writes FAQ drafts into this `content/` folder.
    pub fn with_content_dir(mut self, dir: PathBuf) -> Self {
        self.content_dir = Some(dir);
        self
    }

    /// Signs with this key (`HELPDESK_SECRET`) instead of a random one made at start-up, so
    /// that links stay valid across restarts and instances.
    pub fn with_secret(mut self, secret: &[u8]) -> Self {
        self.secret = crate::auth::Secret::new(secret);
        self
    }

    /// The CSRF token of the session whose cookie holds `session_secret`.
    pub fn session_csrf(&self, session_secret: &str) -> String {
        use base64::Engine as _;
        use hmac::Mac as _;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(self.secret.as_bytes()).expect("any key length");
        mac.update(b"csrf\n");
        mac.update(session_secret.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// The language of the request being handled (the default one outside a request).
    pub fn lang(&self) -> crate::i18n::Language {
        crate::i18n::current(&self.texts)
    }

    /// The language a ticket's mails are written in.
    pub fn ticket_lang(&self, t: &Ticket) -> crate::i18n::Language {
        self.texts.or_default(Some(&t.lang)).clone()
    }

    /// A mail in `lang`: `mail/<template>.<lang>.txt` and `.html`.
    fn mail_in(
        &self,
        lang: &crate::i18n::Language,
        to: &str,
        subject: String,
        template: &str,
        ctx: minijinja::Value,
    ) -> Result<OutgoingMail, ServiceError> {
        let (text, html) = crate::render::mail(&self.templates, template, lang, ctx)?;
        let draft = Draft { from: self.from.clone(), to: to.to_owned(), subject, text, html, ..Draft::default() };
        Ok(compose(&draft, self.clock.now())?)
    }

    pub fn sector_name(&self, sector: &str) -> String {
        let lang = self.lang().code;
        self.config.sectors.iter().find(|s| s.id == sector).map(|s| s.name.get(&lang).to_owned()).unwrap_or_default()
    }

    pub fn subtopic_name(&self, sector: &str, subtopic: &str) -> String {
        self.config
            .sectors
            .iter()
            .find(|s| s.id == sector)
            .and_then(|s| s.subtopics.iter().find(|t| t.id == subtopic))
            .map(|t| t.name.get(&self.lang().code).to_owned())
            .unwrap_or_default()
    }

    pub fn level_name(&self, level: &str) -> String {
        let lang = self.lang().code;
        self.config
            .support_levels
            .iter()
            .find(|l| l.id == level)
            .map(|l| l.name.get(&lang).to_owned())
            .unwrap_or_else(|| level.to_owned())
    }

    /// The helpdesk.toml agent a staff account is (matched by e-mail address).
    pub fn agent_of(&self, user: &User) -> Option<&site_builder::config::Agent> {
        self.config.agents.iter().find(|a| a.email.eq_ignore_ascii_case(&user.email))
    }

    /// The due day of a question that comes in now.
    pub fn due_from_now(&self) -> chrono::NaiveDate {
        self.calendar.due_date(self.clock.now(), self.config.tickets.target_working_days)
    }

    /// Writes a change to `before` (made into `after`, one version up), with its history entry
    /// and mails; `Stale` when someone else changed the ticket first.
    async fn save(
        &self,
        before: &Ticket,
        mut after: Ticket,
        message: Option<Message>,
        mails: Vec<OutgoingMail>,
    ) -> Result<Ticket, ServiceError> {
        after.version = before.version + 1;
        after.updated = self.clock.now();
        match self.store.update_ticket(before.state, &after, message.as_ref(), &mails).await {
            Ok(()) => {
                if !mails.is_empty() {
                    self.kick.kick();
                }
                Ok(after)
            }
            Err(StoreError::Stale) => Err(ServiceError::Stale),
            Err(e) => Err(e.into()),
        }
    }

    /// A history entry on `ticket` by `author` (None: the service itself).
    fn message(&self, ticket: &str, kind: MessageKind, author: Option<&User>, body: String) -> Message {
        Message {
            id: crate::auth::random_token(12),
            ticket: ticket.to_owned(),
            kind,
            author_id: author.map(|u| u.id.clone()),
            author_name: author.map(|u| u.name.clone()).unwrap_or_else(|| self.config.site.name.clone()),
            body,
            attachments: vec![],
            created: self.clock.now(),
            event: None,
            original: None,
        }
    }

    fn event(&self, ticket: &str, author: Option<&User>, event: TicketEvent) -> Message {
        Message { event: Some(event), ..self.message(ticket, MessageKind::Event, author, String::new()) }
    }
}
