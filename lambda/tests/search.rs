//! `/search` and `/api/search` over HTTP, on the real content built the way `serve` builds it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, client, repo_content, spawn_app};
use helpdesk::search::SearchHandle;

fn build_site(content: &std::path::Path, out: &std::path::Path) {
    let mut opts = site_builder::BuildOptions::new(content, out);
    opts.dates = site_builder::Dates::Fixed(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"));
    site_builder::build(&opts).unwrap_or_else(|e| panic!("build: {e}"));
}

async fn app_with_site() -> TestApp {
    let app = spawn_app().await;
    build_site(&repo_content(), &app.dir.path().join("site"));
    app
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let resp = client().get(app.url(path)).send().await.expect("get");
    let status = resp.status().as_u16();
    let ctype = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, ctype, resp.text().await.expect("body"))
}

async fn api(app: &TestApp, query: &str) -> (u16, serde_json::Value, usize) {
    let (status, ctype, body) = get(app, &format!("/api/search?{query}")).await;
    assert_eq!(ctype, "application/json", "{body}");
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")), body.len())
}

fn urls(v: &serde_json::Value) -> Vec<String> {
    v["results"].as_array().expect("results").iter().map(|r| r["url"].as_str().expect("url").to_owned()).collect()
}

#[tokio::test]
async fn the_api_answers_json_in_the_documented_shape() {
    let app = app_with_site().await;
    let (status, v, size) = api(&app, "q=wachtwoord+vergeten&lang=nl").await;
    assert_eq!(status, 200);
    assert_eq!(v["query"], "wachtwoord vergeten");
    assert!(v["total"].as_u64().expect("total") >= 1);
    assert!(urls(&v)[0].starts_with("/nl/account/wachtwoord-vergeten/"), "{v}");
    let first = v["results"][0].as_object().expect("object");
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["category", "score", "snippet", "title", "url"]);
    assert_eq!(first["category"], "Account en inloggen");
    assert!(first["snippet"].as_str().expect("snippet").contains("<mark>"), "{v}");
    assert!(size <= 4096, "answer is {size} bytes");

    let (_, v, _) = api(&app, "q=ticket&lang=nl&limit=3").await;
    assert_eq!(urls(&v).len(), 3);
    let (_, v, _) = api(&app, "q=ticket&lang=nl&category=account").await;
    assert!(urls(&v).iter().all(|u| u.starts_with("/nl/account/")), "{v}");
    let (_, v, _) = api(&app, "q=password&lang=en").await;
    assert!(urls(&v).iter().all(|u| u.starts_with("/en/")), "{v}");
}

#[tokio::test]
async fn api_answers_may_be_cached_and_repeat_the_query_as_typed() {
    let app = app_with_site().await;
    let resp = client().get(app.url("/api/search?q=wachtwoord+vergeten&lang=nl")).send().await.expect("get");
    assert_eq!(resp.headers()["cache-control"], "public, max-age=300", "browsers and CloudFront may keep it");
    let first: serde_json::Value = resp.json().await.expect("json");
    // Asked again, the answer is kept; then the same words typed otherwise come from the
    // service's answer cache: the same results, with the query as this visitor typed it.
    api(&app, "q=wachtwoord+vergeten&lang=nl").await;
    let (status, again, _) = api(&app, "q=Wachtwoord++VERGETEN&lang=nl").await;
    assert_eq!(status, 200);
    assert_eq!(again["query"], "Wachtwoord  VERGETEN");
    assert_eq!((&again["total"], &again["results"]), (&first["total"], &first["results"]));
    assert!(first["total"].as_u64().expect("total") >= 1);
}

#[tokio::test]
async fn the_api_never_fails_on_what_people_type() {
    let app = app_with_site().await;
    for q in [
        "q=%22(%3A*%5E~",
        "q=%22wachtwoord%22~2%5E3",
        "q=title%3Awachtwoord",
        "q=%ZZ%",
        "q=",
        "",
        "q=%00%01",
        "q=x&limit=abc&lang=%FF",
        "lang=nl&category=",
        "q=wachtwoord&limit=100000",
    ] {
        let (status, v, size) = api(&app, q).await;
        assert_eq!(status, 200, "{q}: {v}");
        assert!(v["results"].is_array() && v["total"].is_u64(), "{q}: {v}");
        assert!(size <= 4096 * 3, "{q}: {size} bytes");
    }
    let (_, v, _) = api(&app, "q=wachtwoord&limit=100000").await;
    assert!(urls(&v).len() <= 20);
}

#[tokio::test]
async fn the_result_page_works_without_javascript() {
    let app = app_with_site().await;
    let (status, ctype, html) = get(&app, "/search?q=bijlage+toevoegen&lang=nl").await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/html"));
    assert!(html.contains(r#"<html lang="nl">"#));
    assert!(html.contains(r#"value="bijlage toevoegen""#), "the box keeps the query");
    assert!(html.contains(r#"href="/nl/tickets/bijlagen-toevoegen/"#), "a result links to the article");
    assert!(html.contains("resultaten voor ‘bijlage toevoegen’"));
    assert!(html.contains("<mark>"));
    assert!(!html.contains("%%SEARCH"), "no marker left");
    assert!(html.contains("/static/css/site.css"), "the site's look");

    let (_, _, html) = get(&app, "/search?q=forgot+password&lang=en").await;
    assert!(html.contains(r#"<html lang="en">"#) && html.contains("results for ‘forgot password’"));
    assert!(html.contains(r#"href="/en/account/wachtwoord-vergeten/"#));

    let (_, _, html) = get(&app, "/search?q=&lang=nl").await;
    assert!(html.contains("Typ hierboven wat u zoekt"));

    let (_, _, html) = get(&app, "/search?q=ticket&lang=nl").await;
    assert!(html.contains(r#"rel="next""#), "more than one page");
    let (_, _, page2) = get(&app, "/search?q=ticket&lang=nl&page=2").await;
    assert!(page2.contains(r#"rel="prev""#) && page2.contains(r#"start="11""#));
}

#[tokio::test]
async fn no_results_offer_a_ticket_and_are_counted() {
    let app = app_with_site().await;
    let (status, _, html) = get(&app, "/search?q=kwantumfysica&lang=nl").await;
    assert_eq!(status, 200);
    assert!(html.contains("Geen resultaten voor ‘kwantumfysica’"));
    assert!(html.contains(r#"href="/portal/tickets/new""#));
    let _ = get(&app, "/search?q=Kwantumfysica&lang=nl").await;
    let _ = get(&app, "/search?q=jan%40example.nl&lang=nl").await;
    let mut misses = Vec::new();
    for _ in 0..80 {
        misses = app.store().top_misses(10).await.expect("misses");
        if !misses.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(misses, vec![("kwantumfysica".to_owned(), 2)], "an e-mail address is never kept");
}

#[tokio::test]
async fn the_result_page_escapes_the_query() {
    let app = app_with_site().await;
    let (status, _, html) = get(&app, "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%3E&lang=nl").await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;"));
}

#[tokio::test]
async fn without_an_index_search_says_so_and_the_api_is_empty() {
    let app = spawn_app().await;
    let resp = client().get(app.url("/api/search?q=wachtwoord")).send().await.expect("get");
    assert_eq!(resp.headers()["cache-control"], "no-cache", "an answer from before the index is not kept");
    let (status, v, _) = api(&app, "q=wachtwoord").await;
    assert_eq!(status, 503);
    assert_eq!(v["total"], 0);
    let (status, _, html) = get(&app, "/search?q=wachtwoord").await;
    assert_eq!(status, 503);
    assert!(html.contains("niet beschikbaar"));
}

#[tokio::test]
async fn the_index_is_reloaded_after_a_rebuild() {
    let dir = tempfile::tempdir().expect("tempdir");
    let content = dir.path().join("content");
    copy_dir(&repo_content(), &content);
    let site = dir.path().join("site");
    build_site(&content, &site);
    let (tx, rx) = tokio::sync::watch::channel(1u64);
    let handle = Arc::new(SearchHandle::new(site.join("search"), Some(rx), None));
    let search = |h: Arc<SearchHandle>| async move {
        let loaded = h.current().await.expect("index");
        loaded.index.search(&search_index::SearchRequest::new("kwantumfysica").lang("nl")).expect("search").total
    };
    assert_eq!(search(handle.clone()).await, 0);
    let article = content.join("faq/nl/account/kwantum.md");
    std::fs::write(&article, "+++\ntitle = \"Kwantumfysica\"\n+++\nOver kwantumfysica.\n").expect("write");
    build_site(&content, &site);
    assert_eq!(search(handle.clone()).await, 0, "the old index until the build is announced");
    tx.send_modify(|n| *n += 1);
    assert_eq!(search(handle.clone()).await, 1);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() { copy_dir(&src, &dst) } else { std::fs::copy(&src, &dst).map(drop).expect("copy") }
    }
}
