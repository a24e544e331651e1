//! The helpdesk's workspace (`/agent`, roles agent and admin; anyone else gets a 404): the queue,
//! a ticket with its whole history and the actions on it, and phone calls logged as tickets.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use minijinja::{Value, context};

use super::extract::{Csrf, require_user};
use super::{Svc, WebError, WebResult, render, site_ctx};
use crate::calendar::Calendar;
use crate::model::*;
use crate::render::urlencode;
use crate::search::SearchHandle;
use crate::service::agent::AgentAction;
use crate::service::{MAX_TEXT, Service, ServiceError, TicketDraft};

pub mod reports;

pub fn routes() -> axum::Router<Svc> {
    axum::Router::new()
        .merge(reports::routes())
        .route("/agent", get(queue))
        .route("/agent/tickets/{number}", get(show))
        .route("/agent/tickets/{number}/{action}", post(act))
        .route("/agent/calls/new", get(call_form))
        .route("/agent/calls", post(log_call))
}

/// The logged-in agent or admin. Anyone else logged in gets a 404: the workspace does not
/// exist for them.
async fn require_staff(svc: &Service, headers: &HeaderMap, back: &str) -> WebResult<User> {
    let user = require_user(svc, headers, back).await?;
    if user.role.is_staff() { Ok(user) } else { Err(WebError::NotFound) }
}

fn ticket_url(number: &str) -> String {
    format!("/agent/tickets/{}", urlencode(number))
}

/// How a ticket stands against its due day, for the agent: working days left, or late.
fn due_info(svc: &Service, t: &Ticket) -> Value {
    let today = Calendar::today(svc.clock.now());
    let left = svc.calendar.working_days_between(today, t.due);
    let waiting = t.in_queue();
    context! { left => left, late => -left, overdue => waiting && t.due < today, today => waiting && t.due == today }
}

fn agents(svc: &Service) -> Vec<Value> {
    svc.config
        .agents
        .iter()
        .map(|a| context! { id => a.id, name => a.name, level => svc.level_name(&a.level) })
        .collect()
}

fn levels(svc: &Service) -> Vec<Value> {
    svc.config.support_levels.iter().map(|l| context! { id => l.id, name => svc.level_name(&l.id) }).collect()
}

fn sectors(svc: &Service) -> Vec<Value> {
    svc.config
        .sectors
        .iter()
        .map(|s| {
            let subtopics: Vec<Value> =
                s.subtopics.iter().map(|t| context! { id => t.id, name => svc.subtopic_name(&s.id, &t.id) }).collect();
            context! { id => s.id, name => svc.sector_name(&s.id), subtopics => subtopics }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The queue

#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
struct QueueParams {
    state: Option<String>,
    level: Option<String>,
    /// An agent id, or `none` for unassigned.
    assignee: Option<String>,
    /// `1`: assigned to me.
    mine: Option<String>,
    /// `1`: the subscriber asked for me.
    preferred: Option<String>,
    sector: Option<String>,
    subtopic: Option<String>,
    /// The organisation's name.
    org: Option<String>,
    /// The administration in the customer's application.
    administration: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

async fn queue(State(svc): State<Svc>, csrf: Csrf, headers: HeaderMap, Query(p): Query<QueueParams>) -> WebResult {
    let user = require_staff(&svc, &headers, "/agent").await?;
    let me = svc.agent_of(&user).map(|a| a.id.clone());
    let search = given(&p.q);
    // A ticket number goes straight to the ticket.
    if let Some(q) = &search
        && let Some(t) = svc.store.ticket(q.trim()).await?
    {
        return Ok(Redirect::to(&ticket_url(&t.number)).into_response());
    }
    let org = match given(&p.org) {
        Some(name) => Some(svc.store.org_by_name(&name).await?.map(|o| o.id).unwrap_or_else(|| "-".into())),
        None => None,
    };
    let mut q = QueueQuery {
        state: given(&p.state).and_then(|s| TicketState::parse(&s)),
        level: given(&p.level),
        assignee: given(&p.assignee).map(|a| if a == "none" { String::new() } else { a }),
        preferred_agent: None,
        sector: given(&p.sector),
        subtopic: given(&p.subtopic),
        org_id: org,
        administration: given(&p.administration),
        text: search.map(|s| s.to_lowercase()),
        cursor: given(&p.cursor),
        limit: 50,
    };
    if p.mine.as_deref() == Some("1") {
        q.assignee = Some(me.clone().unwrap_or_else(|| "-".into()));
    }
    if p.preferred.as_deref() == Some("1") {
        q.preferred_agent = Some(me.clone().unwrap_or_else(|| "-".into()));
    }
    let (page, counts) = tokio::try_join!(svc.store.queue(&q), svc.store.state_counts())?;
    let tickets: Vec<Value> = page
        .items
        .iter()
        .map(|t| {
            context! {
                ticket => t, url => ticket_url(&t.number), due => due_info(&svc, t),
                state_label => super::state_label(&svc, t.state.as_str()), level => svc.level_name(&t.level),
                assignee => t.assignee.as_ref().and_then(|a| svc.config.agents.iter().find(|x| &x.id == a)).map(|a| a.name.clone()),
                sector => svc.sector_name(&t.sector), subtopic => svc.subtopic_name(&t.sector, &t.subtopic),
            }
        })
        .collect();
    // The next page keeps the filters.
    let next = page.next.map(|cursor| {
        let mut params = p.clone_without_cursor();
        params.cursor = Some(cursor);
        format!("/agent?{}", serde_urlencoded(&params))
    });
    let html = render(
        &svc,
        "agent/queue.html",
        context! {
            site => site_ctx(&svc), csrf => csrf.token, user => user, tab => "queue", me => me,
            tickets => tickets, counts => counts, next => next, f => p,
            agents => agents(&svc), levels => levels(&svc), sectors => sectors(&svc),
        },
    )?;
    Ok(csrf.page(&svc, html))
}

impl QueueParams {
    fn clone_without_cursor(&self) -> QueueParams {
        QueueParams {
            state: self.state.clone(),
            level: self.level.clone(),
            assignee: self.assignee.clone(),
            mine: self.mine.clone(),
            preferred: self.preferred.clone(),
            sector: self.sector.clone(),
            subtopic: self.subtopic.clone(),
            org: self.org.clone(),
            administration: self.administration.clone(),
            q: self.q.clone(),
            cursor: None,
        }
    }
}

/// `key=value&...` of the parameters that are set.
fn serde_urlencoded(p: &QueueParams) -> String {
    let value = serde_json::to_value(p).unwrap_or_default();
    let Some(map) = value.as_object() else { return String::new() };
    map.iter()
        .filter_map(|(k, v)| v.as_str().filter(|s| !s.is_empty()).map(|s| format!("{k}={}", urlencode(s))))
        .collect::<Vec<_>>()
        .join("&")
}

// ---------------------------------------------------------------------------------------------
// One ticket

#[derive(Debug, Default, serde::Deserialize)]
struct ShowParams {
    done: Option<String>,
}

/// What the agent typed, kept when the form comes back.
#[derive(Debug, Default, serde::Serialize)]
struct Typed {
    answer: String,
    note: String,
    keep_open: bool,
}

async fn show(
    State(svc): State<Svc>,
    Extension(search): Extension<Arc<SearchHandle>>,
    csrf: Csrf,
    headers: HeaderMap,
    Path(number): Path<String>,
    Query(p): Query<ShowParams>,
) -> WebResult {
    let user = require_staff(&svc, &headers, &ticket_url(&number)).await?;
    let ticket = svc.store.ticket(&number).await?.ok_or(WebError::NotFound)?;
    let notice =
        p.done.map(|d| svc.lang().get(&format!("agent_done_{}", d.replace(|c: char| !c.is_ascii_lowercase(), ""))));
    ticket_page(&svc, &search, &csrf, &user, &ticket, notice, None, BTreeMap::new(), Typed::default(), StatusCode::OK)
        .await
}

#[allow(clippy::too_many_arguments)]
async fn ticket_page(
    svc: &Service,
    search: &SearchHandle,
    csrf: &Csrf,
    user: &User,
    ticket: &Ticket,
    notice: Option<String>,
    problem: Option<String>,
    errors: BTreeMap<&'static str, String>,
    typed: Typed,
    status: StatusCode,
) -> WebResult {
    let recent = TicketQuery { limit: 6, ..Default::default() };
    let (messages, org, others) = tokio::try_join!(
        svc.store.messages(&ticket.number),
        svc.store.org(&ticket.org_id),
        svc.store.tickets_for_requester(&ticket.requester_id, &recent),
    )?;
    let plan = org
        .as_ref()
        .and_then(|o| svc.config.plans.iter().find(|p| p.id == o.plan))
        .map(|p| p.name.get(&svc.lang().code).to_owned());
    let others: Vec<Value> = others
        .items
        .iter()
        .filter(|t| t.number != ticket.number)
        .take(5)
        .map(|t| context! { ticket => t, url => ticket_url(&t.number), state_label => super::state_label(svc, t.state.as_str()) })
        .collect();
    let faqs = suggested_faqs(search, ticket).await;
    let levels = &svc.config.support_levels;
    let next_level =
        levels.iter().position(|l| l.id == ticket.level).and_then(|i| levels.get(i + 1)).map(|l| svc.level_name(&l.id));
    let events: Vec<Value> = messages.iter().map(|m| event_text(svc, m)).collect();
    let me = svc.agent_of(user).map(|a| a.id.clone());
    let states: Vec<Value> = TicketState::ALL
        .iter()
        .map(|s| context! { id => s.as_str(), label => super::state_label(svc, s.as_str()) })
        .collect();
    let html = render(
        svc,
        "agent/ticket.html",
        context! {
            site => site_ctx(svc), csrf => csrf.token, user => user, tab => "queue", me => me,
            ticket => ticket, url => ticket_url(&ticket.number), messages => messages, events => events,
            org => org, plan => plan, others => others, faqs => faqs, due => due_info(svc, ticket),
            state_label => super::state_label(svc, ticket.state.as_str()),
            level => svc.level_name(&ticket.level), next_level => next_level,
            sector => svc.sector_name(&ticket.sector), subtopic => svc.subtopic_name(&ticket.sector, &ticket.subtopic),
            preferred => ticket.preferred_agent.as_ref().and_then(|a| svc.config.agents.iter().find(|x| &x.id == a)).map(|a| a.name.clone()),
            assign_default => ticket.assignee.clone().or_else(|| ticket.preferred_agent.clone()).or(me.clone()),
            agents => agents(svc), states => states, sectors => sectors(svc),
            notice => notice, problem => problem, errors => errors, typed => typed,
            portal_url => format!("/portal/tickets/{}", urlencode(&ticket.number)),
        },
    )?;
    let mut resp = csrf.page(svc, html);
    *resp.status_mut() = status;
    Ok(resp)
}

/// A history entry as a sentence in the request's language.
fn event_text(svc: &Service, m: &Message) -> Value {
    let lang = svc.lang();
    let agent_name = |id: &Option<String>| match id {
        Some(id) => {
            svc.config.agents.iter().find(|a| &a.id == id).map(|a| a.name.clone()).unwrap_or_else(|| id.clone())
        }
        None => lang.get("agent_nobody"),
    };
    let text = match &m.event {
        Some(TicketEvent::Assigned { agent }) => lang.fill("agent_event_assigned", &[("agent", &agent_name(agent))]),
        Some(TicketEvent::State { to, .. }) => {
            lang.fill("agent_event_state", &[("state", &super::state_label(svc, to.as_str()))])
        }
        Some(TicketEvent::Escalated { to, .. }) => {
            lang.fill("agent_event_escalated", &[("level", &svc.level_name(to))])
        }
        Some(TicketEvent::Reopened) => lang.get("agent_event_reopened"),
        Some(TicketEvent::Closed) => lang.get("portal_event_closed"),
        Some(TicketEvent::AutoClosed) => lang.get("agent_event_auto_closed"),
        Some(TicketEvent::PhoneCall) => lang.get("agent_event_phone"),
        Some(TicketEvent::Categorised { sector, subtopic }) => lang.fill(
            "agent_event_categorised",
            &[("sector", &svc.sector_name(sector)), ("subtopic", &svc.subtopic_name(sector, subtopic))],
        ),
        None if m.body == "closed" => lang.get("portal_event_closed"),
        None => m.body.clone(),
    };
    Value::from(text)
}

/// FAQ articles that may answer the ticket, found by its subject in its language.
async fn suggested_faqs(search: &SearchHandle, t: &Ticket) -> Vec<Value> {
    let Some(loaded) = search.current().await else { return vec![] };
    let req =
        search_index::SearchRequest { query: &t.subject, lang: Some(&t.lang), category: None, limit: 5, offset: 0 };
    match loaded.index.search(&req) {
        Ok(found) => found
            .results
            .into_iter()
            .map(|h| context! { title => h.title, url => h.url, category => h.category })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "suggested FAQs");
            vec![]
        }
    }
}

#[derive(Debug, serde::Deserialize)]
struct ActionForm {
    csrf_token: Option<String>,
    version: Option<u64>,
    body: Option<String>,
    keep_open: Option<String>,
    agent: Option<String>,
    state: Option<String>,
    /// `sector/subtopic`.
    subtopic: Option<String>,
}

async fn act(
    State(svc): State<Svc>,
    Extension(search): Extension<Arc<SearchHandle>>,
    csrf: Csrf,
    headers: HeaderMap,
    Path((number, action)): Path<(String, String)>,
    axum::Form(f): axum::Form<ActionForm>,
) -> WebResult {
    let user = require_staff(&svc, &headers, &ticket_url(&number)).await?;
    csrf.check(f.csrf_token.as_deref())?;
    let ticket = svc.store.ticket(&number).await?.ok_or(WebError::NotFound)?;
    if action == "faq" {
        return faq_draft(&svc, &search, &csrf, &user, &ticket).await;
    }
    let body = f.body.clone().unwrap_or_default();
    let keep_open = f.keep_open.is_some();
    let typed = match action.as_str() {
        "answer" => Typed { answer: body.clone(), keep_open, ..Default::default() },
        "note" => Typed { note: body.clone(), ..Default::default() },
        _ => Typed::default(),
    };
    let lang = svc.lang();
    let field = match action.as_str() {
        "note" => "note",
        "category" => "category",
        _ => "answer",
    };
    let mut errors = BTreeMap::new();
    let action = match action.as_str() {
        "answer" | "note" => {
            if body.trim().is_empty() {
                errors.insert(field, lang.get("agent_err_empty"));
            } else if body.len() > MAX_TEXT {
                errors.insert(field, lang.get("agent_err_long"));
            }
            if action == "answer" { AgentAction::Answer { body, keep_open } } else { AgentAction::Note { body } }
        }
        "assign" => AgentAction::Assign { agent: f.agent.filter(|a| !a.is_empty()) },
        "state" => {
            AgentAction::State { state: f.state.as_deref().and_then(TicketState::parse).ok_or(WebError::NotFound)? }
        }
        "escalate" => AgentAction::Escalate,
        "category" => {
            let (sector, subtopic) = f.subtopic.as_deref().and_then(|s| s.split_once('/')).unwrap_or_default();
            AgentAction::Categorise { sector: sector.to_owned(), subtopic: subtopic.to_owned() }
        }
        _ => return Err(WebError::NotFound),
    };
    let done = match &action {
        AgentAction::Answer { .. } => "answer",
        AgentAction::Note { .. } => "note",
        AgentAction::Assign { .. } => "assign",
        AgentAction::State { .. } => "state",
        AgentAction::Escalate => "escalate",
        AgentAction::Categorise { .. } => "category",
    };
    if !errors.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return ticket_page(&svc, &search, &csrf, &user, &ticket, None, None, errors, typed, status).await;
    }
    let version = f.version.unwrap_or(u64::MAX);
    match svc.act(&ticket, version, &user, action).await {
        Ok(t) => Ok(Redirect::to(&format!("{}?done={done}", ticket_url(&t.number))).into_response()),
        Err(ServiceError::Stale) => {
            // Someone else changed the ticket since this page was shown: show it as it is
            // now, with what this agent typed, and let them decide.
            let now = svc.store.ticket(&number).await?.ok_or(WebError::NotFound)?;
            let problem = Some(lang.get("agent_stale"));
            ticket_page(&svc, &search, &csrf, &user, &now, None, problem, errors, typed, StatusCode::CONFLICT).await
        }
        Err(ServiceError::NotNow(why)) => {
            let problem = Some(lang.get(&format!("agent_not_now_{}", why.replace(' ', "_"))));
            ticket_page(&svc, &search, &csrf, &user, &ticket, None, problem, errors, typed, StatusCode::CONFLICT).await
        }
        Err(ServiceError::Invalid(why)) => {
            errors.insert(field, if field == "category" { lang.get("portal_err_subtopic") } else { why });
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            ticket_page(&svc, &search, &csrf, &user, &ticket, None, None, errors, typed, status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// "Make this a FAQ": beside `content/` the draft is written there for an editor to commit;
/// otherwise (AWS) it is offered as a download.
async fn faq_draft(svc: &Service, search: &SearchHandle, csrf: &Csrf, user: &User, ticket: &Ticket) -> WebResult {
    let draft = match svc.faq_draft(ticket).await {
        Ok(d) => d,
        Err(ServiceError::NotNow(_)) => {
            let problem = Some(svc.lang().get("agent_faq_no_answer"));
            let status = StatusCode::CONFLICT;
            return ticket_page(
                svc,
                search,
                csrf,
                user,
                ticket,
                None,
                problem,
                BTreeMap::new(),
                Typed::default(),
                status,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    match &svc.content_dir {
        Some(content) => {
            let path =
                crate::service::faq::write_draft(content, &draft).map_err(|e| WebError::Internal(e.to_string()))?;
            let shown = format!("content/{}", path.to_string_lossy().replace('\\', "/"));
            let notice = Some(svc.lang().fill("agent_faq_written", &[("file", &shown)]));
            ticket_page(
                svc,
                search,
                csrf,
                user,
                ticket,
                notice,
                None,
                BTreeMap::new(),
                Typed::default(),
                StatusCode::OK,
            )
            .await
        }
        None => {
            let mut resp = draft.text.clone().into_response();
            let h = resp.headers_mut();
            h.insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("text/markdown; charset=utf-8"),
            );
            let disposition = crate::files::content_disposition(&format!("{}.md", draft.slug));
            h.insert(
                axum::http::header::CONTENT_DISPOSITION,
                axum::http::HeaderValue::from_str(&disposition)
                    .unwrap_or(axum::http::HeaderValue::from_static("attachment")),
            );
            h.insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("private, no-store"));
            Ok(resp)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Phone calls

#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
struct CallForm {
    email: Option<String>,
    sector: Option<String>,
    subtopic: Option<String>,
    subject: Option<String>,
    description: Option<String>,
    answer: Option<String>,
    submission_id: Option<String>,
    csrf_token: Option<String>,
}

fn call_page(
    svc: &Service,
    csrf: &Csrf,
    user: &User,
    values: &CallForm,
    errors: BTreeMap<&'static str, String>,
    status: StatusCode,
) -> WebResult {
    let html = render(
        svc,
        "agent/call.html",
        context! {
            site => site_ctx(svc), csrf => csrf.token, user => user, tab => "call",
            values => values, errors => errors, sectors => sectors(svc),
        },
    )?;
    let mut resp = csrf.page(svc, html);
    *resp.status_mut() = status;
    Ok(resp)
}

async fn call_form(State(svc): State<Svc>, csrf: Csrf, headers: HeaderMap) -> WebResult {
    let user = require_staff(&svc, &headers, "/agent/calls/new").await?;
    let values = CallForm { submission_id: Some(crate::auth::random_token(16)), ..Default::default() };
    call_page(&svc, &csrf, &user, &values, BTreeMap::new(), StatusCode::OK)
}

async fn log_call(
    State(svc): State<Svc>,
    csrf: Csrf,
    headers: HeaderMap,
    axum::Form(f): axum::Form<CallForm>,
) -> WebResult {
    let user = require_staff(&svc, &headers, "/agent/calls/new").await?;
    csrf.check(f.csrf_token.as_deref())?;
    let lang = svc.lang();
    let mut errors = BTreeMap::new();
    let email = given(&f.email).unwrap_or_default().to_lowercase();
    let requester = if email.is_empty() { None } else { svc.store.user_by_email(&email).await? };
    if requester.is_none() {
        errors.insert("email", lang.get("agent_err_caller"));
    }
    let sector = given(&f.sector).unwrap_or_default();
    let subtopic = given(&f.subtopic).unwrap_or_default();
    let subtopic = subtopic.rsplit('/').next().unwrap_or_default().to_owned();
    match svc.config.sectors.iter().find(|s| s.id == sector) {
        None => {
            errors.insert("sector", lang.get("portal_err_sector"));
        }
        Some(s) if !s.subtopics.iter().any(|t| t.id == subtopic) => {
            errors.insert("subtopic", lang.get("portal_err_subtopic"));
        }
        Some(_) => {}
    }
    let subject = given(&f.subject).unwrap_or_default();
    if subject.is_empty() {
        errors.insert("subject", lang.get("portal_err_subject"));
    } else if subject.chars().count() > 150 {
        errors.insert("subject", lang.get("portal_err_subject_long"));
    }
    let description = f.description.clone().unwrap_or_default();
    if description.trim().is_empty() {
        errors.insert("description", lang.get("portal_err_description"));
    } else if description.len() > MAX_TEXT {
        errors.insert("description", lang.get("portal_err_description_long"));
    }
    if f.answer.as_ref().is_some_and(|a| a.len() > MAX_TEXT) {
        errors.insert("answer", lang.get("agent_err_long"));
    }
    let Some(requester) = requester.filter(|_| errors.is_empty()) else {
        return call_page(&svc, &csrf, &user, &f, errors, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let draft = TicketDraft {
        sector,
        subtopic,
        subject,
        description,
        submission_id: given(&f.submission_id).unwrap_or_else(|| crate::auth::random_token(16)),
        ..Default::default()
    };
    let t = svc.log_call(&user, &requester, draft, f.answer.clone()).await?;
    Ok(Redirect::to(&format!("{}?done=call", ticket_url(&t.number))).into_response())
}
