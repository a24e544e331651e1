//! Logging in and out, setting a password (from an invitation or a reset link), and asking
//! for a reset link.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect};
use minijinja::context;

use super::extract::{ClientIp, Csrf, cookie, safe_next, set_cookie};
use super::{CsrfOnly, Svc, WebError, WebResult, render, session_cookie, site_ctx};
use crate::auth::{self, random_token, sha256_hex};
use crate::model::*;
use crate::service::{INVITE_VALID, RESET_VALID, SESSION_VALID, Service};

pub fn routes() -> axum::Router<Svc> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        // Links carry their secret in the fragment (`/invite#…`), which the page's form posts;
        // the forms with the secret in the path serve links mailed before that.
        .route("/invite", get(set_password_page).post(set_password))
        .route("/invite/{token}", get(set_password_page).post(set_password))
        .route("/password/forgot", get(forgot_page).post(forgot))
        .route("/password/reset", get(set_password_page).post(set_password))
        .route("/password/reset/{token}", get(set_password_page).post(set_password))
}

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
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    axum::Form(f): axum::Form<LoginForm>,
) -> WebResult {
    csrf.check(f.csrf_token.as_deref())?;
    let email = auth::normalize_email(&f.email.unwrap_or_default());
    let password = f.password.unwrap_or_default();
    let next = safe_next(f.next.as_deref());
    let now = svc.clock.now();
    // Counted before the password is checked: parallel guesses cannot slip through together.
    if !svc.throttle.reserve(svc.store.as_ref(), &email, &ip, now).await? {
        return Err(WebError::TooMany);
    }
    let user = svc.store.user_by_email(&email).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = svc.check_password(password, hash.clone()).await?;
    let (Some(user), true) = (user.filter(|u| u.active), ok && hash.is_some()) else {
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
    svc.throttle.succeeded(svc.store.as_ref(), &email, &ip, now).await?;
    start_session(&svc, &headers, &user, &next).await
}

/// Logs `user` in with a new session (the one the browser had before, if any, ends: no session
/// fixation, no pile of old sessions) and goes to `next`.
async fn start_session(svc: &Service, headers: &HeaderMap, user: &User, next: &str) -> WebResult {
    if let Some(previous) = cookie(headers, session_cookie(svc)) {
        svc.store.delete_session(&sha256_hex(&previous)).await?;
    }
    let secret = random_token(32);
    let now = svc.clock.now();
    let session = Session {
        id_hash: sha256_hex(&secret),
        user_id: user.id.clone(),
        expires: now + SESSION_VALID,
        last_seen: now,
    };
    svc.store.put_session(&session).await?;
    let mut resp = Redirect::to(next).into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(svc, session_cookie(svc), &secret, Some(SESSION_VALID.num_seconds())));
    Ok(resp)
}

async fn logout(
    State(svc): State<Svc>,
    csrf: Csrf,
    headers: HeaderMap,
    axum::Form(f): axum::Form<CsrfOnly>,
) -> WebResult {
    csrf.check(f.csrf_token.as_deref())?;
    if let Some(secret) = cookie(&headers, session_cookie(&svc)) {
        svc.store.delete_session(&sha256_hex(&secret)).await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(header::SET_COOKIE, set_cookie(&svc, session_cookie(&svc), "", Some(0)));
    Ok(resp)
}

fn token_kind(uri: &axum::http::Uri) -> TokenKind {
    if uri.path().starts_with("/invite") { TokenKind::Invite } else { TokenKind::Reset }
}

async fn set_password_page(
    State(svc): State<Svc>,
    csrf: Csrf,
    uri: axum::http::Uri,
    token: Option<Path<String>>,
) -> WebResult {
    let kind = token_kind(&uri);
    // No secret in the address: the form asks for it (filled in from the fragment by script).
    let token = token.map(|Path(t)| t).unwrap_or_default();
    let html = render(
        &svc,
        "set_password.html",
        context! { site => site_ctx(&svc), csrf => csrf.token, token => token, invite => kind == TokenKind::Invite, errors => context!{} },
    )?;
    Ok(csrf.page(&svc, html))
}

#[derive(Debug, serde::Deserialize)]
struct PasswordForm {
    /// The link's secret, when the address does not carry it.
    token: Option<String>,
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
    headers: HeaderMap,
    uri: axum::http::Uri,
    token: Option<Path<String>>,
    axum::Form(f): axum::Form<PasswordForm>,
) -> WebResult {
    csrf.check(f.csrf_token.as_deref())?;
    let kind = token_kind(&uri);
    let token = match token {
        Some(Path(t)) => t,
        None => f.token.unwrap_or_default().trim().to_owned(),
    };
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
    let taken = svc.store.take_token(&sha256_hex(&token), kind, svc.clock.now()).await?;
    // A reset link issued before the password last changed is dead (the password it was
    // meant to replace is gone already).
    let user_of = match &taken {
        Some(t) => svc.store.user(&t.user_id).await?,
        None => None,
    };
    let live = |t: &Token| {
        let issued = t.expires - if t.kind == TokenKind::Reset { RESET_VALID } else { INVITE_VALID };
        user_of.as_ref().is_some_and(|u| u.active && u.password_changed.is_none_or(|changed| changed < issued))
    };
    let Some(t) = taken.filter(live) else {
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
    let Some(user) = user_of else { return Err(WebError::NotFound) };
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
    let hash = svc.hash_password(password).await?;
    svc.store.set_password(&user.id, &hash, svc.clock.now()).await?;
    // A new password ends every other session.
    svc.store.delete_user_sessions(&user.id).await?;
    start_session(&svc, &headers, &user, "/portal").await
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
    let email = auth::normalize_email(&f.email.unwrap_or_default());
    // A limit of its own (so resets cannot lock anybody out of logging in), keyed on the same
    // normalised address the lookup uses.
    if !svc.throttle.reset_requested(svc.store.as_ref(), &email, &ip, svc.clock.now()).await? {
        return Err(WebError::TooMany);
    }
    svc.forgot_password(&email).await?;
    // The same answer whether or not the address has an account, at the same moment: a
    // known address costs a token, a queued mail and (on Lambda) the sending.
    let html = render(
        &svc,
        "forgot.html",
        context! { site => site_ctx(&svc), csrf => csrf.token, sent => true, email => email },
    )?;
    let mut page = csrf.page(&svc, html);
    page.extensions_mut().insert(super::EvenTiming(RESET_ANSWER_TIME));
    Ok(page)
}

/// How long every answer to "send me a reset link" takes, whether or not a mail went out:
/// well above a token write plus an SES call (tens of milliseconds), short enough for people.
pub const RESET_ANSWER_TIME: std::time::Duration = std::time::Duration::from_secs(1);
