//! Mail to the helpdesk: a subscriber's mail becomes a ticket (acknowledged at once, threaded to
//! their message), a reply to the helpdesk's mail is added to its ticket, a stranger gets one
//! polite explanation a day, and machines (auto-replies, bounces, lists) get nothing.
//!
//! Every way mail comes in ends here: `helpdesk admin ingest-mail`, the `inbox/` folder and
//! IMAP on one machine, the SES receipt rule on AWS.

use chrono::DateTime;
use minijinja::context;

use super::{Service, ServiceError, TicketDraft};
use crate::auth::{random_token, sha256_hex};
use crate::mail::inbound::{self, InboundMail};
use crate::mail::{Draft, compose};
use crate::model::*;

/// What became of an incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A new ticket, acknowledged.
    NewTicket(String),
    /// Added to this existing ticket.
    Added(String),
    /// The same message was handled before.
    Duplicate,
    /// Not from a subscriber: `replied` is false when they were told already today.
    UnknownSender { replied: bool },
    /// Not for a ticket (a machine wrote it, or helpdesk staff); nothing is sent back.
    Ignored(&'static str),
}

impl std::fmt::Display for Received {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Received::NewTicket(n) => write!(f, "new ticket {n}"),
            Received::Added(n) => write!(f, "added to ticket {n}"),
            Received::Duplicate => write!(f, "already received"),
            Received::UnknownSender { replied: true } => write!(f, "unknown sender: told how to get access"),
            Received::UnknownSender { replied: false } => write!(f, "unknown sender: already told today"),
            Received::Ignored(why) => write!(f, "ignored: {why}"),
        }
    }
}

/// A mail a ticket answers (to thread the acknowledgement to it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailRef {
    pub message_id: String,
    pub references: Vec<String>,
}

/// How long a received Message-ID is remembered against duplicates.
const SEEN_FOR: chrono::Duration = chrono::Duration::days(180);
/// A subject longer than the form allows is cut here.
const MAX_SUBJECT: usize = 150;

impl Service {
    /// The helpdesk's own addresses: mail from them (or naming them in X-Loop) is a loop.
    pub fn own_addresses(&self) -> Vec<String> {
        let mut own = vec![self.config.site.support_email.to_lowercase()];
        if let Ok(m) = self.from.parse::<lettre::message::Mailbox>() {
            own.push(m.email.to_string().to_lowercase());
        }
        own.dedup();
        own
    }

    /// Handles one incoming message (raw RFC 5322). `Err` only for a message that cannot be
    /// read (`Invalid`) or a failure of the store or file storage: then nothing was kept and
    /// the same message can be offered again.
    pub async fn receive_mail(&self, raw: &[u8]) -> Result<Received, ServiceError> {
        let mail = inbound::parse(raw, &self.own_addresses()).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        if let Some(reason) = mail.machine {
            tracing::info!(from = %mail.from, reason, "incoming mail from a machine: no ticket, no reply");
            return Ok(Received::Ignored(reason));
        }
        // The same message twice (a retried delivery, a mail client that sends again): once.
        let seen = format!("mail-in:{}", sha256_hex(mail.message_id.as_deref().unwrap_or(&sha256_hex(raw))));
        if self.store.hit(&seen, DateTime::UNIX_EPOCH, self.clock.now() + SEEN_FOR).await? > 1 {
            tracing::info!(from = %mail.from, "incoming mail received before");
            return Ok(Received::Duplicate);
        }
        let outcome = self.receive_new(&mail, raw, &seen).await;
        match &outcome {
            Ok(done) => tracing::info!(from = %mail.from, outcome = %done, "incoming mail"),
            // Not kept: the next delivery of the same message must be handled, not skipped.
            Err(e) => {
                tracing::warn!(from = %mail.from, error = %e, "incoming mail could not be handled");
                let _ = self.store.unhit(&seen, DateTime::UNIX_EPOCH).await;
            }
        }
        outcome
    }

    async fn receive_new(&self, mail: &InboundMail, raw: &[u8], seen: &str) -> Result<Received, ServiceError> {
        let user = match self.store.user_by_email(&mail.from).await? {
            Some(u) if u.active && u.role == Role::Subscriber => u,
            Some(u) if u.active => {
                return Ok(Received::Ignored("sent by helpdesk staff (answer in the agent workspace)"));
            }
            _ => return self.answer_stranger(mail).await,
        };
        let target = match self.mail_thread(mail).await? {
            Some(t) if self.may_see(&user, &t).await? => Some(t),
            _ => None,
        };
        let original = self.keep_original(raw).await?;
        let (body, attachments) = self.mail_content(mail).await?;
        if let Some(t) = target.as_ref().filter(|t| t.state != TicketState::Closed) {
            match self.reply_with(t, &user, body.clone(), attachments.clone(), Some(original.clone())).await {
                Ok(t) => {
                    self.remember_incoming(mail, &t.number).await;
                    return Ok(Received::Added(t.number));
                }
                // Closed in the meantime: the mail follows it up as a new ticket.
                Err(ServiceError::NotNow(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let org = self.store.org(&user.org_id).await?;
        let draft = TicketDraft {
            sector: org.map(|o| o.sector).unwrap_or_default(),
            subtopic: String::new(),
            subject: self.mail_subject(&mail.subject),
            preferred_agent: None,
            administration: self.mail_administration(mail),
            description: body,
            attachments,
            submission_id: seen.to_owned(),
            channel: Channel::Email,
            follows: target.map(|t| t.number),
            answers_mail: mail
                .message_id
                .clone()
                .map(|message_id| MailRef { message_id, references: mail.references.clone() }),
            original: Some(original),
            origin: None,
        };
        let (ticket, _) = self.create_ticket(draft, &user).await?;
        self.remember_incoming(mail, &ticket.number).await;
        Ok(Received::NewTicket(ticket.number))
    }

    /// The ticket a reply belongs to: by the mail it answers, else by a number in the subject.
    async fn mail_thread(&self, mail: &InboundMail) -> Result<Option<Ticket>, ServiceError> {
        let mut ids = Vec::new();
        for r in &mail.refs {
            ids.push(r.clone());
            // SES gives its messages the id `<provider id>@<region>.amazonses.com`.
            if let Some((local, domain)) = r.split_once('@')
                && domain.ends_with("amazonses.com")
            {
                ids.push(local.to_owned());
            }
        }
        if let Some(number) = self.store.ticket_by_mail_id(&ids).await?
            && let Some(t) = self.store.ticket(&number).await?
        {
            return Ok(Some(t));
        }
        for word in mail.subject.split(|c: char| c.is_whitespace() || "[](){}<>:;,\"'".contains(c)) {
            if word.is_empty() || !self.numbering.looks_like(word) {
                continue;
            }
            for candidate in [word.to_owned(), word.to_uppercase()] {
                if let Some(t) = self.store.ticket(&candidate).await? {
                    return Ok(Some(t));
                }
            }
        }
        Ok(None)
    }

    /// The sender's own Message-ID leads to the ticket too (a colleague answering to all).
    async fn remember_incoming(&self, mail: &InboundMail, number: &str) {
        if let Some(id) = &mail.message_id
            && let Err(e) = self.store.remember_mail_ids(std::slice::from_ref(id), number).await
        {
            tracing::warn!(ticket = number, error = %e, "cannot remember an incoming mail's id");
        }
    }

    /// Keeps the message as it arrived, for agents.
    async fn keep_original(&self, raw: &[u8]) -> Result<Attachment, ServiceError> {
        let id = random_token(12);
        self.files
            .put(&id, "message/rfc822", raw.to_vec())
            .await
            .map_err(|e| ServiceError::Invalid(format!("keeping the original message: {e}")))?;
        Ok(Attachment {
            id,
            filename: "original.eml".into(),
            content_type: "message/rfc822".into(),
            size: raw.len() as u64,
        })
    }

    /// The text the thread shows and the attachments the form would also accept; what is left
    /// out is said at the end of the text (the original message still has it).
    async fn mail_content(&self, mail: &InboundMail) -> Result<(String, Vec<Attachment>), ServiceError> {
        let lang = self.lang();
        let mut body = if inbound::is_forward(&mail.subject, &mail.text) {
            mail.text.clone()
        } else {
            inbound::visible_part(&mail.text)
        };
        if body.len() > super::MAX_TEXT {
            let mut end = super::MAX_TEXT - 100;
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            body.truncate(end);
            body.push_str("\n\n");
            body.push_str(&lang.get("mail_in_text_cut"));
        }
        if body.trim().is_empty() {
            body = lang.get("mail_in_no_text");
        }
        let mut kept = Vec::new();
        let mut left_out = Vec::new();
        for file in &mail.attachments {
            if let Some(problem) = self.attachment_problem(&file.filename, file.bytes.len() as u64) {
                left_out.push(problem);
                continue;
            }
            let id = random_token(12);
            self.files
                .put(&id, &file.content_type, file.bytes.clone())
                .await
                .map_err(|e| ServiceError::Invalid(format!("keeping an attachment: {e}")))?;
            kept.push(Attachment {
                id,
                filename: file.filename.clone(),
                content_type: file.content_type.clone(),
                size: file.bytes.len() as u64,
            });
        }
        if !left_out.is_empty() {
            body.push_str("\n\n");
            body.push_str(&lang.get("mail_in_files_left_out"));
            for problem in left_out {
                body.push_str("\n- ");
                body.push_str(&problem);
            }
        }
        Ok((body, kept))
    }

    /// A new ticket's subject from a mail's: without reply prefixes, never empty, not too long.
    fn mail_subject(&self, subject: &str) -> String {
        let mut s = subject.trim();
        loop {
            let lower = s.to_lowercase();
            let Some(prefix) = ["re:", "antw:", "aw:", "sv:", "ref:"].iter().find(|p| lower.starts_with(*p)) else {
                break;
            };
            s = s[prefix.len()..].trim_start();
        }
        let s: String = s.chars().filter(|c| !c.is_control()).take(MAX_SUBJECT).collect();
        if s.trim().is_empty() { self.lang().get("mail_in_no_subject") } else { s.trim().to_owned() }
    }

    /// The administration a "Contact HelpDesk" link put in the mail: the plus-address
    /// `support+<administration>@...`, else a subject tag `[administratie: <administration>]`
    /// (or `[administration: ...]`). Only a plain value is taken.
    fn mail_administration(&self, mail: &InboundMail) -> Option<String> {
        let own: Vec<(String, String)> = self
            .own_addresses()
            .iter()
            .filter_map(|a| a.split_once('@').map(|(l, d)| (l.to_owned(), d.to_owned())))
            .collect();
        let plus = mail.recipients.iter().find_map(|r| {
            let (local, domain) = r.split_once('@')?;
            let (base, tag) = local.split_once('+')?;
            own.iter()
                .any(|(l, d)| l == base && d == domain)
                .then(|| tag.to_owned())
                .filter(|t| valid_administration(t))
        });
        plus.or_else(|| {
            let bytes = mail.subject.as_bytes();
            let start = ["[administratie:", "[administration:"].iter().find_map(|tag| {
                let at = bytes.windows(tag.len()).position(|w| w.eq_ignore_ascii_case(tag.as_bytes()))?;
                Some(at + tag.len())
            })?;
            // The tag is ASCII: right after it is a character boundary.
            let rest = &mail.subject[start..];
            let value = rest[..rest.find(']')?].trim();
            valid_administration(value).then(|| value.to_owned())
        })
    }

    /// Someone the helpdesk does not know: one explanation per address per day, nothing kept.
    async fn answer_stranger(&self, mail: &InboundMail) -> Result<Received, ServiceError> {
        let now = self.clock.now();
        let day = now.date_naive().and_hms_opt(0, 0, 0).map(|d| d.and_utc()).unwrap_or(now);
        let key = format!("mail-stranger:{}", sha256_hex(&mail.from));
        if self.store.hit(&key, day, day + chrono::Duration::days(1)).await? > 1 {
            return Ok(Received::UnknownSender { replied: false });
        }
        let lang = self.lang();
        let ctx = context! { site => self.config.site, name => mail.from_name, portal => format!("{}/portal", self.base_url) };
        let (text, html) = crate::render::mail(&self.templates, "stranger", &lang, ctx)?;
        let draft = Draft {
            from: self.from.clone(),
            to: mail.from.clone(),
            subject: lang.fill("mail_subject_stranger", &[("subject", &mail.subject)]),
            text,
            html,
            in_reply_to: mail.message_id.clone(),
            references: mail.references.clone(),
            ticket: None,
            auto_reply: true,
        };
        let out = compose(&draft, now)?;
        self.store.enqueue_mail(&out).await?;
        self.kick.kick();
        Ok(Received::UnknownSender { replied: true })
    }
}

/// An administration as a host application may pass it: letters, digits, spaces, `.`, `_`,
/// `-`, at most 40 characters, not starting or ending with a space. Anything else (markup,
/// control characters, something longer) is not taken.
pub fn valid_administration(s: &str) -> bool {
    s.chars().count() <= 40
        && !s.is_empty()
        && s.trim() == s
        && s.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-'))
}
