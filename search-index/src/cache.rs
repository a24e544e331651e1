//! A small bounded cache of JSON answers, for the service's `/api/search`.
//!
//! Search-as-you-type asks for every beginning of what people type, and many people type the
//! same few things: most answers have been given before. Answers are kept by what the query
//! means to [`SearchIndex::search`] (see [`query_key`]: its words, lowercased and folded, and
//! whether the last one is still being typed) and by language, category and page size; the
//! query as typed is put back in front on every answer. One cache belongs to one index: a new
//! index starts with an empty cache.
//!
//! The bound is in bytes. Answers go into a young generation; when that is full it becomes
//! the old one (and the previous old one is dropped). An answer found in the old generation
//! moves back to the young one, so what is asked often stays, without any per-entry
//! bookkeeping.
//!
//! An answer is kept the second time its question comes, not the first (a doorkeeper, as in
//! TinyLFU): most questions are asked once, on the way to another (`f`, `fa`, `fac`...) or by
//! one visitor only. They cost no copy then, and do not push out the answers asked for again
//! and again. The doorkeeper is a bit per question hash, cleared after
//! [`DOOR_QUESTIONS`] questions, so "the second time" means within the last few thousand.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::query::{SearchResults, query_key};
use crate::{SearchError, SearchIndex, SearchRequest};

/// The default budget: a few thousand answers of a few KB.
pub const DEFAULT_BUDGET: usize = 8 * 1024 * 1024;

/// See the [module](self).
#[derive(Debug)]
pub struct AnswerCache {
    budget: usize,
    inner: Mutex<Generations>,
}

#[derive(Debug, Default)]
struct Generations {
    young: HashMap<String, Entry>,
    young_bytes: usize,
    old: HashMap<String, Entry>,
    /// The questions seen lately ([`DOOR_BITS`] bits), and how many it was asked about.
    door: Vec<u64>,
    asked: usize,
}

/// The doorkeeper's bits.
const DOOR_BITS: usize = 1 << 17;
/// Questions asked about before the doorkeeper forgets them all: at most one in eight bits
/// set, so a question seen for the first time passes as seen before less than once in eight.
pub const DOOR_QUESTIONS: usize = DOOR_BITS / 8;

/// An answer without its `query`: the JSON from `,"total":` to the end, and the total.
#[derive(Debug, Clone)]
struct Entry {
    tail: std::sync::Arc<str>,
    total: usize,
}

/// One answer: the JSON of [`SearchResults`], and how many articles matched.
#[derive(Debug, Clone)]
pub struct Answer {
    pub json: Vec<u8>,
    pub total: usize,
    /// Whether it came from the cache.
    pub cached: bool,
}

impl Default for AnswerCache {
    fn default() -> Self {
        AnswerCache::new(DEFAULT_BUDGET)
    }
}

impl AnswerCache {
    /// A cache of at most about `budget` bytes of answers (0: no caching).
    pub fn new(budget: usize) -> Self {
        AnswerCache { budget, inner: Mutex::new(Generations::default()) }
    }

    /// The answer to `req` from `index` as JSON (exactly what `serde_json::to_vec` makes of
    /// [`SearchIndex::search`]'s results), from the cache when the same was asked before.
    pub fn answer(&self, index: &SearchIndex, req: &SearchRequest<'_>) -> Result<Answer, SearchError> {
        if self.budget == 0 {
            let res = index.search(req)?;
            return Ok(Answer { json: to_json(&res), total: res.total, cached: false });
        }
        let key = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            req.lang.unwrap_or(""),
            req.category.unwrap_or(""),
            req.limit,
            req.offset,
            query_key(req.query)
        );
        let echo = crate::query::echo(req.query);
        if let Some(e) = self.get(&key) {
            return Ok(Answer { json: join(echo, &e.tail), total: e.total, cached: true });
        }
        let res = index.search(req)?;
        let json = to_json(&res);
        if self.seen_before(&key) {
            // `{"query":"...",` then the tail; the query is serialized the way it was above.
            let head = 9 + serde_json::to_string(&res.query).map_or(0, |q| q.len());
            if let Some(tail) = json.get(head..).and_then(|t| std::str::from_utf8(t).ok())
                && tail.starts_with(",\"total\":")
            {
                self.put(key, Entry { tail: tail.into(), total: res.total });
            }
        }
        Ok(Answer { json, total: res.total, cached: false })
    }

    /// Whether the question `key` came lately (the doorkeeper), marking it when not.
    fn seen_before(&self, key: &str) -> bool {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let bit = BuildHasherDefault::<DefaultHasher>::default().hash_one(key) as usize % DOOR_BITS;
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if g.door.is_empty() || g.asked >= DOOR_QUESTIONS {
            g.door = vec![0; DOOR_BITS / 64];
            g.asked = 0;
        }
        g.asked += 1;
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        let seen = g.door[word] & mask != 0;
        g.door[word] |= mask;
        seen
    }

    fn get(&self, key: &str) -> Option<Entry> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = g.young.get(key) {
            return Some(e.clone());
        }
        let e = g.old.remove(key)?;
        g.insert(key.to_owned(), e.clone(), self.budget);
        Some(e)
    }

    fn put(&self, key: String, entry: Entry) {
        if entry.tail.len() + key.len() > self.budget / 8 {
            return;
        }
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.insert(key, entry, self.budget);
    }

    /// Answers held.
    pub fn len(&self) -> usize {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.young.len() + g.old.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Generations {
    fn insert(&mut self, key: String, entry: Entry, budget: usize) {
        let size = entry_size(key.len(), &entry);
        if self.young_bytes + size > budget / 2 {
            self.old = std::mem::take(&mut self.young);
            self.young_bytes = 0;
        }
        let key_len = key.len();
        if let Some(previous) = self.young.insert(key, entry) {
            self.young_bytes -= entry_size(key_len, &previous);
        }
        self.young_bytes += size;
    }
}

/// About what an entry takes: key, answer and the map's share.
fn entry_size(key_len: usize, entry: &Entry) -> usize {
    key_len + entry.tail.len() + 64
}

fn to_json(res: &SearchResults) -> Vec<u8> {
    serde_json::to_vec(res).unwrap_or_else(|_| b"{}".to_vec())
}

/// `{"query":<echo>` + tail.
fn join(echo: &str, tail: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(tail.len() + echo.len() + 16);
    out.extend_from_slice(b"{\"query\":");
    if serde_json::to_writer(&mut out, echo).is_err() {
        out.extend_from_slice(b"\"\"");
    }
    out.extend_from_slice(tail.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Article, Section};

    fn index() -> SearchIndex {
        let article = |slug: &str, title: &str, text: &str| Article {
            lang: "nl".into(),
            category: "account".into(),
            category_title: "Account".into(),
            url: format!("/nl/account/{slug}/"),
            title: title.into(),
            sections: vec![Section { text: text.into(), ..Section::default() }],
            ..Article::default()
        };
        crate::build(&[
            article("wachtwoord-vergeten", "Wachtwoord vergeten", "Vraag een nieuw wachtwoord aan via de link."),
            article("inloggen", "Inloggen", "Log in met uw e-mailadres en \"wachtwoord\"."),
        ])
        .expect("index")
        .index
    }

    fn req(q: &str) -> SearchRequest<'_> {
        SearchRequest::new(q).lang("nl").limit(8)
    }

    #[test]
    fn answers_are_the_search_results_as_json_with_the_query_as_typed() {
        let index = index();
        let cache = AnswerCache::default();
        let first = cache.answer(&index, &req("wachtwoord vergeten")).expect("answer");
        assert!(!first.cached);
        assert_eq!(
            first.json,
            serde_json::to_vec(&index.search(&req("wachtwoord vergeten")).expect("search")).expect("json")
        );
        // Asked once, not kept; the second time, kept.
        assert!(cache.is_empty());
        assert!(!cache.answer(&index, &req("wachtwoord vergeten")).expect("answer").cached);
        assert_eq!(cache.len(), 1);
        // The same words, typed otherwise: from the cache, with the query as typed this time.
        for q in ["  Wachtwoord   VERGETEN", "wachtwoord, vergeten!", "\"wachtwoord\" vergeten"] {
            let again = cache.answer(&index, &req(q)).expect("answer");
            assert!(again.cached, "{q}");
            assert_eq!(again.json, serde_json::to_vec(&index.search(&req(q)).expect("search")).expect("json"), "{q}");
            assert_eq!(again.total, first.total);
        }
        // A finished word is another question than one being typed; so are other filters.
        let others = [
            req("wachtwoord vergeten "),
            req("wachtwoord vergeten").limit(3),
            SearchRequest::new("wachtwoord vergeten").limit(8),
            req("wachtwoord vergeten").category("account"),
        ];
        for _ in 0..2 {
            for r in &others {
                assert!(!cache.answer(&index, r).expect("answer").cached, "{r:?}");
            }
        }
        assert_eq!(cache.len(), 5);
        for r in &others {
            assert!(cache.answer(&index, r).expect("answer").cached, "{r:?}");
        }
    }

    #[test]
    fn questions_asked_once_are_not_kept_and_the_doorkeeper_forgets() {
        let index = index();
        let cache = AnswerCache::default();
        let words: Vec<String> = (0..DOOR_QUESTIONS + 10).map(|i| format!("w{i}")).collect();
        cache.answer(&index, &req("inloggen")).expect("answer");
        for w in &words {
            assert!(!cache.answer(&index, &req(w)).expect("answer").cached);
        }
        // Some of the one-off questions may pass as seen (a shared bit), never many.
        assert!(cache.len() < words.len() / 8, "{} kept", cache.len());
        // So many questions later, the first one is new again: not kept when it comes back
        // now, but the time after.
        let kept = cache.len();
        assert!(!cache.answer(&index, &req("inloggen")).expect("answer").cached);
        assert_eq!(cache.len(), kept);
        assert!(!cache.answer(&index, &req("inloggen")).expect("answer").cached);
        assert!(cache.answer(&index, &req("inloggen")).expect("answer").cached);
    }

    #[test]
    fn the_cache_stays_within_its_budget_and_keeps_what_is_asked_again() {
        let index = index();
        let cache = AnswerCache::new(16 * 1024);
        let words: Vec<String> = (0..400).map(|i| format!("wachtwoord{i}")).collect();
        cache.answer(&index, &req("inloggen")).expect("answer");
        cache.answer(&index, &req("inloggen")).expect("answer");
        for w in &words {
            // Each asked twice: kept.
            cache.answer(&index, &req(w)).expect("answer");
            cache.answer(&index, &req(w)).expect("answer");
            // Asked all the time: never dropped.
            assert!(cache.answer(&index, &req("inloggen")).expect("answer").cached);
        }
        let g = cache.inner.lock().expect("lock");
        let bytes: usize = g.young.iter().chain(&g.old).map(|(k, e)| entry_size(k.len(), e)).sum();
        assert!(bytes <= 16 * 1024, "{bytes} bytes");
        assert!(g.young.len() + g.old.len() < 400);
    }

    #[test]
    fn no_budget_no_cache() {
        let index = index();
        let cache = AnswerCache::new(0);
        cache.answer(&index, &req("inloggen")).expect("answer");
        assert!(!cache.answer(&index, &req("inloggen")).expect("answer").cached);
        assert!(cache.is_empty());
    }
}
