//! The service's records. Every record has a natural key that both stores can fetch directly:
//! organisations by id (and unique name), users by id (and unique e-mail), tickets by incident
//! number, sessions and tokens by the SHA-256 of their secret.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub id: String,
    pub name: String,
    pub sector: String,
    pub plan: String,
    /// Colleagues in this organisation see each other's tickets.
    pub share_tickets: bool,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Subscriber,
    Agent,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Subscriber => "subscriber",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "subscriber" => Some(Role::Subscriber),
            "agent" => Some(Role::Agent),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Helpdesk staff: agents and admins.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    /// Lowercased; unique.
    pub email: String,
    pub name: String,
    pub org_id: String,
    pub role: Role,
    /// argon2id PHC string; `None` until the invitation is accepted.
    pub password_hash: Option<String>,
    pub created: DateTime<Utc>,
    /// A deactivated account cannot log in (its sessions end when it is deactivated).
    #[serde(default = "yes")]
    pub active: bool,
    /// When the password was last set: reset links issued before it no longer work.
    #[serde(default)]
    pub password_changed: Option<DateTime<Utc>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Open,
    InProgress,
    Resolved,
    Closed,
}

impl TicketState {
    pub const ALL: [TicketState; 4] =
        [TicketState::Open, TicketState::InProgress, TicketState::Resolved, TicketState::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Open => "open",
            TicketState::InProgress => "in_progress",
            TicketState::Resolved => "resolved",
            TicketState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// The incident number as people quote it, e.g. `INC-2026-00042`.
    pub number: String,
    /// Position in the never-reused, gap-free sequence the number is made from.
    pub seq: u64,
    pub org_id: String,
    pub requester_id: String,
    /// Where answers go.
    pub requester_email: String,
    pub requester_name: String,
    pub sector: String,
    pub subtopic: String,
    pub subject: String,
    pub preferred_agent: Option<String>,
    pub administration: Option<String>,
    pub state: TicketState,
    /// Support level id from `helpdesk.toml` (first line first).
    pub level: String,
    pub assignee: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// The answer is expected by this day (the working-day target).
    pub due: NaiveDate,
    /// The language the ticket was filed in; its e-mails are written in it.
    #[serde(default = "default_lang")]
    pub lang: String,
    /// Counts the ticket's changes: a change is written only on top of the version it was
    /// made from, so two agents acting at once never overwrite each other.
    #[serde(default)]
    pub version: u64,
    /// How the question came in.
    #[serde(default)]
    pub channel: Channel,
    /// When the helpdesk first answered (for the time-to-first-answer figures).
    #[serde(default)]
    pub first_answer: Option<DateTime<Utc>>,
    /// When the ticket last became resolved; it closes by itself some days later.
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// The ticket this one follows up (a question about a closed ticket).
    #[serde(default)]
    pub follows: Option<String>,
    /// The page of the customer's application the question was asked from ("Contact
    /// HelpDesk"), when it is on one of the application's origins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl Ticket {
    /// Waiting for the helpdesk: in the agents' queue.
    pub fn in_queue(&self) -> bool {
        matches!(self.state, TicketState::Open | TicketState::InProgress)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Web,
    Email,
    Phone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// From the subscriber (portal or e-mail).
    Customer,
    /// An answer from the helpdesk, visible to the subscriber.
    Answer,
    /// Internal note between agents; never shown to subscribers.
    Note,
    /// A state change, written by the service.
    Event,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub ticket: String,
    pub kind: MessageKind,
    pub author_id: Option<String>,
    pub author_name: String,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub created: DateTime<Utc>,
    /// For `MessageKind::Event`: what happened (older events only have `body`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<TicketEvent>,
    /// For a message that came by e-mail: the mail as it arrived (`message/rfc822`), for
    /// agents only; the thread shows the text without quoted history and signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<Attachment>,
}

/// Something that happened to a ticket, recorded in its history with who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TicketEvent {
    /// Assigned to an agent (config id), or unassigned.
    Assigned { agent: Option<String> },
    /// The state set by hand.
    State { from: TicketState, to: TicketState },
    /// Handed to the next support level; the question itself stays as it was.
    Escalated { from: String, to: String },
    /// A subscriber's reaction made a resolved ticket open again.
    Reopened,
    /// Closed by the subscriber or an agent.
    Closed,
    /// Closed by the service after days without a reaction.
    AutoClosed,
    /// Logged by an agent from a phone call.
    PhoneCall,
    /// Filed under a sector and subtopic by an agent.
    Categorised { sector: String, subtopic: String },
}

/// A subscriber's rating of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Satisfied,
    Neutral,
    Dissatisfied,
}

impl Rating {
    pub const ALL: [Rating; 3] = [Rating::Satisfied, Rating::Neutral, Rating::Dissatisfied];

    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Satisfied => "satisfied",
            Rating::Neutral => "neutral",
            Rating::Dissatisfied => "dissatisfied",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The rating of one answer (at most one per answer; it can be changed while its link is valid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The answer (message id) this rates.
    pub answer_id: String,
    pub ticket: String,
    /// Who answered: the agent's user id and name.
    pub agent_id: Option<String>,
    pub agent_name: String,
    pub sector: String,
    pub rating: Rating,
    pub comment: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// SHA-256 (hex) of the cookie's secret; the secret itself is never stored.
    pub id_hash: String,
    pub user_id: String,
    /// The absolute end (7 days after login).
    pub expires: DateTime<Utc>,
    /// The last request seen (updated every few minutes): 2 hours idle end the session.
    #[serde(default = "Utc::now")]
    pub last_seen: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Invite,
    Reset,
    Evaluate,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Invite => "invite",
            TokenKind::Reset => "reset",
            TokenKind::Evaluate => "evaluate",
        }
    }
}

/// A single-use link's server side: found by the hash of the secret in the link, deleted when
/// used, worthless after `expires`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub hash: String,
    pub kind: TokenKind,
    pub user_id: String,
    pub ticket: Option<String>,
    pub expires: DateTime<Utc>,
}

/// A fully built e-mail waiting in the store's outbox until a mailer has accepted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMail {
    pub id: String,
    pub to: String,
    pub subject: String,
    /// RFC 5322 message, MIME encoded.
    pub raw: Vec<u8>,
    pub attempts: u32,
    pub next_attempt: DateTime<Utc>,
    pub created: DateTime<Utc>,
    pub last_error: Option<String>,
    /// The Message-ID header the message was written with (without angle brackets).
    #[serde(default)]
    pub message_id: String,
    /// The ticket the mail is about: a reply to it is added to that ticket.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// One page of a list that can grow, and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Opaque; pass it back to get the next page.
    pub next: Option<String>,
}

/// Which tickets a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketQuery {
    pub state: Option<TicketState>,
    pub cursor: Option<String>,
    pub limit: usize,
}

/// The agents' queue: tickets waiting for the helpdesk, earliest due first, narrowed by filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueQuery {
    /// `Open` or `InProgress` (default: both); `Resolved` lists resolved tickets, oldest first.
    pub state: Option<TicketState>,
    pub level: Option<String>,
    /// An agent id; `Some("")` means unassigned.
    pub assignee: Option<String>,
    pub preferred_agent: Option<String>,
    pub sector: Option<String>,
    pub subtopic: Option<String>,
    pub org_id: Option<String>,
    /// The administration the ticket is about (as the application passed it).
    pub administration: Option<String>,
    /// Lowercase words that must all occur in the subject.
    pub text: Option<String>,
    pub cursor: Option<String>,
    pub limit: usize,
}

impl QueueQuery {
    /// Whether `t` passes every filter but the state and the cursor.
    pub fn matches(&self, t: &Ticket) -> bool {
        let eq = |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| have.unwrap_or("") == w);
        eq(&self.level, Some(&t.level))
            && eq(&self.assignee, t.assignee.as_deref())
            && eq(&self.preferred_agent, t.preferred_agent.as_deref())
            && eq(&self.sector, Some(&t.sector))
            && eq(&self.subtopic, Some(&t.subtopic))
            && eq(&self.org_id, Some(&t.org_id))
            && self
                .administration
                .as_deref()
                .is_none_or(|a| t.administration.as_deref().is_some_and(|x| x.trim().eq_ignore_ascii_case(a.trim())))
            && self.text.as_deref().is_none_or(|words| {
                let subject = t.subject.to_lowercase();
                words.split_whitespace().all(|w| subject.contains(w))
            })
    }
}

/// How many tickets are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub open: u64,
    pub in_progress: u64,
    pub resolved: u64,
    pub closed: u64,
}

/// How sequence numbers become incident numbers: a pattern with `{seq}` (optionally padded,
/// `{seq:5}`) and `{year}`, e.g. `INC-{year}-{seq:5}` -> `INC-2026-00042`, or `#{seq}` -> `#42`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbering {
    pub pattern: String,
}

impl Numbering {
    pub fn new(pattern: impl Into<String>) -> Self {
        Self { pattern: pattern.into() }
    }

    pub fn format(&self, seq: u64, created: DateTime<Utc>) -> String {
        let mut out = String::new();
        let mut rest = self.pattern.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else { break };
            let field = &rest[open + 1..open + close];
            match field.split_once(':') {
                Some(("seq", width)) => {
                    let width = width.parse().unwrap_or(0);
                    out.push_str(&format!("{seq:0width$}"));
                }
                None if field == "seq" => out.push_str(&seq.to_string()),
                None if field == "year" => out.push_str(&created.format("%Y").to_string()),
                _ => out.push_str(&rest[open..=open + close]),
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        out
    }
}

impl Numbering {
    /// Whether `s` has the shape of a number in this pattern (letters compared without case).
    pub fn looks_like(&self, s: &str) -> bool {
        let (mut rest, mut pat) = (s, self.pattern.as_str());
        while let Some(c) = pat.chars().next() {
            if c == '{' {
                let Some(close) = pat.find('}') else { return false };
                let field = &pat[1..close];
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                let fits = match field {
                    "year" => digits == 4,
                    f if f == "seq" || f.starts_with("seq:") => digits >= 1,
                    _ => false,
                };
                if !fits {
                    return false;
                }
                rest = &rest[digits..];
                pat = &pat[close + 1..];
            } else {
                match rest.chars().next() {
                    Some(r) if r.eq_ignore_ascii_case(&c) => rest = &rest[r.len_utf8()..],
                    _ => return false,
                }
                pat = &pat[c.len_utf8()..];
            }
        }
        rest.is_empty()
    }
}

fn default_lang() -> String {
    "nl".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn numbers_follow_the_pattern() {
        let t = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).single().expect("date");
        assert_eq!(Numbering::new("INC-{year}-{seq:5}").format(42, t), "INC-2026-00042");
        assert_eq!(Numbering::new("#{seq}").format(1042, t), "#1042");
        assert_eq!(Numbering::new("T{seq:3}").format(123_456, t), "T123456");
    }

    #[test]
    fn numbers_are_recognised_by_shape() {
        let n = Numbering::new("INC-{year}-{seq:5}");
        assert!(n.looks_like("INC-2026-00042"));
        assert!(n.looks_like("inc-2026-42"));
        assert!(!n.looks_like("INC-26-00042"));
        assert!(!n.looks_like("INC-2026-"));
        assert!(!n.looks_like("INC-2026-00042x"));
        assert!(Numbering::new("#{seq}").looks_like("#1042"));
        assert!(!Numbering::new("#{seq}").looks_like("1042"));
    }
}
