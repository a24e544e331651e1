//! The embedded store: one SQLite database (WAL) under the data directory. Records are kept as
//! JSON next to the columns their lookups and indexes need.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{MailsFor, NewTicket, Result, Store, StoreError};
use crate::model::*;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, kind TEXT NOT NULL, expires INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
  number TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, org_id TEXT NOT NULL, requester_id TEXT NOT NULL,
  state TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tickets_org ON tickets (org_id, seq);
CREATE INDEX IF NOT EXISTS tickets_requester ON tickets (requester_id, seq);
CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, number TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (n INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, ticket TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_ticket ON messages (ticket, n);
CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, due INTEGER, data TEXT NOT NULL, raw BLOB NOT NULL, provider_id TEXT);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due) WHERE due IS NOT NULL;
CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, window INTEGER NOT NULL, count INTEGER NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (key, window));
";

#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(backend)
}

fn from_json<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(backend)
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(backend)?;
        }
        Self::init(Connection::open(path).map_err(backend)?)
    }

    pub fn in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL").map_err(backend)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(backend)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `f` on the connection off the async runtime's threads.
    async fn with<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| StoreError::Backend("database lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(backend)?
    }

    fn get_json<T: DeserializeOwned>(conn: &Connection, sql: &str, key: &str) -> Result<Option<T>> {
        let data: Option<String> = conn.query_row(sql, [key], |r| r.get(0)).optional().map_err(backend)?;
        data.map(|d| from_json(&d)).transpose()
    }

    fn ticket_page(conn: &Connection, column: &str, key: &str, q: &TicketQuery) -> Result<Page<Ticket>> {
        let limit = q.limit.clamp(1, 200);
        let before: i64 = q.cursor.as_deref().and_then(|c| c.parse().ok()).unwrap_or(i64::MAX);
        let sql = format!(
            "SELECT data FROM tickets WHERE {column} = ?1 AND seq < ?2 AND (?3 IS NULL OR state = ?3) \
             ORDER BY seq DESC LIMIT ?4"
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
        let rows = stmt
            .query_map(params![key, before, q.state.map(TicketState::as_str), limit as i64 + 1], |r| {
                r.get::<_, String>(0)
            })
            .map_err(backend)?;
        let mut items = Vec::new();
        for row in rows {
            items.push(from_json::<Ticket>(&row.map_err(backend)?)?);
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|t| t.seq.to_string())
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

fn insert_mail(tx: &rusqlite::Transaction<'_>, mail: &OutgoingMail) -> Result<()> {
    let mut meta = mail.clone();
    meta.raw = Vec::new();
    tx.execute(
        "INSERT INTO outbox (id, due, data, raw) VALUES (?1, ?2, ?3, ?4)",
        params![mail.id, mail.next_attempt.timestamp_millis(), to_json(&meta)?, mail.raw],
    )
    .map_err(backend)?;
    Ok(())
}

fn insert_message(tx: &rusqlite::Transaction<'_>, m: &Message) -> Result<()> {
    tx.execute("INSERT INTO messages (id, ticket, data) VALUES (?1, ?2, ?3)", params![m.id, m.ticket, to_json(m)?])
        .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_org(&self, org: &Org) -> Result<()> {
        let org = org.clone();
        self.with(move |c| {
            c.execute(
                "INSERT INTO orgs (id, name, data) VALUES (?1, ?2, ?3)",
                params![org.id, org.name, to_json(&org)?],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("organisation {}", org.name))
                } else {
                    backend(e)
                }
            })?;
            Ok(())
        })
        .await
    }

    async fn org(&self, id: &str) -> Result<Option<Org>> {
        let id = id.to_owned();
        self.with(move |c| Self::get_json(c, "SELECT data FROM orgs WHERE id = ?1", &id)).await
    }

    async fn org_by_name(&self, name: &str) -> Result<Option<Org>> {
        let name = name.to_owned();
        self.with(move |c| Self::get_json(c, "SELECT data FROM orgs WHERE name = ?1", &name)).await
    }

    async fn create_user(&self, user: &User) -> Result<()> {
        let user = user.clone();
        self.with(move |c| {
            c.execute(
                "INSERT INTO users (id, email, data) VALUES (?1, ?2, ?3)",
                params![user.id, user.email, to_json(&user)?],
            )
            .map_err(|e| {
                if is_unique_violation(&e) { StoreError::Conflict(format!("user {}", user.email)) } else { backend(e) }
            })?;
            Ok(())
        })
        .await
    }

    async fn user(&self, id: &str) -> Result<Option<User>> {
        let id = id.to_owned();
        self.with(move |c| Self::get_json(c, "SELECT data FROM users WHERE id = ?1", &id)).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let email = email.to_lowercase();
        self.with(move |c| Self::get_json(c, "SELECT data FROM users WHERE email = ?1", &email)).await
    }

    async fn set_password(&self, user_id: &str, hash: &str) -> Result<()> {
        let (user_id, hash) = (user_id.to_owned(), hash.to_owned());
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let mut user: User =
                Self::get_json(&tx, "SELECT data FROM users WHERE id = ?1", &user_id)?.ok_or(StoreError::NotFound)?;
            user.password_hash = Some(hash);
            tx.execute("UPDATE users SET data = ?2 WHERE id = ?1", params![user_id, to_json(&user)?])
                .map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn put_session(&self, s: &Session) -> Result<()> {
        let s = s.clone();
        self.with(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO sessions (id_hash, user_id, expires, data) VALUES (?1, ?2, ?3, ?4)",
                params![s.id_hash, s.user_id, s.expires.timestamp(), to_json(&s)?],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        let id_hash = id_hash.to_owned();
        self.with(move |c| {
            let s: Option<Session> = Self::get_json(c, "SELECT data FROM sessions WHERE id_hash = ?1", &id_hash)?;
            Ok(s.filter(|s| s.expires > now))
        })
        .await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        let id_hash = id_hash.to_owned();
        self.with(move |c| c.execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash]).map(drop).map_err(backend))
            .await
    }

    async fn delete_user_sessions(&self, user_id: &str) -> Result<()> {
        let user_id = user_id.to_owned();
        self.with(move |c| c.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id]).map(drop).map_err(backend))
            .await
    }

    async fn put_token(&self, t: &Token) -> Result<()> {
        let t = t.clone();
        self.with(move |c| {
            c.execute(
                "INSERT INTO tokens (hash, kind, expires, data) VALUES (?1, ?2, ?3, ?4)",
                params![t.hash, t.kind.as_str(), t.expires.timestamp(), to_json(&t)?],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn take_token(&self, hash: &str, kind: TokenKind, now: DateTime<Utc>) -> Result<Option<Token>> {
        let hash = hash.to_owned();
        self.with(move |c| {
            let data: Option<String> = c
                .query_row(
                    "DELETE FROM tokens WHERE hash = ?1 AND kind = ?2 RETURNING data",
                    params![hash, kind.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            let token: Option<Token> = data.map(|d| from_json(&d)).transpose()?;
            Ok(token.filter(|t| t.expires > now))
        })
        .await
    }

    async fn create_ticket(&self, new: NewTicket, numbering: &Numbering, mails: MailsFor) -> Result<(Ticket, bool)> {
        let numbering = numbering.clone();
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let seen: Option<String> = tx
                .query_row("SELECT number FROM idempotency WHERE key = ?1", [&new.idempotency_key], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            if let Some(number) = seen {
                let t: Ticket = Self::get_json(&tx, "SELECT data FROM tickets WHERE number = ?1", &number)?
                    .ok_or(StoreError::NotFound)?;
                return Ok((t, false));
            }
            let seq: u64 = tx
                .query_row(
                    "INSERT INTO counters (name, value) VALUES ('ticket', 1) \
                     ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(backend)? as u64;
            let mut ticket = new.ticket;
            ticket.seq = seq;
            ticket.number = numbering.format(seq, ticket.created);
            let mut first = new.first;
            first.ticket = ticket.number.clone();
            tx.execute(
                "INSERT INTO tickets (number, seq, org_id, requester_id, state, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    ticket.number,
                    seq as i64,
                    ticket.org_id,
                    ticket.requester_id,
                    ticket.state.as_str(),
                    to_json(&ticket)?
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("ticket {}", ticket.number))
                } else {
                    backend(e)
                }
            })?;
            tx.execute(
                "INSERT INTO idempotency (key, number) VALUES (?1, ?2)",
                params![new.idempotency_key, ticket.number],
            )
            .map_err(backend)?;
            insert_message(&tx, &first)?;
            for mail in mails(&ticket) {
                insert_mail(&tx, &mail)?;
            }
            tx.commit().map_err(backend)?;
            Ok((ticket, true))
        })
        .await
    }

    async fn ticket(&self, number: &str) -> Result<Option<Ticket>> {
        let number = number.to_owned();
        self.with(move |c| Self::get_json(c, "SELECT data FROM tickets WHERE number = ?1", &number)).await
    }

    async fn tickets_for_org(&self, org_id: &str, q: &TicketQuery) -> Result<Page<Ticket>> {
        let (org_id, q) = (org_id.to_owned(), q.clone());
        self.with(move |c| Self::ticket_page(c, "org_id", &org_id, &q)).await
    }

    async fn tickets_for_requester(&self, user_id: &str, q: &TicketQuery) -> Result<Page<Ticket>> {
        let (user_id, q) = (user_id.to_owned(), q.clone());
        self.with(move |c| Self::ticket_page(c, "requester_id", &user_id, &q)).await
    }

    async fn messages(&self, number: &str) -> Result<Vec<Message>> {
        let number = number.to_owned();
        self.with(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT data FROM messages WHERE ticket = ?1 ORDER BY n").map_err(backend)?;
            let rows = stmt.query_map([number], |r| r.get::<_, String>(0)).map_err(backend)?;
            rows.map(|r| from_json(&r.map_err(backend)?)).collect()
        })
        .await
    }

    async fn update_ticket(&self, ticket: &Ticket, message: Option<&Message>, mails: &[OutgoingMail]) -> Result<()> {
        let (ticket, message, mails) = (ticket.clone(), message.cloned(), mails.to_vec());
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let n = tx
                .execute(
                    "UPDATE tickets SET state = ?2, data = ?3 WHERE number = ?1",
                    params![ticket.number, ticket.state.as_str(), to_json(&ticket)?],
                )
                .map_err(backend)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            if let Some(m) = &message {
                insert_message(&tx, m)?;
            }
            for mail in &mails {
                insert_mail(&tx, mail)?;
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn enqueue_mail(&self, mail: &OutgoingMail) -> Result<()> {
        let mail = mail.clone();
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            insert_mail(&tx, &mail)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn due_mail(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutgoingMail>> {
        self.with(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT data, raw FROM outbox WHERE due IS NOT NULL AND due <= ?1 ORDER BY due LIMIT ?2",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![now.timestamp_millis(), limit as i64], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
                })
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                let (data, raw) = row.map_err(backend)?;
                let mut mail: OutgoingMail = from_json(&data)?;
                mail.raw = raw;
                out.push(mail);
            }
            Ok(out)
        })
        .await
    }

    async fn mail_sent(&self, id: &str, provider_id: &str) -> Result<()> {
        let (id, provider_id) = (id.to_owned(), provider_id.to_owned());
        self.with(move |c| {
            c.execute("UPDATE outbox SET due = NULL, provider_id = ?2 WHERE id = ?1", params![id, provider_id])
                .map(drop)
                .map_err(backend)
        })
        .await
    }

    async fn mail_failed(&self, id: &str, next_attempt: DateTime<Utc>, error: &str) -> Result<()> {
        let (id, error) = (id.to_owned(), error.to_owned());
        self.with(move |c| {
            let tx = c.transaction().map_err(backend)?;
            let data: Option<String> = tx
                .query_row("SELECT data FROM outbox WHERE id = ?1", [&id], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            let mut mail: OutgoingMail = from_json(&data.ok_or(StoreError::NotFound)?)?;
            mail.attempts += 1;
            mail.next_attempt = next_attempt;
            mail.last_error = Some(error);
            tx.execute(
                "UPDATE outbox SET due = ?2, data = ?3 WHERE id = ?1",
                params![id, next_attempt.timestamp_millis(), to_json(&mail)?],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn hit(&self, key: &str, window_start: DateTime<Utc>, expires: DateTime<Utc>) -> Result<u32> {
        let key = key.to_owned();
        self.with(move |c| {
            c.execute("DELETE FROM hits WHERE expires < ?1", [Utc::now().timestamp()]).map_err(backend)?;
            c.query_row(
                "INSERT INTO hits (key, window, count, expires) VALUES (?1, ?2, 1, ?3) \
                 ON CONFLICT (key, window) DO UPDATE SET count = count + 1 RETURNING count",
                params![key, window_start.timestamp(), expires.timestamp()],
                |r| r.get::<_, u32>(0),
            )
            .map_err(backend)
        })
        .await
    }

    async fn hits(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32> {
        let key = key.to_owned();
        self.with(move |c| {
            c.query_row(
                "SELECT count FROM hits WHERE key = ?1 AND window = ?2",
                params![key, window_start.timestamp()],
                |r| r.get::<_, u32>(0),
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(backend)
        })
        .await
    }

    async fn clear_hits(&self, key: &str, window_start: DateTime<Utc>) -> Result<()> {
        let key = key.to_owned();
        self.with(move |c| {
            c.execute("DELETE FROM hits WHERE key = ?1 AND window = ?2", params![key, window_start.timestamp()])
                .map(drop)
                .map_err(backend)
        })
        .await
    }
}
