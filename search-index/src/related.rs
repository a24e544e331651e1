//! Related articles, for every article of a site at once.
//!
//! An article's related articles are the others, in its language, that best match its title,
//! tags, description and most telling body words: the same scores a query for those words
//! would give (BM25 per field, field weights as in search), the same category breaking ties
//! and filling up.
//!
//! Asking the index that question once per article costs a large site seconds: every query
//! walks the posting lists of tens of terms. Here the lists of the terms any article needs are
//! read once, with every document's score, and each article adds up the lists of its terms
//! in a plain array. Words are analyzed with a [`MemoAnalyzer`] per thread.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rayon::prelude::*;
use tantivy::{Score, Term};

use crate::analysis::{FxBuildHasher, MemoAnalyzer};
use crate::index::{Article, SearchError, SearchIndex};
use crate::schema::WEIGHTS;
use crate::score::Best;

/// Body words a related-articles query uses.
const BODY_TERMS: usize = 6;
/// Weights of an article's words in its related-articles query, by where they are.
const TITLE: Score = 2.0;
const TAG: Score = 1.5;
const DESCRIPTION: Score = 1.0;
const BODY: Score = 0.5;
/// Bonus of an article in the same category.
const SAME_CATEGORY: Score = 0.25;

/// An article's related articles, and what finding out whether an edited article enters the
/// list takes ([`SearchIndex::related_entering`]).
#[derive(Debug, Clone, Default)]
pub struct Related {
    /// Article numbers, best first.
    pub articles: Vec<usize>,
    /// The score (same category bonus included) another article must reach to enter: the
    /// last scored one's, or 0 when the category filled the list up.
    pub floor: Score,
    /// The related-articles query: terms and their weights.
    pub query: Vec<(Arc<str>, Score)>,
}

/// What picking any article's related articles needs: each document's article, the articles
/// of each category (`/<lang>/<category>/`) in reading order, each article's place in it.
struct Site<'a> {
    doc_article: &'a [u32],
    by_category: &'a HashMap<&'a str, Vec<usize>>,
    rank: &'a [u32],
}

/// One posting of a term in a field: the document (numbered across segments) and its score.
type Posting = (u32, Score);

impl SearchIndex {
    /// The related articles of every article (`articles` as given to the build; article
    /// numbers are positions in it), at most `limit` each, best first. `terms`: what the build
    /// gathered of the articles ([`crate::Built::terms`]); without them, the articles are
    /// analyzed again.
    pub fn related(
        &self,
        articles: &[Article],
        terms: Option<&[ArticleTerms]>,
        limit: usize,
    ) -> Result<Vec<Vec<usize>>, SearchError> {
        Ok(self.related_of(articles, terms, limit, None, None)?.into_iter().map(|r| r.articles).collect())
    }

    /// [`Self::related`] of the articles `only` says (by number), or of all; the others get
    /// none. `rank`: each article's place in reading order, when that is not its number (ties
    /// and the category's fill-up go by it).
    pub fn related_of(
        &self,
        articles: &[Article],
        terms: Option<&[ArticleTerms]>,
        limit: usize,
        only: Option<&[usize]>,
        rank: Option<&[u32]>,
    ) -> Result<Vec<Related>, SearchError> {
        let identity: Vec<u32>;
        let rank = match rank {
            Some(r) if r.len() == articles.len() => r,
            _ => {
                identity = (0..articles.len() as u32).collect();
                &identity
            }
        };
        let mask = only.map(|o| {
            let mut m = vec![false; articles.len()];
            for &i in o {
                if let Some(x) = m.get_mut(i) {
                    *x = true;
                }
            }
            m
        });
        let wanted = |i: usize| mask.as_ref().is_none_or(|m| m[i]);
        let documents = self.searcher.num_docs().max(1);
        // Words in more than one in twenty articles say little, and their long lists would
        // make a large site's build slow.
        let common = (documents / 20).max(3);
        // 1. Every article's words and their weights.
        let asked: Vec<Vec<(Arc<str>, Score)>> = articles
            .par_iter()
            .enumerate()
            .with_min_len(64)
            .with_max_len(256)
            .map_init(Scratch::default, |scratch, (i, a)| {
                if !self.analyzers.contains_key(&a.lang) || !wanted(i) {
                    return Vec::new();
                }
                match terms.and_then(|t| t.get(i)) {
                    Some(t) => self.related_query(t, scratch, documents, common),
                    None => {
                        let an = scratch.analyzers.entry(a.lang.clone()).or_insert_with(|| MemoAnalyzer::new(&a.lang));
                        let t = ArticleTerms::gather(a, an, |_, _| {});
                        self.related_query(&t, scratch, documents, common)
                    }
                }
            })
            .collect();

        // 2. The scored lists of every term any article asks for, per field.
        let mut ids: HashMap<&str, usize, FxBuildHasher> = HashMap::default();
        let mut terms: Vec<&str> = Vec::new();
        // Per article, its terms' numbers and weights.
        let queries: Vec<Vec<(usize, Score)>> = asked
            .iter()
            .map(|q| {
                q.iter()
                    .map(|(t, w)| {
                        let id = *ids.entry(t).or_insert_with(|| {
                            terms.push(t);
                            terms.len() - 1
                        });
                        (id, *w)
                    })
                    .collect()
            })
            .collect();
        // A term's list holds each of its documents once, with its score summed over the
        // fields at their weights: an article adds up one list per term, not one per field.
        let lists: Vec<Vec<Posting>> = terms
            .par_iter()
            .map(|term| self.tables.term_postings(&self.fields, term, self.scored_fields(term)))
            .collect::<Result<_, _>>()?;

        // 3. Each article's scores, its language's best, then the category.
        let doc_article = self.doc_articles()?;
        let mut by_category: HashMap<&str, Vec<usize>> = HashMap::new();
        for (id, url) in self.article_urls.iter().enumerate() {
            by_category.entry(category_prefix(url)).or_default().push(id);
        }
        for list in by_category.values_mut() {
            list.sort_by_key(|&id| rank.get(id).copied().unwrap_or(u32::MAX));
        }
        // Documents of equal score go in the reading order of their articles.
        let doc_rank =
            |d: u32| doc_article.get(d as usize).and_then(|&a| rank.get(a as usize)).copied().unwrap_or(u32::MAX);
        let site = Site { doc_article: &doc_article, by_category: &by_category, rank };
        let mut related: Vec<Related> = queries
            .par_iter()
            .enumerate()
            .with_min_len(64)
            .with_max_len(256)
            .map_init(
                || (vec![0.0 as Score; doc_article.len()], vec![0u64; doc_article.len().div_ceil(64)]),
                |(scores, touched), (index, query)| {
                    if !self.analyzers.contains_key(&articles[index].lang) || !wanted(index) {
                        return Related::default();
                    }
                    // The documents scored are marked in a bitset, without a branch: which
                    // document comes next is as good as random.
                    for &(term, weight) in query {
                        for &(doc, score) in &lists[term] {
                            scores[doc as usize] += weight * score;
                            touched[doc as usize / 64] |= 1 << (doc % 64);
                        }
                    }
                    // The best, as a query for the words would rank them (equal scores in
                    // reading order; the order they are offered in does not matter).
                    let mut top = Best::new(limit * 3 + 1, |&a: &u32, &b: &u32| (doc_rank(a), a) < (doc_rank(b), b));
                    for (w, bits) in touched.iter_mut().enumerate() {
                        let mut b = std::mem::take(bits);
                        while b != 0 {
                            let d = w * 64 + b.trailing_zeros() as usize;
                            b &= b - 1;
                            top.offer(std::mem::take(&mut scores[d]), d as u32);
                        }
                    }
                    let (picked, floor) = self.pick(index, &articles[index], top.found(), &site, limit);
                    Related { articles: picked, floor, query: Vec::new() }
                },
            )
            .collect();
        // Each query goes with its list as it is (not copied: its terms are shared by the
        // threads, and counting references to them from both at once is slow).
        for (r, query) in related.iter_mut().zip(asked) {
            r.query = query;
        }
        Ok(related)
    }

    /// The words of an article's related-articles query, in order, with their weights: its
    /// title, tags and description, and its body's rarest words that other articles share.
    fn related_query(
        &self,
        terms: &ArticleTerms,
        scratch: &mut Scratch,
        documents: u64,
        common: u64,
    ) -> Vec<(Arc<str>, Score)> {
        let Scratch { frequencies, body, .. } = scratch;
        // The largest document frequency of a term in a field (0: not in the index), looked
        // up once per term: terms are told apart by address (an analyzer makes each term
        // once, and they all live as long as the thread's scratch is used).
        let mut df = |term: &Arc<str>| -> u64 {
            *frequencies.entry(Arc::as_ptr(term).cast::<u8>() as usize).or_insert_with(|| self.term_stats(term).1)
        };
        let mut weights: BTreeMap<Arc<str>, Score> = BTreeMap::new();
        for (t, w) in &terms.weighted {
            let e = weights.entry(t.clone()).or_default();
            *e = e.max(*w);
        }
        // The body's terms are distinct ([`ArticleTerms::add`]).
        body.clear();
        for (k, t) in terms.body.iter().enumerate() {
            let n = df(t);
            if n >= 2 && n * 20 <= documents && !weights.contains_key(&**t) {
                body.push((n, k));
            }
        }
        // The rarest, and of equally rare ones the first in alphabetical order.
        if body.len() > BODY_TERMS {
            body.select_nth_unstable_by_key(BODY_TERMS - 1, |b| b.0);
            let last = body[BODY_TERMS - 1].0;
            let mut ties: Vec<&Arc<str>> = Vec::new();
            body.retain(|&(n, k)| match n.cmp(&last) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Equal => {
                    ties.push(&terms.body[k]);
                    false
                }
                std::cmp::Ordering::Greater => false,
            });
            ties.sort_unstable();
            let room = BODY_TERMS - body.len();
            for term in ties.into_iter().take(room) {
                weights.insert(term.clone(), BODY);
            }
        }
        for (_, k) in body.drain(..) {
            weights.insert(terms.body[k].clone(), BODY);
        }
        weights.into_iter().filter(|(t, _)| (1..=common).contains(&df(t))).collect()
    }

    /// From the best documents of an article's query: the other articles in its language, the
    /// same category counting a little more; too few, and the first others of its category
    /// fill up.
    /// Also returns the score another article must reach to enter the list: the last
    /// scored pick's, or 0 when the category filled up.
    fn pick(
        &self,
        index: usize,
        article: &Article,
        top: &[(Score, u32)],
        site: &Site<'_>,
        limit: usize,
    ) -> (Vec<usize>, Score) {
        let Site { doc_article, by_category, rank } = site;
        let prefix = format!("/{}/", article.lang);
        let category = format!("/{}/{}/", article.lang, article.category);
        let mut found: Vec<(Score, usize)> = Vec::new();
        for &(score, doc) in top {
            let id = doc_article.get(doc as usize).map_or(usize::MAX, |&a| a as usize);
            let url = self.article_url(id).unwrap_or_default();
            if id != index && url.starts_with(&prefix) && !found.iter().any(|f| f.1 == id) {
                found.push((score + if url.starts_with(&category) { SAME_CATEGORY } else { 0.0 }, id));
            }
        }
        let rank = |id: usize| rank.get(id).copied().unwrap_or(u32::MAX);
        found.sort_by(|a, b| b.0.total_cmp(&a.0).then(rank(a.1).cmp(&rank(b.1))));
        found.truncate(limit);
        let floor = if found.len() == limit { found.last().map_or(0.0, |f| f.0) } else { 0.0 };
        for &id in by_category.get(category.as_str()).into_iter().flatten() {
            if found.len() >= limit {
                break;
            }
            if id != index && !found.iter().any(|f| f.1 == id) {
                found.push((0.0, id));
            }
        }
        (found.into_iter().map(|(_, id)| id).collect(), floor)
    }

    /// The articles (by number) whose related articles article `n`, just replaced, may now
    /// enter: its score for their query (as `known`, the last [`Self::related_of`] of every
    /// article, has it) reaches their floor. (The lists that had it are to be found again
    /// anyway.)
    pub fn related_entering(
        &self,
        articles: &[Article],
        terms: &[ArticleTerms],
        known: &[Related],
        n: usize,
    ) -> Result<Vec<usize>, SearchError> {
        let (Some(a), Some(a_terms)) = (articles.get(n), terms.get(n)) else { return Ok(Vec::new()) };
        // Its document: the live one with its number (numbered across segments).
        let (mut at, mut base) = (None, 0);
        for reader in self.searcher.segment_readers() {
            let col = reader.fast_fields().u64("article")?;
            let alive = reader.alive_bitset();
            for doc in (0..reader.max_doc()).filter(|&d| alive.is_none_or(|b| b.is_alive(d))) {
                if col.first(doc) == Some(n as u64) {
                    at = Some(base + doc);
                }
            }
            base += reader.max_doc();
        }
        let Some(doc) = at else { return Ok(Vec::new()) };
        // Its score for each of its terms, as a related-articles query counts it.
        let mut own: HashMap<&str, Score, FxBuildHasher> = HashMap::default();
        for term in a_terms.all() {
            if own.contains_key(term) {
                continue;
            }
            let list = self.tables.term_postings(&self.fields, term, self.scored_fields(term))?;
            let score = list.binary_search_by_key(&doc, |p| p.0).map_or(0.0, |i| list[i].1);
            own.insert(term, score);
        }
        let category = category_prefix(&a.url);
        Ok(known
            .par_iter()
            .zip(articles)
            .enumerate()
            .with_min_len(256)
            .filter(|(m, (r, b))| {
                if *m == n || b.lang != a.lang {
                    return false;
                }
                let score: Score = r.query.iter().filter_map(|(t, w)| own.get(&**t).map(|s| w * s)).sum();
                let bonus = if category_prefix(&b.url) == category { SAME_CATEGORY } else { 0.0 };
                score > 0.0 && score + bonus >= r.floor
            })
            .map(|(m, _)| m)
            .collect())
    }

    /// The fields a related-articles query scores `term` in: the whole-word fields it occurs
    /// in (not the parts fields).
    fn scored_fields(&self, term: &str) -> u64 {
        self.term_stats(term).0 & WEIGHTS.iter().fold(0, |m, (sf, _)| m | sf.bit())
    }

    /// The fields a term occurs in (a mask of [`crate::schema::SearchField`] bits, and the
    /// parts fields' bits from the vocabulary) and its largest document frequency in one of
    /// them; from the vocabulary, or the searcher when the index has none
    /// ([`SearchIndex::related_only`]).
    fn term_stats(&self, term: &str) -> (u64, u64) {
        if !self.related_only {
            return self.vocab.get(term.as_bytes()).map_or((0, 0), |v| (v >> 32, v & 0xffff_ffff));
        }
        let (mut mask, mut df) = (0, 0);
        for (sf, _) in WEIGHTS {
            let n = self.searcher.doc_freq(&Term::from_field_text(self.fields.field(sf), term)).unwrap_or(0);
            if n > 0 {
                mask |= sf.bit();
                df = df.max(n);
            }
        }
        (mask, df)
    }

    /// The article number of every document, numbered across segments.
    fn doc_articles(&self) -> Result<Vec<u32>, SearchError> {
        let mut out = Vec::new();
        for reader in self.searcher.segment_readers() {
            let col = reader.fast_fields().u64("article")?;
            for doc in 0..reader.max_doc() {
                out.push(col.first(doc).map_or(u32::MAX, |a| u32::try_from(a).unwrap_or(u32::MAX)));
            }
        }
        Ok(out)
    }
}

/// What related articles need of an article, gathered while it is analyzed for the index (see
/// [`crate::Built::terms`]): the terms of its title, tags and description with their weights,
/// and the terms of its body, each once.
#[derive(Debug, Clone, Default)]
pub struct ArticleTerms {
    weighted: Vec<(Arc<str>, Score)>,
    body: Vec<Arc<str>>,
    /// The terms of the headings (not in the query: they count when others ask).
    headings: Vec<Arc<str>>,
}

/// Which part of an article a text is, for [`ArticleTerms::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Title,
    Tags,
    Description,
    Body,
    Other,
}

impl ArticleTerms {
    /// Every term noted: weighted, body and headings.
    fn all(&self) -> impl Iterator<Item = &str> {
        self.weighted.iter().map(|(t, _)| &**t).chain(self.body.iter().chain(&self.headings).map(|t| &**t))
    }

    /// Analyzes the searchable parts of `a` (as the index does); `new_word` hears of each word
    /// the analyzer had not seen before, with its term.
    pub(crate) fn gather(a: &Article, an: &mut MemoAnalyzer, new_word: impl FnMut(&str, &str)) -> ArticleTerms {
        crate::index::analyse(a, an, new_word).0
    }

    /// Notes a term of `part`. `first_in_body`: whether the body has not had the term before
    /// (asked of body terms only).
    pub(crate) fn add(&mut self, part: Part, term: &Arc<str>, first_in_body: impl FnOnce() -> bool) {
        let weight = match part {
            Part::Title => TITLE,
            Part::Tags => TAG,
            Part::Description => DESCRIPTION,
            Part::Body => {
                if first_in_body() {
                    self.body.push(term.clone());
                }
                return;
            }
            Part::Other => {
                if !self.headings.iter().any(|h| Arc::ptr_eq(h, term)) {
                    self.headings.push(term.clone());
                }
                return;
            }
        };
        self.weighted.push((term.clone(), weight));
    }
}

/// What a thread keeps between articles: its analyzers (and the words they have seen), the
/// document frequencies it has looked up, and room for an article's distinct words.
#[derive(Debug, Default)]
struct Scratch {
    analyzers: HashMap<String, MemoAnalyzer>,
    /// By the term's address.
    frequencies: HashMap<usize, u64, FxBuildHasher>,
    /// Candidate body terms: document frequency, place in the article's body terms.
    body: Vec<(u64, usize)>,
}

/// `/<lang>/<category>/` of an article's address.
fn category_prefix(url: &str) -> &str {
    match url.match_indices('/').nth(2) {
        Some((at, _)) => &url[..=at],
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
    use tantivy::schema::IndexRecordOption;

    /// The straightforward way, one query per article through tantivy (block-max WAND), as
    /// related articles were found before: the bulk computation must find the same.
    fn one_query_each(index: &SearchIndex, articles: &[Article], limit: usize) -> Vec<Vec<usize>> {
        let documents = index.searcher.num_docs().max(1);
        let common = (documents / 20).max(3);
        let doc_article = index.doc_articles().expect("articles");
        let mut by_category: HashMap<&str, Vec<usize>> = HashMap::new();
        for (id, url) in index.article_urls.iter().enumerate() {
            by_category.entry(category_prefix(url)).or_default().push(id);
        }
        let mut scratch = Scratch::default();
        articles
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                let an = scratch.analyzers.entry(a.lang.clone()).or_insert_with(|| MemoAnalyzer::new(&a.lang));
                let terms = ArticleTerms::gather(a, an, |_, _| {});
                for (term, weight) in index.related_query(&terms, &mut scratch, documents, common) {
                    let mask = index.vocab.get(term.as_bytes()).map_or(0, |v| v >> 32);
                    for (sf, w) in WEIGHTS {
                        if mask & sf.bit() != 0 {
                            let t = TermQuery::new(
                                Term::from_field_text(index.fields.field(sf), &term),
                                IndexRecordOption::WithFreqs,
                            );
                            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(t), w * weight))));
                        }
                    }
                }
                let mut top: Vec<(Score, u32)> = Vec::new();
                if !clauses.is_empty() {
                    let collector = TopDocs::with_limit(limit * 3 + 1).order_by_score();
                    for (score, addr) in index.searcher.search(&BooleanQuery::new(clauses), &collector).expect("search")
                    {
                        top.push((score, addr.doc_id));
                    }
                }
                let rank: Vec<u32> = (0..articles.len() as u32).collect();
                let site = Site { doc_article: &doc_article, by_category: &by_category, rank: &rank };
                index.pick(i, a, &top, &site, limit).0
            })
            .collect()
    }

    #[test]
    fn related_articles_are_what_one_query_per_article_finds() {
        let content = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
        let (prepared, diags) = site_builder::prepare(&content, site_builder::Dates::Mtime);
        assert!(diags.is_empty(), "{diags}");
        let mut prepared = prepared.expect("content");
        let published: Vec<usize> =
            (0..prepared.content.articles.len()).filter(|&i| !prepared.content.articles[i].meta.draft).collect();
        // (The site builder's articles are of its own copy of this crate.)
        let articles: Vec<Article> = site_builder::search::articles(&mut prepared, &published)
            .into_iter()
            .map(|a| Article {
                lang: a.lang,
                category: a.category,
                category_title: a.category_title,
                url: a.url,
                title: a.title,
                description: a.description,
                tags: a.tags,
                sections: a
                    .sections
                    .into_iter()
                    .map(|s| crate::Section { anchor: s.anchor, heading: s.heading, text: s.text })
                    .collect(),
            })
            .collect();
        let built = crate::build(&articles).expect("index");
        let index = &built.index;
        let related = index.related(&articles, None, 4).expect("related");
        assert_eq!(related.len(), articles.len());
        assert!(related.iter().all(|r| r.len() == 4));
        assert_eq!(related, one_query_each(index, &articles, 4));
        // The same from what the build gathered.
        assert_eq!(related, index.related(&articles, Some(&built.terms), 4).expect("related"));
    }

    #[test]
    fn category_prefixes() {
        assert_eq!(category_prefix("/nl/tickets/bijlagen/"), "/nl/tickets/");
        assert_eq!(category_prefix("/nl/"), "/nl/");
    }
}
