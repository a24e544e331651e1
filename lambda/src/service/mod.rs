//! The service's shared state and the ticket logic that every entry point (portal form,
//! e-mail, agent) goes through.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use minijinja::{Environment, context};
use site_builder::HelpdeskConfig;

use crate::auth::{Throttle, random_token, sha256_hex};
use crate::calendar::Calendar;
use crate::mail::{Draft, Kick, MailError, compose};
use crate::model::*;
use crate::store::{NewTicket, Store, StoreError};

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
}

pub const INVITE_VALID: chrono::Duration = chrono::Duration::days(7);
pub const RESET_VALID: chrono::Duration = chrono::Duration::hours(1);
pub const SESSION_VALID: chrono::Duration = chrono::Duration::days(7);

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
}

impl Service {
    pub fn new(
        config: HelpdeskConfig,
        store: Arc<dyn Store>,
        base_url: String,
        from: String,
        attachments_dir: PathBuf,
    ) -> Self {
        let calendar = Calendar::new(config.holidays.clone());
        let numbering = Numbering::new(config.tickets.number_format.clone());
        let base_url = base_url.trim_end_matches('/').to_owned();
        let texts = Arc::new(crate::i18n::Texts::embedded(&config.site.default_language));
        let templates = Arc::new(crate::web::templates());
        let _ = crate::web::ERROR_CONTEXT.set(crate::web::ErrorContext {
            site: crate::web::site_value(&config.site),
            texts: texts.clone(),
            templates: templates.clone(),
        });
        Self {
            texts,
            templates,
            calendar,
            numbering,
            throttle: Throttle::default(),
            secure_cookies: base_url.starts_with("https://"),
            base_url,
            from,
            files: Arc::new(crate::files::DirFiles::new(attachments_dir)),
            store,
            kick: Kick::default(),
            config: Arc::new(config),
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

    /// The language of the request being handled (the default one outside a request).
    pub fn lang(&self) -> crate::i18n::Language {
        crate::i18n::current(&self.texts)
    }

    /// A mail in the current language: `mail/<template>.<lang>.txt` and `.html`.
    fn mail(
        &self,
        to: &str,
        subject: String,
        template: &str,
        ctx: minijinja::Value,
    ) -> Result<OutgoingMail, ServiceError> {
        let (text, html) = render_mail(&self.templates, template, &self.lang(), ctx)?;
        let draft = Draft { from: self.from.clone(), to: to.to_owned(), subject, text, html, in_reply_to: None };
        Ok(compose(&draft, Utc::now())?)
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

    /// Creates a user with no password and e-mails the invitation (set-password link).
    /// Returns the user and the link.
    pub async fn invite(&self, email: &str, name: &str, org: &Org, role: Role) -> Result<(User, String), ServiceError> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') || email.parse::<lettre::Address>().is_err() {
            return Err(ServiceError::Invalid(format!("not an e-mail address: {email}")));
        }
        let user = User {
            id: random_token(12),
            email: email.clone(),
            name: if name.trim().is_empty() {
                email.split('@').next().unwrap_or_default().to_owned()
            } else {
                name.trim().to_owned()
            },
            org_id: org.id.clone(),
            role,
            password_hash: None,
            created: Utc::now(),
        };
        self.store.create_user(&user).await?;
        let link = self.issue_link(&user, TokenKind::Invite, "invite", INVITE_VALID).await?;
        let mail = self.mail(
            &user.email,
            self.lang().fill("mail_subject_invite", &[("site", &self.config.site.name)]),
            "invite",
            context! { user => user, org => org, link => link, site => self.config.site, days => INVITE_VALID.num_days() },
        )?;
        self.store.enqueue_mail(&mail).await?;
        self.kick.kick();
        Ok((user, link))
    }

    /// Sends a password-reset link if the address belongs to an account; says nothing either way.
    pub async fn forgot_password(&self, email: &str) -> Result<(), ServiceError> {
        let Some(user) = self.store.user_by_email(email.trim()).await? else { return Ok(()) };
        let link = self.issue_link(&user, TokenKind::Reset, "password/reset", RESET_VALID).await?;
        let mail = self.mail(
            &user.email,
            self.lang().fill("mail_subject_reset", &[("site", &self.config.site.name)]),
            "reset",
            context! { user => user, link => link, site => self.config.site, minutes => RESET_VALID.num_minutes() },
        )?;
        self.store.enqueue_mail(&mail).await?;
        self.kick.kick();
        Ok(())
    }

    async fn issue_link(
        &self,
        user: &User,
        kind: TokenKind,
        path: &str,
        valid: chrono::Duration,
    ) -> Result<String, ServiceError> {
        let secret = random_token(32);
        let token = Token {
            hash: sha256_hex(&secret),
            kind,
            user_id: user.id.clone(),
            ticket: None,
            expires: Utc::now() + valid,
        };
        self.store.put_token(&token).await?;
        Ok(format!("{}/{path}/{secret}", self.base_url))
    }

    /// Stores a new ticket with its number, first message and acknowledgement e-mail.
    pub async fn create_ticket(&self, draft: TicketDraft, requester: &User) -> Result<(Ticket, bool), ServiceError> {
        let now = Utc::now();
        let due = self.calendar.add_working_days(
            now.with_timezone(&chrono_tz::Europe::Amsterdam).date_naive(),
            self.config.tickets.target_working_days,
        );
        let first_level = self.config.support_levels.first().map(|l| l.id.clone()).unwrap_or_default();
        let ticket = Ticket {
            number: String::new(),
            seq: 0,
            org_id: requester.org_id.clone(),
            requester_id: requester.id.clone(),
            requester_email: requester.email.clone(),
            requester_name: requester.name.clone(),
            sector: draft.sector,
            subtopic: draft.subtopic,
            subject: draft.subject,
            preferred_agent: draft.preferred_agent,
            administration: draft.administration,
            state: TicketState::Open,
            level: first_level,
            assignee: None,
            created: now,
            updated: now,
            due,
            lang: self.lang().code,
        };
        let first = Message {
            id: random_token(12),
            ticket: String::new(),
            kind: MessageKind::Customer,
            author_id: Some(requester.id.clone()),
            author_name: requester.name.clone(),
            body: draft.description,
            attachments: draft.attachments,
            created: now,
        };
        // The acknowledgement is composed inside the store's transaction, once the number is
        // known, so that the ticket and its e-mail are stored together or not at all.
        let ack = self.ack_builder(&first.body);
        let new = NewTicket { ticket, first, idempotency_key: format!("{}:{}", requester.id, draft.submission_id) };
        let (ticket, created) = self.store.create_ticket(new, &self.numbering, ack).await?;
        if created {
            self.kick.kick();
        }
        Ok((ticket, created))
    }

    fn ack_builder(&self, description: &str) -> crate::store::MailsFor {
        // Everything the closure needs, owned: it runs inside the store (maybe on another thread,
        // outside the request, so the language goes along).
        let lang = self.lang();
        let templates = self.templates.clone();
        let config = self.config.clone();
        let from = self.from.clone();
        let base_url = self.base_url.clone();
        let summary = site_builder::build::summary(description, 600);
        Box::new(move |t: &Ticket| {
            let sector = config.sectors.iter().find(|s| s.id == t.sector);
            let subtopic = sector.and_then(|s| s.subtopics.iter().find(|x| x.id == t.subtopic));
            let ctx = context! {
                ticket => t, site => config.site, summary => summary,
                link => format!("{base_url}/portal/tickets/{}", urlencode(&t.number)),
                due => site_builder::build::format_date(&lang.code, t.due),
                sector => sector.map(|s| s.name.get(&lang.code)), subtopic => subtopic.map(|s| s.name.get(&lang.code)),
            };
            match render_mail(&templates, "ack", &lang, ctx) {
                Ok((text, html)) => {
                    let draft = Draft {
                        from: from.clone(),
                        to: t.requester_email.clone(),
                        subject: lang.fill("mail_subject_ack", &[("number", &t.number), ("subject", &t.subject)]),
                        text,
                        html,
                        in_reply_to: None,
                    };
                    match compose(&draft, Utc::now()) {
                        Ok(mail) => vec![mail],
                        Err(e) => {
                            tracing::error!(ticket = %t.number, error = %e, "cannot compose the acknowledgement");
                            vec![]
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(ticket = %t.number, error = %e, "cannot render the acknowledgement");
                    vec![]
                }
            }
        })
    }

    /// Whether `user` may see `ticket`: staff see all; a subscriber sees their own, and their
    /// organisation's when it shares tickets.
    pub async fn may_see(&self, user: &User, ticket: &Ticket) -> Result<bool, ServiceError> {
        if user.role.is_staff() || ticket.requester_id == user.id {
            return Ok(true);
        }
        if ticket.org_id != user.org_id {
            return Ok(false);
        }
        Ok(self.store.org(&user.org_id).await?.is_some_and(|o| o.share_tickets))
    }

    /// A subscriber's reply: reopens a resolved ticket.
    pub async fn reply(
        &self,
        ticket: &Ticket,
        user: &User,
        body: String,
        attachments: Vec<Attachment>,
    ) -> Result<Ticket, ServiceError> {
        let now = Utc::now();
        let mut t = ticket.clone();
        if t.state == TicketState::Resolved || t.state == TicketState::Closed {
            t.state = TicketState::Open;
        }
        t.updated = now;
        let m = Message {
            id: random_token(12),
            ticket: t.number.clone(),
            kind: MessageKind::Customer,
            author_id: Some(user.id.clone()),
            author_name: user.name.clone(),
            body,
            attachments,
            created: now,
        };
        self.store.update_ticket(&t, Some(&m), &[]).await?;
        Ok(t)
    }

    pub async fn close(&self, ticket: &Ticket, user: &User) -> Result<Ticket, ServiceError> {
        let now = Utc::now();
        let mut t = ticket.clone();
        t.state = TicketState::Closed;
        t.updated = now;
        let m = Message {
            id: random_token(12),
            ticket: t.number.clone(),
            kind: MessageKind::Event,
            author_id: Some(user.id.clone()),
            author_name: user.name.clone(),
            body: "closed".into(),
            attachments: vec![],
            created: now,
        };
        self.store.update_ticket(&t, Some(&m), &[]).await?;
        Ok(t)
    }
}

/// What the form (or an e-mail) supplies for a new ticket.
#[derive(Debug, Clone, Default)]
pub struct TicketDraft {
    pub sector: String,
    pub subtopic: String,
    pub subject: String,
    pub preferred_agent: Option<String>,
    pub administration: Option<String>,
    pub description: String,
    pub attachments: Vec<Attachment>,
    /// Random per rendered form: the same form submitted twice is one ticket.
    pub submission_id: String,
}

/// A mail's text and HTML parts in `lang`: `mail/<name>.<lang>.txt` and `.html` (the default
/// language's templates when `lang` has none), with `lang` and its texts `t` in the context.
fn render_mail(
    templates: &Environment<'static>,
    name: &str,
    lang: &crate::i18n::Language,
    ctx: minijinja::Value,
) -> Result<(String, String), minijinja::Error> {
    let ctx = context! { lang => lang.code, t => lang.value(), ..ctx };
    let part = |ext: &str| {
        let own = format!("mail/{name}.{}.{ext}", lang.code);
        let tpl = templates.get_template(&own).or_else(|_| templates.get_template(&format!("mail/{name}.nl.{ext}")))?;
        tpl.render(ctx.clone())
    };
    Ok((part("txt")?, part("html")?))
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
