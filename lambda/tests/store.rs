//! The store conformance suite: the same test functions run against the embedded store
//! (SQLite) and against DynamoDB (a moto server on a free loopback port), so both backends
//! keep one behaviour.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use helpdesk::model::*;
use helpdesk::store::{MailsFor, NewTicket, Store, StoreError};

/// Makes one conformance test per backend for each suite function.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let store = helpdesk::store::sqlite::SqliteStore::open(&dir.path().join("t.db")).expect("open");
                    super::$name(std::sync::Arc::new(store)).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let store = crate::common::moto::dynamo_store().await;
                    super::$name(std::sync::Arc::new(store)).await;
                }
            )*
        }
    };
}

conformance!(
    organisations,
    users_and_passwords,
    sessions_expire_and_can_be_revoked,
    tokens_are_single_use,
    tickets_numbers_threads_and_idempotency,
    ticket_lists_page_and_filter,
    updates_change_state_and_queue_mail,
    outbox_retries_and_delivery,
    rate_limit_windows,
    thousand_concurrent_tickets_get_consecutive_numbers,
    queue_orders_by_due_day_filters_and_pages,
    concurrent_updates_of_one_version_one_wins,
    evaluations_are_one_per_answer,
    organisations_and_people_are_listed_and_changed,
    reports_read_tickets_and_ratings_by_date,
    a_due_mail_is_claimed_by_one_sender,
    searches_without_results_add_up,
    mail_ids_lead_to_their_ticket,
);

type S = Arc<dyn Store>;

fn org(name: &str) -> Org {
    Org {
        id: helpdesk::auth::random_token(9),
        name: name.into(),
        sector: "overheid".into(),
        plan: "plus".into(),
        share_tickets: true,
        created: Utc::now(),
    }
}

fn user(email: &str, org_id: &str) -> User {
    User {
        id: helpdesk::auth::random_token(9),
        email: email.into(),
        name: "Anna de Vries".into(),
        org_id: org_id.into(),
        role: Role::Subscriber,
        password_hash: None,
        active: true,
        password_changed: None,
        created: Utc::now(),
    }
}

fn mail(to: &str, at: chrono::DateTime<Utc>) -> OutgoingMail {
    OutgoingMail {
        id: helpdesk::auth::random_token(9),
        to: to.into(),
        subject: "Onderwerp".into(),
        raw: format!("Subject: test\r\nTo: {to}\r\n\r\nHallo\r\n").into_bytes(),
        attempts: 0,
        next_attempt: at,
        created: at,
        last_error: None,
        message_id: String::new(),
        ticket: None,
    }
}

fn new_ticket(requester: &User, key: &str, subject: &str) -> NewTicket {
    let now = Utc::now();
    NewTicket {
        ticket: Ticket {
            number: String::new(),
            seq: 0,
            org_id: requester.org_id.clone(),
            requester_id: requester.id.clone(),
            requester_email: requester.email.clone(),
            requester_name: requester.name.clone(),
            sector: "overheid".into(),
            subtopic: "overheid/vergunningen".into(),
            subject: subject.into(),
            preferred_agent: None,
            administration: None,
            state: TicketState::Open,
            level: "1".into(),
            assignee: None,
            created: now,
            updated: now,
            due: now.date_naive() + Duration::days(7),
            lang: "nl".into(),
            version: 0,
            channel: Channel::Web,
            first_answer: None,
            resolved_at: None,
            follows: None,
            origin: None,
        },
        first: Message {
            id: helpdesk::auth::random_token(9),
            ticket: String::new(),
            kind: MessageKind::Customer,
            author_id: Some(requester.id.clone()),
            author_name: requester.name.clone(),
            body: format!("Vraag: {subject}"),
            attachments: vec![],
            created: now,
            event: None,
            original: None,
        },
        idempotency_key: key.into(),
    }
}

fn ack() -> MailsFor {
    Box::new(|t: &Ticket| vec![mail(&t.requester_email, t.created)])
}

fn numbering() -> Numbering {
    Numbering::new("#{seq}")
}

async fn organisations(store: S) {
    let a = org("Gemeente Wolde");
    store.create_org(&a).await.expect("create");
    assert_eq!(store.org(&a.id).await.expect("get"), Some(a.clone()));
    assert_eq!(store.org_by_name("gemeente WOLDE").await.expect("by name"), Some(a.clone()), "names ignore case");
    assert_eq!(store.org("nope").await.expect("get"), None);
    assert_eq!(store.org_by_name("Nergens").await.expect("by name"), None);
    let twin = org("GEMEENTE Wolde");
    assert!(matches!(store.create_org(&twin).await, Err(StoreError::Conflict(_))), "a name is taken once");
    assert_eq!(store.org(&twin.id).await.expect("get"), None, "the refused organisation left nothing behind");
}

async fn users_and_passwords(store: S) {
    let u = user("anna@wolde.example", "org1");
    store.create_user(&u).await.expect("create");
    assert_eq!(store.user(&u.id).await.expect("get"), Some(u.clone()));
    assert_eq!(store.user_by_email("Anna@Wolde.example").await.expect("by email"), Some(u.clone()));
    assert_eq!(store.user_by_email("bert@wolde.example").await.expect("by email"), None);
    let twin = user("anna@wolde.example", "org2");
    assert!(matches!(store.create_user(&twin).await, Err(StoreError::Conflict(_))), "an address is taken once");
    assert_eq!(store.user(&twin.id).await.expect("get"), None);

    store.set_password(&u.id, "$argon2id$hash", Utc::now()).await.expect("set");
    let got = store.user(&u.id).await.expect("get").expect("user");
    assert_eq!(got.password_hash.as_deref(), Some("$argon2id$hash"));
    assert_eq!(got.email, u.email, "the rest of the record is kept");
    assert!(matches!(store.set_password("nobody", "x", Utc::now()).await, Err(StoreError::NotFound)));
}

async fn sessions_expire_and_can_be_revoked(store: S) {
    let now = Utc::now();
    let session = |id: &str, user: &str, expires| Session {
        id_hash: id.into(),
        user_id: user.into(),
        expires,
        last_seen: Utc::now(),
    };
    store.put_session(&session("s1", "u1", now + Duration::hours(1))).await.expect("put");
    store.put_session(&session("s2", "u1", now + Duration::hours(1))).await.expect("put");
    store.put_session(&session("s3", "u2", now + Duration::hours(1))).await.expect("put");
    store.put_session(&session("old", "u2", now - Duration::seconds(1))).await.expect("put");
    assert_eq!(store.session("s1", now).await.expect("get").map(|s| s.user_id), Some("u1".into()));
    assert_eq!(store.session("old", now).await.expect("get"), None, "expired sessions are not returned");
    assert_eq!(store.session("s3", now + Duration::hours(2)).await.expect("get"), None);

    store.delete_session("s1").await.expect("delete");
    assert_eq!(store.session("s1", now).await.expect("get"), None);
    store.delete_user_sessions("u1").await.expect("delete all");
    assert_eq!(store.session("s2", now).await.expect("get"), None, "all of the user's sessions end");
    assert!(store.session("s3", now).await.expect("get").is_some(), "other users' sessions stay");
}

async fn tokens_are_single_use(store: S) {
    let now = Utc::now();
    let token =
        |hash: &str, kind, expires| Token { hash: hash.into(), kind, user_id: "u1".into(), ticket: None, expires };
    store.put_token(&token("t1", TokenKind::Invite, now + Duration::days(1))).await.expect("put");
    store.put_token(&token("t2", TokenKind::Reset, now - Duration::seconds(1))).await.expect("put");

    assert_eq!(store.take_token("t1", TokenKind::Reset, now).await.expect("take"), None, "the kind must match");
    let got = store.take_token("t1", TokenKind::Invite, now).await.expect("take").expect("token");
    assert_eq!(got.user_id, "u1");
    assert_eq!(store.take_token("t1", TokenKind::Invite, now).await.expect("take"), None, "used once");
    assert_eq!(store.take_token("t2", TokenKind::Reset, now).await.expect("take"), None, "expired");
    assert_eq!(store.take_token("nope", TokenKind::Reset, now).await.expect("take"), None);

    // Of many concurrent takes of one token, exactly one gets it.
    store.put_token(&token("race", TokenKind::Reset, now + Duration::hours(1))).await.expect("put");
    let takes: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.take_token("race", TokenKind::Reset, now).await.expect("take") })
        })
        .collect();
    let mut winners = 0;
    for t in takes {
        winners += t.await.expect("task").is_some() as usize;
    }
    assert_eq!(winners, 1);
}

async fn tickets_numbers_threads_and_idempotency(store: S) {
    let anna = user("anna@wolde.example", "org1");
    let (first, created) =
        store.create_ticket(new_ticket(&anna, "k1", "Eerste"), &numbering(), ack()).await.expect("create");
    assert!(created);
    assert_eq!((first.number.as_str(), first.seq), ("#1", 1));
    let (second, _) =
        store.create_ticket(new_ticket(&anna, "k2", "Tweede"), &numbering(), ack()).await.expect("create");
    assert_eq!(second.number, "#2");

    let (again, created) =
        store.create_ticket(new_ticket(&anna, "k1", "Eerste"), &numbering(), ack()).await.expect("again");
    assert!(!created, "the same submission twice is one ticket");
    assert_eq!(again.number, "#1");
    let (third, _) = store.create_ticket(new_ticket(&anna, "k3", "Derde"), &numbering(), ack()).await.expect("create");
    assert_eq!(third.number, "#3", "a repeated submission does not use up a number");

    assert_eq!(store.ticket("#1").await.expect("get"), Some(first.clone()));
    assert_eq!(store.ticket("#99").await.expect("get"), None);
    let thread = store.messages("#1").await.expect("messages");
    assert_eq!(thread.len(), 1);
    assert_eq!((thread[0].ticket.as_str(), thread[0].body.as_str()), ("#1", "Vraag: Eerste"));
    let due = store.due_mail(Utc::now() + Duration::seconds(1), 50).await.expect("due");
    assert_eq!(due.len(), 3, "one acknowledgement per new ticket, none for the repeat");
    assert!(due.iter().all(|m| m.raw.starts_with(b"Subject: test")), "the raw message is kept byte for byte");
}

async fn ticket_lists_page_and_filter(store: S) {
    let anna = user("anna@wolde.example", "wolde");
    let bert = user("bert@wolde.example", "wolde");
    let carla = user("carla@elders.example", "elders");
    for (i, who) in [&anna, &bert, &anna, &carla, &anna, &bert, &anna].iter().enumerate() {
        store
            .create_ticket(new_ticket(who, &format!("k{i}"), &format!("T{i}")), &numbering(), ack())
            .await
            .expect("create");
    }
    let all = |state| TicketQuery { state, cursor: None, limit: 3 };
    let page1 = store.tickets_for_org("wolde", &all(None)).await.expect("page");
    let numbers = |p: &Page<Ticket>| p.items.iter().map(|t| t.number.clone()).collect::<Vec<_>>();
    assert_eq!(numbers(&page1), ["#7", "#6", "#5"], "newest first");
    let page2 =
        store.tickets_for_org("wolde", &TicketQuery { cursor: page1.next.clone(), ..all(None) }).await.expect("page");
    assert_eq!(numbers(&page2), ["#3", "#2", "#1"], "#4 belongs to another organisation");
    assert_eq!(page2.next, None, "nothing after the last page");

    let mine = store.tickets_for_requester(&anna.id, &TicketQuery { limit: 10, ..all(None) }).await.expect("mine");
    assert_eq!(numbers(&mine), ["#7", "#5", "#3", "#1"]);
    assert_eq!(mine.next, None);

    // Close two of Anna's; the state filter sees it on both lists.
    for number in ["#5", "#1"] {
        let mut t = store.ticket(number).await.expect("get").expect("ticket");
        t.state = TicketState::Closed;
        t.version += 1;
        store.update_ticket(TicketState::Open, &t, None, &[]).await.expect("update");
    }
    let closed = store.tickets_for_org("wolde", &all(Some(TicketState::Closed))).await.expect("closed");
    assert_eq!(numbers(&closed), ["#5", "#1"]);
    let open = store.tickets_for_requester(&anna.id, &TicketQuery { limit: 1, ..all(Some(TicketState::Open)) }).await;
    let open = open.expect("open");
    assert_eq!(numbers(&open), ["#7"]);
    let rest = store
        .tickets_for_requester(&anna.id, &TicketQuery { limit: 1, cursor: open.next, state: Some(TicketState::Open) })
        .await
        .expect("rest");
    assert_eq!(numbers(&rest), ["#3"], "filtered pages skip non-matching tickets");
    assert!(store.tickets_for_org("nobody", &all(None)).await.expect("empty").items.is_empty());
}

async fn updates_change_state_and_queue_mail(store: S) {
    let anna = user("anna@wolde.example", "wolde");
    let (mut t, _) = store.create_ticket(new_ticket(&anna, "k", "Vraag"), &numbering(), ack()).await.expect("create");
    t.state = TicketState::Resolved;
    t.version = 1;
    t.assignee = Some("agent-1".into());
    let answer = Message {
        id: "m2".into(),
        ticket: t.number.clone(),
        kind: MessageKind::Answer,
        author_id: Some("agent-1".into()),
        author_name: "Helpdesk".into(),
        body: "Zo lost u het op.".into(),
        attachments: vec![Attachment {
            id: "a1".into(),
            filename: "uitleg.pdf".into(),
            content_type: "application/pdf".into(),
            size: 10,
        }],
        created: Utc::now() + Duration::seconds(1),
        event: None,
        original: None,
    };
    let notice = mail(&anna.email, Utc::now());
    store.update_ticket(TicketState::Open, &t, Some(&answer), std::slice::from_ref(&notice)).await.expect("update");
    assert_eq!(store.ticket(&t.number).await.expect("get"), Some(t.clone()));
    let thread = store.messages(&t.number).await.expect("thread");
    assert_eq!(
        thread.iter().map(|m| m.kind).collect::<Vec<_>>(),
        [MessageKind::Customer, MessageKind::Answer],
        "oldest first"
    );
    assert_eq!(thread[1], answer);
    let due = store.due_mail(Utc::now() + Duration::seconds(1), 50).await.expect("due");
    assert!(due.iter().any(|m| m.id == notice.id), "the answer's mail is queued with it");

    let mut ghost = t.clone();
    ghost.number = "#404".into();
    assert!(matches!(store.update_ticket(TicketState::Resolved, &ghost, None, &[]).await, Err(StoreError::NotFound)));
    // A change made from an old version is refused and changes nothing.
    let mut stale = t.clone();
    stale.state = TicketState::Closed;
    assert!(matches!(store.update_ticket(TicketState::Resolved, &stale, None, &[]).await, Err(StoreError::Stale)));
    assert_eq!(store.ticket(&t.number).await.expect("get"), Some(t.clone()), "unchanged");
    let mut next = t.clone();
    next.state = TicketState::Closed;
    next.version = 2;
    store.update_ticket(TicketState::Resolved, &next, None, &[]).await.expect("the next version goes in");
    assert_eq!(store.ticket("#404").await.expect("get"), None, "updating never creates");
}

async fn outbox_retries_and_delivery(store: S) {
    let now = Utc::now();
    let a = mail("a@x.example", now - Duration::seconds(10));
    let b = mail("b@x.example", now - Duration::seconds(5));
    let later = mail("c@x.example", now + Duration::minutes(5));
    for m in [&later, &b, &a] {
        store.enqueue_mail(m).await.expect("enqueue");
    }
    let due = store.due_mail(now, 50).await.expect("due");
    assert_eq!(due.iter().map(|m| m.to.as_str()).collect::<Vec<_>>(), ["a@x.example", "b@x.example"], "oldest first");
    assert_eq!(due[0], a, "everything round-trips, the raw message too");
    assert_eq!(store.due_mail(now, 1).await.expect("due").len(), 1, "the limit holds");

    store.mail_failed(&a.id, now + Duration::seconds(30), "provider down").await.expect("failed");
    store.mail_sent(&b.id, "provider-id-b").await.expect("sent");
    assert!(store.due_mail(now, 50).await.expect("due").is_empty(), "a failed mail waits; a sent one is done");
    let retry = store.due_mail(now + Duration::seconds(31), 50).await.expect("due");
    assert_eq!(retry.len(), 1);
    assert_eq!((retry[0].id.as_str(), retry[0].attempts), (a.id.as_str(), 1));
    assert_eq!(retry[0].last_error.as_deref(), Some("provider down"));
    assert!(store.due_mail(now + Duration::minutes(6), 50).await.expect("due").iter().any(|m| m.id == later.id));
}

async fn rate_limit_windows(store: S) {
    let w1 = Utc::now();
    let w2 = w1 + Duration::minutes(15);
    let expires = w1 + Duration::hours(1);
    assert_eq!(store.hits("login:anna", w1).await.expect("hits"), 0);
    for expected in 1..=3 {
        assert_eq!(store.hit("login:anna", w1, expires).await.expect("hit"), expected);
    }
    assert_eq!(store.hit("login:bert", w1, expires).await.expect("hit"), 1, "keys count apart");
    assert_eq!(store.hit("login:anna", w2, expires).await.expect("hit"), 1, "windows count apart");
    assert_eq!(store.hits("login:anna", w1).await.expect("hits"), 3);
    store.clear_hits("login:anna", w1).await.expect("clear");
    assert_eq!(store.hits("login:anna", w1).await.expect("hits"), 0);
    assert_eq!(store.hits("login:anna", w2).await.expect("hits"), 1);

    // Concurrent hits are all counted.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.hit("ip:10.0.0.1", w1, expires).await.expect("hit") })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(store.hits("ip:10.0.0.1", w1).await.expect("hits"), 20);
}

async fn thousand_concurrent_tickets_get_consecutive_numbers(store: S) {
    let anna = user("anna@wolde.example", "wolde");
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let (store, anna) = (store.clone(), anna.clone());
            tokio::spawn(async move {
                let (t, created) = store
                    .create_ticket(new_ticket(&anna, &format!("k{i}"), "Vraag"), &numbering(), ack())
                    .await
                    .expect("create");
                assert!(created);
                t.seq
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.expect("task"));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=1000).collect::<Vec<u64>>(), "distinct, consecutive, no gaps");
}

/// DynamoDB only: several service instances (Lambdas) share one table and race for numbers;
/// the conditional counter update in the ticket's transaction keeps them unique and gap-free.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_instances_racing_for_numbers_stay_consecutive() {
    let first = common::moto::dynamo_store().await;
    let table_client = first.clone();
    let anna = user("anna@wolde.example", "wolde");
    let mut tasks = Vec::new();
    for instance in 0..4 {
        let store = table_client.fresh_instance();
        for i in 0..50 {
            let (store, anna) = (store.clone(), anna.clone());
            tasks.push(tokio::spawn(async move {
                let key = format!("i{instance}-{i}");
                store.create_ticket(new_ticket(&anna, &key, "Vraag"), &numbering(), ack()).await.expect("create").0.seq
            }));
        }
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.expect("task"));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=200).collect::<Vec<u64>>());
}

async fn queue_orders_by_due_day_filters_and_pages(store: S) {
    let anna = user("anna@wolde.example", "wolde");
    let bert = user("bert@veld.example", "veld");
    let today = Utc::now().date_naive();
    // Five tickets, due days out of filing order; one resolved, one closed.
    let plan = [
        (&anna, 3, "Kaart laadt niet", "1"),
        (&bert, 1, "Export naar GML", "2"),
        (&anna, 2, "Kaart is leeg", "1"),
        (&bert, 5, "Wachtwoord kwijt", "1"),
        (&anna, 4, "Factuur dubbel", "1"),
    ];
    let mut tickets = Vec::new();
    for (i, (who, days, subject, level)) in plan.iter().enumerate() {
        let mut new = new_ticket(who, &format!("q{i}"), subject);
        new.ticket.due = today + Duration::days(*days);
        new.ticket.level = (*level).into();
        if i == 2 {
            new.ticket.assignee = Some("anne".into());
            new.ticket.preferred_agent = Some("bram".into());
        }
        let (t, _) = store.create_ticket(new, &numbering(), ack()).await.expect("create");
        tickets.push(t);
    }
    for (i, state) in [(3, TicketState::Resolved), (4, TicketState::Closed)] {
        let mut t = tickets[i].clone();
        t.state = state;
        t.version = 1;
        t.resolved_at = (state == TicketState::Resolved).then(Utc::now);
        store.update_ticket(TicketState::Open, &t, None, &[]).await.expect("update");
    }
    let q = |f: fn(&mut QueueQuery)| {
        let mut q = QueueQuery { limit: 10, ..Default::default() };
        f(&mut q);
        q
    };
    let numbers = |p: &Page<Ticket>| p.items.iter().map(|t| t.number.clone()).collect::<Vec<_>>();
    let waiting = store.queue(&q(|_| {})).await.expect("queue");
    assert_eq!(numbers(&waiting), ["#2", "#3", "#1"], "waiting tickets, earliest due first");
    let counts = store.state_counts().await.expect("counts");
    assert_eq!((counts.open, counts.in_progress, counts.resolved, counts.closed), (3, 0, 1, 1));

    // Paging keeps the order and ends.
    let first = store.queue(&q(|q| q.limit = 2)).await.expect("page 1");
    assert_eq!(numbers(&first), ["#2", "#3"]);
    let mut rest = q(|q| q.limit = 2);
    rest.cursor = first.next.clone();
    let second = store.queue(&rest).await.expect("page 2");
    assert_eq!(numbers(&second), ["#1"]);
    assert_eq!(second.next, None);

    // Filters.
    assert_eq!(numbers(&store.queue(&q(|q| q.level = Some("2".into()))).await.expect("level")), ["#2"]);
    assert_eq!(numbers(&store.queue(&q(|q| q.org_id = Some("wolde".into()))).await.expect("org")), ["#3", "#1"]);
    assert_eq!(numbers(&store.queue(&q(|q| q.assignee = Some("anne".into()))).await.expect("mine")), ["#3"]);
    assert_eq!(numbers(&store.queue(&q(|q| q.assignee = Some(String::new()))).await.expect("nobody's")), ["#2", "#1"]);
    assert_eq!(numbers(&store.queue(&q(|q| q.preferred_agent = Some("bram".into()))).await.expect("asked")), ["#3"]);
    assert_eq!(numbers(&store.queue(&q(|q| q.text = Some("kaart".into()))).await.expect("text")), ["#3", "#1"]);
    assert_eq!(numbers(&store.queue(&q(|q| q.text = Some("kaart leeg".into()))).await.expect("words")), ["#3"]);
    assert_eq!(numbers(&store.queue(&q(|q| q.state = Some(TicketState::Resolved))).await.expect("resolved")), ["#4"]);
    let mut text_paged = q(|q| q.text = Some("kaart".into()));
    text_paged.limit = 1;
    let p1 = store.queue(&text_paged).await.expect("p1");
    text_paged.cursor = p1.next.clone();
    let p2 = store.queue(&text_paged).await.expect("p2");
    assert_eq!((numbers(&p1), numbers(&p2)), (vec!["#3".to_owned()], vec!["#1".to_owned()]), "filtered pages");

    // A ticket that leaves the queue (resolved) no longer shows; counts follow.
    let mut t = store.ticket("#2").await.expect("get").expect("ticket");
    t.state = TicketState::InProgress;
    t.version += 1;
    store.update_ticket(TicketState::Open, &t, None, &[]).await.expect("update");
    assert_eq!(numbers(&store.queue(&q(|q| q.state = Some(TicketState::InProgress))).await.expect("ip")), ["#2"]);
    t.state = TicketState::Resolved;
    t.version += 1;
    store.update_ticket(TicketState::InProgress, &t, None, &[]).await.expect("update");
    assert_eq!(numbers(&store.queue(&q(|_| {})).await.expect("queue")), ["#3", "#1"]);
    let counts = store.state_counts().await.expect("counts");
    assert_eq!((counts.open, counts.in_progress, counts.resolved, counts.closed), (2, 0, 2, 1));
}

async fn concurrent_updates_of_one_version_one_wins(store: S) {
    let anna = user("anna@wolde.example", "wolde");
    let (t, _) = store.create_ticket(new_ticket(&anna, "k", "Vraag"), &numbering(), ack()).await.expect("create");
    let attempts = (0..8).map(|i| {
        let store = store.clone();
        let mut changed = t.clone();
        changed.version = 1;
        changed.assignee = Some(format!("agent-{i}"));
        async move { store.update_ticket(TicketState::Open, &changed, None, &[]).await }
    });
    let results = futures::future::join_all(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let stale = results.iter().filter(|r| matches!(r, Err(StoreError::Stale))).count();
    assert_eq!((won, stale), (1, 7), "{results:?}");
    let stored = store.ticket(&t.number).await.expect("get").expect("ticket");
    assert_eq!(stored.version, 1);
}

async fn evaluations_are_one_per_answer(store: S) {
    let now = Utc::now();
    let mut e = Evaluation {
        answer_id: "answer-1".into(),
        ticket: "#1".into(),
        agent_id: Some("u-anne".into()),
        agent_name: "Anne".into(),
        sector: "overheid".into(),
        rating: Rating::Satisfied,
        comment: "Prima".into(),
        created: now,
        updated: now,
    };
    assert_eq!(store.evaluation("answer-1").await.expect("get"), None);
    store.put_evaluation(&e).await.expect("put");
    assert_eq!(store.evaluation("answer-1").await.expect("get"), Some(e.clone()));
    e.rating = Rating::Dissatisfied;
    e.updated = now + Duration::minutes(5);
    store.put_evaluation(&e).await.expect("change");
    assert_eq!(store.evaluation("answer-1").await.expect("get"), Some(e));
}

async fn organisations_and_people_are_listed_and_changed(store: S) {
    let (b, a) = (org("Bureau Veld"), org("aadorp"));
    store.create_org(&b).await.expect("create");
    store.create_org(&a).await.expect("create");
    let names: Vec<String> = store.orgs().await.expect("orgs").into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["aadorp", "Bureau Veld"], "by name, ignoring case");
    let mut changed = b.clone();
    changed.plan = "premium".into();
    changed.share_tickets = false;
    changed.name = "Hernoemd".into();
    store.update_org(&changed).await.expect("update");
    let stored = store.org(&b.id).await.expect("get").expect("org");
    assert_eq!((stored.plan.as_str(), stored.share_tickets, stored.name.as_str()), ("premium", false, "Bureau Veld"));

    let piet = user("piet@veld.example", &b.id);
    let anna = user("anna@veld.example", &b.id);
    let other = user("kees@aadorp.example", &a.id);
    for u in [&piet, &anna, &other] {
        store.create_user(u).await.expect("user");
    }
    store.set_password(&piet.id, "hash", Utc::now()).await.expect("password");
    let people: Vec<String> = store.users_in_org(&b.id).await.expect("people").into_iter().map(|u| u.email).collect();
    assert_eq!(people, ["anna@veld.example", "piet@veld.example"]);
    let mut p = piet.clone();
    p.role = Role::Agent;
    p.active = false;
    p.password_hash = None;
    store.update_user(&p).await.expect("update");
    let stored = store.user(&piet.id).await.expect("get").expect("user");
    assert_eq!((stored.role, stored.active), (Role::Agent, false));
    assert_eq!(stored.password_hash.as_deref(), Some("hash"), "the password is not touched");
}

async fn reports_read_tickets_and_ratings_by_date(store: S) {
    let anna = user("anna@wolde.example", "wolde");
    let now = Utc::now();
    // Filed 40 days ago (another month), 3 days ago and now.
    for (i, days) in [40, 3, 0].iter().enumerate() {
        let mut new = new_ticket(&anna, &format!("r{i}"), &format!("Vraag {i}"));
        new.ticket.created = now - Duration::days(*days);
        store.create_ticket(new, &numbering(), ack()).await.expect("create");
    }
    let recent = store.tickets_created(now - Duration::days(7), now + Duration::seconds(1)).await.expect("recent");
    assert_eq!(recent.iter().map(|t| t.number.as_str()).collect::<Vec<_>>(), ["#2", "#3"]);
    let all = store.tickets_created(now - Duration::days(60), now + Duration::seconds(1)).await.expect("all");
    assert_eq!(all.len(), 3);
    assert!(store.tickets_created(now + Duration::days(1), now + Duration::days(2)).await.expect("none").is_empty());

    for (id, days) in [("old", 45), ("new", 1)] {
        let e = Evaluation {
            answer_id: id.into(),
            ticket: "#1".into(),
            agent_id: None,
            agent_name: "Anne".into(),
            sector: "overheid".into(),
            rating: Rating::Neutral,
            comment: String::new(),
            created: now - Duration::days(days),
            updated: now - Duration::days(days),
        };
        store.put_evaluation(&e).await.expect("put");
    }
    let rated = store.evaluations_created(now - Duration::days(7), now + Duration::seconds(1)).await.expect("rated");
    assert_eq!(rated.iter().map(|e| e.answer_id.as_str()).collect::<Vec<_>>(), ["new"]);
}

async fn a_due_mail_is_claimed_by_one_sender(store: S) {
    let now = Utc::now();
    let m = mail("a@x.example", now - Duration::seconds(5));
    store.enqueue_mail(&m).await.expect("enqueue");
    // Two workers read it at the same time; both try to claim it.
    let (a, b) = (store.due_mail(now, 10).await.expect("due"), store.due_mail(now, 10).await.expect("due"));
    let claims = futures::future::join_all([&a[0], &b[0]].map(|mail| {
        let store = store.clone();
        let mail = mail.clone();
        async move { store.claim_mail(&mail, now + Duration::minutes(2)).await.expect("claim") }
    }))
    .await;
    assert_eq!(claims.iter().filter(|c| **c).count(), 1, "exactly one sender: {claims:?}");
    assert!(store.due_mail(now, 10).await.expect("due").is_empty(), "claimed mail is not due for others");
    // A sender that died: due again when the claim runs out.
    let later = now + Duration::minutes(3);
    let again = store.due_mail(later, 10).await.expect("due");
    assert_eq!(again.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), [m.id.as_str()]);
    assert!(
        store.claim_mail(&again[0], later + Duration::minutes(2)).await.expect("claim"),
        "and can be claimed again"
    );
    store.mail_sent(&m.id, "provider-1").await.expect("sent");
    assert!(store.due_mail(later + Duration::minutes(10), 10).await.expect("due").is_empty());
}

async fn searches_without_results_add_up(store: S) {
    assert!(store.top_misses(10).await.expect("none").is_empty());
    store.add_misses(&[("factuur".into(), 2), ("btw".into(), 1)]).await.expect("add");
    store.add_misses(&[("factuur".into(), 1), ("query".into(), 3)]).await.expect("add");
    let top = store.top_misses(10).await.expect("top");
    assert_eq!(top, vec![("factuur".to_owned(), 3), ("query".to_owned(), 3), ("btw".to_owned(), 1)]);
    assert_eq!(store.top_misses(1).await.expect("top").len(), 1);
}

async fn mail_ids_lead_to_their_ticket(store: S) {
    let none: Vec<String> = vec!["nobody@example.org".into()];
    assert_eq!(store.ticket_by_mail_id(&none).await.expect("lookup"), None);
    store.remember_mail_ids(&["a1@helpdesk.example".into(), "0100-ses-id".into()], "#7").await.expect("remember");
    store.remember_mail_ids(&["b2@mail.example".into()], "#8").await.expect("remember");
    let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(store.ticket_by_mail_id(&ids(&["x@y", "0100-ses-id"])).await.expect("lookup").as_deref(), Some("#7"));
    assert_eq!(
        store.ticket_by_mail_id(&ids(&["b2@mail.example", "a1@helpdesk.example"])).await.expect("lookup").as_deref(),
        Some("#8"),
        "the first known id wins"
    );
    assert_eq!(store.ticket_by_mail_id(&[]).await.expect("lookup"), None);
}
