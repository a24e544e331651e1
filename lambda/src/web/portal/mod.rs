//! The subscriber's portal: the start page and the Tickets tab ([`tickets`]).

use axum::extract::State;
use axum::http::HeaderMap;
use minijinja::{Value, context};

use super::extract::{Csrf, require_user};
use super::{Svc, WebResult, render, site_ctx};
use crate::model::*;

pub mod tickets;

pub fn routes() -> axum::Router<Svc> {
    axum::Router::new().route("/portal", axum::routing::get(portal_home)).merge(tickets::routes())
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
    // Phone support (number, hours, open now) only for plans that include it.
    let now = svc.clock.now();
    let hours = &svc.config.office_hours;
    let phone = plan.as_ref().filter(|p| p.phone_support).map(|_| {
        let next = svc.calendar.next_opening(now, hours);
        let lang = svc.lang().code;
        context! {
            number => svc.config.site.phone, opens => hours.opens.format("%H:%M").to_string(),
            closes => hours.closes.format("%H:%M").to_string(), open => svc.calendar.is_open(now, hours),
            next => next.map(|n| format!("{} {}", site_builder::build::format_date(&lang, n.date()), n.format("%H:%M"))),
        }
    });
    let html = render(
        &svc,
        "portal.html",
        context! {
            site => site_ctx(&svc), csrf => csrf.token, user => user, tab => "home", org => org,
            open_tickets => open, popular => popular, plan => plan, phone => phone,
            office_hours => svc.config.office_hours,
            target_days => svc.config.tickets.target_working_days,
        },
    )?;
    Ok(csrf.page(&svc, html))
}
