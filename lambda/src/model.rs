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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// SHA-256 (hex) of the cookie's secret; the secret itself is never stored.
    pub id_hash: String,
    pub user_id: String,
    pub csrf: String,
    pub expires: DateTime<Utc>,
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
}
