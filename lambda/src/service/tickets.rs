//! A subscriber's side of a ticket: filing it (number, first message and acknowledgement in one
//! write), following up, closing, and who may see it.

use minijinja::context;

use super::{Service, ServiceError};
use crate::auth::random_token;
use crate::mail::{Draft, compose};
use crate::model::*;
use crate::store::NewTicket;

/// What the form (or an e-mail, or an agent's phone note) supplies for a new ticket.
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
    pub channel: Channel,
    /// The closed ticket this one follows up.
    pub follows: Option<String>,
    /// The mail the ticket came in with: the acknowledgement answers it.
    pub answers_mail: Option<super::inbound::MailRef>,
    /// That mail as it arrived (agents only).
    pub original: Option<Attachment>,
    /// The application page the question was asked from (already checked against the origins).
    pub origin: Option<String>,
}

impl Service {
    /// Stores a new ticket with its number, first message and acknowledgement e-mail.
    /// `author` wrote the first message (the requester, or the agent who took a phone call).
    pub async fn create_ticket(&self, draft: TicketDraft, requester: &User) -> Result<(Ticket, bool), ServiceError> {
        self.create_ticket_by(draft, requester, requester).await
    }

    pub(super) async fn create_ticket_by(
        &self,
        draft: TicketDraft,
        requester: &User,
        author: &User,
    ) -> Result<(Ticket, bool), ServiceError> {
        let now = self.clock.now();
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
            due: self.due_from_now(),
            lang: self.lang().code,
            version: 0,
            channel: draft.channel,
            first_answer: None,
            resolved_at: None,
            follows: draft.follows,
            origin: draft.origin,
        };
        let first = Message {
            id: random_token(12),
            ticket: String::new(),
            kind: MessageKind::Customer,
            author_id: Some(author.id.clone()),
            author_name: author.name.clone(),
            body: draft.description,
            attachments: draft.attachments,
            created: now,
            event: None,
            original: draft.original,
        };
        // The acknowledgement is composed inside the store's transaction, once the number is
        // known, so that the ticket and its e-mail are stored together or not at all.
        let ack = self.ack_builder(&first.body, draft.answers_mail);
        let new = NewTicket { ticket, first, idempotency_key: format!("{}:{}", author.id, draft.submission_id) };
        let (ticket, created) = self.store.create_ticket(new, &self.numbering, ack).await?;
        if created {
            self.kick.kick();
        }
        Ok((ticket, created))
    }

    fn ack_builder(&self, description: &str, answers: Option<super::inbound::MailRef>) -> crate::store::MailsFor {
        // Everything the closure needs, owned: it runs inside the store (maybe on another thread,
        // outside the request, so the language goes along).
        let lang = self.lang();
        let templates = self.templates.clone();
        let config = self.config.clone();
        let from = self.from.clone();
        let base_url = self.base_url.clone();
        let clock = self.clock.clone();
        let summary = site_builder::build::summary(description, 600);
        Box::new(move |t: &Ticket| {
            let sector = config.sectors.iter().find(|s| s.id == t.sector);
            let subtopic = sector.and_then(|s| s.subtopics.iter().find(|x| x.id == t.subtopic));
            let ctx = context! {
                ticket => t, site => config.site, summary => summary,
                link => format!("{base_url}/portal/tickets/{}", super::urlencode(&t.number)),
                due => site_builder::build::format_date(&lang.code, t.due),
                sector => sector.map(|s| s.name.get(&lang.code)), subtopic => subtopic.map(|s| s.name.get(&lang.code)),
            };
            let mail = crate::render::mail(&templates, "ack", &lang, ctx).map_err(|e| e.to_string()).and_then(
                |(text, html)| {
                    let draft = Draft {
                        from: from.clone(),
                        to: t.requester_email.clone(),
                        subject: lang.fill("mail_subject_ack", &[("number", &t.number), ("subject", &t.subject)]),
                        text,
                        html,
                        in_reply_to: answers.as_ref().map(|a| a.message_id.clone()),
                        references: answers.as_ref().map(|a| a.references.clone()).unwrap_or_default(),
                        ticket: Some(t.number.clone()),
                        // Sent because a mail came in: other robots must not answer it.
                        auto_reply: answers.is_some(),
                    };
                    compose(&draft, clock.now()).map_err(|e| e.to_string())
                },
            );
            match mail {
                Ok(mail) => vec![mail],
                Err(e) => {
                    tracing::error!(ticket = %t.number, error = %e, "cannot build the acknowledgement");
                    vec![]
                }
            }
        })
    }

    /// Why a file cannot be attached (to the form or a mail), if it cannot: its type or size.
    pub fn attachment_problem(&self, filename: &str, size: u64) -> Option<String> {
        let t = &self.config.tickets;
        let ext = filename.rsplit_once('.').map(|(_, e)| e.to_lowercase()).unwrap_or_default();
        if !t.attachment_types.contains(&ext) {
            Some(
                self.lang()
                    .fill("portal_err_file_type", &[("file", filename), ("types", &t.attachment_types.join(", "))]),
            )
        } else if size > u64::from(t.max_attachment_mb) * 1024 * 1024 {
            Some(
                self.lang()
                    .fill("portal_err_file_size", &[("file", filename), ("mb", &t.max_attachment_mb.to_string())]),
            )
        } else {
            None
        }
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

    /// A subscriber's reply. A resolved ticket opens again, with a new due day; a closed one
    /// takes no more replies (a new ticket can follow it up).
    pub async fn reply(
        &self,
        ticket: &Ticket,
        user: &User,
        body: String,
        attachments: Vec<Attachment>,
    ) -> Result<Ticket, ServiceError> {
        self.reply_with(ticket, user, body, attachments, None).await
    }

    /// A reply; `original` is the mail it came in (agents can open it).
    pub(super) async fn reply_with(
        &self,
        ticket: &Ticket,
        user: &User,
        body: String,
        attachments: Vec<Attachment>,
        original: Option<Attachment>,
    ) -> Result<Ticket, ServiceError> {
        let mut current = ticket.clone();
        // Someone else may change the ticket between reading and writing: read again and
        // re-apply (a reply does not depend on what changed).
        for _ in 0..5 {
            if current.state == TicketState::Closed {
                return Err(ServiceError::NotNow("closed"));
            }
            let mut t = current.clone();
            let mut m = self.message(&t.number, MessageKind::Customer, Some(user), body.clone());
            m.attachments = attachments.clone();
            m.original = original.clone();
            if t.state == TicketState::Resolved {
                t.state = TicketState::Open;
                t.resolved_at = None;
                t.due = self.due_from_now();
            }
            match self.save(&current, t, Some(m), vec![]).await {
                Err(ServiceError::Stale) => {
                    current = self.store.ticket(&ticket.number).await?.ok_or(crate::store::StoreError::NotFound)?;
                }
                other => return other,
            }
        }
        Err(ServiceError::Stale)
    }

    /// Closes the ticket (the subscriber is done with it, or an agent closes it).
    pub async fn close(&self, ticket: &Ticket, user: &User) -> Result<Ticket, ServiceError> {
        if ticket.state == TicketState::Closed {
            return Ok(ticket.clone());
        }
        let mut t = ticket.clone();
        t.state = TicketState::Closed;
        let m = self.event(&t.number, Some(user), TicketEvent::Closed);
        self.save(ticket, t, Some(m), vec![]).await
    }
}
