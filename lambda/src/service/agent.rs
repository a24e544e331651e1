//! The helpdesk's side of a ticket. Every action is one versioned write of the ticket with its
//! history entry (who, when, what) and the mails it causes: two agents acting on one ticket at
//! once never overwrite each other; the second is told (`ServiceError::Stale`).

use minijinja::context;

use super::{MAX_TEXT, Service, ServiceError, TicketDraft};
use crate::model::*;

/// What an agent does to a ticket. `version` is the ticket's version the agent saw.
#[derive(Debug, Clone)]
pub enum AgentAction {
    /// An answer for the subscriber: shown in the portal, e-mailed, and the ticket becomes
    /// resolved (unless `keep_open`).
    Answer {
        body: String,
        keep_open: bool,
    },
    /// For colleagues only: never shown to or mailed to the subscriber.
    Note {
        body: String,
    },
    /// To an agent (a `helpdesk.toml` agent id), or to nobody.
    Assign {
        agent: Option<String>,
    },
    State {
        state: TicketState,
    },
    /// To the next support level.
    Escalate,
    /// Files the ticket under a sector and subtopic (a mail or call comes in without them).
    Categorise {
        sector: String,
        subtopic: String,
    },
}

impl Service {
    /// Applies `action` by `agent` to the ticket as it was at `version`.
    pub async fn act(
        &self,
        ticket: &Ticket,
        version: u64,
        agent: &User,
        action: AgentAction,
    ) -> Result<Ticket, ServiceError> {
        if !agent.role.is_staff() {
            return Err(ServiceError::Invalid("only the helpdesk acts on tickets".into()));
        }
        if version != ticket.version {
            return Err(ServiceError::Stale);
        }
        let mut t = ticket.clone();
        let now = self.clock.now();
        let (message, mails) = match action {
            AgentAction::Answer { body, keep_open } => {
                let body = checked_text(body)?;
                let answer = self.message(&t.number, MessageKind::Answer, Some(agent), body);
                t.first_answer.get_or_insert(now);
                if t.assignee.is_none() {
                    t.assignee = self.agent_of(agent).map(|a| a.id.clone());
                }
                if keep_open {
                    t.state = TicketState::InProgress;
                } else {
                    t.state = TicketState::Resolved;
                    t.resolved_at = Some(now);
                }
                let mail = self.answer_mail(&t, &answer)?;
                (answer, vec![mail])
            }
            AgentAction::Note { body } => {
                (self.message(&t.number, MessageKind::Note, Some(agent), checked_text(body)?), vec![])
            }
            AgentAction::Assign { agent: to } => {
                if let Some(id) = &to
                    && !self.config.agents.iter().any(|a| &a.id == id)
                {
                    return Err(ServiceError::Invalid(format!("no agent `{id}`")));
                }
                if t.assignee == to {
                    return Ok(t);
                }
                t.assignee = to.clone();
                if to.is_some() && t.state == TicketState::Open {
                    t.state = TicketState::InProgress;
                }
                (self.event(&t.number, Some(agent), TicketEvent::Assigned { agent: to }), vec![])
            }
            AgentAction::State { state } => {
                if state == t.state {
                    return Ok(t);
                }
                let from = t.state;
                t.state = state;
                match state {
                    TicketState::Resolved => t.resolved_at = Some(now),
                    TicketState::Open | TicketState::InProgress if !ticket.in_queue() => {
                        // Back in the queue: a new target from now.
                        t.resolved_at = None;
                        t.due = self.due_from_now();
                    }
                    _ => {}
                }
                (self.event(&t.number, Some(agent), TicketEvent::State { from, to: state }), vec![])
            }
            AgentAction::Escalate => {
                let levels = &self.config.support_levels;
                let at = levels.iter().position(|l| l.id == t.level);
                let Some(next) =
                    at.and_then(|i| levels.get(i + 1)).or_else(|| at.is_none().then(|| levels.first()).flatten())
                else {
                    return Err(ServiceError::NotNow("highest level"));
                };
                let from = std::mem::replace(&mut t.level, next.id.clone());
                // The next level picks it up: nobody holds it any more.
                t.assignee = None;
                if t.state == TicketState::InProgress {
                    t.state = TicketState::Open;
                }
                (self.event(&t.number, Some(agent), TicketEvent::Escalated { from, to: next.id.clone() }), vec![])
            }
            AgentAction::Categorise { sector, subtopic } => {
                let known = self
                    .config
                    .sectors
                    .iter()
                    .find(|s| s.id == sector)
                    .is_some_and(|s| s.subtopics.iter().any(|x| x.id == subtopic));
                if !known {
                    return Err(ServiceError::Invalid("unknown sector or subtopic".into()));
                }
                t.sector.clone_from(&sector);
                t.subtopic.clone_from(&subtopic);
                (self.event(&t.number, Some(agent), TicketEvent::Categorised { sector, subtopic }), vec![])
            }
        };
        self.save(ticket, t, Some(message), mails).await
    }

    /// The answer e-mail: the number in the subject, the answer, a link to the ticket and the
    /// one-click rating links, in the ticket's language.
    fn answer_mail(&self, t: &Ticket, answer: &Message) -> Result<OutgoingMail, ServiceError> {
        let lang = self.ticket_lang(t);
        let token = self.evaluation_token(&t.number, &answer.id, self.clock.now());
        let ratings: Vec<minijinja::Value> = Rating::ALL
            .iter()
            .map(|r| {
                context! {
                    id => r.as_str(),
                    label => lang.get(&format!("mail_rating_{}", r.as_str())),
                    link => format!("{}/evaluate/{token}?rating={}", self.base_url, r.as_str()),
                }
            })
            .collect();
        let mut mail = self.mail_in(
            &lang,
            &t.requester_email,
            lang.fill("mail_subject_answer", &[("number", &t.number), ("subject", &t.subject)]),
            "answer",
            context! {
                ticket => t, site => self.config.site, answer => answer,
                link => format!("{}/portal/tickets/{}", self.base_url, super::urlencode(&t.number)),
                ratings => ratings,
                close_days => self.config.tickets.auto_close_days,
            },
        )?;
        // A reply to the answer is added to this ticket.
        mail.ticket = Some(t.number.clone());
        Ok(mail)
    }

    /// Registers a phone call as a ticket for `requester`, written down by `agent`; with an
    /// answer given on the phone, the ticket is answered (and resolved) at once.
    pub async fn log_call(
        &self,
        agent: &User,
        requester: &User,
        draft: TicketDraft,
        answer: Option<String>,
    ) -> Result<Ticket, ServiceError> {
        let draft = TicketDraft { channel: Channel::Phone, ..draft };
        let (ticket, _) = self.create_ticket_by(draft, requester, agent).await?;
        let mut t = ticket.clone();
        let m = self.event(&t.number, Some(agent), TicketEvent::PhoneCall);
        t.assignee = self.agent_of(agent).map(|a| a.id.clone());
        let t = self.save(&ticket, t, Some(m), vec![]).await?;
        match answer.filter(|a| !a.trim().is_empty()) {
            Some(body) => self.act(&t, t.version, agent, AgentAction::Answer { body, keep_open: false }).await,
            None => Ok(t),
        }
    }

    /// Closes resolved tickets that nobody reacted to for `auto_close_days`. Returns how many.
    /// Runs on a schedule (every few minutes on `serve`, the scheduled function on AWS).
    pub async fn close_quiet_tickets(&self) -> Result<usize, ServiceError> {
        let cutoff = self.clock.now() - chrono::Duration::days(self.config.tickets.auto_close_days.into());
        let mut closed = 0;
        loop {
            let q = QueueQuery { state: Some(TicketState::Resolved), limit: 100, ..Default::default() };
            let page = self.store.queue(&q).await?;
            let quiet: Vec<&Ticket> =
                page.items.iter().filter(|t| t.resolved_at.unwrap_or(t.updated) <= cutoff).collect();
            let before = closed;
            for t in quiet {
                let mut after = t.clone();
                after.state = TicketState::Closed;
                let m = self.event(&t.number, None, TicketEvent::AutoClosed);
                match self.save(t, after, Some(m), vec![]).await {
                    Ok(_) => closed += 1,
                    // Someone reacted just now: it stays.
                    Err(ServiceError::Stale) => {}
                    Err(e) => return Err(e),
                }
            }
            if closed == before {
                return Ok(closed);
            }
        }
    }
}

/// A text an agent sends: not empty, not longer than the form allows.
fn checked_text(body: String) -> Result<String, ServiceError> {
    if body.trim().is_empty() {
        Err(ServiceError::Invalid("empty".into()))
    } else if body.len() > MAX_TEXT {
        Err(ServiceError::Invalid("too long".into()))
    } else {
        Ok(body)
    }
}
