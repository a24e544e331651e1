//! Administration in the browser (`/admin`, role admin only; anyone else gets a 404):
//! organisations (name, sector, plan, sharing tickets) and their people (invite, change role,
//! deactivate). The same operations as `helpdesk admin ...`, through the same service calls.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use minijinja::{Value, context};

use crate::model::*;
use crate::render::urlencode;
use crate::service::{Service, ServiceError};
use crate::store::StoreError;
use crate::web::extract::{Csrf, require_user};
use crate::web::{Svc, WebError, WebResult, render, site_ctx};

pub fn routes() -> axum::Router<Svc> {
    axum::Router::new()
        .route("/admin", get(orgs))
        .route("/admin/orgs", post(create_org))
        .route("/admin/orgs/{id}", get(org).post(update_org))
        .route("/admin/orgs/{id}/invite", post(invite))
        .route("/admin/people/{id}", post(update_person))
}

async fn require_admin(svc: &Service, headers: &HeaderMap, back: &str) -> WebResult<User> {
    let user = require_user(svc, headers, back).await?;
    if user.role == Role::Admin { Ok(user) } else { Err(WebError::NotFound) }
}

fn choices(svc: &Service) -> (Vec<Value>, Vec<Value>) {
    let lang = svc.lang().code;
    let sectors = svc.config.sectors.iter().map(|s| context! { id => s.id, name => s.name.get(&lang) }).collect();
    let plans = svc.config.plans.iter().map(|p| context! { id => p.id, name => p.name.get(&lang) }).collect();
    (sectors, plans)
}

#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
struct OrgForm {
    name: Option<String>,
    sector: Option<String>,
    plan: Option<String>,
    share_tickets: Option<String>,
    csrf_token: Option<String>,
}

async fn orgs_page(
    svc: &Service,
    csrf: &Csrf,
    user: &User,
    values: &OrgForm,
    errors: BTreeMap<&'static str, String>,
    status: StatusCode,
) -> WebResult {
    let orgs = svc.store.orgs().await?;
    let (sectors, plans) = choices(svc);
    let rows: Vec<Value> = orgs
        .iter()
        .map(|o| {
            let plan = svc.config.plans.iter().find(|p| p.id == o.plan).map(|p| p.name.get(&svc.lang().code).to_owned());
            context! { org => o, url => format!("/admin/orgs/{}", urlencode(&o.id)), sector => svc.sector_name(&o.sector), plan => plan }
        })
        .collect();
    let html = render(
        svc,
        "admin/orgs.html",
        context! {
            site => site_ctx(svc), csrf => csrf.token, user => user, tab => "admin",
            orgs => rows, sectors => sectors, plans => plans, values => values, errors => errors,
        },
    )?;
    let mut resp = csrf.page(svc, html);
    *resp.status_mut() = status;
    Ok(resp)
}

async fn orgs(State(svc): State<Svc>, csrf: Csrf, headers: HeaderMap) -> WebResult {
    let user = require_admin(&svc, &headers, "/admin").await?;
    orgs_page(&svc, &csrf, &user, &OrgForm::default(), BTreeMap::new(), StatusCode::OK).await
}

async fn create_org(
    State(svc): State<Svc>,
    csrf: Csrf,
    headers: HeaderMap,
    axum::Form(f): axum::Form<OrgForm>,
) -> WebResult {
    let user = require_admin(&svc, &headers, "/admin").await?;
    csrf.check(f.csrf_token.as_deref())?;
    let lang = svc.lang();
    let name = f.name.clone().unwrap_or_default();
    let mut errors = BTreeMap::new();
    if name.trim().is_empty() || name.chars().count() > 120 {
        errors.insert("name", lang.get("admin_err_name"));
    }
    if !errors.is_empty() {
        return orgs_page(&svc, &csrf, &user, &f, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let share = f.share_tickets.is_some();
    match svc.create_org(&name, f.sector.as_deref().unwrap_or_default(), f.plan.as_deref(), share).await {
        Ok(org) => Ok(Redirect::to(&format!("/admin/orgs/{}", urlencode(&org.id))).into_response()),
        Err(ServiceError::Store(StoreError::Conflict(_))) => {
            errors.insert("name", lang.get("admin_err_name_taken"));
            orgs_page(&svc, &csrf, &user, &f, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(ServiceError::Invalid(_)) => {
            errors.insert("sector", lang.get("admin_err_sector_plan"));
            orgs_page(&svc, &csrf, &user, &f, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, serde::Deserialize, serde::Serialize)]
struct InviteForm {
    email: Option<String>,
    name: Option<String>,
    role: Option<String>,
    lang: Option<String>,
    csrf_token: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn org_page(
    svc: &Service,
    csrf: &Csrf,
    user: &User,
    org: &Org,
    notice: Option<String>,
    invite: &InviteForm,
    errors: BTreeMap<&'static str, String>,
    status: StatusCode,
) -> WebResult {
    let people = svc.store.users_in_org(&org.id).await?;
    let (sectors, plans) = choices(svc);
    let roles: Vec<Value> = [Role::Subscriber, Role::Agent, Role::Admin]
        .iter()
        .map(|r| context! { id => r.as_str(), label => svc.lang().get(&format!("admin_role_{}", r.as_str())) })
        .collect();
    let languages: Vec<Value> =
        svc.config.languages.iter().map(|l| context! { code => l.code, name => l.name }).collect();
    let html = render(
        svc,
        "admin/org.html",
        context! {
            site => site_ctx(svc), csrf => csrf.token, user => user, tab => "admin",
            org => org, url => format!("/admin/orgs/{}", urlencode(&org.id)), people => people,
            sectors => sectors, plans => plans, roles => roles, languages => languages,
            notice => notice, invite => invite, errors => errors,
        },
    )?;
    let mut resp = csrf.page(svc, html);
    *resp.status_mut() = status;
    Ok(resp)
}

#[derive(Debug, Default, serde::Deserialize)]
struct Done {
    done: Option<String>,
}

async fn org(
    State(svc): State<Svc>,
    csrf: Csrf,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::Query(d): axum::extract::Query<Done>,
) -> WebResult {
    let user = require_admin(&svc, &headers, &format!("/admin/orgs/{}", urlencode(&id))).await?;
    let org = svc.store.org(&id).await?.ok_or(WebError::NotFound)?;
    let notice =
        d.done.map(|k| svc.lang().get(&format!("admin_done_{}", k.replace(|c: char| !c.is_ascii_lowercase(), ""))));
    org_page(&svc, &csrf, &user, &org, notice, &InviteForm::default(), BTreeMap::new(), StatusCode::OK).await
}

async fn update_org(
    State(svc): State<Svc>,
    csrf: Csrf,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<OrgForm>,
) -> WebResult {
    let user = require_admin(&svc, &headers, &format!("/admin/orgs/{}", urlencode(&id))).await?;
    csrf.check(f.csrf_token.as_deref())?;
    let org = svc.store.org(&id).await?.ok_or(WebError::NotFound)?;
    let (sector, plan) = (f.sector.unwrap_or_default(), f.plan.unwrap_or_default());
    match svc.update_org(&org, &sector, &plan, f.share_tickets.is_some()).await {
        Ok(org) => Ok(Redirect::to(&format!("/admin/orgs/{}?done=org", urlencode(&org.id))).into_response()),
        Err(ServiceError::Invalid(_)) => {
            let errors = BTreeMap::from([("org", svc.lang().get("admin_err_sector_plan"))]);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            org_page(&svc, &csrf, &user, &org, None, &InviteForm::default(), errors, status).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn invite(
    State(svc): State<Svc>,
    csrf: Csrf,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<InviteForm>,
) -> WebResult {
    let user = require_admin(&svc, &headers, &format!("/admin/orgs/{}", urlencode(&id))).await?;
    csrf.check(f.csrf_token.as_deref())?;
    let org = svc.store.org(&id).await?.ok_or(WebError::NotFound)?;
    let lang = svc.lang();
    let email = f.email.clone().unwrap_or_default();
    let role = f.role.as_deref().and_then(Role::parse).unwrap_or(Role::Subscriber);
    let language = svc.texts.or_default(f.lang.as_deref()).clone();
    let invited =
        crate::i18n::in_language(language, svc.invite(&email, f.name.as_deref().unwrap_or_default(), &org, role)).await;
    let problem = match invited {
        Ok(_) => return Ok(Redirect::to(&format!("/admin/orgs/{}?done=invite", urlencode(&org.id))).into_response()),
        Err(ServiceError::Invalid(_)) => lang.get("admin_err_email"),
        Err(ServiceError::Store(StoreError::Conflict(_))) => lang.get("admin_err_email_taken"),
        Err(e) => return Err(e.into()),
    };
    let errors = BTreeMap::from([("email", problem)]);
    org_page(&svc, &csrf, &user, &org, None, &f, errors, StatusCode::UNPROCESSABLE_ENTITY).await
}

#[derive(Debug, serde::Deserialize)]
struct PersonForm {
    role: Option<String>,
    /// `1` active, `0` deactivated.
    active: Option<String>,
    csrf_token: Option<String>,
}

async fn update_person(
    State(svc): State<Svc>,
    csrf: Csrf,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<PersonForm>,
) -> WebResult {
    let admin = require_admin(&svc, &headers, "/admin").await?;
    csrf.check(f.csrf_token.as_deref())?;
    let person = svc.store.user(&id).await?.ok_or(WebError::NotFound)?;
    let role = f.role.as_deref().and_then(Role::parse).unwrap_or(person.role);
    let active = f.active.as_deref().map_or(person.active, |a| a == "1");
    // An admin cannot lock themselves out (someone must be left to undo it).
    if person.id == admin.id && (!active || role != Role::Admin) {
        let org = svc.store.org(&person.org_id).await?.ok_or(WebError::NotFound)?;
        let errors = BTreeMap::from([("people", svc.lang().get("admin_err_self"))]);
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return org_page(&svc, &csrf, &admin, &org, None, &InviteForm::default(), errors, status).await;
    }
    svc.update_person(&person, role, active).await?;
    Ok(Redirect::to(&format!("/admin/orgs/{}?done=person", urlencode(&person.org_id))).into_response())
}
