//! The helpdesk web service: one axum [`Router`] that runs as a plain HTTP server locally
//! (`helpdesk serve`) and, later, under `lambda_http` on AWS.

use std::convert::Infallible;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use tokio::sync::watch;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

pub mod cli;

/// What every request handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The built static site (`dist/`).
    pub site_dir: PathBuf,
    /// Counts successful rebuilds; `None` when the site never changes (no live reload).
    pub builds: Option<watch::Receiver<u64>>,
}

/// The whole service. Lambda, the local server and the tests all run this.
pub fn app(state: AppState) -> Router {
    let not_found = ServeFile::new(state.site_dir.join("404.html"));
    let site = ServeDir::new(&state.site_dir).append_index_html_on_directories(true).not_found_service(not_found);
    let mut router = Router::new().route("/healthz", get(|| async { "ok" }));
    if let Some(builds) = state.builds.clone() {
        router = router.route("/__livereload", get(move || live_reload(builds.clone())));
    }
    router
        .fallback_service(site)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
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
