//! Rating an answer: `/evaluate/{token}` from the answer e-mail. A GET only shows the form (the
//! rating from the link pre-selected), so a mail scanner that follows links casts no vote; the
//! POST records it. No login: the signed token is the permission.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use minijinja::context;

use super::extract::Csrf;
use super::{Svc, WebError, WebResult, render, site_ctx};
use crate::model::*;
use crate::service::Service;
use crate::service::evaluations::{EvaluationLink, LinkProblem, MAX_COMMENT};

pub fn routes() -> axum::Router<Svc> {
    axum::Router::new().route("/evaluate/{token}", axum::routing::get(form).post(record))
}

#[derive(Debug, serde::Deserialize)]
struct RatingQuery {
    rating: Option<String>,
}

/// The link's answer, or the page that says why the link does not work.
async fn checked(
    svc: &Service,
    token: &str,
) -> WebResult<Result<(EvaluationLink, Ticket, Message), axum::response::Response>> {
    let link = match svc.evaluation_link(token) {
        Ok(link) => link,
        Err(problem) => {
            let (status, key) = match problem {
                LinkProblem::Expired => (StatusCode::GONE, "evaluate_expired"),
                LinkProblem::Invalid => (StatusCode::NOT_FOUND, "evaluate_invalid"),
            };
            let lang = svc.lang();
            let html = render(
                svc,
                "message.html",
                context! { site => site_ctx(svc), title => lang.get(&format!("{key}_title")), text => lang.get(key) },
            )?;
            return Ok(Err((status, axum::response::Html(html)).into_response()));
        }
    };
    let Some((ticket, answer)) = svc.rated_answer(&link).await? else { return Err(WebError::NotFound) };
    Ok(Ok((link, ticket, answer)))
}

#[allow(clippy::too_many_arguments)]
fn page(
    svc: &Service,
    csrf: &Csrf,
    token: &str,
    ticket: &Ticket,
    answer: &Message,
    rating: Option<String>,
    comment: &str,
    saved: bool,
    status: StatusCode,
) -> WebResult {
    let ratings: Vec<minijinja::Value> = Rating::ALL
        .iter()
        .map(|r| context! { id => r.as_str(), label => svc.lang().get(&format!("mail_rating_{}", r.as_str())) })
        .collect();
    let html = render(
        svc,
        "evaluate.html",
        context! {
            site => site_ctx(svc), csrf => csrf.token, token => token, ticket => ticket, answer => answer,
            ratings => ratings, rating => rating, comment => comment, saved => saved, max_comment => MAX_COMMENT,
            missing => status == StatusCode::UNPROCESSABLE_ENTITY,
        },
    )?;
    let mut resp = csrf.page(svc, html);
    *resp.status_mut() = status;
    Ok(resp)
}

async fn form(
    State(svc): State<Svc>,
    csrf: Csrf,
    Path(token): Path<String>,
    Query(q): Query<RatingQuery>,
) -> WebResult {
    let (_, ticket, answer) = match checked(&svc, &token).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let earlier = svc.store.evaluation(&answer.id).await?;
    let rating = q
        .rating
        .filter(|r| Rating::parse(r).is_some())
        .or_else(|| earlier.as_ref().map(|e| e.rating.as_str().to_owned()));
    let comment = earlier.map(|e| e.comment).unwrap_or_default();
    page(&svc, &csrf, &token, &ticket, &answer, rating, &comment, false, StatusCode::OK)
}

#[derive(Debug, serde::Deserialize)]
struct RatingForm {
    rating: Option<String>,
    comment: Option<String>,
    csrf_token: Option<String>,
}

async fn record(
    State(svc): State<Svc>,
    csrf: Csrf,
    Path(token): Path<String>,
    axum::Form(f): axum::Form<RatingForm>,
) -> WebResult {
    csrf.check(f.csrf_token.as_deref())?;
    let (link, ticket, answer) = match checked(&svc, &token).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let comment = f.comment.unwrap_or_default();
    let Some(rating) = f.rating.as_deref().and_then(Rating::parse) else {
        return page(&svc, &csrf, &token, &ticket, &answer, None, &comment, false, StatusCode::UNPROCESSABLE_ENTITY);
    };
    svc.evaluate(&link, rating, &comment).await?;
    page(&svc, &csrf, &token, &ticket, &answer, Some(rating.as_str().into()), &comment, true, StatusCode::OK)
}
