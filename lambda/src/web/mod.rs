//! HTTP: the portal's pages and forms. Every page is an ordinary HTML form that works without
//! JavaScript; every POST carries a CSRF token; every ticket route checks who may see it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use minijinja::{Environment, Value, context};

use crate::auth::{self, random_token, same_secret, sha256_hex};
use crate::model::*;
use crate::service::{SESSION_VALID, Service, ServiceError, urlencode};

mod tickets;

pub const SESSION_COOKIE: &str = "hd_session";
pub const CSRF_COOKIE: &str = "hd_csrf";

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("message.html", include_str!("../../templates/message.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("set_password.html", include_str!("../../templates/set_password.html")),
    ("forgot.html", include_str!("../../templates/forgot.html")),
    ("portal.html", include_str!("../../templates/portal.html")),
    ("tickets.html", include_str!("../../templates/tickets.html")),
    ("ticket_new.html", include_str!("../../templates/ticket_new.html")),
    ("ticket.html", include_str!("../../templates/ticket.html")),
    ("uploaded.html", include_str!("../../templates/uploaded.html")),
    ("mail/invite.nl.txt", include_str!("../../templates/mail/invite.nl.txt")),
    ("mail/invite.nl.html", include_str!("../../templates/mail/invite.nl.html")),
    ("mail/invite.en.txt", include_str!("../../templates/mail/invite.en.txt")),
    ("mail/invite.en.html", include_str!("../../templates/mail/invite.en.html")),
    ("mail/reset.nl.txt", include_str!("../../templates/mail/reset.nl.txt")),
    ("mail/reset.nl.html", include_str!("../../templates/mail/reset.nl.html")),
    ("mail/reset.en.txt", include_str!("../../templates/mail/reset.en.txt")),
    ("mail/reset.en.html", include_str!("../../templates/mail/reset.en.html")),
    ("mail/ack.nl.txt", include_str!("../../templates/mail/ack.nl.txt")),
    ("mail/ack.nl.html", include_str!("../../templates/mail/ack.nl.html")),
    ("mail/ack.en.txt", include_str!("../../templates/mail/ack.en.txt")),
    ("mail/ack.en.html", include_str!("../../templates/mail/ack.en.html")),
];

/// The portal's templates, compiled into the binary (the Lambda needs no files).
pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") { minijinja::AutoEscape::Html } else { minijinja::AutoEscape::None }
    });
    site_builder::build::readable_escaping(&mut env);
    env.add_filter("urlencode_path", |s: String| urlencode(&s));
    // `{{ when | date(lang) }}`: a moment as day and time, a day as the language writes it.
    env.add_filter("date", |s: String, lang: Option<String>| {
        let lang = lang.unwrap_or_else(|| "nl".into());
        chrono::DateTime::parse_from_rfc3339(&s)
            .map(|d| {
                let local = d.with_timezone(&chrono_tz::Europe::Amsterdam);
                local.format(if lang == "nl" { "%d-%m-%Y %H:%M" } else { "%Y-%m-%d %H:%M" }).to_string()
            })
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").map(|d| site_builder::build::format_date(&lang, d))
            })
            .unwrap_or(s)
    });
    // `{{ t.portal_welcome | fill(name=user.name) }}`: a text with its `{name}` placeholders filled.
    env.add_filter("fill", |s: String, kwargs: minijinja::value::Kwargs| -> Result<String, minijinja::Error> {
        let mut out = s;
        for key in kwargs.args() {
            let v: Value = kwargs.get(key)?;
            out = out.replace(&format!("{{{key}}}"), &v.to_string());
        }
        Ok(out)
    });
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            panic!("template {name}: {e}");
        }
    }
    env
}

/// The state's name in the request's language.
pub fn state_label(svc: &Service, s: &str) -> String {
    svc.lang().get(&format!("portal_state_{s}"))
}

pub type Svc = Arc<Service>;

pub fn routes() -> Router<Svc> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/invite/{token}", get(set_password_page).post(set_password))
        .route("/password/forgot", get(forgot_page).post(forgot))
        .route("/password/reset/{token}", get(set_password_page).post(set_password))
        .route("/portal", get(portal_home))
        .merge(tickets::routes())
}

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Debug)]
pub enum WebError {
    /// Not there, or not yours: the same answer, so nobody learns which.
    NotFound,
    /// Not logged in: go to the login page and come back.
    Login(String),
    /// The form's CSRF token is missing or wrong.
    Csrf,
    TooMany,
    Internal(String),
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<crate::store::StoreError> for WebError {
    fn from(e: crate::store::StoreError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl From<minijinja::Error> for WebError {
    fn from(e: minijinja::Error) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, key) = match self {
            WebError::Login(back) => {
                return Redirect::to(&format!("/login?next={}", urlencode(&back))).into_response();
            }
            WebError::NotFound => (StatusCode::NOT_FOUND, "portal_error_not_found"),
            WebError::Csrf => (StatusCode::FORBIDDEN, "portal_error_csrf"),
            WebError::TooMany => (StatusCode::TOO_MANY_REQUESTS, "portal_error_throttled"),
            WebError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "portal_error_internal")
            }
        };
        let Some(ctx) = ERROR_CONTEXT.get() else { return (status, key).into_response() };
        let lang = crate::i18n::current(&ctx.texts);
        let (title, text) = (lang.get(&format!("{key}_title")), lang.get(key));
        let html = ctx
            .templates
            .get_template("message.html")
            .and_then(|t| {
                t.render(
                    context! { site => ctx.site, title => title, text => text, lang => lang.code, t => lang.value() },
                )
            })
            .unwrap_or_else(|_| text.clone());
        (status, Html(html)).into_response()
    }
}

pub type WebResult<T = Response> = Result<T, WebError>;

/// What error pages need (they are rendered without the service at hand); set once when the
/// service starts.
#[derive(Debug)]
pub struct ErrorContext {
    pub site: Value,
    pub texts: Arc<crate::i18n::Texts>,
    pub templates: Arc<Environment<'static>>,
}

pub static ERROR_CONTEXT: std::sync::OnceLock<ErrorContext> = std::sync::OnceLock::new();

// ---------------------------------------------------------------------------------------------
// Cookies, CSRF and the current user

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

pub fn set_cookie(svc: &Service, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if svc.secure_cookies {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The request's CSRF token: the `hd_csrf` cookie, or a fresh one to set with the response.
#[derive(Debug, Clone)]
pub struct Csrf {
    pub token: String,
    fresh: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Csrf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(match cookie(&parts.headers, CSRF_COOKIE).filter(|t| t.len() >= 20) {
            Some(token) => Csrf { token, fresh: false },
            None => Csrf { token: random_token(24), fresh: true },
        })
    }
}

impl Csrf {
    /// Checks a submitted token against the cookie.
    pub fn check(&self, submitted: Option<&str>) -> WebResult<()> {
        match submitted {
            Some(s) if !self.fresh && same_secret(s, &self.token) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }

    /// A page with a form: sets the cookie when it is new.
    pub fn page(&self, svc: &Service, html: String) -> Response {
        let mut resp = Html(html).into_response();
        if self.fresh {
            resp.headers_mut().append(header::SET_COOKIE, set_cookie(svc, CSRF_COOKIE, &self.token, None));
        }
        no_store(&mut resp);
        resp
    }
}

fn no_store(resp: &mut Response) {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The logged-in user, if any.
pub async fn current_user(svc: &Service, headers: &HeaderMap) -> WebResult<Option<User>> {
    let Some(secret) = cookie(headers, SESSION_COOKIE) else { return Ok(None) };
    let Some(session) = svc.store.session(&sha256_hex(&secret), Utc::now()).await? else { return Ok(None) };
    Ok(svc.store.user(&session.user_id).await?)
}

/// The logged-in user, or a redirect to the login page that comes back to `back`.
pub async fn require_user(svc: &Service, headers: &HeaderMap, back: &str) -> WebResult<User> {
    current_user(svc, headers).await?.ok_or_else(|| WebError::Login(back.to_owned()))
}

/// The client's address, for throttling. Served directly (`helpdesk serve`), it is the TCP
/// peer and any X-Forwarded-For is ignored (a client could write anything there). Under Lambda
/// there is no peer; CloudFront appends the viewer's address as the last X-Forwarded-For entry,
/// so that one is used.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        let forwarded = || {
            parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(|s| s.trim().to_owned())
        };
        Ok(ClientIp(peer.or_else(forwarded).unwrap_or_else(|| "unknown".into())))
    }
}

/// Only local paths: never redirect to another site after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/portal".to_owned(),
    }
}

/// Renders a portal page in the request's language (`lang` and the texts `t` are added).
pub fn render(svc: &Service, name: &str, ctx: Value) -> WebResult<String> {
    let lang = svc.lang();
    let ctx = context! { lang => lang.code, t => lang.value(), switch_to => switch_link(&lang), ..ctx };
    Ok(svc.templates.get_template(name)?.render(ctx)?)
}

/// The other language's code for the language switch (`?lang=`), if there is one.
fn switch_link(lang: &crate::i18n::Language) -> Value {
    Value::from(lang.get("portal_switch_lang_code"))
}

pub fn site_ctx(svc: &Service) -> Value {
    site_value(&svc.config.site)
}

pub fn site_value(s: &site_builder::config::SiteConfig) -> Value {
    context! { name => s.name, company => s.company, support_email => s.support_email, phone => s.phone }
}

// ---------------------------------------------------------------------------------------------
// Login, logout, set password, forgot password

#[derive(Debug, serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

async fn login_page(State(svc): State<Svc>, csrf: Csrf, Query(q): Query<NextQuery>) -> WebResult {
    let html = render(
        &svc,
        "login.html",
        context! { site => site_ctx(&svc), csrf => csrf.token, next => safe_next(q.next.as_deref()), values => context!{}, errors => context!{} },
    )?;
    Ok(csrf.page(&svc, html))
}

#[derive(Debug, serde::Deserialize)]
struct LoginForm {
    email: Option<String>,
    password: Option<String>,
    next: Option<String>,
    csrf_token: Option<String>,
}

async fn login(
    State(svc): State<Svc>,
    csrf: Csrf,
    ClientIp(ip): ClientIp,
    axum::Form(f): axum::Form<LoginForm>,
) -> WebResult {
    csrf.check(f.csrf_token.as_deref())?;
    let email = f.email.unwrap_or_default().trim().to_lowercase();
    let password = f.password.unwrap_or_default();
    let next = safe_next(f.next.as_deref());
    let now = Utc::now();
    if svc.throttle.blocked(svc.store.as_ref(), &email, &ip, now).await? {
        return Err(WebError::TooMany);
    }
    let user = svc.store.user_by_email(&email).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = {
        let (password, hash) = (password.clone(), hash.clone());
        tokio::task::spawn_blocking(move || {
            auth::verify_password(&password, hash.as_deref().unwrap_or(auth::dummy_hash()))
        })
        .await
        .unwrap_or(false)
    };
    let (Some(user), true) = (user, ok && hash.is_some()) else {
        svc.throttle.failed(svc.store.as_ref(), &email, &ip, now).await?;
        let html = render(
            &svc,
            "login.html",
            context! {
                site => site_ctx(&svc), csrf => csrf.token, next => next,
                values => context!{ email => email },
                errors => context!{ form => svc.lang().get("portal_login_failed") },
            },
        )?;
        let mut resp = csrf.page(&svc, html);
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(resp);
    };
    svc.throttle.succeeded(svc.store.as_ref(), &email, now).await?;
    start_session(&svc, &user, &next).await
}

async fn start_session(svc: &Service, user: &User, next: &str) -> WebResult {
    let secret = random_token(32);
    let session = Session {
        id_hash: sha256_hex(&secret),
        user_id: user.id.clone(),
        csrf: random_token(24),
        expires: Utc::now() + SESSION_VALID,
    };
    svc.store.put_session(&session).await?;
    let mut resp = Redirect::to(next).into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(svc, SESSION_COOKIE, &secret, Some(SESSION_VALID.num_seconds())));
    // A new CSRF token for the new session.
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(svc, CSRF_COOKIE, &session.csrf, None));
    Ok(resp)
}

#[derive(Debug, serde::Deserialize)]
pub struct CsrfOnly {
    pub csrf_token: Option<String>,
}

async fn logout(
    State(svc): State<Svc>,
    csrf: Csrf,
    headers: HeaderMap,
    axum::Form(f): axum::Form<CsrfOnly>,
) -> WebResult {
    csrf.check(f.csrf_token.as_deref())?;
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        svc.store.delete_session(&sha256_hex(&secret)).await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(&svc, SESSION_COOKIE, "", Some(0)));
    Ok(resp)
}

fn token_kind(uri: &axum::http::Uri) -> TokenKind {
    if uri.path().starts_with("/invite/") { TokenKind::Invite } else { TokenKind::Reset }
}

async fn set_password_page(
    State(svc): State<Svc>,
    csrf: Csrf,
    uri: axum::http::Uri,
    Path(token): Path<String>,
) -> WebResult {
    let kind = token_kind(&uri);
    let html = render(
        &svc,
        "set_password.html",
        context! { site => site_ctx(&svc), csrf => csrf.token, token => token, invite => kind == TokenKind::Invite, errors => context!{} },
    )?;
    Ok(csrf.page(&svc, html))
}

#[derive(Debug, serde::Deserialize)]
struct PasswordForm {
    password: Option<String>,
    password_repeat: Option<String>,
    csrf_token: Option<String>,
}

fn password_message(svc: &Service, code: &str) -> String {
    let key = match code {
        "password_too_short" | "password_too_long" | "password_is_email" => format!("portal_{code}"),
        _ => "portal_password_refused".into(),
    };
    svc.lang().get(&key)
}

async fn set_password(
    State(svc): State<Svc>,
    csrf: Csrf,
    uri: axum::http::Uri,
    Path(token): Path<String>,
    axum::Form(f): axum::Form<PasswordForm>,
) -> WebResult {
    csrf.check(f.csrf_token.as_deref())?;
    let kind = token_kind(&uri);
    let password = f.password.unwrap_or_default();
    let mut errors = BTreeMap::new();
    if f.password_repeat.as_deref() != Some(password.as_str()) {
        errors.insert("password_repeat", svc.lang().get("portal_password_mismatch"));
    }
    // Validate before using up the single-use link.
    if let Some(code) = auth::password_problem(&password, "") {
        errors.insert("password", password_message(&svc, code));
    }
    if !errors.is_empty() {
        let html = render(
            &svc,
            "set_password.html",
            context! { site => site_ctx(&svc), csrf => csrf.token, token => token, invite => kind == TokenKind::Invite, errors => errors },
        )?;
        let mut resp = csrf.page(&svc, html);
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(resp);
    }
    let Some(t) = svc.store.take_token(&sha256_hex(&token), kind, Utc::now()).await? else {
        let html = render(
            &svc,
            "message.html",
            context! {
                site => site_ctx(&svc), title => svc.lang().get("portal_link_dead_title"),
                text => svc.lang().get("portal_link_dead_text"),
                link => "/password/forgot", link_text => svc.lang().get("portal_forgot_title"),
            },
        )?;
        return Ok((StatusCode::GONE, Html(html)).into_response());
    };
    let Some(user) = svc.store.user(&t.user_id).await? else { return Err(WebError::NotFound) };
    if let Some(code) = auth::password_problem(&password, &user.email) {
        // The link is used up; put an equivalent one back so the user can try again.
        svc.store.put_token(&t).await?;
        let html = render(
            &svc,
            "set_password.html",
            context! { site => site_ctx(&svc), csrf => csrf.token, token => token, invite => kind == TokenKind::Invite,
            errors => context!{ password => password_message(&svc, code) } },
        )?;
        return Ok(csrf.page(&svc, html));
    }
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    svc.store.set_password(&user.id, &hash).await?;
    // A new password ends every other session.
    svc.store.delete_user_sessions(&user.id).await?;
    start_session(&svc, &user, "/portal").await
}

async fn forgot_page(State(svc): State<Svc>, csrf: Csrf) -> WebResult {
    let html = render(&svc, "forgot.html", context! { site => site_ctx(&svc), csrf => csrf.token, sent => false })?;
    Ok(csrf.page(&svc, html))
}

#[derive(Debug, serde::Deserialize)]
struct ForgotForm {
    email: Option<String>,
    csrf_token: Option<String>,
}

async fn forgot(
    State(svc): State<Svc>,
    csrf: Csrf,
    ClientIp(ip): ClientIp,
    axum::Form(f): axum::Form<ForgotForm>,
) -> WebResult {
    csrf.check(f.csrf_token.as_deref())?;
    let email = f.email.unwrap_or_default();
    // Throttled like a failed login, so the form cannot be used to flood a mailbox.
    if svc.throttle.failed(svc.store.as_ref(), &email, &ip, Utc::now()).await? {
        return Err(WebError::TooMany);
    }
    svc.forgot_password(&email).await?;
    // The same answer whether or not the address has an account.
    let html = render(
        &svc,
        "forgot.html",
        context! { site => site_ctx(&svc), csrf => csrf.token, sent => true, email => email },
    )?;
    Ok(csrf.page(&svc, html))
}

// ---------------------------------------------------------------------------------------------
// The portal's start page

async fn portal_home(State(svc): State<Svc>, csrf: Csrf, headers: HeaderMap) -> WebResult {
    let user = require_user(&svc, &headers, "/portal").await?;
    let q = TicketQuery { limit: 50, ..Default::default() };
    let mine = svc.store.tickets_for_requester(&user.id, &q).await?;
    let open: Vec<&Ticket> = mine.items.iter().filter(|t| t.state != TicketState::Closed).take(10).collect();
    // The site's popular articles (`category/slug` in the default language), named after their
    // slug; other languages have their own slugs, so they get the link to their FAQ home instead.
    let lang = svc.lang().code;
    let default_lang = &svc.config.site.default_language;
    let popular: Vec<Value> = svc
        .config
        .site
        .popular
        .iter()
        .filter(|_| &lang == default_lang)
        .map(|p| {
            let path = p.trim_matches('/').trim_end_matches(".md");
            let words = path.rsplit('/').next().unwrap_or_default().replace('-', " ");
            let mut title = words.chars();
            let title = title.next().map(|c| c.to_uppercase().chain(title).collect::<String>()).unwrap_or_default();
            context! { url => format!("/{default_lang}/{path}/"), title => title }
        })
        .collect();
    let org = svc.store.org(&user.org_id).await?;
    let plan = org.as_ref().and_then(|o| svc.config.plans.iter().find(|p| p.id == o.plan)).cloned();
    let html = render(
        &svc,
        "portal.html",
        context! {
            site => site_ctx(&svc), csrf => csrf.token, user => user, tab => "home", org => org,
            open_tickets => open, popular => popular, plan => plan,
            office_hours => svc.config.office_hours,
            target_days => svc.config.tickets.target_working_days,
        },
    )?;
    Ok(csrf.page(&svc, html))
}
