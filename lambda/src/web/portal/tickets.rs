//! The Tickets tab: the list, the new-ticket form, a ticket's page, replies and attachments.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use minijinja::{Value, context};

use crate::auth::random_token;
use crate::model::*;
use crate::service::{MAX_TEXT, Service, ServiceError, TicketDraft, urlencode};
use crate::web::extract::{Csrf, require_user};
use crate::web::{Svc, WebError, WebResult, render, site_ctx};

pub fn routes() -> Router<Svc> {
    Router::new()
        .route("/portal/tickets", get(list).post(create))
        .route("/portal/tickets/new", get(new_form))
        .route("/portal/uploads", post(start_upload))
        .route("/portal/tickets/{number}", get(show))
        .route("/portal/tickets/{number}/reply", post(reply))
        .route("/portal/tickets/{number}/close", post(close))
        .route("/portal/tickets/{number}/attachments/{id}", get(attachment))
}

fn ticket_url(t: &Ticket) -> String {
    format!("/portal/tickets/{}", urlencode(&t.number))
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Debug, serde::Deserialize)]
struct ListQuery {
    state: Option<String>,
    q: Option<String>,
    scope: Option<String>,
    cursor: Option<String>,
}

async fn list(State(svc): State<Svc>, csrf: Csrf, headers: HeaderMap, Query(lq): Query<ListQuery>) -> WebResult {
    let user = require_user(&svc, &headers, "/portal/tickets").await?;
    let org = svc.store.org(&user.org_id).await?;
    let shares = org.as_ref().is_some_and(|o| o.share_tickets);
    let state = lq.state.as_deref().and_then(TicketState::parse);
    let all = shares && lq.scope.as_deref() != Some("mine");
    let search = lq.q.clone().unwrap_or_default().trim().to_lowercase();
    let q = TicketQuery { state, cursor: lq.cursor.clone(), limit: if search.is_empty() { 25 } else { 200 } };
    let page = if all {
        svc.store.tickets_for_org(&user.org_id, &q).await?
    } else {
        svc.store.tickets_for_requester(&user.id, &q).await?
    };
    let tickets: Vec<&Ticket> = page
        .items
        .iter()
        .filter(|t| {
            search.is_empty() || t.number.to_lowercase().contains(&search) || t.subject.to_lowercase().contains(&search)
        })
        .collect();
    let states: Vec<Value> = TicketState::ALL
        .iter()
        .map(|s| context! { id => s.as_str(), label => crate::web::state_label(&svc, s.as_str()) })
        .collect();
    let html = render(
        &svc,
        "tickets.html",
        context! {
            site => site_ctx(&svc), csrf => csrf.token, user => user, tab => "tickets",
            tickets => tickets, states => states, shares => shares, all => all,
            state => lq.state, q => lq.q, next => page.next,
            sectors => sector_names(&svc),
        },
    )?;
    Ok(csrf.page(&svc, html))
}

fn sector_names(svc: &Service) -> BTreeMap<String, String> {
    let lang = svc.lang().code;
    svc.config.sectors.iter().map(|s| (s.id.clone(), s.name.get(&lang).to_owned())).collect()
}

// ---------------------------------------------------------------------------------------------
// The form

#[derive(Debug, Default, serde::Serialize)]
struct FormValues {
    email: String,
    sector: String,
    subtopic: String,
    subject: String,
    preferred_agent: String,
    administration: String,
    description: String,
    submission_id: String,
    /// The closed ticket this one follows up (when filed from its page).
    follows: String,
    /// The application page the form was opened from ("Contact HelpDesk"), when allowed.
    from: String,
    /// Files already sent ahead to storage: a form shown again keeps them.
    uploaded: Vec<DirectRef>,
}

#[derive(Debug, serde::Deserialize)]
struct NewQuery {
    administration: Option<String>,
    /// The closed ticket the new one follows up.
    follows: Option<String>,
    /// The application page "Contact HelpDesk" was used on.
    from: Option<String>,
    sector: Option<String>,
    subject: Option<String>,
}

async fn new_form(State(svc): State<Svc>, csrf: Csrf, headers: HeaderMap, Query(nq): Query<NewQuery>) -> WebResult {
    // From a "Contact HelpDesk" link: a plain administration id and a page of the application
    // are taken; anything else in the link is dropped, never shown back.
    let administration = nq.administration.filter(|a| crate::service::inbound::valid_administration(a));
    let from = nq.from.as_deref().and_then(|f| svc.config.application.page(f));
    let mut back = "/portal/tickets/new".to_owned();
    let params: Vec<String> = [("administration", &administration), ("from", &from)]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", urlencode(v))))
        .collect();
    if !params.is_empty() {
        back = format!("{back}?{}", params.join("&"));
    }
    let user = require_user(&svc, &headers, &back).await?;
    let org = svc.store.org(&user.org_id).await?;
    let mut values = FormValues {
        email: user.email.clone(),
        sector: nq.sector.or_else(|| org.map(|o| o.sector)).unwrap_or_default(),
        subject: nq.subject.unwrap_or_default(),
        administration: administration.unwrap_or_default(),
        from: from.unwrap_or_default(),
        submission_id: random_token(16),
        ..Default::default()
    };
    // A follow-up of a closed ticket starts from that ticket's topic.
    if let Some(number) = nq.follows.as_deref()
        && let Ok(earlier) = visible_ticket(&svc, &user, number).await
    {
        values.follows = earlier.number.clone();
        values.sector = earlier.sector.clone();
        values.subtopic = format!("{}/{}", earlier.sector, earlier.subtopic);
        if values.subject.is_empty() {
            values.subject = format!("{} ({})", earlier.subject, earlier.number);
        }
    }
    form_page(&svc, &csrf, &user, values, BTreeMap::new(), StatusCode::OK)
}

fn form_page(
    svc: &Service,
    csrf: &Csrf,
    user: &User,
    values: FormValues,
    errors: BTreeMap<&'static str, String>,
    status: StatusCode,
) -> WebResult {
    let t = &svc.config.tickets;
    let lang = svc.lang().code;
    let html = render(
        svc,
        "ticket_new.html",
        context! {
            site => site_ctx(svc), csrf => csrf.token, user => user, tab => "new",
            values => values, errors => errors,
            sectors => svc.config.sectors.iter().map(|s| context! {
                id => s.id, name => s.name.get(&lang),
                subtopics => s.subtopics.iter().map(|x| context! { id => x.id, name => x.name.get(&lang) }).collect::<Vec<_>>(),
            }).collect::<Vec<_>>(),
            agents => svc.config.agents.iter().map(|a| context! { id => a.id, name => a.name }).collect::<Vec<_>>(),
            max_mb => t.max_attachment_mb, types => t.attachment_types.join(", "),
            accept => t.attachment_types.iter().map(|x| format!(".{x}")).collect::<Vec<_>>().join(","),
            direct_upload => svc.files.direct_uploads(),
        },
    )?;
    let mut resp = csrf.page(svc, html);
    *resp.status_mut() = status;
    Ok(resp)
}

/// A file from the form, before it is kept.
struct Upload {
    filename: String,
    content_type: String,
    bytes: Vec<u8>,
}

/// A file the browser already sent straight to storage (`POST /portal/uploads`); the form
/// carries `id/filename` in an `uploaded` field, and a form shown again keeps it.
#[derive(Debug, Clone, serde::Serialize)]
struct DirectRef {
    id: String,
    filename: String,
}

impl DirectRef {
    fn parse(value: &str) -> Option<Self> {
        let (id, filename) = value.split_once('/')?;
        let ok_id = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let filename = sanitize_filename(filename);
        (ok_id && !filename.is_empty()).then(|| DirectRef { id: id.to_owned(), filename })
    }
}

/// A posted multipart form: text fields, files sent with it, files sent ahead, problems found.
struct PostedForm {
    fields: BTreeMap<String, String>,
    uploads: Vec<Upload>,
    direct: Vec<DirectRef>,
    problems: Vec<String>,
}

/// Reads the multipart form: text fields into a map, files into uploads.
async fn read_form(svc: &Service, mut mp: Multipart) -> WebResult<PostedForm> {
    let mut form =
        PostedForm { fields: BTreeMap::new(), uploads: Vec::new(), direct: Vec::new(), problems: Vec::new() };
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    WebError::Internal("upload too large".into())
                } else {
                    WebError::Internal(format!("multipart: {e}"))
                });
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "attachments" {
            let filename = field.file_name().map(sanitize_filename).unwrap_or_default();
            let content_type = field.content_type().unwrap_or("application/octet-stream").to_owned();
            let bytes = field.bytes().await.map_err(|e| WebError::Internal(e.to_string()))?;
            if filename.is_empty() && bytes.is_empty() {
                continue; // the empty file input of a form without attachments
            }
            match svc.attachment_problem(&filename, bytes.len() as u64) {
                Some(problem) => form.problems.push(problem),
                None => form.uploads.push(Upload { filename, content_type, bytes: bytes.to_vec() }),
            }
        } else {
            let text = field.text().await.map_err(|e| WebError::Internal(e.to_string()))?;
            if name == "uploaded" {
                form.direct.extend(DirectRef::parse(&text));
            } else {
                form.fields.insert(name, text);
            }
        }
    }
    Ok(form)
}

/// The name part only, without path or control characters.
fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    base.chars().filter(|c| !c.is_control() && *c != '"').take(120).collect::<String>().trim().to_owned()
}

/// Keeps the files where the service keeps attachments (a folder, or S3): those sent with the
/// form are stored, those sent ahead are claimed (only the uploader's own). Either every file
/// becomes an attachment, or the problems say which did not.
async fn keep_files(
    svc: &Service,
    user: &User,
    uploads: Vec<Upload>,
    direct: &[DirectRef],
) -> WebResult<Result<Vec<Attachment>, Vec<String>>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for d in direct {
        match svc.files.claim_upload(&user.id, &d.id).await {
            Ok(up) => match svc.attachment_problem(&d.filename, up.size) {
                Some(problem) => problems.push(problem),
                None => out.push(Attachment {
                    id: d.id.clone(),
                    filename: d.filename.clone(),
                    content_type: up.content_type,
                    size: up.size,
                }),
            },
            Err(crate::files::FilesError::NotFound) => {
                problems.push(svc.lang().fill("portal_err_file_unfinished", &[("file", &d.filename)]))
            }
            Err(e) => return Err(WebError::Internal(e.to_string())),
        }
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    for u in uploads {
        let id = random_token(12);
        let size = u.bytes.len() as u64;
        svc.files.put(&id, &u.content_type, u.bytes).await.map_err(|e| WebError::Internal(e.to_string()))?;
        out.push(Attachment { id, filename: u.filename, content_type: u.content_type, size });
    }
    Ok(Ok(out))
}

#[derive(Debug, serde::Deserialize)]
struct UploadRequest {
    filename: String,
    size: u64,
    #[serde(default)]
    content_type: String,
}

/// `POST /portal/uploads` (JSON, CSRF token in `X-CSRF-Token`): where the browser sends one
/// file straight to storage before it submits the form. Only where storage supports it (S3).
async fn start_upload(
    State(svc): State<Svc>,
    csrf: Csrf,
    headers: HeaderMap,
    axum::Json(req): axum::Json<UploadRequest>,
) -> WebResult {
    let user = require_user(&svc, &headers, "/portal/tickets/new").await?;
    csrf.check(headers.get("x-csrf-token").and_then(|v| v.to_str().ok()))?;
    if !svc.files.direct_uploads() {
        return Err(WebError::NotFound);
    }
    let filename = sanitize_filename(&req.filename);
    if filename.is_empty() {
        return Ok(upload_refused(&svc.lang().get("portal_err_file_nameless")));
    }
    if let Some(problem) = svc.attachment_problem(&filename, req.size) {
        return Ok(upload_refused(&problem));
    }
    // A MIME type is `type/subtype` in token characters; anything else is stored as bytes.
    let plausible = |t: &str| {
        t.len() <= 100
            && t.split_once('/').is_some_and(|(a, b)| {
                [a, b]
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c)))
            })
    };
    let content_type = if plausible(&req.content_type) { req.content_type } else { "application/octet-stream".into() };
    let id = random_token(12);
    let target = svc
        .files
        .presign_upload(&user.id, &id, &content_type, req.size)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .ok_or(WebError::NotFound)?;
    let headers: serde_json::Map<String, serde_json::Value> =
        target.headers.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
    let body = serde_json::json!({
        "id": id, "filename": filename, "method": target.method, "url": target.url, "headers": headers,
        "field": format!("{id}/{filename}"),
    });
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

fn upload_refused(problem: &str) -> axum::response::Response {
    (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(serde_json::json!({ "error": problem }))).into_response()
}

async fn create(State(svc): State<Svc>, csrf: Csrf, headers: HeaderMap, mp: Multipart) -> WebResult {
    let user = require_user(&svc, &headers, "/portal/tickets/new").await?;
    let PostedForm { fields: f, uploads, direct, problems: file_problems } = read_form(&svc, mp).await?;
    csrf.check(f.get("csrf_token").map(String::as_str))?;
    let get = |k: &str| f.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let values = FormValues {
        email: user.email.clone(),
        sector: get("sector"),
        subtopic: get("subtopic"),
        subject: get("subject"),
        preferred_agent: get("preferred_agent"),
        administration: get("administration"),
        description: f.get("description").cloned().unwrap_or_default(),
        submission_id: Some(get("submission_id")).filter(|s| !s.is_empty()).unwrap_or_else(|| random_token(16)),
        follows: get("follows"),
        from: svc.config.application.page(&get("from")).unwrap_or_default(),
        uploaded: direct,
    };
    let mut errors: BTreeMap<&'static str, String> = BTreeMap::new();
    let lang = svc.lang();
    let sector = svc.config.sectors.iter().find(|s| s.id == values.sector);
    match sector {
        None => {
            errors.insert("sector", lang.get("portal_err_sector"));
        }
        Some(s) => {
            // The no-JavaScript form lists every subtopic as `sector/subtopic`.
            let sub = values.subtopic.rsplit('/').next().unwrap_or_default();
            if !s.subtopics.iter().any(|t| t.id == sub) {
                errors.insert("subtopic", lang.get("portal_err_subtopic"));
            }
        }
    }
    if values.subject.is_empty() {
        errors.insert("subject", lang.get("portal_err_subject"));
    } else if values.subject.chars().count() > 150 {
        errors.insert("subject", lang.get("portal_err_subject_long"));
    }
    if !values.preferred_agent.is_empty() && !svc.config.agents.iter().any(|a| a.id == values.preferred_agent) {
        errors.insert("preferred_agent", lang.get("portal_err_agent"));
    }
    if values.description.trim().is_empty() {
        errors.insert("description", lang.get("portal_err_description"));
    } else if values.description.len() > MAX_TEXT {
        errors.insert("description", lang.get("portal_err_description_long"));
    }
    if values.administration.chars().count() > 200 {
        errors.insert("administration", lang.get("portal_err_administration"));
    }
    if !file_problems.is_empty() {
        errors.insert("attachments", format!("{} {}", file_problems.join(" "), lang.get("portal_err_files_again")));
    }
    if !errors.is_empty() {
        return form_page(&svc, &csrf, &user, values, errors, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let attachments = match keep_files(&svc, &user, uploads, &values.uploaded).await? {
        Ok(attachments) => attachments,
        Err(problems) => {
            errors.insert("attachments", problems.join(" "));
            return form_page(&svc, &csrf, &user, values, errors, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let draft = TicketDraft {
        sector: values.sector.clone(),
        subtopic: values.subtopic.rsplit('/').next().unwrap_or_default().to_owned(),
        subject: values.subject,
        preferred_agent: Some(values.preferred_agent).filter(|s| !s.is_empty()),
        administration: Some(values.administration).filter(|s| !s.is_empty()),
        description: values.description,
        attachments,
        submission_id: values.submission_id,
        // Only a ticket this subscriber may see can be followed up.
        follows: match values.follows.as_str() {
            "" => None,
            number => visible_ticket(&svc, &user, number).await.ok().map(|t| t.number),
        },
        origin: Some(values.from).filter(|f| !f.is_empty()),
        ..Default::default()
    };
    let (ticket, _) = svc.create_ticket(draft, &user).await?;
    Ok(Redirect::to(&format!("{}?created=1", ticket_url(&ticket))).into_response())
}

// ---------------------------------------------------------------------------------------------
// One ticket

/// The ticket, if it exists and `user` may see it; otherwise 404 either way.
async fn visible_ticket(svc: &Service, user: &User, number: &str) -> WebResult<Ticket> {
    let ticket = svc.store.ticket(number).await?.ok_or(WebError::NotFound)?;
    if svc.may_see(user, &ticket).await? { Ok(ticket) } else { Err(WebError::NotFound) }
}

#[derive(Debug, serde::Deserialize)]
struct ShowQuery {
    created: Option<String>,
}

async fn show(
    State(svc): State<Svc>,
    csrf: Csrf,
    headers: HeaderMap,
    Path(number): Path<String>,
    Query(sq): Query<ShowQuery>,
) -> WebResult {
    let user = require_user(&svc, &headers, &format!("/portal/tickets/{}", urlencode(&number))).await?;
    let ticket = visible_ticket(&svc, &user, &number).await?;
    let reply = ReplyValues::default();
    ticket_page(&svc, &csrf, &user, &ticket, sq.created.is_some(), BTreeMap::new(), reply, StatusCode::OK).await
}

/// What a subscriber typed and attached in the reply form.
#[derive(Debug, Default, serde::Serialize)]
struct ReplyValues {
    body: String,
    uploaded: Vec<DirectRef>,
}

#[allow(clippy::too_many_arguments)]
async fn ticket_page(
    svc: &Service,
    csrf: &Csrf,
    user: &User,
    ticket: &Ticket,
    created: bool,
    errors: BTreeMap<&'static str, String>,
    reply: ReplyValues,
    status: StatusCode,
) -> WebResult {
    // Subscribers never see internal notes, nor the helpdesk's own bookkeeping (assignments,
    // escalations): only what is said to them and what happened to their ticket.
    let messages: Vec<Message> = svc
        .store
        .messages(&ticket.number)
        .await?
        .into_iter()
        .filter(|m| match m.kind {
            MessageKind::Note => false,
            MessageKind::Event => matches!(
                m.event,
                None | Some(TicketEvent::Closed) | Some(TicketEvent::AutoClosed) | Some(TicketEvent::Reopened)
            ),
            MessageKind::Customer | MessageKind::Answer => true,
        })
        .collect();
    let agent = ticket.preferred_agent.as_ref().and_then(|id| svc.config.agents.iter().find(|a| &a.id == id));
    let html = render(
        svc,
        "ticket.html",
        context! {
            site => site_ctx(svc), csrf => csrf.token, user => user, tab => "tickets",
            ticket => ticket, url => ticket_url(ticket), messages => messages, created => created,
            sector => svc.sector_name(&ticket.sector), subtopic => svc.subtopic_name(&ticket.sector, &ticket.subtopic),
            agent => agent.map(|a| a.name.clone()), errors => errors, reply => reply,
            max_mb => svc.config.tickets.max_attachment_mb, direct_upload => svc.files.direct_uploads(),
        },
    )?;
    let mut resp = csrf.page(svc, html);
    *resp.status_mut() = status;
    Ok(resp)
}

async fn reply(
    State(svc): State<Svc>,
    csrf: Csrf,
    headers: HeaderMap,
    Path(number): Path<String>,
    mp: Multipart,
) -> WebResult {
    let user = require_user(&svc, &headers, &format!("/portal/tickets/{}", urlencode(&number))).await?;
    let ticket = visible_ticket(&svc, &user, &number).await?;
    let PostedForm { fields: f, uploads, direct, problems: file_problems } = read_form(&svc, mp).await?;
    csrf.check(f.get("csrf_token").map(String::as_str))?;
    let body = f.get("description").cloned().unwrap_or_default();
    let mut errors = BTreeMap::new();
    if ticket.state == TicketState::Closed {
        errors.insert("description", svc.lang().get("portal_closed_no_reply"));
    } else if body.trim().is_empty() {
        errors.insert("description", svc.lang().get("portal_err_reply"));
    } else if body.len() > MAX_TEXT {
        errors.insert("description", svc.lang().get("portal_err_description_long"));
    }
    if !file_problems.is_empty() {
        errors.insert("attachments", file_problems.join(" "));
    }
    let reply = ReplyValues { body, uploaded: direct };
    if !errors.is_empty() {
        return ticket_page(&svc, &csrf, &user, &ticket, false, errors, reply, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let attachments = match keep_files(&svc, &user, uploads, &reply.uploaded).await? {
        Ok(attachments) => attachments,
        Err(problems) => {
            errors.insert("attachments", problems.join(" "));
            return ticket_page(&svc, &csrf, &user, &ticket, false, errors, reply, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    match svc.reply(&ticket, &user, reply.body.clone(), attachments).await {
        Ok(t) => Ok(Redirect::to(&ticket_url(&t)).into_response()),
        Err(ServiceError::NotNow(_)) => {
            // Closed meanwhile: the page now offers a follow-up ticket instead.
            let now = visible_ticket(&svc, &user, &number).await?;
            errors.insert("description", svc.lang().get("portal_closed_no_reply"));
            ticket_page(&svc, &csrf, &user, &now, false, errors, reply, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn close(
    State(svc): State<Svc>,
    csrf: Csrf,
    headers: HeaderMap,
    Path(number): Path<String>,
    axum::Form(f): axum::Form<crate::web::CsrfOnly>,
) -> WebResult {
    let user = require_user(&svc, &headers, &format!("/portal/tickets/{}", urlencode(&number))).await?;
    let ticket = visible_ticket(&svc, &user, &number).await?;
    csrf.check(f.csrf_token.as_deref())?;
    let t = svc.close(&ticket, &user).await?;
    Ok(Redirect::to(&ticket_url(&t)).into_response())
}

async fn attachment(
    State(svc): State<Svc>,
    headers: HeaderMap,
    Path((number, id)): Path<(String, String)>,
) -> WebResult {
    let user = require_user(&svc, &headers, &format!("/portal/tickets/{}", urlencode(&number))).await?;
    let ticket = visible_ticket(&svc, &user, &number).await?;
    let messages = svc.store.messages(&ticket.number).await?;
    let att = messages
        .iter()
        .filter(|m| m.kind != MessageKind::Note || user.role.is_staff())
        // The mail a message came in as is for the helpdesk (it holds quoted history).
        .flat_map(|m| m.attachments.iter().chain(m.original.iter().filter(|_| user.role.is_staff())))
        .find(|a| a.id == id)
        .ok_or(WebError::NotFound)?;
    let bytes = match svc.files.fetch(att).await {
        Ok(crate::files::Fetch::Bytes(b)) => b,
        Ok(crate::files::Fetch::Redirect(url)) => return Ok(Redirect::to(&url).into_response()),
        Err(crate::files::FilesError::NotFound) => return Err(WebError::NotFound),
        Err(e) => return Err(WebError::Internal(e.to_string())),
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    // Served as a download, never rendered inline: an uploaded HTML or SVG file cannot run here.
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    let disposition = crate::files::content_disposition(&att.filename);
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(resp)
}
