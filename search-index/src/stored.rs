//! What building a result needs, kept between queries: the stored fields of documents
//! (decompressed and decoded once), the term each word of their text is analyzed to, and per
//! document the words that have a term, as term numbers.
//!
//! Every result shows a snippet, and finding it means reading the document's text and knowing
//! which of its words are a query's terms. Without these caches each result decompresses a
//! doc-store block, decodes the document, cuts its text into words and stems the ones that may
//! match; with them, a document is decoded and cut once, a word stemmed once per language, and
//! a result's matching words are found by comparing numbers. All are bounded: past their budget
//! they stop growing and the work is simply done again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use tantivy::schema::Value;
use tantivy::{DocAddress, Searcher, TantivyDocument};

use crate::analysis::FxBuildHasher;
use crate::index::{RECORD_SEP, SearchError, UNIT_SEP};
use crate::schema::Fields;

/// Bytes of decoded documents kept at most (about the text of a few thousand articles).
const DOC_BUDGET: usize = 64 * 1024 * 1024;
/// Distinct words whose analysis is kept at most, over all languages.
const WORD_BUDGET: usize = 200_000;
/// Distinct terms numbered at most (terms come from the index's vocabulary).
const TERM_BUDGET: usize = 1_000_000;

/// The stored fields of one document, as a result shows them.
#[derive(Debug, Default)]
pub(crate) struct StoredDoc {
    pub(crate) lang: String,
    pub(crate) title: String,
    pub(crate) summary: String,
    pub(crate) url: String,
    pub(crate) category_title: String,
    pub(crate) article: u64,
    pub(crate) long: bool,
    /// The body by section: `anchor US heading US text`, sections separated by RS.
    pub(crate) sections: String,
    /// Where each section's anchor, heading and text are in `sections` (cut once, not for
    /// every result that shows the document).
    pub(crate) cut: Box<[[u32; 6]]>,
    /// The words of `sections` that have a term, once a cached document is first shown.
    pub(crate) words: OnceLock<DocWords>,
}

/// Words of a text that have a term, by the term's number (see [`WordTerms::term_id`]): a
/// query's terms are looked up here, instead of comparing every word of the text with them.
#[derive(Debug, Default)]
pub(crate) struct DocWords {
    /// The numbers of the terms the text has, ascending.
    ids: Box<[u32]>,
    /// Where each term's words begin in `spans` (one more than `ids`, the last is the end).
    starts: Box<[u32]>,
    /// Each word's byte range in the text: grouped by term, in text order within a group.
    spans: Box<[(u32, u32)]>,
}

impl DocWords {
    /// From the words of a text: (from, to, term number) each.
    pub(crate) fn new(mut words: Vec<(u32, u32, u32)>) -> Self {
        words.sort_unstable_by_key(|&(from, _, id)| (id, from));
        let mut ids = Vec::new();
        let mut starts = Vec::new();
        for (i, w) in words.iter().enumerate() {
            if ids.last() != Some(&w.2) {
                ids.push(w.2);
                starts.push(u32::try_from(i).unwrap_or(u32::MAX));
            }
        }
        starts.push(u32::try_from(words.len()).unwrap_or(u32::MAX));
        DocWords {
            ids: ids.into_boxed_slice(),
            starts: starts.into_boxed_slice(),
            spans: words.iter().map(|&(from, to, _)| (from, to)).collect(),
        }
    }

    /// The byte ranges of the words with term number `id`, in text order.
    pub(crate) fn of(&self, id: u32) -> &[(u32, u32)] {
        let Ok(i) = self.ids.binary_search(&id) else { return &[] };
        let (from, to) = (self.starts[i] as usize, self.starts[i + 1] as usize);
        self.spans.get(from..to).unwrap_or_default()
    }
}

impl StoredDoc {
    fn decode(doc: &TantivyDocument, f: &Fields) -> StoredDoc {
        let get = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        StoredDoc {
            lang: get(f.language),
            title: get(f.stored_title),
            summary: get(f.summary),
            url: get(f.url),
            category_title: get(f.category_title),
            article: doc.get_first(f.article).and_then(|v| v.as_u64()).unwrap_or_default(),
            long: doc.get_first(f.long).and_then(|v| v.as_u64()) == Some(1),
            sections: String::new(),
            cut: Box::default(),
            words: OnceLock::new(),
        }
        .with_sections(get(f.sections))
    }

    fn with_sections(mut self, sections: String) -> StoredDoc {
        let mut cut = Vec::new();
        let mut at = 0;
        for record in sections.split(RECORD_SEP) {
            let end = at + record.len();
            // A record with fewer parts has empty ones at its end.
            let mut bounds = [end; 6];
            let mut from = at;
            for (i, unit) in record.splitn(3, UNIT_SEP).enumerate() {
                bounds[2 * i] = from;
                bounds[2 * i + 1] = from + unit.len();
                from += unit.len() + UNIT_SEP.len_utf8();
            }
            cut.push(bounds.map(|b| u32::try_from(b).unwrap_or(u32::MAX)));
            at = end + RECORD_SEP.len_utf8();
        }
        self.sections = sections;
        self.cut = cut.into_boxed_slice();
        self
    }

    /// The sections: anchor, heading and text of each.
    pub(crate) fn sections(&self) -> impl Iterator<Item = [&str; 3]> {
        let text = |a: u32, b: u32| self.sections.get(a as usize..b as usize).unwrap_or_default();
        self.cut.iter().map(move |c| [text(c[0], c[1]), text(c[2], c[3]), text(c[4], c[5])])
    }

    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + [&self.lang, &self.title, &self.summary, &self.url, &self.category_title, &self.sections]
                .iter()
                .map(|s| s.len())
                .sum::<usize>()
    }
}

/// Decoded documents by address, filled as results need them.
#[derive(Debug)]
pub(crate) struct DocCache {
    /// Per segment, per document.
    docs: Vec<Vec<OnceLock<Arc<StoredDoc>>>>,
    bytes: AtomicUsize,
    budget: usize,
}

impl DocCache {
    pub(crate) fn new(searcher: &Searcher) -> Self {
        Self::with_budget(searcher, DOC_BUDGET)
    }

    /// Keeps at most about `budget` bytes of documents (0: none).
    pub(crate) fn with_budget(searcher: &Searcher, budget: usize) -> Self {
        let docs =
            searcher.segment_readers().iter().map(|s| (0..s.max_doc()).map(|_| OnceLock::new()).collect()).collect();
        DocCache { docs, bytes: AtomicUsize::new(0), budget }
    }

    /// The document at `addr`, decoded, and whether it is kept (then worth cutting into
    /// [`DocWords`] once).
    pub(crate) fn get(
        &self,
        searcher: &Searcher,
        f: &Fields,
        addr: DocAddress,
    ) -> Result<(Arc<StoredDoc>, bool), SearchError> {
        let slot = self.docs.get(addr.segment_ord as usize).and_then(|s| s.get(addr.doc_id as usize));
        if let Some(doc) = slot.and_then(OnceLock::get) {
            return Ok((doc.clone(), true));
        }
        let doc: TantivyDocument = searcher.doc(addr)?;
        let doc = Arc::new(StoredDoc::decode(&doc, f));
        if let Some(slot) = slot {
            // Its words to come: 8 bytes a word with a term (and 8 a term), about one word in 6
            // bytes of text.
            let size = doc.bytes() + doc.sections.len() * 2;
            if self.bytes.fetch_add(size, Ordering::Relaxed) + size <= self.budget {
                return Ok((slot.get_or_init(|| doc).clone(), true));
            }
            self.bytes.fetch_sub(size, Ordering::Relaxed);
        }
        Ok((doc, false))
    }
}

/// What a word of the articles (lowercased and folded) is analyzed to in a language: its term,
/// or nothing (a stop word, too long). Shared by all queries.
#[derive(Debug, Default)]
pub(crate) struct WordTerms {
    /// Key: the language code and US, then the word.
    terms: RwLock<HashMap<Box<str>, Option<Box<str>>, FxBuildHasher>>,
    /// Term -> its number, for [`DocWords`].
    ids: RwLock<HashMap<Box<str>, u32, FxBuildHasher>>,
}

impl WordTerms {
    /// `then` of the term of `key` (see [`WordTerms::terms`]), computed with `analyze` the first
    /// time.
    pub(crate) fn with<R>(
        &self,
        key: &str,
        analyze: impl FnOnce() -> Option<String>,
        then: impl FnOnce(Option<&str>) -> R,
    ) -> R {
        let mut full = false;
        if let Ok(map) = self.terms.read() {
            if let Some(known) = map.get(key) {
                return then(known.as_deref());
            }
            full = map.len() >= WORD_BUDGET;
        }
        let term = analyze();
        // Once full, a new word takes no write lock.
        if !full
            && let Ok(mut map) = self.terms.write()
            && map.len() < WORD_BUDGET
        {
            map.insert(key.into(), term.as_deref().map(Box::from));
        }
        then(term.as_deref())
    }

    /// The number of a term (the same for all queries); `None` once [`TERM_BUDGET`] terms
    /// have one.
    pub(crate) fn term_id(&self, term: &str) -> Option<u32> {
        if let Ok(ids) = self.ids.read()
            && let Some(&id) = ids.get(term)
        {
            return Some(id);
        }
        let mut ids = self.ids.write().ok()?;
        if let Some(&id) = ids.get(term) {
            return Some(id);
        }
        if ids.len() >= TERM_BUDGET {
            return None;
        }
        let id = u32::try_from(ids.len()).ok()?;
        ids.insert(term.into(), id);
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_texts_words_are_found_by_term_number() {
        let words = DocWords::new(vec![(0, 4, 7), (5, 9, 2), (10, 14, 7), (15, 20, 9), (21, 25, 2)]);
        assert_eq!(words.of(7), &[(0, 4), (10, 14)]);
        assert_eq!(words.of(2), &[(5, 9), (21, 25)]);
        assert_eq!(words.of(9), &[(15, 20)]);
        assert!(words.of(3).is_empty() && words.of(0).is_empty() && words.of(99).is_empty());
        assert!(DocWords::new(Vec::new()).of(1).is_empty());
    }

    #[test]
    fn sections_are_cut_into_anchor_heading_and_text() {
        let stored = "intro\u{1f}\u{1f}text\u{1e}a-b\u{1f}A b\u{1f}Tekst met ë\u{1e}\u{1f}\u{1f}\u{1e}c\u{1f}C";
        let doc = StoredDoc::default().with_sections(stored.to_owned());
        let got: Vec<[&str; 3]> = doc.sections().collect();
        assert_eq!(got, vec![["intro", "", "text"], ["a-b", "A b", "Tekst met ë"], ["", "", ""], ["c", "C", ""]]);
    }

    /// The characters that cut the stored sections, inside an article's own text, are stored
    /// as spaces: they cannot cut it anywhere else.
    #[test]
    fn separators_in_an_articles_text_are_stored_as_spaces() {
        let mut a = article(0);
        a.sections = vec![
            crate::Section {
                anchor: "a\u{1e}b".into(),
                heading: "Kop\u{1f}een".into(),
                text: "x\u{1f}y\u{1e}z".into(),
            },
            crate::Section { anchor: "c".into(), heading: "Twee".into(), text: "gewone tekst".into() },
        ];
        let built = crate::build(&[a]).expect("build");
        let index = built.index;
        let doc = StoredDoc::decode(&index.searcher.doc(DocAddress::new(0, 0)).expect("doc"), &index.fields);
        let got: Vec<[&str; 3]> = doc.sections().collect();
        assert_eq!(got, vec![["a b", "Kop een", "x y z"], ["c", "Twee", "gewone tekst"]]);
    }

    fn article(n: usize) -> crate::Article {
        crate::Article {
            lang: "nl".into(),
            category: "c".into(),
            category_title: "C".into(),
            url: format!("/nl/c/a{n}/"),
            title: format!("Artikel {n}"),
            sections: vec![crate::Section {
                text: format!("Tekst van artikel {n}. ").repeat(20),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn documents_are_decoded_once_within_the_budget() {
        let built = crate::build(&(0..5).map(article).collect::<Vec<_>>()).expect("build");
        let index = built.index;
        let (searcher, f) = (&index.searcher, &index.fields);
        let one = StoredDoc::decode(&searcher.doc(DocAddress::new(0, 0)).expect("doc"), f);
        let one = one.bytes() + one.sections.len() * 2;
        // Room for two documents.
        let cache = DocCache::with_budget(searcher, one * 2 + one / 2);
        for round in 0..2 {
            for d in 0..5 {
                let (doc, kept) = cache.get(searcher, f, DocAddress::new(0, d)).expect("doc");
                let (again, _) = cache.get(searcher, f, DocAddress::new(0, d)).expect("doc");
                assert_eq!(Arc::ptr_eq(&doc, &again), d < 2, "round {round}, document {d}");
                assert_eq!(kept, d < 2);
                assert_eq!(doc.url, format!("/nl/c/a{}/", doc.article));
                assert!(doc.sections.contains(&format!("Tekst van artikel {}.", doc.article)));
            }
        }
        assert!(cache.bytes.load(Ordering::Relaxed) <= cache.budget);
    }

    #[test]
    fn word_terms_are_computed_once() {
        let memo = WordTerms::default();
        let mut calls = 0;
        for _ in 0..3 {
            let analyze = || {
                calls += 1;
                Some("factur".to_owned())
            };
            assert_eq!(memo.with("\u{0}facturen", analyze, |t| t.map(str::to_owned)).as_deref(), Some("factur"));
        }
        assert_eq!(calls, 1);
        assert!(!memo.with("\u{0}de", || None, |t| t.is_some()));
        assert!(!memo.with("\u{0}de", || Some("wrong".into()), |t| t.is_some()), "no term is remembered too");
        let a = memo.term_id("factur");
        assert_eq!(memo.term_id("wachtwoord"), a.map(|a| a + 1));
        assert_eq!(memo.term_id("factur"), a);
    }
}
