//! Search: `GET /search?q=` (an HTML result page that needs no JavaScript) and
//! `GET /api/search?q=&lang=&category=&limit=` (JSON, for search-as-you-type and the ticket
//! form's suggestions).
//!
//! Both answer from the index the site build writes into `<site>/search/` (see
//! `site_builder::search`): the packed index, the result pages' texts and a result page shell
//! per language. The index is always read into memory (on AWS Lambda the function's files are
//! read-only), and read again after each rebuild when `builds` says so.
//!
//! `/api/search` answers come from a small bounded cache per index generation
//! ([`AnswerCache`]: search-as-you-type asks the same beginnings over and over) and say
//! `Cache-Control: public, max-age=300` so browsers and CloudFront may keep them too (not
//! under `serve`, which rebuilds as content is edited).
//!
//! Queries without results are counted (the words only, never who asked, and nothing that
//! looks like an address, a number or a pasted text) so editors see which FAQ to write next:
//! [`MissLog`] keeps a bounded number of counts in memory and adds them to the store every few
//! seconds; `helpdesk search misses` lists them (`Store::top_misses`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use search_index::{AnswerCache, SearchIndex, SearchRequest, SearchResults};
use site_builder::build::escape_html;
use site_builder::search::{QUERY_MARKER, RESULTS_MARKER, STRINGS_FILE};
use tokio::sync::watch;

/// Results per HTML page.
const PAGE_SIZE: usize = 10;
/// Results per JSON answer by default, and at most.
const API_LIMIT: usize = 8;
const API_MAX_LIMIT: usize = 20;
/// How often a missing or broken index is looked for again.
const RETRY: Duration = Duration::from_secs(2);

/// The search index and its pages, reloaded after rebuilds.
#[derive(Debug)]
pub struct SearchHandle {
    dir: PathBuf,
    builds: Option<watch::Receiver<u64>>,
    current: RwLock<Option<Arc<Loaded>>>,
    /// Held while (re)loading; remembers the last failed attempt.
    loading: tokio::sync::Mutex<Option<Instant>>,
    pub misses: Arc<MissLog>,
}

/// One loaded generation of the search directory.
#[derive(Debug)]
pub struct Loaded {
    pub index: SearchIndex,
    /// `/api/search` answers given from this index.
    pub answers: AnswerCache,
    strings: Strings,
    /// Per language, the result page cut at the markers.
    shells: HashMap<String, Vec<Piece>>,
    generation: u64,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct Strings {
    default_language: String,
    languages: HashMap<String, HashMap<String, String>>,
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Query,
    Results,
}

impl SearchHandle {
    /// `dir` is the site's `search/` directory; `builds` counts rebuilds (reload after each);
    /// `misses` is where zero-result queries are counted (`None`: only logged).
    pub fn new(
        dir: impl Into<PathBuf>,
        builds: Option<watch::Receiver<u64>>,
        misses: Option<Arc<dyn crate::store::Store>>,
    ) -> Self {
        SearchHandle {
            dir: dir.into(),
            builds,
            current: RwLock::new(None),
            loading: tokio::sync::Mutex::new(None),
            misses: Arc::new(MissLog::new(misses)),
        }
    }

    /// The current index, loading it first when there is none yet or the site was rebuilt.
    /// While one request reloads, the others keep using the previous index.
    pub async fn current(&self) -> Option<Arc<Loaded>> {
        if let Some(builds) = &self.builds
            && *builds.borrow() == 0
        {
            // The first build is still running (`serve` counts builds from 1): wait for it.
            let mut builds = builds.clone();
            let _ = tokio::time::timeout(Duration::from_secs(60), builds.wait_for(|n| *n > 0)).await;
        }
        let generation = self.builds.as_ref().map_or(0, |b| *b.borrow());
        let have = self.current.read().ok().and_then(|c| c.clone());
        if have.as_ref().is_some_and(|l| l.generation == generation) {
            return have;
        }
        let mut last_failure = match &have {
            Some(_) => match self.loading.try_lock() {
                Ok(guard) => guard,
                Err(_) => return have,
            },
            None => self.loading.lock().await,
        };
        // Someone else may have loaded it while we waited.
        let now = self.current.read().ok().and_then(|c| c.clone());
        if now.as_ref().is_some_and(|l| l.generation == generation) {
            return now;
        }
        if last_failure.is_some_and(|t| t.elapsed() < RETRY) {
            return have;
        }
        let dir = self.dir.clone();
        match tokio::task::spawn_blocking(move || Loaded::load(&dir, generation)).await {
            Ok(Ok(loaded)) => {
                let loaded = Arc::new(loaded);
                if let Ok(mut c) = self.current.write() {
                    *c = Some(loaded.clone());
                }
                *last_failure = None;
                tracing::info!(articles = loaded.index.articles(), generation, "search index loaded");
                Some(loaded)
            }
            Ok(Err(e)) => {
                *last_failure = Some(Instant::now());
                tracing::warn!(error = %e, dir = %self.dir.display(), "no search index");
                have
            }
            Err(e) => {
                *last_failure = Some(Instant::now());
                tracing::error!(error = %e, "loading the search index failed");
                have
            }
        }
    }
}

/// How long browsers and CloudFront may keep an `/api/search` answer: the index only changes
/// with a deployment (which invalidates CloudFront's copies), so a few minutes.
const API_MAX_AGE: &str = "public, max-age=300";

impl SearchHandle {
    /// The `Cache-Control` of an `/api/search` answer: cacheable, unless the site is rebuilt
    /// as it is edited (`serve`), where a new article must show up at once.
    fn api_cache_control(&self) -> HeaderValue {
        HeaderValue::from_static(if self.builds.is_some() { "no-cache" } else { API_MAX_AGE })
    }
}

impl Loaded {
    /// Reads `dir` (index, texts, result pages) into memory.
    pub fn load(dir: &Path, generation: u64) -> Result<Loaded, String> {
        let index = SearchIndex::load(dir).map_err(|e| e.to_string())?;
        let strings = std::fs::read_to_string(dir.join(STRINGS_FILE)).map_err(|e| format!("{STRINGS_FILE}: {e}"))?;
        let strings: Strings = serde_json::from_str(&strings).map_err(|e| format!("{STRINGS_FILE}: {e}"))?;
        let mut shells = HashMap::new();
        for lang in strings.languages.keys() {
            let path = dir.join(format!("{lang}.html"));
            let html = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            shells.insert(lang.clone(), cut(&html));
        }
        Ok(Loaded { index, answers: AnswerCache::default(), strings, shells, generation })
    }

    /// A known language, else the default one.
    fn lang<'a>(&'a self, asked: Option<&'a str>) -> &'a str {
        match asked {
            Some(l) if self.strings.languages.contains_key(l) => l,
            _ => &self.strings.default_language,
        }
    }

    fn t(&self, lang: &str, key: &str) -> String {
        self.strings.languages.get(lang).and_then(|m| m.get(key)).cloned().unwrap_or_else(|| key.to_owned())
    }
}

/// Cuts a result page shell at its markers.
fn cut(html: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = html;
    loop {
        let q = rest.find(QUERY_MARKER).map(|i| (i, QUERY_MARKER.len(), Piece::Query));
        let r = rest.find(RESULTS_MARKER).map(|i| (i, RESULTS_MARKER.len(), Piece::Results));
        let next = match (q, r) {
            (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
            (a, b) => a.or(b),
        };
        let Some((at, len, piece)) = next else { break };
        pieces.push(Piece::Text(rest[..at].to_owned()));
        pieces.push(piece);
        rest = &rest[at + len..];
    }
    pieces.push(Piece::Text(rest.to_owned()));
    pieces
}

pub fn routes() -> Router<Arc<SearchHandle>> {
    Router::new().route("/search", get(search_page)).route("/api/search", get(search_api))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    lang: Option<String>,
    category: Option<String>,
    page: Option<String>,
    limit: Option<String>,
}

/// Query parameters, however broken: a bad value is as good as none.
fn params(q: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>) -> SearchParams {
    q.map(|Query(p)| p).unwrap_or_default()
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty() && s.len() <= 64)
}

/// Headers an answer of `/api/search` has: its own two, the six security headers, HSTS, and
/// the length and date.
const ANSWER_HEADERS: usize = 12;

async fn search_api(
    State(search): State<Arc<SearchHandle>>,
    q: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let p = params(q);
    let query = p.q.as_deref().unwrap_or("");
    let limit = p.limit.as_deref().and_then(|l| l.parse().ok()).unwrap_or(API_LIMIT).clamp(1, API_MAX_LIMIT);
    let Some(loaded) = search.current().await else {
        let empty = SearchResults { query: query.trim().to_owned(), ..SearchResults::default() };
        return json(StatusCode::SERVICE_UNAVAILABLE, &empty);
    };
    let req = SearchRequest { query, lang: non_empty(&p.lang), category: non_empty(&p.category), limit, offset: 0 };
    match loaded.answers.answer(&loaded.index, &req) {
        Ok(answer) => {
            let mut resp = (StatusCode::OK, answer.json).into_response();
            let h = resp.headers_mut();
            // Room for the security headers added on the way out, and hyper's own: a map
            // grown header by header is rehashed twice per answer.
            h.reserve(ANSWER_HEADERS);
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            h.insert(header::CACHE_CONTROL, search.api_cache_control());
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "search failed");
            json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &SearchResults { query: query.trim().to_owned(), ..SearchResults::default() },
            )
        }
    }
}

fn json(status: StatusCode, res: &SearchResults) -> Response {
    let body = serde_json::to_vec(res).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

async fn search_page(
    State(search): State<Arc<SearchHandle>>,
    q: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let p = params(q);
    let query = p.q.as_deref().unwrap_or("").trim();
    let Some(loaded) = search.current().await else {
        let html = format!(
            "<!DOCTYPE html><html lang=\"nl\"><meta charset=\"utf-8\"><title>Zoeken</title>\
             <p>Zoeken is even niet beschikbaar. Probeer het over een minuut opnieuw.</p>\
             <p>Search is unavailable for a moment. Please try again in a minute.</p><p>{}</p></html>",
            escape_html(query)
        );
        return (StatusCode::SERVICE_UNAVAILABLE, Html(html)).into_response();
    };
    let lang = loaded.lang(non_empty(&p.lang)).to_owned();
    let category = non_empty(&p.category);
    let page = p.page.as_deref().and_then(|n| n.parse::<usize>().ok()).unwrap_or(1).clamp(1, 100);
    let results = if query.is_empty() {
        None
    } else {
        let req =
            SearchRequest { query, lang: Some(&lang), category, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE };
        match loaded.index.search(&req) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::error!(error = %e, "search failed");
                Some(SearchResults { query: query.to_owned(), ..SearchResults::default() })
            }
        }
    };
    if let Some(r) = &results
        && r.total == 0
        && page == 1
    {
        search.misses.record(query);
    }
    let body = results_html(&loaded, &lang, category, page, results.as_ref());
    let mut html = String::with_capacity(16 * 1024);
    for piece in loaded.shells.get(&lang).map(Vec::as_slice).unwrap_or_default() {
        match piece {
            Piece::Text(t) => html.push_str(t),
            Piece::Query => html.push_str(&escape_html(query)),
            Piece::Results => html.push_str(&body),
        }
    }
    let mut resp = Html(html).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// The results part of the result page.
fn results_html(
    loaded: &Loaded,
    lang: &str,
    category: Option<&str>,
    page: usize,
    results: Option<&SearchResults>,
) -> String {
    let t = |key: &str| escape_html(&loaded.t(lang, key));
    let mut out = String::new();
    let Some(res) = results else {
        let _ = write!(out, "<p class=\"search-summary muted\">{}</p>", t("search_empty"));
        return out;
    };
    let q = escape_html(&res.query);
    let fill = |s: String| s.replace("{query}", &q).replace("{count}", &res.total.to_string());
    if res.total == 0 {
        let _ = write!(
            out,
            "<div class=\"search-none contact-box\" role=\"status\"><h2>{}</h2><p>{}</p>\
             <p><a class=\"button button-primary\" href=\"/portal/tickets/new\">{}</a></p></div>",
            fill(t("search_none")),
            t("search_none_text"),
            t("new_ticket")
        );
        return out;
    }
    let summary = if res.total == 1 { t("search_result_one") } else { t("search_results") };
    let _ = write!(out, "<p class=\"search-summary muted\" role=\"status\">{}</p>", fill(summary));
    let _ = write!(
        out,
        "<ol class=\"search-results\" start=\"{}\" aria-label=\"{}\">",
        (page - 1) * PAGE_SIZE + 1,
        t("search_results_label")
    );
    for hit in &res.results {
        let _ = write!(
            out,
            "<li class=\"search-result\"><a class=\"search-result-title\" href=\"{}\">{}</a>\
             <span class=\"search-result-category\">{}</span><p class=\"search-result-snippet\">{}</p></li>",
            escape_html(&hit.url),
            escape_html(&hit.title),
            escape_html(&hit.category),
            hit.snippet
        );
    }
    out.push_str("</ol>");
    let shown = (page - 1) * PAGE_SIZE + res.results.len();
    if page > 1 || shown < res.total {
        let link = |n: usize| {
            let mut url = format!("/search?q={}&amp;lang={}", urlencode(&res.query), urlencode(lang));
            if let Some(c) = category {
                let _ = write!(url, "&amp;category={}", urlencode(c));
            }
            let _ = write!(url, "&amp;page={n}");
            url
        };
        out.push_str("<nav class=\"search-pager\">");
        if page > 1 {
            let _ = write!(
                out,
                "<a class=\"button\" rel=\"prev\" href=\"{}\">{}</a>",
                link(page - 1),
                t("search_previous")
            );
        }
        if shown < res.total {
            let _ =
                write!(out, "<a class=\"button\" rel=\"next\" href=\"{}\">{}</a>", link(page + 1), t("search_more"));
        }
        out.push_str("</nav>");
    }
    let _ = write!(
        out,
        "<aside class=\"contact-box\"><h2>{}</h2><p><a class=\"button button-primary\" href=\"/portal/tickets/new\">{}</a></p></aside>",
        t("was_helpful"),
        t("new_ticket")
    );
    out
}

fn urlencode(s: &str) -> String {
    crate::service::urlencode(s)
}

// ---------------------------------------------------------------------------------------------
// Queries without results

/// Name of the counts file under the data directory.
/// The file earlier versions kept the counts in (imported into the store once).
pub const MISSES_FILE: &str = "search-misses.json";
/// Distinct queries waiting in memory at most; more new ones are only logged until a flush.
const MAX_PENDING: usize = 1_000;
/// Counts are written at most this often.
const FLUSH_AFTER: Duration = Duration::from_secs(5);

/// Counts of queries that found nothing: bounded in memory, added to the store (SQLite or
/// DynamoDB, so they last on AWS too) a few seconds after they come in.
#[derive(Debug)]
pub struct MissLog {
    store: Option<Arc<dyn crate::store::Store>>,
    pending: Mutex<HashMap<String, u64>>,
    scheduled: AtomicBool,
}

impl MissLog {
    /// `store`: where the counts go (`None`: only logged).
    pub fn new(store: Option<Arc<dyn crate::store::Store>>) -> Self {
        MissLog { store, pending: Mutex::new(HashMap::new()), scheduled: AtomicBool::new(false) }
    }

    /// Counts a query that found nothing (when it is fit to keep, see [`normalize_miss`]) and
    /// schedules a flush.
    pub fn record(self: &Arc<Self>, query: &str) {
        let Some(q) = normalize_miss(query) else { return };
        tracing::info!(query = %q, "search without results");
        if self.store.is_none() {
            return;
        }
        if let Ok(mut p) = self.pending.lock() {
            let len = p.len();
            match p.get_mut(&q) {
                Some(n) => *n += 1,
                None if len < MAX_PENDING => {
                    p.insert(q, 1);
                }
                None => {}
            }
        }
        if !self.scheduled.swap(true, Ordering::AcqRel)
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let me = self.clone();
            rt.spawn(async move {
                tokio::time::sleep(FLUSH_AFTER).await;
                me.scheduled.store(false, Ordering::Release);
                if let Err(e) = me.flush().await {
                    tracing::warn!(error = %e, "cannot save the search misses");
                }
            });
        }
    }

    /// Adds the pending counts to the store.
    pub async fn flush(&self) -> Result<(), crate::store::StoreError> {
        let Some(store) = &self.store else { return Ok(()) };
        let pending: Vec<(String, u64)> = match self.pending.lock() {
            Ok(mut p) if !p.is_empty() => std::mem::take(&mut *p).into_iter().collect(),
            _ => return Ok(()),
        };
        store.add_misses(&pending).await
    }
}

/// Moves the counts of the file earlier versions kept (`<data_dir>/search-misses.json`) into
/// the store, once (the file is renamed `.imported`).
pub async fn import_miss_file(data_dir: &Path, store: &dyn crate::store::Store) -> anyhow::Result<()> {
    #[derive(serde::Deserialize)]
    struct MissFile {
        misses: HashMap<String, u64>,
    }
    let file = data_dir.join(MISSES_FILE);
    let Ok(bytes) = std::fs::read(&file) else { return Ok(()) };
    let old: MissFile = serde_json::from_slice(&bytes)?;
    store.add_misses(&old.misses.into_iter().collect::<Vec<_>>()).await?;
    std::fs::rename(&file, file.with_extension("json.imported"))?;
    Ok(())
}

/// What is kept of a query that found nothing: lowercased, accents folded, one space between
/// words. `None` for what may identify someone or is no search: an e-mail address, a number of
/// four or more digits (phone, ticket, customer number, postcode), a URL, more than eight
/// words, or more than 80 characters.
pub fn normalize_miss(query: &str) -> Option<String> {
    let q = search_index::text::fold_diacritics(&query.to_lowercase());
    let words: Vec<&str> = q.split_whitespace().collect();
    if words.is_empty() || words.len() > 8 || q.contains('@') || q.contains("://") || q.contains("www.") {
        return None;
    }
    let mut digits = 0;
    for c in q.chars() {
        digits = if c.is_ascii_digit() { digits + 1 } else { 0 };
        if digits >= 4 {
            return None;
        }
    }
    let q = words.join(" ");
    (q.chars().count() <= 80).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misses_keep_words_and_drop_what_identifies_people() {
        assert_eq!(normalize_miss("  Factuur   DOWNLOADEN "), Some("factuur downloaden".into()));
        assert_eq!(normalize_miss("Ideeën"), Some("ideeen".into()));
        assert_eq!(normalize_miss("jan@example.nl"), None);
        assert_eq!(normalize_miss("INC-2026-00042"), None);
        assert_eq!(normalize_miss("bel 0612345678"), None);
        assert_eq!(normalize_miss("1234 AB"), None);
        assert_eq!(normalize_miss("https://x.example/y"), None);
        assert_eq!(normalize_miss("een twee drie vier vijf zes zeven acht negen"), None);
        assert_eq!(normalize_miss("   "), None);
        assert_eq!(normalize_miss("windows 11"), Some("windows 11".into()));
    }

    #[tokio::test]
    async fn misses_are_counted_bounded_and_flushed_to_the_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn crate::store::Store> =
            Arc::new(crate::store::sqlite::SqliteStore::open(&dir.path().join("t.db")).expect("store"));
        let log = Arc::new(MissLog::new(Some(store.clone())));
        for q in ["factuur", "Factuur", "btw", "jan@example.nl"] {
            log.record(q);
        }
        log.flush().await.expect("flush");
        log.record("btw");
        log.record("factuur");
        log.record("factuur");
        log.flush().await.expect("flush");
        assert_eq!(store.top_misses(10).await.expect("list"), vec![("factuur".to_owned(), 4), ("btw".to_owned(), 2)]);
        // Memory stays bounded: past MAX_PENDING distinct queries, new ones wait for a flush.
        for i in 0..(MAX_PENDING + 500) {
            log.record(&format!("woord{}", (b'a' + (i % 26) as u8) as char).repeat(1 + i / 26));
        }
        assert!(log.pending.lock().expect("lock").len() <= MAX_PENDING);
    }

    #[test]
    fn shells_are_cut_at_the_markers() {
        let html = format!("<title>{QUERY_MARKER}</title><input value=\"{QUERY_MARKER}\">{RESULTS_MARKER}</body>");
        let pieces = cut(&html);
        assert!(matches!(
            pieces.as_slice(),
            [
                Piece::Text(_),
                Piece::Query,
                Piece::Text(_),
                Piece::Query,
                Piece::Text(_),
                Piece::Results,
                Piece::Text(_)
            ]
        ));
    }
}
