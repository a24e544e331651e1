//! The relevance set (`tests/relevance.toml`) over the real content: the share of queries that
//! find an expected article in the top 3 must be at least 90 %.

mod common;

use std::collections::BTreeMap;

use search_index::SearchRequest;

#[derive(Debug, serde::Deserialize)]
struct Set {
    query: Vec<Case>,
}

#[derive(Debug, serde::Deserialize)]
struct Case {
    q: String,
    lang: Option<String>,
    expect: Vec<String>,
    kind: String,
}

const TOP: usize = 3;
const REQUIRED: f64 = 0.90;

#[test]
fn top_3_hit_rate_is_at_least_90_percent() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/relevance.toml")).expect("read");
    let set: Set = toml::from_str(&text).expect("relevance.toml");
    assert!(set.query.len() >= 40, "the set has {} queries; keep at least 40", set.query.len());
    let index = common::real_index();
    let mut hits = 0;
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for case in &set.query {
        let mut req = SearchRequest::new(&case.q).limit(TOP);
        req.lang = case.lang.as_deref();
        let res = index.search(&req).expect("search");
        let urls = common::article_urls(&res);
        for e in &case.expect {
            assert!(index_has(index, e), "relevance.toml expects {e}, which is not an article");
        }
        let found = urls.iter().any(|u| case.expect.contains(u));
        let k = by_kind.entry(&case.kind).or_default();
        k.1 += 1;
        if found {
            hits += 1;
            k.0 += 1;
        } else {
            misses.push(format!("  {:?} ({}) expected {:?}, got {:?}", case.q, case.kind, case.expect, urls));
        }
    }
    let rate = hits as f64 / set.query.len() as f64;
    println!(
        "relevance: {hits}/{} queries find an expected article in the top {TOP}: {:.1} %",
        set.query.len(),
        rate * 100.0
    );
    for (kind, (h, n)) in &by_kind {
        println!("  {kind:<20} {h}/{n}");
    }
    if !misses.is_empty() {
        println!("misses:\n{}", misses.join("\n"));
    }
    assert!(rate >= REQUIRED, "top-{TOP} hit rate {:.1} % is below {:.0} %", rate * 100.0, REQUIRED * 100.0);
}

fn index_has(index: &search_index::SearchIndex, url: &str) -> bool {
    (0..index.articles()).any(|n| index.article_url(n) == Some(url))
}
