//! The store on AWS: one DynamoDB table (single-table design).
//!
//! The key layout is documented next to the table in `infra/template.yaml`, and the table this
//! code creates locally (`helpdesk admin dynamodb create-table`, the tests) is read from that
//! same template, so there is one definition. Records are kept as JSON in `data`, next to the
//! key attributes and the few attributes conditions and filters need.
//!
//! | item | pk / sk | indexes |
//! |---|---|---|
//! | organisation | `ORG#{id}` / `ORG` | gsi1 `ORGS` / lowercase name |
//! | organisation name (unique) | `ORGNAME#{lowercase name}` / `ORGNAME` | |
//! | user | `USER#{id}` / `USER` | gsi2 `MEMBERS#{org}` / e-mail |
//! | e-mail address (unique) | `EMAIL#{email}` / `EMAIL` | |
//! | session (TTL) | `SESSION#{hash}` / `SESSION` | gsi1 `USER#{id}#SESSIONS` / hash |
//! | single-use token (TTL) | `TOKEN#{hash}` / `TOKEN` | |
//! | ticket | `TICKET#{number}` / `TICKET` | gsi1 `ORG#{org}` / seq; gsi2 `ORG#{org}#STATE#{state}` / seq; gsi3 `REQ#{user}` / seq; gsi4 `QUEUE` / `{due}#{seq}` while open or in progress, `RESOLVED` / `{resolved ms}#{seq}` while resolved; gsi5 `CREATED#{yyyy-mm}` / seq |
//! | message | `TICKET#{number}` / `MSG#{time}#{id}` | |
//! | ticket counter | `COUNTER#ticket` / `COUNTER` | |
//! | tickets per state | `COUNTER#states` / `COUNTER` (one number attribute per state) | |
//! | evaluation | `EVAL#{answer id}` / `EVAL` | gsi1 `RATED#{yyyy-mm}` / `{created ms}#{answer id}` |
//! | submission (TTL) | `IDEMP#{key}` / `IDEMP` | |
//! | outgoing mail | `MAIL#{id}` / `MAIL` | gsi2 `OUTBOX` / `{next attempt}#{id}` while unsent |
//! | mail of a ticket (TTL 2 years) | `MAILID#{message id}` / `MAILID` | |
//! | rate-limit window (TTL) | `HIT#{key}#{window}` / `HIT` | |
//! | search without results (TTL 90 days) | `MISS#{query}` / `MISS` | gsi1 `MISSES` / query |
//!
//! Incident numbers: the counter item is updated, conditionally on its previous value, in the
//! same `TransactWriteItems` as the ticket, its first message, the submission record and its
//! mails, so a number is used exactly when a ticket is stored: unique and gap-free. Losing a
//! race (another instance took the number) cancels the transaction, which is retried with
//! jittered backoff a bounded number of times. Within one process creations are serialised so
//! they do not race each other.
//!
//! Items with a TTL (`expires_at`, epoch seconds) are filtered on read: DynamoDB deletes them
//! only eventually. Lists read global secondary indexes, which are eventually consistent: a
//! ticket may take a moment to appear in a list, never in its own page.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as Av, BillingMode, DeleteRequest, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, Put, ReturnValue, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem, Update, WriteRequest,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{MailsFor, NewTicket, Result, Store, StoreError};
use crate::model::*;

type Item = HashMap<String, Av>;

/// How long a submission key is remembered (double submits, retries).
const SUBMISSION_TTL: chrono::Duration = chrono::Duration::days(30);
/// How long a sent mail's record is kept (threading by the provider's message id).
const SENT_MAIL_TTL: chrono::Duration = chrono::Duration::days(90);
/// Attempts to create a ticket when other instances keep taking the number (with the
/// jittered backoff below, several seconds of contention).
const MAX_ATTEMPTS: u32 = 40;

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Serialises ticket creation in this process, so that its own requests do not race.
    numbering: std::sync::Arc<tokio::sync::Mutex<()>>,
}

fn backend<E: std::error::Error + 'static>(e: E) -> StoreError {
    StoreError::Backend(DisplayErrorContext(e).to_string())
}

fn s(v: impl Into<String>) -> Av {
    Av::S(v.into())
}

fn n(v: i64) -> Av {
    Av::N(v.to_string())
}

fn key(pk: impl Into<String>, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn with_data<T: Serialize>(mut item: Item, record: &T) -> Result<Item> {
    item.insert("data".into(), s(serde_json::to_string(record).map_err(|e| StoreError::Backend(e.to_string()))?));
    Ok(item)
}

fn data<T: DeserializeOwned>(item: &Item) -> Result<T> {
    let json =
        item.get("data").and_then(|v| v.as_s().ok()).ok_or_else(|| StoreError::Backend("item without data".into()))?;
    serde_json::from_str(json).map_err(|e| StoreError::Backend(e.to_string()))
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

/// Whether an item with a TTL is past it (DynamoDB removes such items only eventually).
fn expired(item: &Item, now: DateTime<Utc>) -> bool {
    number(item, "expires_at").is_some_and(|t| t <= now.timestamp())
}

/// The months (`yyyy-mm`) that `[from, to)` touches.
fn months(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
    use chrono::Datelike;
    let mut out = Vec::new();
    let (mut y, mut m) = (from.year(), from.month());
    while (y, m) <= (to.year(), to.month()) {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

fn seq_key(seq: u64) -> String {
    format!("{seq:012}")
}

fn millis_key(t: DateTime<Utc>) -> String {
    format!("{:015}", t.timestamp_millis().max(0))
}

fn ticket_item(t: &Ticket) -> Result<Item> {
    let mut item = key(format!("TICKET#{}", t.number), "TICKET");
    let seq = seq_key(t.seq);
    item.insert("state".into(), s(t.state.as_str()));
    item.insert("gsi1pk".into(), s(format!("ORG#{}", t.org_id)));
    item.insert("gsi1sk".into(), s(&seq));
    item.insert("gsi2pk".into(), s(format!("ORG#{}#STATE#{}", t.org_id, t.state.as_str())));
    item.insert("gsi2sk".into(), s(&seq));
    item.insert("gsi3pk".into(), s(format!("REQ#{}", t.requester_id)));
    item.insert("gsi3sk".into(), s(&seq));
    item.insert("gsi5pk".into(), s(format!("CREATED#{}", t.created.format("%Y-%m"))));
    item.insert("gsi5sk".into(), s(&seq));
    // The agents' queue (one partition: a helpdesk's open tickets are thousands, not millions)
    // and the resolved tickets waiting to close by themselves. The attributes below it are what
    // the queue's filters read.
    if t.in_queue() {
        item.insert("gsi4pk".into(), s("QUEUE"));
        item.insert("gsi4sk".into(), s(format!("{}#{seq}", t.due.format("%Y-%m-%d"))));
    } else if t.state == TicketState::Resolved {
        item.insert("gsi4pk".into(), s("RESOLVED"));
        item.insert("gsi4sk".into(), s(format!("{}#{seq}", millis_key(t.resolved_at.unwrap_or(t.updated)))));
    }
    item.insert("version".into(), n(t.version as i64));
    item.insert("level".into(), s(&t.level));
    item.insert("org_id".into(), s(&t.org_id));
    item.insert("sector".into(), s(&t.sector));
    item.insert("subtopic".into(), s(&t.subtopic));
    item.insert("assignee".into(), s(t.assignee.as_deref().unwrap_or_default()));
    item.insert("preferred_agent".into(), s(t.preferred_agent.as_deref().unwrap_or_default()));
    with_data(item, t)
}

fn message_item(m: &Message) -> Result<Item> {
    let sk = format!("MSG#{}#{}", m.created.format("%Y%m%dT%H%M%S%.6fZ"), m.id);
    with_data(key(format!("TICKET#{}", m.ticket), &sk), m)
}

fn mail_item(mail: &OutgoingMail) -> Result<Item> {
    let mut meta = mail.clone();
    meta.raw = Vec::new();
    let mut item = with_data(key(format!("MAIL#{}", mail.id), "MAIL"), &meta)?;
    item.insert("raw".into(), Av::B(Blob::new(mail.raw.clone())));
    item.insert("gsi2pk".into(), s("OUTBOX"));
    item.insert("gsi2sk".into(), s(format!("{}#{}", millis_key(mail.next_attempt), mail.id)));
    Ok(item)
}

fn put(table: &str, item: Item, condition: Option<&str>) -> Result<TransactWriteItem> {
    let mut put = Put::builder().table_name(table).set_item(Some(item));
    if let Some(c) = condition {
        put = put.condition_expression(c);
    }
    Ok(TransactWriteItem::builder().put(put.build().map_err(backend)?).build())
}

/// Why a transaction was cancelled, per action: the codes DynamoDB reports.
fn cancellation_codes(e: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>) -> Option<Vec<String>> {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(ex)) => {
            Some(ex.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_owned()).collect())
        }
        Some(TransactWriteItemsError::TransactionInProgressException(_)) => Some(vec!["TransactionInProgress".into()]),
        _ => None,
    }
}

/// The table's keys and indexes, read from `infra/template.yaml` (resource `HelpdeskTable`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLayout {
    pub attributes: Vec<String>,
    pub key: (String, String),
    /// Index name, hash key, range key.
    pub indexes: Vec<(String, String, String)>,
    pub ttl_attribute: String,
}

const TEMPLATE: &str = include_str!("../../../infra/template.yaml");

impl TableLayout {
    /// The layout the deployment template declares.
    pub fn from_template() -> std::result::Result<Self, String> {
        Self::parse(TEMPLATE)
    }

    pub fn parse(template: &str) -> std::result::Result<Self, String> {
        use serde_norway::Value;
        let doc: Value = serde_norway::from_str(template).map_err(|e| format!("infra/template.yaml: {e}"))?;
        let props = &doc["Resources"]["HelpdeskTable"]["Properties"];
        let strings = |v: &Value, field: &str| -> std::result::Result<String, String> {
            v[field].as_str().map(str::to_owned).ok_or_else(|| format!("HelpdeskTable: missing {field}"))
        };
        let key_of = |schema: &Value| -> std::result::Result<(String, String), String> {
            let list = schema.as_sequence().ok_or("HelpdeskTable: KeySchema is not a list")?;
            let find = |kind: &str| {
                list.iter()
                    .find(|k| k["KeyType"].as_str() == Some(kind))
                    .and_then(|k| k["AttributeName"].as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| format!("HelpdeskTable: no {kind} key"))
            };
            Ok((find("HASH")?, find("RANGE")?))
        };
        let attributes = props["AttributeDefinitions"]
            .as_sequence()
            .ok_or("HelpdeskTable: no AttributeDefinitions")?
            .iter()
            .map(|a| strings(a, "AttributeName"))
            .collect::<std::result::Result<_, _>>()?;
        let mut indexes = Vec::new();
        for gsi in props["GlobalSecondaryIndexes"].as_sequence().ok_or("HelpdeskTable: no GlobalSecondaryIndexes")? {
            let (hash, range) = key_of(&gsi["KeySchema"])?;
            indexes.push((strings(gsi, "IndexName")?, hash, range));
        }
        Ok(Self {
            attributes,
            key: key_of(&props["KeySchema"])?,
            indexes,
            ttl_attribute: strings(&props["TimeToLiveSpecification"], "AttributeName")?,
        })
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into(), numbering: Default::default() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Another handle on the same table sharing nothing in this process, as a second Lambda
    /// instance would.
    pub fn fresh_instance(&self) -> Self {
        Self::new(self.client.clone(), self.table.clone())
    }

    /// Creates the table (on-demand) with the keys and indexes of the deployment template and
    /// turns on its TTL. Used locally and in tests; on AWS the template creates it.
    pub async fn create_table(&self) -> Result<()> {
        let layout = TableLayout::from_template().map_err(StoreError::Backend)?;
        let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
        let mut req = self.client.create_table().table_name(&self.table).billing_mode(BillingMode::PayPerRequest);
        for a in &layout.attributes {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(a)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(backend)?,
            );
        }
        req = req.key_schema(key(&layout.key.0, KeyType::Hash).map_err(backend)?);
        req = req.key_schema(key(&layout.key.1, KeyType::Range).map_err(backend)?);
        for (name, hash, range) in &layout.indexes {
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(name)
                    .key_schema(key(hash, KeyType::Hash).map_err(backend)?)
                    .key_schema(key(range, KeyType::Range).map_err(backend)?)
                    .projection(Projection::builder().projection_type(ProjectionType::All).build())
                    .build()
                    .map_err(backend)?,
            );
        }
        req.send().await.map_err(backend)?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(&layout.ttl_attribute)
                    .enabled(true)
                    .build()
                    .map_err(backend)?,
            )
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn get(&self, pk: impl Into<String>, sk: &str) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.item)
    }

    async fn get_data<T: DeserializeOwned>(&self, pk: impl Into<String>, sk: &str) -> Result<Option<T>> {
        self.get(pk, sk).await?.map(|i| data(&i)).transpose()
    }

    /// Writes all `items` or none; `Conflict(what)` when a condition fails.
    async fn transact(&self, items: Vec<TransactWriteItem>, what: &str) -> Result<()> {
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if codes.iter().any(|c| c == "ConditionalCheckFailed") => {
                    Err(StoreError::Conflict(what.to_owned()))
                }
                _ => Err(backend(e)),
            },
        }
    }

    /// Replaces a record whose JSON `data` is read, changed and written back, if nobody changed
    /// it in between (retried a few times).
    async fn modify<T, F>(&self, pk: String, sk: &str, mut change: F) -> Result<()>
    where
        T: Serialize + DeserializeOwned,
        F: FnMut(&mut T, &mut Item),
    {
        for _ in 0..5 {
            let item = self.get(pk.clone(), sk).await?.ok_or(StoreError::NotFound)?;
            let old = item.get("data").cloned().ok_or_else(|| StoreError::Backend("item without data".into()))?;
            let mut record: T = data(&item)?;
            let mut new = item.clone();
            change(&mut record, &mut new);
            let new = with_data(new, &record)?;
            let r = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(new))
                .condition_expression("#d = :old")
                .expression_attribute_names("#d", "data")
                .expression_attribute_values(":old", old)
                .send()
                .await;
            match r {
                Ok(_) => return Ok(()),
                Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => continue,
                Err(e) => return Err(backend(e)),
            }
        }
        Err(StoreError::Backend(format!("{pk} keeps changing")))
    }

    /// One page of an index, newest first, `seq` below the cursor, optionally filtered by state.
    async fn ticket_page(
        &self,
        index: &str,
        pk: String,
        filter_state: Option<TicketState>,
        q: &TicketQuery,
    ) -> Result<Page<Ticket>> {
        let limit = q.limit.clamp(1, 200);
        let before = q.cursor.as_deref().and_then(|c| c.parse::<u64>().ok()).map(seq_key).unwrap_or_else(|| "~".into());
        let mut items: Vec<Ticket> = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(format!("{index}pk = :pk AND {index}sk < :before"))
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":before", s(&before))
                .scan_index_forward(false)
                .limit((limit + 1 - items.len()) as i32)
                .set_exclusive_start_key(start.take());
            if let Some(state) = filter_state {
                req = req
                    .filter_expression("#state = :state")
                    .expression_attribute_names("#state", "state")
                    .expression_attribute_values(":state", s(state.as_str()));
            }
            let out = req.send().await.map_err(backend)?;
            for item in out.items() {
                items.push(data(item)?);
            }
            match out.last_evaluated_key {
                Some(k) if items.len() <= limit => start = Some(k),
                _ => break,
            }
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|t| t.seq.to_string())
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// Moves one ticket between the per-state counts (`from` None: a new ticket).
    fn count_states(&self, from: Option<TicketState>, to: Option<TicketState>) -> Result<TransactWriteItem> {
        let mut adds = Vec::new();
        let mut update = Update::builder().table_name(&self.table).set_key(Some(key("COUNTER#states", "COUNTER")));
        if let Some(f) = from {
            adds.push("#from :minus");
            update =
                update.expression_attribute_names("#from", f.as_str()).expression_attribute_values(":minus", n(-1));
        }
        if let Some(t) = to {
            adds.push("#to :plus");
            update = update.expression_attribute_names("#to", t.as_str()).expression_attribute_values(":plus", n(1));
        }
        let update = update.update_expression(format!("ADD {}", adds.join(", "))).build().map_err(backend)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Every record in one partition of an index, in its order.
    async fn index_all<T: DeserializeOwned>(&self, index: &str, pk: &str) -> Result<Vec<T>> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(format!("{index}pk = :pk"))
            .expression_attribute_values(":pk", s(pk))
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<Item>, _>>()
            .await
            .map_err(backend)?;
        items.iter().map(data).collect()
    }

    async fn counter(&self) -> Result<u64> {
        let item = self.get("COUNTER#ticket", "COUNTER").await?;
        Ok(item.and_then(|i| number(&i, "value")).unwrap_or(0) as u64)
    }

    async fn earlier_submission(&self, idempotency_key: &str) -> Result<Option<Ticket>> {
        let Some(item) = self.get(format!("IDEMP#{idempotency_key}"), "IDEMP").await? else { return Ok(None) };
        let Some(number) = text(&item, "number") else { return Ok(None) };
        self.ticket(number).await
    }

    async fn delete(&self, pk: String, sk: &str) -> Result<()> {
        self.client.delete_item().table_name(&self.table).set_key(Some(key(pk, sk))).send().await.map_err(backend)?;
        Ok(())
    }
}

/// A random pause, growing with the attempt up to 100 ms ("full jitter").
// Item kinds: each is the key prefix and the sort key (`{KIND}#{id}` / `{KIND}`).
const ORG: &str = "ORG";
const ORG_NAME: &str = "ORGNAME";
const USER: &str = "USER";
const EMAIL: &str = "EMAIL";

impl DynamoStore {
    /// Writes a new record (`{kind}#{id}`) and the item reserving its unique, case-insensitive
    /// name (`{name_kind}#{name}`, pointing at the id) in one transaction: both or neither.
    #[allow(clippy::too_many_arguments)]
    async fn create_unique<T: Serialize>(
        &self,
        name_kind: &str,
        name: &str,
        kind: &str,
        id: &str,
        record: &T,
        index: [(&str, String); 2],
        what: &str,
    ) -> Result<()> {
        let mut reserved = key(format!("{name_kind}#{}", name.to_lowercase()), name_kind);
        reserved.insert("id".into(), s(id));
        let mut record = with_data(key(format!("{kind}#{id}"), kind), record)?;
        for (attribute, value) in index {
            record.insert(attribute.into(), s(value));
        }
        let items = vec![
            put(&self.table, record, Some("attribute_not_exists(pk)"))?,
            put(&self.table, reserved, Some("attribute_not_exists(pk)"))?,
        ];
        self.transact(items, what).await
    }

    /// The record a unique name points at.
    async fn by_unique<T: DeserializeOwned>(&self, name_kind: &str, name: &str, kind: &str) -> Result<Option<T>> {
        let Some(item) = self.get(format!("{name_kind}#{}", name.to_lowercase()), name_kind).await? else {
            return Ok(None);
        };
        match text(&item, "id") {
            Some(id) => self.get_data(format!("{kind}#{id}"), kind).await,
            None => Ok(None),
        }
    }
}

fn jitter(attempt: u32) -> Duration {
    let ceiling = (5u64 << attempt.min(5)).min(100);
    Duration::from_millis(rand::random_range(0..=ceiling))
}

#[async_trait]
impl Store for DynamoStore {
    async fn create_org(&self, org: &Org) -> Result<()> {
        let what = format!("organisation {}", org.name);
        let index = [("gsi1pk", "ORGS".into()), ("gsi1sk", org.name.to_lowercase())];
        self.create_unique(ORG_NAME, &org.name, ORG, &org.id, org, index, &what).await
    }

    async fn org(&self, id: &str) -> Result<Option<Org>> {
        self.get_data(format!("ORG#{id}"), "ORG").await
    }

    async fn org_by_name(&self, name: &str) -> Result<Option<Org>> {
        self.by_unique(ORG_NAME, name, ORG).await
    }

    async fn create_user(&self, user: &User) -> Result<()> {
        let what = format!("user {}", user.email);
        let index = [("gsi2pk", format!("MEMBERS#{}", user.org_id)), ("gsi2sk", user.email.clone())];
        self.create_unique(EMAIL, &user.email, USER, &user.id, user, index, &what).await
    }

    async fn user(&self, id: &str) -> Result<Option<User>> {
        self.get_data(format!("USER#{id}"), "USER").await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        self.by_unique(EMAIL, email, USER).await
    }

    async fn set_password(&self, user_id: &str, hash: &str, at: DateTime<Utc>) -> Result<()> {
        self.modify(format!("USER#{user_id}"), "USER", |u: &mut User, _| {
            u.password_hash = Some(hash.to_owned());
            u.password_changed = Some(at);
        })
        .await
    }

    async fn orgs(&self) -> Result<Vec<Org>> {
        self.index_all("gsi1", "ORGS").await
    }

    async fn update_org(&self, org: &Org) -> Result<()> {
        self.modify(format!("ORG#{}", org.id), "ORG", |o: &mut Org, _| {
            o.sector = org.sector.clone();
            o.plan = org.plan.clone();
            o.share_tickets = org.share_tickets;
        })
        .await
    }

    async fn users_in_org(&self, org_id: &str) -> Result<Vec<User>> {
        self.index_all("gsi2", &format!("MEMBERS#{org_id}")).await
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        self.modify(format!("USER#{}", user.id), "USER", |u: &mut User, _| {
            u.name = user.name.clone();
            u.role = user.role;
            u.active = user.active;
        })
        .await
    }

    async fn put_session(&self, session: &Session) -> Result<()> {
        let mut item = with_data(key(format!("SESSION#{}", session.id_hash), "SESSION"), session)?;
        item.insert("gsi1pk".into(), s(format!("USER#{}#SESSIONS", session.user_id)));
        item.insert("gsi1sk".into(), s(&session.id_hash));
        item.insert("expires_at".into(), n(session.expires.timestamp()));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(backend)?;
        Ok(())
    }

    async fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        let session: Option<Session> = self.get_data(format!("SESSION#{id_hash}"), "SESSION").await?;
        Ok(session.filter(|s| s.expires > now))
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.delete(format!("SESSION#{id_hash}"), "SESSION").await
    }

    async fn delete_user_sessions(&self, user_id: &str) -> Result<()> {
        let pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :pk")
            .expression_attribute_values(":pk", s(format!("USER#{user_id}#SESSIONS")))
            .projection_expression("pk, sk")
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<Item>, _>>()
            .await
            .map_err(backend)?;
        for chunk in pages.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|i| {
                    let k = key(text(i, "pk").unwrap_or_default(), text(i, "sk").unwrap_or_default());
                    DeleteRequest::builder()
                        .set_key(Some(k))
                        .build()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<std::result::Result<_, _>>()
                .map_err(backend)?;
            for attempt in 0..8 {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(backend)?;
                requests = out.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                tokio::time::sleep(jitter(attempt)).await;
            }
        }
        Ok(())
    }

    async fn put_token(&self, token: &Token) -> Result<()> {
        let mut item = with_data(key(format!("TOKEN#{}", token.hash), "TOKEN"), token)?;
        item.insert("kind".into(), s(token.kind.as_str()));
        item.insert("expires_at".into(), n(token.expires.timestamp()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn take_token(&self, hash: &str, kind: TokenKind, now: DateTime<Utc>) -> Result<Option<Token>> {
        let r = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("TOKEN#{hash}"), "TOKEN")))
            .condition_expression("attribute_exists(pk) AND kind = :kind")
            .expression_attribute_values(":kind", s(kind.as_str()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match r {
            Ok(out) => {
                let token: Option<Token> = out.attributes.map(|i| data(&i)).transpose()?;
                Ok(token.filter(|t| t.expires > now))
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    async fn create_ticket(&self, new: NewTicket, numbering: &Numbering, mails: MailsFor) -> Result<(Ticket, bool)> {
        let _one_at_a_time = self.numbering.lock().await;
        let idem_pk = format!("IDEMP#{}", new.idempotency_key);
        for attempt in 0..MAX_ATTEMPTS {
            // Always read the counter (no cached value): an instance that just won must not
            // have an edge over the others, or under load it starves them.
            let current = self.counter().await?;
            let seq = current + 1;
            let mut ticket = new.ticket.clone();
            ticket.seq = seq;
            ticket.number = numbering.format(seq, ticket.created);
            let mut first = new.first.clone();
            first.ticket = ticket.number.clone();

            let counter = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key("COUNTER#ticket", "COUNTER")))
                .update_expression("SET #v = :new")
                .condition_expression(if current == 0 { "attribute_not_exists(pk)" } else { "#v = :old" })
                .expression_attribute_names("#v", "value")
                .expression_attribute_values(":new", n(seq as i64));
            let counter =
                if current == 0 { counter } else { counter.expression_attribute_values(":old", n(current as i64)) };
            let mut submission = key(&idem_pk, "IDEMP");
            submission.insert("number".into(), s(&ticket.number));
            submission.insert("expires_at".into(), n((ticket.created + SUBMISSION_TTL).timestamp()));
            let mut items = vec![
                TransactWriteItem::builder().update(counter.build().map_err(backend)?).build(),
                put(&self.table, ticket_item(&ticket)?, Some("attribute_not_exists(pk)"))?,
                put(&self.table, submission, Some("attribute_not_exists(pk)"))?,
                put(&self.table, message_item(&first)?, None)?,
                self.count_states(None, Some(ticket.state))?,
            ];
            for mail in mails(&ticket) {
                items.push(put(&self.table, mail_item(&mail)?, None)?);
            }
            match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
                Ok(_) => return Ok((ticket, true)),
                Err(e) => {
                    let Some(codes) = cancellation_codes(&e) else { return Err(backend(e)) };
                    if codes.get(2).is_some_and(|c| c == "ConditionalCheckFailed") {
                        // This submission was stored before (a double click, a retry).
                        if let Some(t) = self.earlier_submission(&new.idempotency_key).await? {
                            return Ok((t, false));
                        }
                    }
                    tracing::debug!(attempt, ?codes, "ticket number taken; retrying");
                    tokio::time::sleep(jitter(attempt)).await;
                }
            }
        }
        Err(StoreError::Backend("could not get an incident number: too much contention".into()))
    }

    async fn ticket(&self, number: &str) -> Result<Option<Ticket>> {
        self.get_data(format!("TICKET#{number}"), "TICKET").await
    }

    async fn tickets_for_org(&self, org_id: &str, q: &TicketQuery) -> Result<Page<Ticket>> {
        match q.state {
            Some(state) => self.ticket_page("gsi2", format!("ORG#{org_id}#STATE#{}", state.as_str()), None, q).await,
            None => self.ticket_page("gsi1", format!("ORG#{org_id}"), None, q).await,
        }
    }

    async fn tickets_for_requester(&self, user_id: &str, q: &TicketQuery) -> Result<Page<Ticket>> {
        self.ticket_page("gsi3", format!("REQ#{user_id}"), q.state, q).await
    }

    async fn messages(&self, number: &str) -> Result<Vec<Message>> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :msg)")
            .expression_attribute_values(":pk", s(format!("TICKET#{number}")))
            .expression_attribute_values(":msg", s("MSG#"))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<Item>, _>>()
            .await
            .map_err(backend)?;
        items.iter().map(data).collect()
    }

    async fn update_ticket(
        &self,
        was: TicketState,
        ticket: &Ticket,
        message: Option<&Message>,
        mails: &[OutgoingMail],
    ) -> Result<()> {
        let previous = ticket.version.checked_sub(1).ok_or(StoreError::Stale)?;
        let put_ticket = Put::builder()
            .table_name(&self.table)
            .set_item(Some(ticket_item(ticket)?))
            .condition_expression(if previous == 0 {
                "attribute_exists(pk) AND #state = :was AND (attribute_not_exists(version) OR version = :prev)"
            } else {
                "attribute_exists(pk) AND #state = :was AND version = :prev"
            })
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":was", s(was.as_str()))
            .expression_attribute_values(":prev", n(previous as i64));
        let mut items = vec![TransactWriteItem::builder().put(put_ticket.build().map_err(backend)?).build()];
        if let Some(m) = message {
            items.push(put(&self.table, message_item(m)?, None)?);
        }
        for mail in mails {
            items.push(put(&self.table, mail_item(mail)?, None)?);
        }
        if was != ticket.state {
            items.push(self.count_states(Some(was), Some(ticket.state))?);
        }
        for attempt in 0..MAX_ATTEMPTS {
            match self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await {
                Ok(_) => return Ok(()),
                Err(e) => {
                    let Some(codes) = cancellation_codes(&e) else { return Err(backend(e)) };
                    if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") {
                        // Gone, or changed by someone else since it was read.
                        return Err(match self.ticket(&ticket.number).await? {
                            Some(_) => StoreError::Stale,
                            None => StoreError::NotFound,
                        });
                    }
                    // Another transaction on the same items (the state counter): try again.
                    tracing::debug!(attempt, ?codes, "ticket update conflicted; retrying");
                    tokio::time::sleep(jitter(attempt)).await;
                }
            }
        }
        Err(StoreError::Backend("could not update the ticket: too much contention".into()))
    }

    async fn queue(&self, q: &QueueQuery) -> Result<Page<Ticket>> {
        let partition = match q.state {
            None | Some(TicketState::Open) | Some(TicketState::InProgress) => "QUEUE",
            Some(TicketState::Resolved) => "RESOLVED",
            Some(TicketState::Closed) => return Ok(Page { items: vec![], next: None }),
        };
        let limit = q.limit.clamp(1, 200);
        // Filters run on the server (fewer items over the wire); DynamoDB applies them after
        // reading a page, so pages are read until enough tickets match.
        let mut filters = Vec::new();
        let mut values: Vec<(String, Av)> = Vec::new();
        let mut names: Vec<(String, String)> = Vec::new();
        let mut add = |attr: &str, value: Option<&str>| {
            if let Some(v) = value {
                let i = values.len();
                filters.push(format!("#f{i} = :f{i}"));
                names.push((format!("#f{i}"), attr.to_owned()));
                values.push((format!(":f{i}"), s(v)));
            }
        };
        if matches!(q.state, Some(TicketState::Open) | Some(TicketState::InProgress)) {
            add("state", q.state.map(TicketState::as_str));
        }
        add("level", q.level.as_deref());
        add("org_id", q.org_id.as_deref());
        add("assignee", q.assignee.as_deref());
        add("preferred_agent", q.preferred_agent.as_deref());
        add("sector", q.sector.as_deref());
        add("subtopic", q.subtopic.as_deref());
        let after = q.cursor.clone().unwrap_or_default();
        let mut items: Vec<(Ticket, String)> = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("gsi4")
                .expression_attribute_values(":pk", s(partition))
                .set_exclusive_start_key(start.take());
            // A key value may not be empty: without a cursor, the whole partition.
            req = match after.as_str() {
                "" => req.key_condition_expression("gsi4pk = :pk"),
                after => req
                    .key_condition_expression("gsi4pk = :pk AND gsi4sk > :after")
                    .expression_attribute_values(":after", s(after)),
            };
            if !filters.is_empty() {
                req = req.filter_expression(filters.join(" AND "));
                for (k, v) in &names {
                    req = req.expression_attribute_names(k, v);
                }
                for (k, v) in &values {
                    req = req.expression_attribute_values(k, v.clone());
                }
            }
            // Unfiltered, a page reads what it shows; filtered, it reads in bounded steps (not a
            // whole 1 MB page per call) until enough tickets match.
            req = if filters.is_empty() && q.text.is_none() && q.administration.is_none() {
                req.limit((limit + 1 - items.len()) as i32)
            } else {
                req.limit(200)
            };
            let out = req.send().await.map_err(backend)?;
            for item in out.items() {
                let t: Ticket = data(item)?;
                if q.matches(&t) {
                    items.push((t, text(item, "gsi4sk").unwrap_or_default().to_owned()));
                }
            }
            match out.last_evaluated_key {
                Some(k) if items.len() <= limit => start = Some(k),
                _ => break,
            }
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|(_, k)| k.clone())
        } else {
            None
        };
        Ok(Page { items: items.into_iter().map(|(t, _)| t).collect(), next })
    }

    async fn state_counts(&self) -> Result<StateCounts> {
        let item = self.get("COUNTER#states", "COUNTER").await?.unwrap_or_default();
        let get = |st: TicketState| number(&item, st.as_str()).unwrap_or(0).max(0) as u64;
        Ok(StateCounts {
            open: get(TicketState::Open),
            in_progress: get(TicketState::InProgress),
            resolved: get(TicketState::Resolved),
            closed: get(TicketState::Closed),
        })
    }

    async fn put_evaluation(&self, e: &Evaluation) -> Result<()> {
        let mut item = with_data(key(format!("EVAL#{}", e.answer_id), "EVAL"), e)?;
        item.insert("gsi1pk".into(), s(format!("RATED#{}", e.created.format("%Y-%m"))));
        item.insert("gsi1sk".into(), s(format!("{}#{}", millis_key(e.created), e.answer_id)));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(backend)?;
        Ok(())
    }

    async fn remember_mail_ids(&self, ids: &[String], ticket: &str) -> Result<()> {
        // People answer old mail now and then: the ids are kept for two years.
        let expires = (Utc::now() + chrono::Duration::days(730)).timestamp();
        for id in ids {
            let mut item = key(format!("MAILID#{id}"), "MAILID");
            item.insert("ticket".into(), s(ticket));
            item.insert("expires_at".into(), n(expires));
            self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(backend)?;
        }
        Ok(())
    }

    async fn ticket_by_mail_id(&self, ids: &[String]) -> Result<Option<String>> {
        for id in ids {
            if let Some(item) = self.get(format!("MAILID#{id}"), "MAILID").await?
                && !expired(&item, Utc::now())
            {
                return Ok(text(&item, "ticket").map(str::to_owned));
            }
        }
        Ok(None)
    }

    async fn evaluation(&self, answer_id: &str) -> Result<Option<Evaluation>> {
        self.get_data(format!("EVAL#{answer_id}"), "EVAL").await
    }

    async fn tickets_created(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Ticket>> {
        let mut out: Vec<Ticket> = Vec::new();
        for month in months(from, to) {
            out.extend(self.index_all::<Ticket>("gsi5", &format!("CREATED#{month}")).await?);
        }
        out.retain(|t| t.created >= from && t.created < to);
        out.sort_by_key(|t| t.seq);
        Ok(out)
    }

    async fn evaluations_created(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Evaluation>> {
        let mut out: Vec<Evaluation> = Vec::new();
        for month in months(from, to) {
            out.extend(self.index_all::<Evaluation>("gsi1", &format!("RATED#{month}")).await?);
        }
        out.retain(|e| e.created >= from && e.created < to);
        Ok(out)
    }

    async fn enqueue_mail(&self, mail: &OutgoingMail) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(mail_item(mail)?))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn due_mail(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutgoingMail>> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi2")
            .key_condition_expression("gsi2pk = :outbox AND gsi2sk < :until")
            .expression_attribute_values(":outbox", s("OUTBOX"))
            .expression_attribute_values(":until", s(format!("{}$", millis_key(now))))
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(backend)?;
        out.items()
            .iter()
            .map(|item| {
                let mut mail: OutgoingMail = data(item)?;
                mail.raw =
                    item.get("raw").and_then(|v| v.as_b().ok()).map(|b| b.clone().into_inner()).unwrap_or_default();
                // The moment it is due now (a claim moves it without rewriting the record).
                if let Some(due) = text(item, "gsi2sk")
                    .and_then(|k| k.split('#').next())
                    .and_then(|ms| ms.parse::<i64>().ok())
                    .and_then(DateTime::from_timestamp_millis)
                    .filter(|due| due.timestamp_millis() != mail.next_attempt.timestamp_millis())
                {
                    mail.next_attempt = due;
                }
                Ok(mail)
            })
            .collect()
    }

    async fn claim_mail(&self, mail: &OutgoingMail, until: DateTime<Utc>) -> Result<bool> {
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("MAIL#{}", mail.id), "MAIL")))
            .update_expression("SET gsi2sk = :new")
            .condition_expression("gsi2sk = :old")
            .expression_attribute_values(":old", s(format!("{}#{}", millis_key(mail.next_attempt), mail.id)))
            .expression_attribute_values(":new", s(format!("{}#{}", millis_key(until), mail.id)))
            .send()
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn mail_sent(&self, id: &str, provider_id: &str) -> Result<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("MAIL#{id}"), "MAIL")))
            .update_expression("SET provider_id = :p, expires_at = :e REMOVE gsi2pk, gsi2sk")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":p", s(provider_id))
            .expression_attribute_values(":e", n((Utc::now() + SENT_MAIL_TTL).timestamp()))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn mail_failed(&self, id: &str, next_attempt: DateTime<Utc>, error: &str) -> Result<()> {
        self.modify(format!("MAIL#{id}"), "MAIL", |m: &mut OutgoingMail, item| {
            m.attempts += 1;
            m.next_attempt = next_attempt;
            m.last_error = Some(error.to_owned());
            item.insert("gsi2sk".into(), s(format!("{}#{}", millis_key(next_attempt), id)));
        })
        .await
    }

    async fn hit(&self, k: &str, window_start: DateTime<Utc>, expires: DateTime<Utc>) -> Result<u32> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("HIT#{k}#{}", window_start.timestamp()), "HIT")))
            .update_expression("ADD hits :one SET expires_at = :e")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":e", n(expires.timestamp()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.attributes.as_ref().and_then(|a| number(a, "hits")).unwrap_or(0) as u32)
    }

    async fn hits(&self, k: &str, window_start: DateTime<Utc>) -> Result<u32> {
        let item = self.get(format!("HIT#{k}#{}", window_start.timestamp()), "HIT").await?;
        Ok(item.filter(|i| !expired(i, Utc::now())).and_then(|i| number(&i, "hits")).unwrap_or(0) as u32)
    }

    async fn add_misses(&self, counts: &[(String, u64)]) -> Result<()> {
        // One counter item per query, kept 90 days after it was last asked.
        let expires = (Utc::now() + chrono::Duration::days(90)).timestamp();
        for (q, count) in counts {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(format!("MISS#{q}"), "MISS")))
                .update_expression("ADD hits :n SET #query = :q, expires_at = :e, gsi1pk = :all, gsi1sk = :q")
                .expression_attribute_names("#query", "query")
                .expression_attribute_values(":n", n(*count as i64))
                .expression_attribute_values(":q", s(q))
                .expression_attribute_values(":e", n(expires))
                .expression_attribute_values(":all", s("MISSES"))
                .send()
                .await
                .map_err(backend)?;
        }
        Ok(())
    }

    async fn top_misses(&self, limit: usize) -> Result<Vec<(String, u64)>> {
        let now = Utc::now();
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :all")
            .expression_attribute_values(":all", s("MISSES"))
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<Item>, _>>()
            .await
            .map_err(backend)?;
        let mut all: Vec<(String, u64)> = items
            .iter()
            .filter(|i| !expired(i, now))
            .filter_map(|i| Some((text(i, "query")?.to_owned(), number(i, "hits")? as u64)))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        all.truncate(limit);
        Ok(all)
    }

    async fn unhit(&self, k: &str, window_start: DateTime<Utc>) -> Result<()> {
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("HIT#{k}#{}", window_start.timestamp()), "HIT")))
            .update_expression("ADD hits :minus")
            .condition_expression("hits > :zero")
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }

    async fn clear_hits(&self, k: &str, window_start: DateTime<Utc>) -> Result<()> {
        self.delete(format!("HIT#{k}#{}", window_start.timestamp()), "HIT").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_layout_comes_from_the_template() {
        let layout = TableLayout::from_template().expect("template");
        assert_eq!(layout.key, ("pk".to_owned(), "sk".to_owned()));
        assert_eq!(layout.ttl_attribute, "expires_at");
        for i in 1..=5 {
            let name = format!("gsi{i}");
            assert!(
                layout.indexes.contains(&(name.clone(), format!("{name}pk"), format!("{name}sk"))),
                "index {name} as the code uses it"
            );
        }
        for a in &layout.attributes {
            let used =
                *a == layout.key.0 || *a == layout.key.1 || layout.indexes.iter().any(|(_, h, r)| h == a || r == a);
            assert!(used, "attribute {a} is defined but not a key");
        }
    }

    #[test]
    fn sort_keys_order_like_the_values_they_encode() {
        assert!(seq_key(9) < seq_key(10));
        assert!(seq_key(99_999) < seq_key(100_000));
        let early = DateTime::from_timestamp(1_000, 0).expect("time");
        let late = DateTime::from_timestamp(1_000_000_000, 0).expect("time");
        assert!(millis_key(early) < millis_key(late));
    }
}
