//! HTTP, by audience: [`account`] (log in, passwords), [`portal`] (subscribers), [`agent`]
//! (helpdesk staff), [`admin`] (organisations and people), [`evaluate`] (rating an answer from an e-mail link, no login). Shared pieces
//! sit beside them: [`extract`] (cookies, CSRF, the current user, the client's address) and
//! [`error`] (one error type, rendered as a page in the request's language).
//!
//! Every page is an ordinary HTML form that works without JavaScript; every POST carries a CSRF
//! token; every ticket route checks who may see it. Handlers parse and check the request, call
//! the service, and render its result: the rules live in [`crate::service`].

use std::sync::Arc;

use axum::Router;
use minijinja::Value;

use crate::service::Service;

pub mod account;
pub mod admin;
pub mod agent;
pub mod error;
pub mod evaluate;
pub mod extract;
pub mod portal;

pub use error::{WebError, WebResult};
pub use extract::cookie;

/// Cookie names. Over https they carry the `__Host-` prefix: the browser then only accepts them
/// from this exact host, secure and for the whole site, so a sibling subdomain cannot plant one.
pub const SESSION_COOKIE: &str = "hd_session";
pub const CSRF_COOKIE: &str = "hd_csrf";

/// The session cookie's name for this deployment.
pub fn session_cookie(svc: &Service) -> &'static str {
    if svc.secure_cookies { "__Host-hd_session" } else { SESSION_COOKIE }
}

/// The (logged-out) CSRF cookie's name for this deployment.
pub fn csrf_cookie(svc: &Service) -> &'static str {
    if svc.secure_cookies { "__Host-hd_csrf" } else { CSRF_COOKIE }
}

pub type Svc = Arc<Service>;

/// Marks an answer that must take the same time whatever it did: [`even_timing`] holds it back
/// until this long after the request arrived. For answers that must not tell an observer which
/// branch ran (was a reset link sent? the address has an account), where the slow branch
/// (a token written, a mail queued and, on Lambda, sent) costs less than this.
#[derive(Debug, Clone, Copy)]
pub struct EvenTiming(pub std::time::Duration);

/// Middleware (outermost but for the headers, outside mail delivery): answers marked
/// [`EvenTiming`] leave no earlier than their floor.
pub async fn even_timing(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let arrived = tokio::time::Instant::now();
    let response = next.run(req).await;
    if let Some(EvenTiming(floor)) = response.extensions().get::<EvenTiming>().copied() {
        if arrived.elapsed() > floor {
            tracing::warn!(floor_ms = floor.as_millis() as u64, "an evenly timed answer took longer than its floor");
        }
        tokio::time::sleep_until(arrived + floor).await;
    }
    response
}

/// Every page and form of the service. Forms without files get a body limit of their size
/// (a login form is a few hundred bytes; an agent's answer at most 50,000 characters, encoded);
/// only the portal's ticket forms take files (the app's overall limit).
pub fn routes() -> Router<Svc> {
    use axum::extract::DefaultBodyLimit;
    Router::new()
        .merge(account::routes().layer(DefaultBodyLimit::max(16 * 1024)))
        .merge(portal::routes())
        .merge(agent::routes().layer(DefaultBodyLimit::max(512 * 1024)))
        .merge(admin::routes().layer(DefaultBodyLimit::max(16 * 1024)))
        .merge(evaluate::routes().layer(DefaultBodyLimit::max(64 * 1024)))
}

/// Renders a page in the request's language.
pub fn render(svc: &Service, name: &str, ctx: Value) -> WebResult<String> {
    Ok(crate::render::page(&svc.templates, &svc.lang(), name, ctx)?)
}

pub fn site_ctx(svc: &Service) -> Value {
    crate::render::site_value(&svc.config.site)
}

/// The state's name in the request's language.
pub fn state_label(svc: &Service, s: &str) -> String {
    svc.lang().get(&format!("portal_state_{s}"))
}

/// A form with nothing but its CSRF token (a button).
#[derive(Debug, serde::Deserialize)]
pub struct CsrfOnly {
    pub csrf_token: Option<String>,
}
