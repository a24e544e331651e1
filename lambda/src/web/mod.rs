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

pub const SESSION_COOKIE: &str = "hd_session";
pub const CSRF_COOKIE: &str = "hd_csrf";

pub type Svc = Arc<Service>;

/// Every page and form of the service.
pub fn routes() -> Router<Svc> {
    Router::new()
        .merge(account::routes())
        .merge(portal::routes())
        .merge(agent::routes())
        .merge(admin::routes())
        .merge(evaluate::routes())
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
