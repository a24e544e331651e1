//! The helpdesk web service: one axum [`Router`] that runs as a plain HTTP server locally
//! (`helpdesk serve`) and, later, under `lambda_http` on AWS.

use std::convert::Infallible;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use tokio::sync::watch;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

pub mod auth;
pub mod aws_lambda;
pub mod backends;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod files;
pub mod i18n;
pub mod intake;
pub mod mail;
pub mod model;
pub mod render;
pub mod search;
pub mod service;
pub mod store;
pub mod web;

pub use service::Service;

/// What every request handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The built static site (`dist/`).
    pub site_dir: PathBuf,
    /// Counts successful builds (0 while the first is running); `None` when the site is built
    /// once before the service starts and never changes (no live reload).
    pub builds: Option<watch::Receiver<u64>>,
    pub service: std::sync::Arc<Service>,
    /// The search index (`<site_dir>/search/`, reloaded after rebuilds).
    pub search: std::sync::Arc<search::SearchHandle>,
    /// Where nothing runs between requests (Lambda), the mail a POST queued is delivered
    /// through this mailer before the answer leaves; `None` where a worker delivers it.
    pub deliver_after_posts: Option<std::sync::Arc<dyn mail::Mailer>>,
}

/// The site's "page not found" page, in the language of the address's first segment when the
/// site has one for it (`/en/...` -> `en/404.html`), else the default one.
async fn not_found_page(
    axum::extract::State(site_dir): axum::extract::State<PathBuf>,
    uri: axum::http::Uri,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let lang = uri.path().split('/').nth(1).filter(|l| l.len() == 2 && l.bytes().all(|b| b.is_ascii_lowercase()));
    let own = lang.map(|l| site_dir.join(l).join("404.html")).filter(|p| p.is_file());
    let page = tokio::fs::read(own.unwrap_or_else(|| site_dir.join("404.html"))).await.unwrap_or_default();
    (
        axum::http::StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))],
        page,
    )
        .into_response()
}

/// The whole service. Lambda, the local server and the tests all run this.
pub fn app(state: AppState) -> Router {
    // An unknown address under /<lang>/ gets that language's "not found" page.
    let not_found = axum::handler::Handler::with_state(not_found_page, state.site_dir.clone());
    let site = ServeDir::new(&state.site_dir).append_index_html_on_directories(true).not_found_service(not_found);
    let mut site = Router::new().fallback_service(site);
    if let Some(builds) = state.builds.clone() {
        // While the first build is still running, pages of the site wait for it.
        site = site.layer(axum::middleware::from_fn(move |req: Request, next: Next| {
            let mut builds = builds.clone();
            async move {
                let _ = builds.wait_for(|n| *n > 0).await;
                next.run(req).await
            }
        }));
    }
    let mut router = Router::new().route("/healthz", get(|| async { "ok" })).merge(
        web::routes()
            .layer(axum::middleware::from_fn_with_state(state.service.clone(), web::error::error_pages))
            // The agent's ticket page suggests FAQs from the search index.
            .layer(axum::Extension(state.search.clone()))
            .with_state(state.service.clone())
            .layer(axum::middleware::from_fn_with_state(state.service.texts.clone(), i18n::middleware)),
    );
    router = router.merge(search::routes().with_state(state.search.clone()));
    if let Some(builds) = state.builds.clone() {
        router = router.route("/__livereload", get(move || live_reload(builds.clone())));
    }
    // Large enough for a ticket with several attachments at the configured maximum each; the
    // routes that take no files have their own, small limits (web::routes).
    let body_limit = (state.service.config.tickets.max_attachment_mb as usize * 5 + 1) * 1024 * 1024;
    let https = state.service.secure_cookies;
    let mut router = router.fallback_service(site).layer(axum::extract::DefaultBodyLimit::max(body_limit));
    if let Some(mailer) = state.deliver_after_posts {
        let store = state.service.store.clone();
        router = router.layer(axum::middleware::from_fn(move |req: Request, next: Next| {
            let (store, mailer) = (store.clone(), mailer.clone());
            async move {
                let post = req.method() == axum::http::Method::POST;
                let response = next.run(req).await;
                if post {
                    mail::deliver_due(store.as_ref(), mailer.as_ref(), chrono::Utc::now()).await;
                }
                response
            }
        }));
    }
    // Outside mail delivery, so an answer that must not tell by its timing what it did
    // (a reset link asked for a known address or an unknown one) includes the sending.
    let router = router.layer(axum::middleware::from_fn(web::even_timing));
    security_headers(router, https)
}

/// The security headers CloudFront adds on AWS (`SecurityHeadersPolicy` in
/// `infra/template.yaml`), added here too, so the one-machine install is as safe: a strict
/// Content-Security-Policy (no inline script or style, no framing), `X-Frame-Options`,
/// `nosniff`, the referrer and permissions policies, and HSTS when served over https.
fn security_headers(router: Router, https: bool) -> Router {
    let csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; \
               connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";
    let headers: [(header::HeaderName, &'static str); 6] = [
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=()"),
        (header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    let mut router = router;
    for (name, value) in headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)));
    }
    if https {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        ));
    }
    router
}

/// Server-sent events: one `reload` message after each rebuild.
async fn live_reload(
    mut builds: watch::Receiver<u64>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, Infallible>>> {
    builds.mark_unchanged();
    let stream = async_stream::stream! {
        while builds.changed().await.is_ok() {
            yield Ok(Event::default().data("reload"));
        }
    };
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
