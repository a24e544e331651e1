//! Replacing articles of a built index one at a time: `helpdesk serve` makes an edited FAQ
//! searchable without building the whole index again.
//!
//! The old documents of a replaced article are deleted and its new one is written as a
//! segment of its own; its new words join the vocabulary, split into compound parts with the
//! vocabulary as it then is. Small segments are merged once there are more than
//! [`MAX_SEGMENTS`]. What a full build does differently, and the next full build puts right: a
//! word an edit brings in does not split the compounds of the other articles, words no article
//! uses any more stay in the word list, and deleted documents count in the term statistics of
//! their segment until it is merged. An updated index therefore has a fingerprint of its own
//! ([`UPDATED`]): a full build never mistakes it for its own and builds anew.

use tantivy::schema::document::TantivyDocument;
use tantivy::{IndexWriter, Term};

use crate::analysis::MemoAnalyzer;
use crate::index::{
    Article, Kept, SearchError, SearchIndex, TermTable, WordEntry, analyse, article_fingerprint, combine_fingerprints,
    document, index_files, pack, split_word, verb_form_terms,
};
use crate::related::ArticleTerms;

/// The memory budget of the index writer of updates (tantivy's least for one thread).
const WRITER_MEMORY: usize = 15_000_000;
/// Segments kept before the small ones are merged into one.
const MAX_SEGMENTS: usize = 8;
/// Mixed into the fingerprint of an updated index.
const UPDATED: u64 = 0x7570_6461_7465_6421;

/// A built index that can replace its articles (see the module documentation); made by
/// [`crate::build_updatable`].
pub struct Updater {
    kept: Kept,
    writer: IndexWriter<TantivyDocument>,
    /// Per article, its own fingerprint.
    prints: Vec<u64>,
    /// What `document` keeps between documents: what each (verb, particle) written apart
    /// became, and room to mark a document's compound parts.
    scratch: crate::index::DocScratch,
    updated: bool,
}

impl std::fmt::Debug for Updater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Updater").field("articles", &self.prints.len()).field("updated", &self.updated).finish()
    }
}

impl Updater {
    pub(crate) fn new(kept: Kept, prints: Vec<u64>) -> Result<Self, SearchError> {
        let writer = kept.index.writer_with_num_threads(1, WRITER_MEMORY)?;
        // Merges happen here, when asked, so that a packed index never misses a file.
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        Ok(Updater { kept, writer, prints, scratch: Default::default(), updated: false })
    }

    /// Replaces article `n` (its position in the articles the index was built from) by `a`,
    /// and returns what related articles need of it. Afterwards [`Self::pack`] and
    /// [`Self::open`] give the index with the change.
    pub fn replace(&mut self, n: usize, a: &Article) -> Result<ArticleTerms, SearchError> {
        let k = &mut self.kept;
        let Some(old_url) = k.urls.get(n).cloned() else {
            return Err(SearchError::NotUpdatable(format!("there is no article {n}")));
        };
        let (Some(lang), Some(c)) = (k.languages.iter().position(|l| *l == a.lang), k.compounds.get_mut(&a.lang))
        else {
            return Err(SearchError::NotUpdatable(format!("the index has no articles in `{}`", a.lang)));
        };
        let bit = if lang < 64 { 1u64 << lang } else { 0 };
        // The article's words; the ones the vocabulary lacks join it.
        let mut an = MemoAnalyzer::new(&a.lang);
        let mut seen: Vec<(String, std::sync::Arc<str>)> = Vec::new();
        let (terms, read) = analyse(a, &mut an, |word, term| seen.push((word.to_owned(), term.into())));
        let mut added = Vec::new();
        for (word, term) in seen {
            match c.vocabulary.0.get_mut(&word) {
                Some(e) => e.1 = e.1.saturating_add(1),
                None => {
                    c.vocabulary.0.insert(word.clone(), (term.clone(), 1));
                    added.push((word.clone(), term.clone()));
                }
            }
            let at = match k.words.binary_search_by(|w| w.word.as_str().cmp(&word)) {
                Ok(at) => at,
                Err(at) => {
                    k.words.insert(at, WordEntry { word, ..WordEntry::default() });
                    at
                }
            };
            let w = &mut k.words[at];
            w.languages |= bit;
            if !w.stems.iter().any(|s| **s == *term) {
                w.stems.push(term.to_string());
                w.stems.sort_unstable();
            }
        }
        // New words split with the vocabulary that now has all of the article's words.
        let dutch = crate::analysis::stemmer_language(&a.lang) == Some(tantivy::tokenizer::Language::Dutch);
        let mut analyzer = None;
        for (word, term) in &added {
            let parts = split_word(&a.lang, &c.vocabulary, &mut analyzer, word, term);
            let forms = if dutch { verb_form_terms(&c.vocabulary, word, term) } else { None };
            let Ok(at) = k.words.binary_search_by(|w| w.word.as_str().cmp(word)) else { continue };
            let entry = &mut k.words[at];
            for (list, new) in [(&mut entry.parts, &parts), (&mut entry.forms, &forms)] {
                for t in new.iter().flatten() {
                    if !list.iter().any(|l| **l == **t) {
                        list.push(t.to_string());
                    }
                }
            }
            if let Some(parts) = parts {
                c.shortest = c.shortest.min(term.len());
                let known = c.terms.entry(term.clone()).or_default();
                for p in parts {
                    if !known.contains(&p) {
                        known.push(p);
                    }
                }
            }
        }
        let table = TermTable::new(&an, Some(c));
        let doc = document(&k.fields, n as u64, a, &read, &table, Some(c), &mut self.scratch);
        self.writer.delete_term(Term::from_field_text(k.fields.url, &old_url));
        self.writer.add_document(doc)?;
        self.writer.commit()?;
        k.urls[n] = a.url.clone();
        self.prints[n] = article_fingerprint(a);
        self.updated = true;
        self.merge_small()?;
        Ok(terms)
    }

    /// Merges the segments other than the largest into one when there are too many.
    fn merge_small(&mut self) -> Result<(), SearchError> {
        let mut metas = self.kept.index.searchable_segment_metas()?;
        if metas.len() <= MAX_SEGMENTS {
            return Ok(());
        }
        metas.sort_by_key(|m| std::cmp::Reverse(m.max_doc()));
        let small: Vec<_> = metas.iter().skip(1).map(|m| m.id()).collect();
        self.writer.merge(&small).wait()?;
        Ok(())
    }

    /// The fingerprint of the index as it is now.
    pub fn fingerprint(&self) -> u64 {
        let f = combine_fingerprints(&self.prints);
        if self.updated { f ^ UPDATED } else { f }
    }

    /// The contents of `index.bin` for the index as it is now.
    pub fn pack(&self) -> Result<Vec<u8>, SearchError> {
        let files = index_files(&self.kept.index, &self.kept.dir)?;
        Ok(pack(self.fingerprint(), &self.kept.urls, &self.kept.words, &files))
    }

    /// The index as it is now, open for searching.
    pub fn open(&self) -> Result<SearchIndex, SearchError> {
        SearchIndex::open(self.kept.dir.clone(), self.fingerprint(), self.kept.urls.clone(), self.kept.words.clone())
    }

    /// The index as it is now, open only for [`SearchIndex::related_of`] (quicker to open;
    /// searching it finds nothing).
    pub fn open_for_related(&self) -> Result<SearchIndex, SearchError> {
        SearchIndex::open_with(self.kept.dir.clone(), self.fingerprint(), self.kept.urls.clone(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SearchRequest, Section, build_updatable, fingerprint};

    fn article(i: usize, title: &str, text: &str) -> Article {
        let lang = if i.is_multiple_of(3) { "en" } else { "nl" };
        Article {
            lang: lang.into(),
            category: "c".into(),
            category_title: "C".into(),
            url: format!("/{lang}/c/a{i}/"),
            title: title.into(),
            description: None,
            tags: vec![],
            sections: vec![Section { text: text.into(), ..Section::default() }],
        }
    }

    fn articles() -> Vec<Article> {
        (0..20)
            .map(|i| {
                let extra = match i {
                    1 => " Het zonnepaneel op het dak.",
                    2 => " Een kabel in de kast.",
                    _ => "",
                };
                article(i, &format!("Artikel {i}"), &format!("Een tekst over kenmerk zq{i}w en wachtwoorden.{extra}"))
            })
            .collect()
    }

    fn urls(index: &SearchIndex, query: &str) -> Vec<String> {
        let found = index.search(&SearchRequest::new(query)).expect("search");
        found.results.into_iter().map(|h| h.url).collect()
    }

    #[test]
    fn a_replaced_article_is_found_by_its_new_words_and_no_longer_by_its_old_ones() {
        let mut articles = articles();
        let (built, mut updater) = build_updatable(&articles).expect("build");
        assert_eq!(updater.fingerprint(), fingerprint(&articles), "unchanged: the build's own fingerprint");
        assert_eq!(urls(&built.index, "zq4w"), ["/nl/c/a4/"]);

        articles[4] = article(4, "Zonnepaneelkabel aansluiten", "Sluit de omvormer qx4new aan.");
        updater.replace(4, &articles[4]).expect("replace");
        let packed = updater.pack().expect("pack");
        for index in [updater.open().expect("open"), SearchIndex::from_bytes(&packed).expect("from bytes")] {
            assert_eq!(urls(&index, "qx4new"), ["/nl/c/a4/"], "a new word");
            assert_eq!(urls(&index, "omvormer"), ["/nl/c/a4/"], "a new word, stemmed");
            assert!(urls(&index, "zq4w").is_empty(), "an old word");
            // A new compound of known words is found by its parts, below the articles that
            // have the word itself.
            assert_eq!(urls(&index, "kabel"), ["/nl/c/a2/", "/nl/c/a4/"]);
            for i in (0..20usize).filter(|&i| i != 4) {
                let lang = if i.is_multiple_of(3) { "en" } else { "nl" };
                assert_eq!(urls(&index, &format!("zq{i}w")), [format!("/{lang}/c/a{i}/")], "article {i}");
            }
            assert_eq!(index.documents(), 20, "the old document is gone");
            assert_eq!(index.article_url(4), Some("/nl/c/a4/"));
        }
        assert_ne!(updater.fingerprint(), fingerprint(&articles), "a full build makes its own index");
        assert_eq!(SearchIndex::peek_fingerprint(&packed), Some(updater.fingerprint()));
    }

    #[test]
    fn many_replacements_merge_their_segments_and_keep_every_article() {
        let mut articles = articles();
        let (_, mut updater) = build_updatable(&articles).expect("build");
        // Far apart: a word one letter off is found as a typo.
        for round in ["qyqy", "wvwv"] {
            for (i, a) in articles.iter_mut().enumerate().take(12) {
                *a = article(i, &format!("Artikel {i}"), &format!("Nieuw kenmerk {round}{i}z."));
                updater.replace(i, a).expect("replace");
            }
        }
        let segments = updater.kept.index.searchable_segment_metas().expect("metas").len();
        assert!(segments <= MAX_SEGMENTS, "{segments} segments");
        let index = SearchIndex::from_bytes(&updater.pack().expect("pack")).expect("open");
        assert_eq!(index.documents(), 20);
        for (i, a) in articles.iter().enumerate() {
            let word = if i < 12 { format!("wvwv{i}z") } else { format!("zq{i}w") };
            assert_eq!(urls(&index, &word), std::slice::from_ref(&a.url), "article {i}");
            if i < 12 {
                assert!(urls(&index, &format!("qyqy{i}z")).is_empty(), "article {i}'s first edit is gone");
            }
        }
    }

    #[test]
    fn an_index_opened_for_related_articles_finds_what_the_full_one_finds() {
        let articles = articles();
        let (built, updater) = build_updatable(&articles).expect("build");
        let light = updater.open_for_related().expect("open");
        let full = built.index.related(&articles, Some(&built.terms), 4).expect("related");
        assert!(full.iter().any(|r| r.contains(&1) || r.contains(&2)), "{full:?}");
        assert_eq!(light.related(&articles, Some(&built.terms), 4).expect("related"), full);
        assert_eq!(
            light.related_of(&articles, Some(&built.terms), 4, Some(&[3]), None).expect("related")[3].articles,
            full[3]
        );
    }

    #[test]
    fn an_article_in_a_language_the_index_lacks_cannot_be_updated() {
        let articles = articles();
        let (_, mut updater) = build_updatable(&articles).expect("build");
        let mut a = articles[1].clone();
        a.lang = "de".into();
        assert!(matches!(updater.replace(1, &a), Err(SearchError::NotUpdatable(_))));
        assert!(matches!(updater.replace(99, &articles[1]), Err(SearchError::NotUpdatable(_))));
    }
}
