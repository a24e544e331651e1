//! A bare `/api/search` server over a built site's index, for measuring requests per second
//! with `wrk` without building the whole service (see `benches/README.md`). It answers the
//! way the service does: the same request, the same JSON, the same answer cache (`--no-cache`
//! to measure without it).
//!
//! `cargo run --release -p search-index --example http_bench -- /tmp/sb/dist 127.0.0.1:3999 [--no-cache]`

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use search_index::{AnswerCache, SearchIndex, SearchRequest};

struct Server {
    index: SearchIndex,
    cache: AnswerCache,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cache = !args.iter().any(|a| a == "--no-cache");
    let mut args = args.into_iter().filter(|a| !a.starts_with("--"));
    let dist = args.next().unwrap_or_else(|| "dist".into());
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3999".into());
    let index = SearchIndex::load(&std::path::Path::new(&dist).join("search")).expect("index");
    let budget = if cache { search_index::cache::DEFAULT_BUDGET } else { 0 };
    eprintln!("{index:?}; serving /api/search on http://{addr}, answer cache {}", if cache { "on" } else { "off" });
    let server = Arc::new(Server { index, cache: AnswerCache::new(budget) });
    let app = axum::Router::new().route("/api/search", get(api)).with_state(server);
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}

async fn api(State(s): State<Arc<Server>>, Query(p): Query<HashMap<String, String>>) -> impl IntoResponse {
    let get = |k: &str| p.get(k).map(String::as_str).filter(|s| !s.is_empty());
    let limit = get("limit").and_then(|l| l.parse().ok()).unwrap_or(8usize).clamp(1, 20);
    let req =
        SearchRequest { query: get("q").unwrap_or(""), lang: get("lang"), category: get("category"), limit, offset: 0 };
    let body = s.cache.answer(&s.index, &req).map(|a| a.json).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "public, max-age=300")], body)
}
