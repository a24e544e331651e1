//! One error type for every handler. It maps to a status code and never shows internals; the
//! [`error_pages`] middleware renders it as a page in the request's language.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::context;

use super::Svc;
use crate::render::urlencode;
use crate::service::ServiceError;

#[derive(Debug)]
pub enum WebError {
    /// Not there, or not yours: the same answer, so nobody learns which.
    NotFound,
    /// Not logged in: go to the login page and come back.
    Login(String),
    /// The form's CSRF token is missing or wrong.
    Csrf,
    TooMany,
    /// Too much at once (password checks): come back in a few seconds.
    Busy,
    Internal(String),
}

pub type WebResult<T = Response> = Result<T, WebError>;

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Busy => WebError::Busy,
            e => WebError::Internal(e.to_string()),
        }
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

/// Marks a response as an error page still to be rendered: the key of its texts
/// (`<key>_title` and `<key>`).
#[derive(Debug, Clone, Copy)]
struct ErrorPage(&'static str);

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, key) = match self {
            WebError::Login(back) => {
                return Redirect::to(&format!("/login?next={}", urlencode(&back))).into_response();
            }
            WebError::NotFound => (StatusCode::NOT_FOUND, "portal_error_not_found"),
            WebError::Csrf => (StatusCode::FORBIDDEN, "portal_error_csrf"),
            WebError::TooMany => (StatusCode::TOO_MANY_REQUESTS, "portal_error_throttled"),
            WebError::Busy => {
                let mut response = (StatusCode::SERVICE_UNAVAILABLE, "portal_error_busy").into_response();
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
                response.extensions_mut().insert(ErrorPage("portal_error_busy"));
                return response;
            }
            WebError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "portal_error_internal")
            }
        };
        let mut response = (status, key).into_response();
        response.extensions_mut().insert(ErrorPage(key));
        response
    }
}

/// Renders the error pages handlers returned, with the service's templates and texts.
pub async fn error_pages(State(svc): State<Svc>, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let Some(ErrorPage(key)) = response.extensions().get::<ErrorPage>().copied() else { return response };
    let lang = svc.lang();
    let (title, text) = (lang.get(&format!("{key}_title")), lang.get(key));
    let ctx = context! { site => super::site_ctx(&svc), title => title, text => text };
    let html = crate::render::page(&svc.templates, &lang, "message.html", ctx).unwrap_or(text);
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.remove(axum::http::header::CONTENT_TYPE);
    let mut page = Html(html).into_response();
    *page.status_mut() = parts.status;
    page.headers_mut().extend(parts.headers);
    page
}
