//! Storage behind one trait, with an embedded implementation (SQLite) and, on AWS, DynamoDB.
//!
//! Every operation is a key lookup, a query on one index, or one transaction, so that both
//! backends serve it without joins:
//! - ticket creation takes the next number from a counter, writes the ticket, its first
//!   message, the idempotency record and the acknowledgement mail in one transaction;
//! - state changes write the ticket, the message and the mails they cause together, so an
//!   accepted ticket or answer never exists without its e-mail being queued.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::model::*;

pub mod dynamodb;
pub mod sqlite;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique key (e-mail, organisation name, ...) is taken.
    #[error("{0} already exists")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// The record changed since it was read (its version moved on): read it again.
    #[error("changed in the meantime")]
    Stale,
    #[error("storage failure: {0}")]
    Backend(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// What a new ticket needs; the store adds the number.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// Ticket with `number`/`seq` left empty: the store assigns them.
    pub ticket: Ticket,
    pub first: Message,
    /// The same key twice (a double click, a retry) gives back the first ticket.
    pub idempotency_key: String,
}

/// Builds the mails a new ticket causes once its number is known. A store may call it more
/// than once (an optimistic transaction that is retried) and keeps only the last result.
pub type MailsFor = Box<dyn Fn(&Ticket) -> Vec<OutgoingMail> + Send + Sync>;

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    // Organisations and users.
    async fn create_org(&self, org: &Org) -> Result<()>;
    async fn org(&self, id: &str) -> Result<Option<Org>>;
    async fn org_by_name(&self, name: &str) -> Result<Option<Org>>;
    async fn create_user(&self, user: &User) -> Result<()>;
    async fn user(&self, id: &str) -> Result<Option<User>>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    /// Sets the password hash; `at` is remembered, and reset links issued before it stop working.
    async fn set_password(&self, user_id: &str, hash: &str, at: DateTime<Utc>) -> Result<()>;
    /// Every organisation, by name.
    async fn orgs(&self) -> Result<Vec<Org>>;
    /// Saves an organisation's sector, plan and sharing (its id and name stay).
    async fn update_org(&self, org: &Org) -> Result<()>;
    /// The people of an organisation, by e-mail address.
    async fn users_in_org(&self, org_id: &str) -> Result<Vec<User>>;
    /// Saves a user's name, role and whether the account is active (not the password, the
    /// e-mail address or the organisation).
    async fn update_user(&self, user: &User) -> Result<()>;

    // Sessions and single-use tokens (both expire).
    async fn put_session(&self, session: &Session) -> Result<()>;
    async fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    async fn delete_user_sessions(&self, user_id: &str) -> Result<()>;
    async fn put_token(&self, token: &Token) -> Result<()>;
    /// Removes the token and returns it, if it exists, is of this kind and has not expired.
    /// Of two concurrent calls with the same hash, at most one gets it.
    async fn take_token(&self, hash: &str, kind: TokenKind, now: DateTime<Utc>) -> Result<Option<Token>>;

    // Tickets.
    /// Creates the ticket with the next incident number, atomically with its first message,
    /// its idempotency record and `mails(&ticket)`. Returns the ticket and whether it is new
    /// (`false`: the idempotency key was seen before and this is the earlier ticket).
    async fn create_ticket(&self, new: NewTicket, numbering: &Numbering, mails: MailsFor) -> Result<(Ticket, bool)>;
    async fn ticket(&self, number: &str) -> Result<Option<Ticket>>;
    /// An organisation's tickets, newest first.
    async fn tickets_for_org(&self, org_id: &str, q: &TicketQuery) -> Result<Page<Ticket>>;
    /// One requester's tickets, newest first.
    async fn tickets_for_requester(&self, user_id: &str, q: &TicketQuery) -> Result<Page<Ticket>>;
    /// The thread, oldest first.
    async fn messages(&self, number: &str) -> Result<Vec<Message>>;
    /// Appends a message and saves the ticket's new fields (state, assignee, level, updated),
    /// with the mails it causes, in one transaction, if the stored ticket is still at
    /// `ticket.version - 1` in state `was` (`Stale` if another change came first, `NotFound` if
    /// it does not exist). The caller raises the version.
    async fn update_ticket(
        &self,
        was: TicketState,
        ticket: &Ticket,
        message: Option<&Message>,
        mails: &[OutgoingMail],
    ) -> Result<()>;
    /// The agents' queue: open and in-progress tickets by due day (then number), or resolved
    /// ones by the moment they were resolved, narrowed by the query's filters.
    async fn queue(&self, q: &QueueQuery) -> Result<Page<Ticket>>;
    /// How many tickets are in each state.
    async fn state_counts(&self) -> Result<StateCounts>;

    // Evaluations.
    /// Stores the rating of an answer, replacing an earlier one of the same answer.
    async fn put_evaluation(&self, evaluation: &Evaluation) -> Result<()>;
    async fn evaluation(&self, answer_id: &str) -> Result<Option<Evaluation>>;

    // Reports.
    /// Tickets filed in `[from, to)`, in filing order.
    async fn tickets_created(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Ticket>>;
    /// Ratings first given in `[from, to)`.
    async fn evaluations_created(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Evaluation>>;

    // The mail outbox.
    async fn enqueue_mail(&self, mail: &OutgoingMail) -> Result<()>;
    /// Mails whose next attempt is due, oldest first.
    async fn due_mail(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutgoingMail>>;
    /// Takes a due mail for sending: moves its next attempt to `until` if nobody else did since
    /// it was read (`false`: another worker or instance has it). A sender that dies leaves it
    /// due again at `until`.
    async fn claim_mail(&self, mail: &OutgoingMail, until: DateTime<Utc>) -> Result<bool>;
    async fn mail_sent(&self, id: &str, provider_id: &str) -> Result<()>;
    async fn mail_failed(&self, id: &str, next_attempt: DateTime<Utc>, error: &str) -> Result<()>;

    // Mail threading.
    /// Remembers that mail with these Message-IDs (without angle brackets) belongs to `ticket`:
    /// the helpdesk's own mails (the id it wrote and the one its provider assigned) and the mails
    /// a ticket came in with. A reply names them in In-Reply-To / References.
    async fn remember_mail_ids(&self, ids: &[String], ticket: &str) -> Result<()>;
    /// The ticket of the first of `ids` that is known, in the order given.
    async fn ticket_by_mail_id(&self, ids: &[String]) -> Result<Option<String>>;

    // What visitors searched for without results.
    /// Adds counts of queries that found nothing.
    async fn add_misses(&self, counts: &[(String, u64)]) -> Result<()>;
    /// The queries that found nothing most often, most frequent first (then alphabetically).
    async fn top_misses(&self, limit: usize) -> Result<Vec<(String, u64)>>;

    // Rate limiting.
    /// Counts one hit on `key` in the fixed window that `window_start` names and returns the
    /// window's count so far.
    async fn hit(&self, key: &str, window_start: DateTime<Utc>, expires: DateTime<Utc>) -> Result<u32>;
    /// The count of `key` in the window `window_start` names (0 if none).
    async fn hits(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32>;
    async fn clear_hits(&self, key: &str, window_start: DateTime<Utc>) -> Result<()>;
    /// Takes one hit back (an attempt reserved beforehand that turned out fine).
    async fn unhit(&self, key: &str, window_start: DateTime<Utc>) -> Result<()>;
}
