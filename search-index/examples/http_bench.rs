//! A bare `/api/search` server over a built site's index, for measuring requests per second
//! with `wrk` without building the whole service (see `benches/README.md`). It answers the
//! way the service does: the same request, the same JSON.
//!
//! `cargo run --release -p search-index --example http_bench -- /tmp/sb/dist 127.0.0.1:3999`

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use search_index::{SearchIndex, SearchRequest};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dist = args.next().unwrap_or_else(|| "dist".into());
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3999".into());
    let index = Arc::new(SearchIndex::load(&std::path::Path::new(&dist).join("search")).expect("index"));
    eprintln!("{index:?}; serving /api/search on http://{addr}");
    let app = axum::Router::new().route("/api/search", get(api)).with_state(index);
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}

async fn api(State(index): State<Arc<SearchIndex>>, Query(p): Query<HashMap<String, String>>) -> impl IntoResponse {
    let get = |k: &str| p.get(k).map(String::as_str).filter(|s| !s.is_empty());
    let limit = get("limit").and_then(|l| l.parse().ok()).unwrap_or(8usize).clamp(1, 20);
    let req =
        SearchRequest { query: get("q").unwrap_or(""), lang: get("lang"), category: get("category"), limit, offset: 0 };
    let body = serde_json::to_vec(&index.search(&req).unwrap_or_default()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], body)
}
