//! Searching: what users type becomes a safe, typo-tolerant query; hits become results with
//! highlighted snippets.
//!
//! There is no query language: every character that is not part of a word separates words,
//! so `"(:*^~` and friends can never cause an error. Each word matches its stem in every
//! language searched (word forms), words of 4 or more letters also match terms one edit away
//! (two for long words), and the last word, while it is being typed, also matches terms it is
//! the beginning of. A result in a long article leads to its best matching section.
//!
//! Compounds (see [`crate::compound`]) are matched both ways: each word also matches the parts
//! of the articles' compounds (below a whole word), two adjacent words also match the compound
//! the articles have of them (`reactie termijn` -> `reactietermijn`), a compound the articles
//! have also matches its parts written apart, and one they do not have matches the known words
//! it is made of (`wachtwoordreset`). Dutch verb forms match each other where the articles have
//! them (`ingelogd`, `inloggen`; `log ... in` -> `inloggen`). All of it is hash and FST
//! look-ups of the query's own words: nothing scans the vocabulary.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use serde::Serialize;
use tantivy::query::FuzzyTermQuery;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Score, Term};
use tantivy_fst::{IntoStreamer, Streamer};

use crate::analysis::{FxBuildHasher, tokens, word_analyzer, words};
use crate::compound;
use crate::index::{SearchError, SearchIndex};
use crate::score::{self, Only, PlanTerm, Scoring};
use crate::stored::{DocWords, StoredDoc, WordTerms};

/// At most this many words of a query are used (a pasted paragraph is not a query).
pub const MAX_WORDS: usize = 12;
/// Longest query accepted, in bytes; the rest is ignored.
pub const MAX_QUERY_BYTES: usize = 256;
/// Snippet length in characters.
pub const SNIPPET_CHARS: usize = 150;
/// Largest page of results.
pub const MAX_LIMIT: usize = 50;

/// Words this long (in letters) forgive one typo, and from [`MIN_TWO_TYPOS_CHARS`] two.
pub const MIN_FUZZY_CHARS: usize = 4;
pub const MIN_TWO_TYPOS_CHARS: usize = 9;
const FUZZY_CANDIDATES: usize = 4;
const PREFIX_CANDIDATES: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct SearchRequest<'a> {
    pub query: &'a str,
    /// Only articles in this language (a code such as `nl`); all languages when `None`.
    pub lang: Option<&'a str>,
    /// Only articles in this category (its slug).
    pub category: Option<&'a str>,
    pub limit: usize,
    pub offset: usize,
}

impl<'a> SearchRequest<'a> {
    pub fn new(query: &'a str) -> Self {
        SearchRequest { query, lang: None, category: None, limit: 10, offset: 0 }
    }
    pub fn lang(mut self, lang: &'a str) -> Self {
        self.lang = Some(lang);
        self
    }
    pub fn category(mut self, category: &'a str) -> Self {
        self.category = Some(category);
        self
    }
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
    pub fn offset(mut self, offset: usize) -> Self {
        self.offset = offset;
        self
    }
}

/// The answer of `/api/search`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SearchResults {
    pub query: String,
    /// Matching articles (an article with several matching sections counts once).
    pub total: usize,
    pub results: Vec<Hit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// The article's title, or `Article › Section` for a section of a long article.
    pub title: String,
    /// The article's address, with `#anchor` for a section.
    pub url: String,
    /// HTML: escaped text with the matching words in `<mark>`.
    pub snippet: String,
    /// The category's title.
    pub category: String,
    #[serde(serialize_with = "rounded")]
    pub score: Score,
    #[serde(skip)]
    pub lang: String,
    #[serde(skip)]
    pub article: u64,
}

fn rounded<S: serde::Serializer>(score: &Score, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((f64::from(*score) * 1000.0).round() / 1000.0)
}

/// How much other readings of a query word count, against its own word forms (1.0):
/// - the parts of a compound the index has (all of them, where the article writes them apart);
const COMPOUND_PARTS: Score = 0.5;
/// - the parts of a compound the index does not have (`wachtwoordreset`);
const SPLIT_PARTS: Score = 0.8;
/// - two adjacent words that the index has as one (`reactie termijn` -> `reactietermijn`), as
///   a word of its own, in addition to the two;
const JOINED: Score = 1.5;
/// - another form of a Dutch verb (`ingelogd` for `inloggen`);
const VERB_FORM: Score = 0.9;
/// - one part of such a compound alone;
const PART_ALONE: Score = 0.4;
/// - a verb the query separated from its particle (`log ... in` -> `inloggen`).
const SEPARATED_VERB: Score = 1.0;

/// A word in more than one in this many documents (and more than [`COMMON_MIN`]) is not looked
/// for in the parts of compounds.
const COMMON_SHARE: u64 = 20;
const COMMON_MIN: u64 = 50;

/// One alternative for a query word, with how much it counts: the terms that must all match
/// (one for a word form, the parts of a compound), each with the fields it occurs in (see
/// [`crate::schema::SearchField::bit`], [`crate::schema::PartField::bit`]).
#[derive(Debug, Clone)]
struct Alternative {
    terms: Vec<(String, u64)>,
    weight: Score,
    /// Also matches the term as a part of the compounds of a document.
    parts: bool,
}

/// How a query is matched: per word, its alternatives.
#[derive(Debug, Default)]
struct Plan {
    words: Vec<Vec<Alternative>>,
}

impl Plan {
    /// Term -> weight, for highlighting.
    fn highlight_terms(&self) -> Terms {
        let mut out = Terms::default();
        for alts in &self.words {
            for a in alts {
                for (term, _) in &a.terms {
                    let w = out.entry(term.clone()).or_default();
                    *w = w.max(a.weight);
                }
            }
        }
        out
    }
}

/// Adds the single term `term` to `alts`, or raises its weight when it is there.
fn push(alts: &mut Vec<Alternative>, term: String, weight: Score, value: u64, parts: bool) {
    if let Some(a) = alts.iter_mut().find(|a| a.terms.len() == 1 && a.terms[0].0 == term) {
        a.weight = a.weight.max(weight);
        a.parts |= parts;
    } else {
        alts.push(Alternative { terms: vec![(term, value >> 32)], weight, parts });
    }
}

/// One step of making a word's alternatives: [`push`] a term, or add an alternative of
/// several terms.
#[derive(Debug, Clone)]
enum Op {
    Push { term: String, weight: Score, value: u64, parts: bool },
    Add(Alternative),
}

impl Op {
    fn push(term: String, weight: Score, value: u64, parts: bool) -> Op {
        Op::Push { term, weight, value, parts }
    }
}

/// Takes `ops` in order.
fn apply(alts: &mut Vec<Alternative>, ops: &[Op]) {
    for op in ops {
        match op {
            Op::Push { term, weight, value, parts } => push(alts, term.clone(), *weight, *value, *parts),
            Op::Add(alt) => alts.push(alt.clone()),
        }
    }
}

/// The languages a query searches: the memo's key for them, their bits of `word_languages`,
/// and whether Dutch is one.
#[derive(Debug)]
struct Searched {
    key: String,
    here: u64,
    dutch: bool,
}

/// What a word of a query matches by itself in the languages searched: everything about it that
/// does not depend on the words around it. Made from the index alone, so it holds for every
/// query until the index is reloaded (see [`PlanMemo`]).
#[derive(Debug)]
struct WordPlan {
    /// Its stems in the languages searched.
    stems: Vec<String>,
    /// The index has it (or another form of it).
    exact: bool,
    /// Its stems, the parts of the compound it is, its other verb forms.
    own: Vec<Op>,
    /// A compound the index does not have: the known words it is made of.
    split: Option<Vec<Op>>,
    /// While it is typed as a query's last word: how many terms it is the beginning of, and
    /// the ones taken (made the first time it is typed).
    completions: OnceLock<(usize, Vec<Op>)>,
    /// The terms of its typos (made the first time they are needed).
    typos: OnceLock<Vec<Op>>,
}

/// Distinct words a [`PlanMemo`] keeps at most (a few hundred bytes each).
const WORD_PLANS: usize = 50_000;
/// Distinct pairs of words a [`PlanMemo`] keeps at most (most have no compound: a few dozen
/// bytes each).
const PAIR_PLANS: usize = 20_000;

/// The plans of the words and of the pairs of words queries had, kept for the next queries:
/// the stems, typo automata and word-list walks of a word are made once (people search with a
/// few thousand words, again and again). Bounded: past [`WORD_PLANS`] a new word is planned
/// every time, and so is a pair past [`PAIR_PLANS`].
#[derive(Debug, Default)]
pub(crate) struct PlanMemo {
    words: RwLock<HashMap<Box<str>, Arc<WordPlan>, FxBuildHasher>>,
    pairs: RwLock<HashMap<Box<str>, Arc<[Alternative]>, FxBuildHasher>>,
}

impl PlanMemo {
    fn word(&self, searched: &Searched, raw: &str, make: impl FnOnce() -> WordPlan) -> Arc<WordPlan> {
        kept(&self.words, WORD_PLANS, &format!("{}\u{1f}{raw}", searched.key), || Arc::new(make()))
    }

    fn pair(
        &self,
        searched: &Searched,
        a: &str,
        b: &str,
        make: impl FnOnce() -> Vec<Alternative>,
    ) -> Arc<[Alternative]> {
        kept(&self.pairs, PAIR_PLANS, &format!("{}\u{1f}{a}\u{1f}{b}", searched.key), || make().into())
    }
}

/// The value of `key` in `map`, made with `make` and kept (while `map` has fewer than `most`)
/// the first time.
fn kept<V: Clone>(
    map: &RwLock<HashMap<Box<str>, V, FxBuildHasher>>,
    most: usize,
    key: &str,
    make: impl FnOnce() -> V,
) -> V {
    if let Ok(m) = map.read()
        && let Some(v) = m.get(key)
    {
        return v.clone();
    }
    let v = make();
    if let Ok(mut m) = map.write()
        && m.len() < most
    {
        m.entry(key.into()).or_insert_with(|| v.clone());
    }
    v
}

impl SearchIndex {
    /// Searches. Never fails on what a user typed; an empty or meaningless query has no results.
    pub fn search(&self, req: &SearchRequest<'_>) -> Result<SearchResults, SearchError> {
        let query_text = clip(req.query, MAX_QUERY_BYTES);
        let mut out = SearchResults { query: echo(req.query).to_owned(), ..SearchResults::default() };
        let langs: Vec<&str> = match req.lang {
            Some(l) => vec![l],
            None => self.languages.iter().map(String::as_str).collect(),
        };
        let plan = self.plan(query_text, &langs);
        let scoring = self.scoring(&plan)?;
        if scoring.is_empty() {
            return Ok(out);
        }
        let lang = match req.lang {
            Some(l) => match self.languages.iter().position(|x| x == l) {
                Some(i) => Some((u8::try_from(i).unwrap_or(u8::MAX), self.doc_langs.as_slice())),
                None => return Ok(out),
            },
            None => None,
        };
        let only = Only { lang, category: req.category };
        let limit = req.limit.clamp(1, MAX_LIMIT);
        let (top, total) = score::top(&self.tables, &scoring, only, &self.searcher, limit, req.offset.min(10_000))?;
        out.total = total;
        let terms = plan.highlight_terms();
        let mut matcher = Matcher::new(&terms).shared(&self.word_terms);
        // The results' languages' analyzers, each cloned once per query.
        let mut analyzers = Vec::new();
        for (score, addr) in top {
            out.results.push(self.hit(addr, score, &mut matcher, &mut analyzers)?);
        }
        Ok(out)
    }

    /// The terms of a plan looked up for scoring.
    fn scoring(&self, plan: &Plan) -> Result<Scoring, SearchError> {
        let words = plan.words.iter().map(|alts| {
            alts.iter()
                .map(|a| {
                    let terms = a.terms.iter();
                    terms.map(|(term, mask)| PlanTerm { term, mask: *mask, weight: a.weight, parts: a.parts }).collect()
                })
                .collect()
        });
        Scoring::new(&self.tables, &self.fields, words)
    }

    /// Cuts the query into words and finds each word's alternatives in the vocabulary.
    fn plan(&self, query: &str, langs: &[&str]) -> Plan {
        let typing = !query.ends_with(char::is_whitespace);
        let words = tokens(&mut word_analyzer(), query);
        let n = words.len().min(MAX_WORDS);
        let raws: Vec<String> = words.into_iter().take(n).map(|w| w.text).collect();
        let dutch = langs.contains(&"nl");
        // The languages searched, as bits of `word_languages`.
        let here = langs
            .iter()
            .filter_map(|l| self.languages.iter().position(|x| x == l))
            .fold(0u64, |m, i| m | 1u64.checked_shl(i as u32).unwrap_or(0));
        // The languages' analyzers, made only for a word or pair not planned before.
        let mut made: Option<Vec<TextAnalyzer>> = None;
        let searched = Searched { key: langs.join(","), here, dutch };
        let mut per_word: Vec<Vec<Alternative>> = vec![Vec::new(); n];
        for (i, raw) in raws.iter().enumerate() {
            let raw = raw.as_str();
            let chars = raw.chars().count();
            let word =
                self.plans.word(&searched, raw, || self.word_plan(&searched, self.analyzers_of(&mut made, langs), raw));
            apply(&mut per_word[i], &word.own);
            // A separable verb written apart: `log ... in`, `in te loggen`.
            if dutch && compound::is_particle(raw) {
                for j in (i.saturating_sub(3)..i).rev() {
                    let verb = raws[j].as_str();
                    if compound::is_particle(verb) || verb.len() < 2 {
                        continue;
                    }
                    for form in compound::verb_forms(verb, Some(raw)) {
                        for (term, v) in self.word_terms(here, &form) {
                            push(&mut per_word[j], term, SEPARATED_VERB, v, self.rare(v));
                        }
                    }
                }
            }
            if dutch && raw == "te" && i > 0 && compound::is_particle(&raws[i - 1]) && i + 1 < n {
                let form = format!("{}{}", raws[i - 1], raws[i + 1]);
                for (term, v) in self.word_terms(here, &form) {
                    push(&mut per_word[i + 1], term, SEPARATED_VERB, v, self.rare(v));
                }
            }
            // The word being typed: the terms of the words it begins, most frequent first.
            let mut completions = 0;
            if typing && i + 1 == n && chars >= 2 {
                let (found, ops) = word.completions.get_or_init(|| self.completions(raw, &word.stems));
                completions = *found;
                apply(&mut per_word[i], ops);
            }
            // A compound the index does not have: the known words it is made of.
            if let Some(split) = &word.split {
                apply(&mut per_word[i], split);
            }
            // Typos: the terms of words one edit away (two for long words), for a word that is
            // not in the index, and is not the beginning of known words while it is typed.
            if !word.exact
                && word.split.is_none()
                && !word.stems.is_empty()
                && chars >= MIN_FUZZY_CHARS
                && completions == 0
            {
                apply(&mut per_word[i], word.typos.get_or_init(|| self.typos(raw, &word.stems)));
            }
        }
        // Two words the index has as one (`reactie termijn`, `klanten kaart`): the compound
        // counts as a word of its own.
        let mut joined: Vec<Vec<Alternative>> = Vec::new();
        for pair in raws.windows(2) {
            let (a, b) = (pair[0].as_str(), pair[1].as_str());
            if a.chars().any(|c| !c.is_alphabetic()) || b.chars().count() < 3 || !b.chars().all(char::is_alphabetic) {
                continue;
            }
            let alts =
                self.plans.pair(&searched, a, b, || self.joined(&searched, self.analyzers_of(&mut made, langs), a, b));
            if !alts.is_empty() {
                joined.push(alts.to_vec());
            }
        }
        let mut plan = Plan::default();
        plan.words.extend(per_word.into_iter().filter(|alts| !alts.is_empty()));
        plan.words.extend(joined);
        plan
    }

    /// The analyzers of `langs`, made the first time they are asked for.
    fn analyzers_of<'m>(&self, made: &'m mut Option<Vec<TextAnalyzer>>, langs: &[&str]) -> &'m mut [TextAnalyzer] {
        made.get_or_insert_with(|| langs.iter().filter_map(|l| self.analyzers.get(*l).cloned()).collect())
    }

    /// What a word of a query matches on its own, whatever the words around it, in the
    /// languages searched.
    fn word_plan(&self, searched: &Searched, analyzers: &mut [TextAnalyzer], raw: &str) -> WordPlan {
        let Searched { here, dutch, .. } = *searched;
        let chars = raw.chars().count();
        let mut own = Vec::new();
        // Word forms: the stem in every language searched. A stop word in every language
        // has no stems and matches nothing (unless it is being typed).
        let stems = self.stems(analyzers, raw);
        let mut exact = false;
        // A word only the articles of other languages have is not known here (`resetlink`
        // of the Dutch articles, in English).
        let word = self.words.get(raw.as_bytes());
        let foreign = word.is_some_and(|w| self.word_languages.get(w as usize).is_some_and(|l| l & here == 0));
        for stem in &stems {
            if let Some(v) = self.vocab.get(stem.as_bytes()) {
                own.push(Op::push(stem.clone(), 1.0, v, self.rare(v)));
                exact = !foreign;
            }
        }
        // A compound the index has: its parts, where an article writes them apart.
        if let Some(w) = word.filter(|_| !foreign)
            && let Some(parts) = self.word_parts.get(w as usize).filter(|p| p.len() >= 2)
        {
            let terms: Option<Vec<(String, u64)>> =
                parts.iter().map(|p| self.vocab.get(p.as_bytes()).map(|v| (p.clone(), v >> 32))).collect();
            if let Some(terms) = terms {
                // Written apart, the parts are whole words: the parts fields add nothing.
                own.push(Op::Add(Alternative { terms, weight: COMPOUND_PARTS, parts: false }));
            }
        }
        // Other forms of a Dutch verb (`ingelogd`, `inloggen`), where the index has them:
        // found while building for the words it has, here for the others.
        if dutch && chars >= 4 {
            match word.filter(|_| !foreign) {
                Some(w) => {
                    for term in self.word_forms.get(w as usize).into_iter().flatten() {
                        if let Some(v) = self.vocab.get(term.as_bytes())
                            && !stems.contains(term)
                        {
                            own.push(Op::push(term.clone(), VERB_FORM, v, false));
                        }
                    }
                }
                None => {
                    for form in compound::verb_forms(raw, None) {
                        for (term, v) in self.word_terms(here, &form) {
                            if !stems.contains(&term) {
                                own.push(Op::push(term, VERB_FORM, v, false));
                                exact = true;
                            }
                        }
                    }
                }
            }
        }
        let split = if !exact && chars >= 2 * compound::MIN_PART {
            self.split_alternatives(here, analyzers, raw).map(|alts| alts.into_iter().map(Op::Add).collect())
        } else {
            None
        };
        WordPlan { stems, exact, own, split, completions: OnceLock::new(), typos: OnceLock::new() }
    }

    /// The terms of the words `raw` is the beginning of, the most frequent first: how many there
    /// are, and the ones a query takes.
    fn completions(&self, raw: &str, stems: &[String]) -> (usize, Vec<Op>) {
        let mut found: Vec<(u64, String, u64)> = Vec::new();
        for w in self.words_beginning(raw).take(400) {
            for stem in self.word_stems.get(w).into_iter().flatten() {
                // Words of one beginning share stems: each looked up once.
                if !stems.contains(stem)
                    && !found.iter().any(|f| &f.1 == stem)
                    && let Some(v) = self.vocab.get(stem.as_bytes())
                {
                    found.push((v & 0xffff_ffff, stem.clone(), v));
                }
            }
        }
        found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let n = found.len();
        (n, found.into_iter().take(PREFIX_CANDIDATES).map(|(_, term, v)| Op::push(term, 0.6, v, false)).collect())
    }

    /// The terms of the words one edit away from `raw` (two for long words), closest and most
    /// frequent first.
    fn typos(&self, raw: &str, stems: &[String]) -> Vec<Op> {
        let distance: u8 = if raw.chars().count() >= MIN_TWO_TYPOS_CHARS { 2 } else { 1 };
        let mut found: Vec<(u32, u64, String, u64)> = Vec::new();
        if let Ok(dfa) = FuzzyTermQuery::new(Term::from_field_text(self.fields.title, raw), distance, true).automaton()
        {
            // Typos are looked for after the first letter (as a search engine's fuzzy prefix
            // length of 1): one branch of the word list to walk instead of all of them, which
            // most of a typo's time went to.
            let first = raw.chars().next().map_or(0, char::len_utf8);
            let from = &raw.as_bytes()[..first];
            let stream = self.words.search(&dfa).ge(from);
            let mut stream = match after_prefix(from) {
                Some(to) => stream.lt(to),
                None => stream,
            }
            .into_stream();
            let mut seen = 0;
            while let Some((k, w)) = stream.next() {
                seen += 1;
                if seen > 64 {
                    break;
                }
                let Ok(word) = std::str::from_utf8(k) else { continue };
                if word == raw {
                    continue;
                }
                let d = edit_distance(raw, word);
                for stem in self.word_stems.get(w as usize).into_iter().flatten() {
                    if let Some(v) = self.vocab.get(stem.as_bytes())
                        && !stems.contains(stem)
                    {
                        found.push((d, v & 0xffff_ffff, stem.clone(), v));
                    }
                }
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut taken: Vec<Op> = Vec::new();
        for (d, _, term, v) in found {
            if taken.len() == FUZZY_CANDIDATES {
                break;
            }
            if taken.iter().any(|t| matches!(t, Op::Push { term: known, .. } if *known == term)) {
                continue;
            }
            let weight = if d <= 1 { 0.75 } else { 0.5 };
            taken.push(Op::push(term, weight, v, false));
        }
        taken
    }

    /// The compound the articles have of two words of a query, as its terms.
    fn joined(&self, searched: &Searched, analyzers: &mut [TextAnalyzer], a: &str, b: &str) -> Vec<Alternative> {
        let here = searched.here;
        let mut alts = Vec::new();
        for link in ["", "s", "e", "en"] {
            if link.is_empty() || a.chars().count() >= compound::MIN_PART {
                for (term, v) in self.word_terms(here, &format!("{a}{link}{b}")) {
                    push(&mut alts, term, JOINED, v, self.rare(v));
                }
            }
        }
        if alts.is_empty() {
            // An inflected compound (`reactie termijnen`): its stem.
            for stem in self.stems(analyzers, &format!("{a}{b}")) {
                if let Some(v) = self.vocab.get(stem.as_bytes()) {
                    push(&mut alts, stem, JOINED, v, self.rare(v));
                }
            }
        }
        alts
    }

    /// The numbers of the words that begin with `prefix`: words are numbered in their order,
    /// so they are the numbers from the first word at or after `prefix` to the first one at or
    /// after [`after_prefix`], two look-ups in the word list.
    fn words_beginning(&self, prefix: &str) -> std::ops::Range<usize> {
        let first_from = |key: &[u8]| {
            let found = self.words.range().ge(key).into_stream().next().map(|(_, w)| w as usize);
            found.unwrap_or(self.word_stems.len())
        };
        let end = after_prefix(prefix.as_bytes()).map_or(self.word_stems.len(), |next| first_from(&next));
        first_from(prefix.as_bytes())..end
    }

    /// Whether a term (its vocabulary entry) is rare enough to be looked for in the parts of
    /// compounds too: a word in more than one in [`COMMON_SHARE`] documents of a large site says
    /// little, and as a part it would have long lists to walk.
    fn rare(&self, v: u64) -> bool {
        let df = v & 0xffff_ffff;
        df <= (self.searcher.num_docs() / COMMON_SHARE).max(COMMON_MIN)
    }

    /// The stems of `word` in every language of `analyzers`.
    fn stems(&self, analyzers: &mut [TextAnalyzer], word: &str) -> Vec<String> {
        let mut stems: Vec<String> = Vec::new();
        for an in analyzers {
            for t in tokens(an, word) {
                if !stems.contains(&t.text) {
                    stems.push(t.text);
                }
            }
        }
        stems
    }

    /// The terms a word of the articles was indexed as, with their vocabulary entries; none for
    /// a word the articles in the languages searched (bits `here`) do not have.
    fn word_terms(&self, here: u64, word: &str) -> Vec<(String, u64)> {
        let Some(w) = self.words.get(word.as_bytes()) else { return Vec::new() };
        if self.word_languages.get(w as usize).is_some_and(|l| l & here == 0) {
            return Vec::new();
        }
        self.word_stems
            .get(w as usize)
            .into_iter()
            .flatten()
            .filter_map(|s| self.vocab.get(s.as_bytes()).map(|v| (s.clone(), v)))
            .collect()
    }

    /// A word the index does not have, as a compound of words it has (`wachtwoordreset` ->
    /// `wachtwoord` + `reset`): all parts, and a little for each part alone.
    fn split_alternatives(&self, here: u64, analyzers: &mut [TextAnalyzer], raw: &str) -> Option<Vec<Alternative>> {
        // A part's best term: the most frequent one in the index.
        let mut best_term = |part: &str, last: bool| -> Option<(String, u64)> {
            let mut terms = self.word_terms(here, part);
            if terms.is_empty() && last {
                terms = self
                    .stems(analyzers, part)
                    .into_iter()
                    .filter_map(|s| self.vocab.get(s.as_bytes()).map(|v| (s, v)))
                    .collect();
            }
            terms.into_iter().max_by_key(|(_, v)| v & 0xffff_ffff)
        };
        let mut chosen: Vec<(String, u64)> = Vec::new();
        let parts = compound::split(raw, |part, last| {
            best_term(part, last).map(|(_, v)| u32::try_from(v & 0xffff_ffff).unwrap_or(u32::MAX))
        })?;
        let last = parts.len() - 1;
        for (k, part) in parts.into_iter().enumerate() {
            let (term, v) = best_term(part, k == last)?;
            if !chosen.iter().any(|c| c.0 == term) {
                chosen.push((term, v >> 32));
            }
        }
        let mut alts: Vec<Alternative> = Vec::with_capacity(chosen.len() + 1);
        for (term, mask) in &chosen {
            alts.push(Alternative { terms: vec![(term.clone(), *mask)], weight: PART_ALONE, parts: true });
        }
        alts.push(Alternative { terms: chosen, weight: SPLIT_PARTS, parts: true });
        Some(alts)
    }

    fn hit(
        &self,
        addr: DocAddress,
        score: Score,
        matcher: &mut Matcher<'_>,
        analyzers: &mut Vec<(String, TextAnalyzer)>,
    ) -> Result<Hit, SearchError> {
        let (doc, kept) = self.docs.get(&self.searcher, &self.fields, addr)?;
        // A kept document's words are cut and analyzed once, for all queries.
        let cut = kept.then_some(&*doc);
        let lang = doc.lang.as_str();
        let (title, summary, url) = (doc.title.as_str(), doc.summary.as_str(), doc.url.as_str());
        let sections: Vec<StoredSection<'_>> =
            doc.sections().map(|[anchor, heading, text]| StoredSection { anchor, heading, text }).collect();
        let at = match analyzers.iter().position(|(l, _)| l == lang) {
            Some(at) => at,
            None => {
                let an = self.analyzers.get(lang).cloned().unwrap_or_else(|| crate::analysis::analyzer(lang));
                analyzers.push((lang.to_owned(), an));
                analyzers.len() - 1
            }
        };
        let an = &mut analyzers[at].1;
        matcher.language(lang);
        let mut hit = Hit {
            title: title.to_owned(),
            url: url.to_owned(),
            snippet: String::new(),
            category: doc.category_title.clone(),
            score,
            lang: lang.to_owned(),
            article: doc.article,
        };
        // A long article leads to its best matching section: each matching word counts once,
        // twice in the heading, and a little more for every repeat.
        let mut snippet = None;
        if doc.long {
            let mut best: Option<(Score, &StoredSection<'_>, Vec<Match<'_>>)> = None;
            for s in &sections {
                let in_heading = matcher.matches_in(an, cut, s.heading);
                let in_text = matcher.matches_in(an, cut, s.text);
                let score = section_score(matcher.terms, &in_heading, &in_text);
                if score > 0.0 && best.as_ref().is_none_or(|b| score > b.0) {
                    best = Some((score, s, in_text));
                }
            }
            // Nothing matches in any section: the summary says best what the article is about.
            if let Some((_, s, in_text)) = best {
                if !s.anchor.is_empty() {
                    hit.url = [url, "#", s.anchor].concat();
                }
                if !s.heading.is_empty() {
                    hit.title = [title, " › ", s.heading].concat();
                }
                snippet = snippet_of(s.text, &in_text, matcher.terms, SNIPPET_CHARS);
                if snippet.is_none() && summary.is_empty() {
                    snippet = Some(plain_snippet(s.text, SNIPPET_CHARS));
                }
            }
        } else {
            let body = sections.iter().map(|s| s.text).collect::<Vec<_>>().join(" ");
            let mut matches = Vec::new();
            let mut at = 0;
            for s in &sections {
                matches.extend(matcher.matches_in(an, cut, s.text).into_iter().map(|(a, b, t)| (a + at, b + at, t)));
                at += s.text.len() + 1;
            }
            snippet = snippet_of(&body, &matches, matcher.terms, SNIPPET_CHARS);
            if snippet.is_none() && summary.is_empty() {
                snippet = Some(plain_snippet(&body, SNIPPET_CHARS));
            }
        }
        hit.snippet = match snippet {
            Some(s) => s,
            None => {
                let matches = matcher.matches(an, summary);
                snippet_of(summary, &matches, matcher.terms, SNIPPET_CHARS).unwrap_or_else(|| {
                    if summary.is_empty() {
                        plain_snippet(&sections.iter().map(|s| s.text).collect::<Vec<_>>().join(" "), SNIPPET_CHARS)
                    } else {
                        plain_snippet(summary, SNIPPET_CHARS)
                    }
                })
            }
        };
        Ok(hit)
    }
}

/// A section as stored: borrowed from the stored document.
#[derive(Debug, Clone, Copy)]
struct StoredSection<'a> {
    anchor: &'a str,
    heading: &'a str,
    text: &'a str,
}

/// A matching word in a text: (from, to, the term it matches).
type Match<'t> = (usize, usize, &'t str);

/// The terms to highlight, each with its weight.
pub(crate) type Terms = HashMap<String, Score, FxBuildHasher>;

/// How well a section matches: every matching term once, twice in the heading, repeats a
/// little.
fn section_score(terms: &Terms, in_heading: &[Match<'_>], in_text: &[Match<'_>]) -> Score {
    let mut seen: Vec<&str> = Vec::new();
    let mut score = 0.0;
    for (matches, factor) in [(in_heading, 2.0), (in_text, 1.0)] {
        for &(_, _, term) in matches {
            let w = terms.get(term).copied().unwrap_or(1.0);
            if seen.contains(&term) {
                score += 0.05 * w;
            } else {
                score += factor * w;
                seen.push(term);
            }
        }
    }
    score
}

/// Finds the words of texts that are one of a query's terms once analyzed: for highlighting,
/// and for picking the best section of a long article.
///
/// Stemming every word is what costs, so words are cut here without the analyzer, and only
/// words that begin like a term (or with `ge`, which the Dutch stemmer may take off) are
/// analyzed. Words are cut exactly as the analyzers' tokenizer cuts them (runs of letters and
/// digits; longer than the analyzers' limit are no words).
pub(crate) struct Matcher<'t> {
    terms: &'t Terms,
    /// The first (up to) two characters of every term.
    heads: Vec<&'t str>,
    /// The same for ascii heads, as a set of bits: `b0 << 8 | b1` for two letters, `b0` for one.
    ascii_heads: Vec<u64>,
    /// Lowercases and folds the words that are not plain ascii.
    words: Option<TextAnalyzer>,
    /// Word (lowercased and folded) -> the term it is, for the language of `memo_lang`: a
    /// word that occurs again is not analyzed again.
    memo: HashMap<String, Option<&'t str>, FxBuildHasher>,
    memo_lang: String,
    /// What words are analyzed to, kept between queries (by language and word).
    shared: Option<&'t WordTerms>,
    /// The terms' numbers in `shared`, once needed.
    wanted: Option<Vec<(u32, &'t str)>>,
    /// The matching words of the document last looked at by [`Matcher::matches_in`] (where its
    /// text is, 0 for none): their byte ranges in its sections.
    doc_at: usize,
    doc_matches: Vec<(u32, u32, &'t str)>,
    buf: String,
    key: String,
}

impl<'t> Matcher<'t> {
    pub(crate) fn new(terms: &'t Terms) -> Self {
        let mut heads: Vec<&str> = terms.keys().map(|t| head(t, 2)).collect();
        heads.sort_unstable();
        heads.dedup();
        let mut ascii_heads = vec![0u64; 1 << 10];
        for h in heads.iter().copied().chain(["ge"]) {
            if let Some(bit) = ascii_head_bit(h.as_bytes()) {
                ascii_heads[bit >> 6] |= 1 << (bit & 63);
            }
        }
        Matcher {
            terms,
            heads,
            ascii_heads,
            words: None,
            memo: HashMap::default(),
            memo_lang: String::new(),
            shared: None,
            wanted: None,
            doc_at: 0,
            doc_matches: Vec::new(),
            buf: String::new(),
            key: String::new(),
        }
    }

    /// Keeps what words are analyzed to in `shared` too, for later queries.
    pub(crate) fn shared(mut self, shared: &'t WordTerms) -> Self {
        self.shared = Some(shared);
        self
    }

    /// The language of the texts to come (the analyzer given to [`Matcher::matches`]).
    fn language(&mut self, lang: &str) {
        if self.memo_lang != lang {
            self.memo.clear();
            lang.clone_into(&mut self.memo_lang);
        }
    }

    /// The words of `text` that `an` turns into one of the terms, in order.
    pub(crate) fn matches(&mut self, an: &mut TextAnalyzer, text: &str) -> Vec<Match<'t>> {
        let mut out = Vec::new();
        for (from, to, ascii) in words(text) {
            let word = &text[from..to];
            self.buf.clear();
            if ascii {
                let bit = ascii_head_bit(&word.as_bytes()[..word.len().min(2)]).unwrap_or(0);
                if self.ascii_heads[bit >> 6] & (1 << (bit & 63)) == 0 {
                    continue;
                }
                self.buf.extend(word.bytes().map(|c| char::from(c.to_ascii_lowercase())));
            } else {
                let words = self.words.get_or_insert_with(word_analyzer);
                let Some(w) = tokens(words, word).pop() else { continue };
                if !(w.text.starts_with("ge") || self.heads.contains(&head(&w.text, 2))) {
                    continue;
                }
                self.buf.push_str(&w.text);
            }
            let term = match self.memo.get(self.buf.as_str()) {
                Some(&known) => known,
                None => {
                    let terms = self.terms;
                    let is_term = |t: &str| terms.get_key_value(t).map(|(t, _)| t.as_str());
                    // A word is one token at most (words are cut as the tokenizer cuts them).
                    let found = match self.shared {
                        Some(shared) => {
                            self.shared_key();
                            shared.with(&self.key, || tokens(an, word).pop().map(|t| t.text), |t| t.and_then(is_term))
                        }
                        None => tokens(an, word).iter().find_map(|t| is_term(&t.text)),
                    };
                    self.memo.insert(self.buf.clone(), found);
                    found
                }
            };
            if let Some(term) = term {
                out.push((from, to, term));
            }
        }
        out
    }

    /// The key of the word in `buf` in the shared analysis: the language, US, the word.
    fn shared_key(&mut self) {
        self.key.clear();
        self.key.push_str(&self.memo_lang);
        self.key.push('\u{1f}');
        self.key.push_str(&self.buf);
    }

    /// [`Matcher::matches`] for `text`, a part of the sections of a cached document (`doc`),
    /// from the document's words: cut and analyzed when it is first shown, then compared as
    /// numbers. Other texts, and every text without `doc` or the shared analysis, are scanned.
    pub(crate) fn matches_in(&mut self, an: &mut TextAnalyzer, doc: Option<&StoredDoc>, text: &str) -> Vec<Match<'t>> {
        let (Some(doc), Some(shared)) = (doc, self.shared) else { return self.matches(an, text) };
        let all = doc.sections.as_str();
        let Some(base) =
            (text.as_ptr() as usize).checked_sub(all.as_ptr() as usize).filter(|b| b + text.len() <= all.len())
        else {
            return self.matches(an, text);
        };
        let end = base + text.len();
        let at = all.as_ptr() as usize;
        if self.doc_at != at {
            // A document's matching words are found once, for all of its texts.
            let words = doc.words.get_or_init(|| self.doc_words(an, shared, all));
            let terms = self.terms;
            let wanted = self.wanted.get_or_insert_with(|| {
                terms.keys().filter_map(|t| shared.term_id(t).map(|id| (id, t.as_str()))).collect()
            });
            self.doc_matches.clear();
            for &(id, term) in wanted.iter() {
                self.doc_matches.extend(words.of(id).iter().map(|&(from, to)| (from, to, term)));
            }
            self.doc_matches.sort_unstable_by_key(|m| m.0);
            self.doc_at = at;
        }
        let first = self.doc_matches.partition_point(|m| (m.0 as usize) < base);
        let mut out = Vec::new();
        for &(from, to, term) in &self.doc_matches[first..] {
            if from as usize >= end {
                break;
            }
            out.push((from as usize - base, to as usize - base, term));
        }
        out
    }

    /// The words of `text` that have a term in the current language, with its number.
    fn doc_words(&mut self, an: &mut TextAnalyzer, shared: &WordTerms, text: &str) -> DocWords {
        let mut out = Vec::new();
        for (from, to, ascii) in words(text) {
            let word = &text[from..to];
            self.buf.clear();
            if ascii {
                self.buf.extend(word.bytes().map(|c| char::from(c.to_ascii_lowercase())));
            } else {
                let words = self.words.get_or_insert_with(word_analyzer);
                let Some(w) = tokens(words, word).pop() else { continue };
                self.buf.push_str(&w.text);
            }
            self.shared_key();
            let id = shared.with(
                &self.key,
                || tokens(an, word).pop().map(|t| t.text),
                |t| t.and_then(|t| shared.term_id(t)),
            );
            if let (Some(id), Ok(from), Ok(to)) = (id, u32::try_from(from), u32::try_from(to)) {
                out.push((from, to, id));
            }
        }
        DocWords::new(out)
    }
}

/// The bit of a one or two letter ascii head (lowercased) in [`Matcher::ascii_heads`].
fn ascii_head_bit(head: &[u8]) -> Option<usize> {
    match *head {
        [a] if a.is_ascii() => Some(usize::from(a.to_ascii_lowercase())),
        [a, b] if a.is_ascii() && b.is_ascii() => {
            Some(usize::from(a.to_ascii_lowercase()) << 8 | usize::from(b.to_ascii_lowercase()))
        }
        _ => None,
    }
}

/// The words of `text` that are one of `terms` once analyzed by `an`.
#[cfg(test)]
fn matching_tokens<'t>(an: &mut TextAnalyzer, text: &str, terms: &'t Terms) -> Vec<Match<'t>> {
    Matcher::new(terms).matches(an, text)
}

/// The first key after every key that begins with `prefix` (`wachtwoorc` -> `wachtwoord`);
/// `None` when there is none (no prefix, or only 0xff bytes).
fn after_prefix(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut next = prefix.to_vec();
    while let Some(last) = next.pop() {
        if last < u8::MAX {
            next.push(last + 1);
            return Some(next);
        }
    }
    None
}

/// The first `n` characters of `s`.
fn head(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// `s` cut to at most `max` bytes at a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The query as an answer repeats it: what was searched, trimmed.
pub fn echo(query: &str) -> &str {
    clip(query, MAX_QUERY_BYTES).trim()
}

/// What a query means to [`SearchIndex::search`]: its words as searched (lowercased, folded,
/// at most [`MAX_WORDS`]), and a final space when the last word is finished. Queries with the
/// same key have the same results (only the echoed `query` differs): `Wachtwoord  vergeten`
/// and `wachtwoord vergeten` are one, `wachtwoord` and `wachtwoord ` are two (the first also
/// matches words it begins).
pub fn query_key(query: &str) -> String {
    let query = clip(query, MAX_QUERY_BYTES);
    let mut key = String::with_capacity(query.len() + 1);
    for (i, w) in tokens(&mut word_analyzer(), query).into_iter().take(MAX_WORDS).enumerate() {
        if i > 0 {
            key.push(' ');
        }
        key.push_str(&w.text);
    }
    if query.ends_with(char::is_whitespace) {
        key.push(' ');
    }
    key
}

/// Optimal string alignment distance (an adjacent transposition is one edit), on chars.
pub fn edit_distance(a: &str, b: &str) -> u32 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0u32; b.len() + 1];
    let mut prev: Vec<u32> = (0..=b.len() as u32).collect();
    let mut cur = vec![0u32; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i as u32;
        for j in 1..=b.len() {
            let cost = u32::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A window of about `max` characters of `text` around the best cluster of matching words,
/// as HTML with the matches in `<mark>`. `None` when nothing in `text` matches.
#[cfg(test)]
pub(crate) fn snippet(an: &mut TextAnalyzer, text: &str, terms: &Terms, max: usize) -> Option<String> {
    snippet_of(text, &matching_tokens(an, text, terms), terms, max)
}

/// [`snippet`] with the matches already found.
fn snippet_of(text: &str, matches: &[Match<'_>], terms: &Terms, max: usize) -> Option<String> {
    if matches.is_empty() {
        return None;
    }
    // The window start (a match) that covers the most distinct terms within `max` bytes.
    let mut best = (0.0, 0usize);
    for i in 0..matches.len() {
        let mut distinct: Vec<&str> = Vec::new();
        let mut score = 0.0;
        for m in matches[i..].iter().take_while(|m| m.1 - matches[i].0 <= max) {
            if distinct.contains(&m.2) {
                score += 0.1;
            } else {
                distinct.push(m.2);
                score += terms.get(m.2).copied().unwrap_or(1.0);
            }
        }
        if score > best.0 {
            best = (score, i);
        }
    }
    let first = matches[best.1];
    let last_in_window = matches[best.1..].iter().take_while(|m| m.1 - first.0 <= max).last().copied().unwrap_or(first);
    let span = last_in_window.1 - first.0;
    // Some context before the first match, starting at a word (or sentence) boundary.
    let lead = (max.saturating_sub(span)) / 3;
    let mut start = floor_boundary(text, first.0.saturating_sub(lead));
    if start > 0 {
        start = match text[start..first.0].find(['.', '!', '?', ':']) {
            Some(p) => start + p + 1,
            None => text[start..first.0].find(char::is_whitespace).map_or(first.0, |p| start + p),
        };
        if first.0 - start < 12 && first.0 < max / 2 {
            start = 0;
        }
    }
    while start < text.len() && text[start..].starts_with(char::is_whitespace) {
        start += text[start..].chars().next().map_or(1, char::len_utf8);
    }
    let mut end = floor_boundary(text, (start + max).min(text.len()));
    if end < text.len() {
        end = text[..end].rfind(char::is_whitespace).filter(|&e| e > last_in_window.1).unwrap_or(end);
    }
    let mut html = String::with_capacity(max * 2);
    if start > 0 {
        html.push('…');
    }
    let mut at = start;
    for &(from, to, _) in matches.iter().filter(|m| m.0 >= start && m.1 <= end) {
        if from < at {
            continue;
        }
        push_escaped(&mut html, &text[at..from]);
        html.push_str("<mark>");
        push_escaped(&mut html, &text[from..to]);
        html.push_str("</mark>");
        at = to;
    }
    push_escaped(&mut html, text[at..end].trim_end());
    if end < text.len() {
        html.push('…');
    }
    Some(html)
}

/// The beginning of `text`, escaped, without highlights.
pub(crate) fn plain_snippet(text: &str, max: usize) -> String {
    let text = text.trim();
    let mut html = String::new();
    if text.len() <= max {
        push_escaped(&mut html, text);
        return html;
    }
    let end = floor_boundary(text, max);
    let end = text[..end].rfind(char::is_whitespace).unwrap_or(end);
    push_escaped(&mut html, text[..end].trim_end());
    html.push('…');
    html
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query, TermQuery};
    use tantivy::schema::IndexRecordOption;

    use super::*;
    use crate::schema::{PART_WEIGHTS, WEIGHTS};

    /// What a query is limited to.
    #[derive(Debug, Clone, Copy, Default)]
    struct Filter<'a> {
        lang: Option<&'a str>,
        category: Option<&'a str>,
    }

    /// The tantivy query of a plan (what [`crate::score`] computes, for comparing): per word the best of its alternatives, each summed over the
    /// fields it occurs in with the fields' weights (all the terms of an alternative must
    /// match); words add up. `None` when nothing can match.
    fn tantivy_query(index: &SearchIndex, plan: &Plan, filter: Filter<'_>) -> Option<Box<dyn Query>> {
        let Filter { lang, category } = filter;
        let f = &index.fields;
        let term_query = |term: &str, mask: u64, weight: Score, parts: bool| -> Option<Box<dyn Query>> {
            let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            let fields = WEIGHTS.iter().filter(|(sf, _)| mask & sf.bit() != 0).map(|&(sf, w)| (f.field(sf), w));
            let part_fields =
                PART_WEIGHTS.iter().filter(|(pf, _)| parts && mask & pf.bit() != 0).map(|&(pf, w)| (f.part(pf), w));
            for (field, w) in fields.chain(part_fields) {
                let term = Term::from_field_text(field, term);
                let q: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                per_field.push((Occur::Should, Box::new(BoostQuery::new(q, w * weight))));
            }
            match per_field.len() {
                0 => None,
                1 => per_field.pop().map(|(_, q)| q),
                _ => Some(Box::new(BooleanQuery::new(per_field))),
            }
        };
        let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for alts in &plan.words {
            let mut disjuncts: Vec<Box<dyn Query>> = Vec::new();
            for alt in alts {
                if let [(term, mask)] = alt.terms.as_slice() {
                    disjuncts.extend(term_query(term, *mask, alt.weight, alt.parts));
                    continue;
                }
                let all: Option<Vec<(Occur, Box<dyn Query>)>> = alt
                    .terms
                    .iter()
                    .map(|(term, mask)| term_query(term, *mask, alt.weight, alt.parts).map(|q| (Occur::Must, q)))
                    .collect();
                if let Some(all) = all.filter(|a| !a.is_empty()) {
                    disjuncts.push(Box::new(BooleanQuery::new(all)));
                }
            }
            match disjuncts.len() {
                0 => {}
                1 => words.push((Occur::Should, disjuncts.pop()?)),
                _ => words.push((Occur::Should, Box::new(DisjunctionMaxQuery::new(disjuncts)))),
            }
        }
        if words.is_empty() {
            return None;
        }
        let words: Box<dyn Query> = Box::new(BooleanQuery::new(words));
        if lang.is_none() && category.is_none() {
            return Some(words);
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, words)];
        let filter = |field, value: &str| -> Box<dyn Query> {
            let q = TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic);
            Box::new(ConstScoreQuery::new(Box::new(q), 0.0))
        };
        if let Some(l) = lang {
            clauses.push((Occur::Must, filter(f.language, l)));
        }
        if let Some(c) = category {
            clauses.push((Occur::Must, filter(f.category, c)));
        }
        Some(Box::new(BooleanQuery::new(clauses)))
    }

    #[test]
    fn edit_distance_counts_transpositions_once() {
        assert_eq!(edit_distance("factuur", "factuur"), 0);
        assert_eq!(edit_distance("factuur", "factuu"), 1);
        assert_eq!(edit_distance("wachtwoord", "wachtwoodr"), 1);
        assert_eq!(edit_distance("abc", "xyz"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
    }

    #[test]
    fn clip_respects_char_boundaries() {
        assert_eq!(clip("ééé", 3), "é");
        assert_eq!(clip("abc", 10), "abc");
    }

    #[test]
    fn snippets_mark_matches_and_escape_the_rest() {
        let mut an = crate::analysis::analyzer("nl");
        let terms: Terms = [(crate::analysis::terms("nl", "factuur").remove(0), 1.0)].into_iter().collect();
        let html = snippet(&mut an, "U vindt <b>de</b> facturen & bonnen hier.", &terms, 150).unwrap();
        assert_eq!(html, "U vindt &lt;b&gt;de&lt;/b&gt; <mark>facturen</mark> &amp; bonnen hier.");
        assert!(snippet(&mut an, "niets", &terms, 150).is_none());
    }

    /// What [`Matcher`] does faster: every word through the word analyzer, the ones that begin
    /// like a term (or with `ge`) through the language's analyzer.
    fn every_word_analyzed(an: &mut TextAnalyzer, text: &str, terms: &Terms) -> Vec<(usize, usize, String)> {
        let starts: Vec<&str> = terms.keys().map(|t| head(t, 2)).collect();
        let mut out = Vec::new();
        for w in tokens(&mut word_analyzer(), text) {
            if !(w.text.starts_with("ge") || starts.contains(&head(&w.text, 2))) {
                continue;
            }
            for t in tokens(an, &w.text) {
                if terms.contains_key(&t.text) {
                    out.push((w.offset_from, w.offset_to, t.text));
                }
            }
        }
        out
    }

    #[test]
    fn the_matcher_finds_what_analyzing_every_word_finds() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../content/faq/nl/account");
        let mut text = String::from(
            "Ideeën, ÉÉN e-mail; café-achtige GEBRUIKERS wachtwoorden. Straße ﬁle Øresund x 12ab 2026 \
             Gebruikersnamen, gegevens en GEGEVENS. Wachtwoord\u{a0}vergeten? naïef Ĳssel ĳs \
             aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa wachtwoord",
        );
        for e in std::fs::read_dir(root).expect("content").flatten() {
            text.push_str(&std::fs::read_to_string(e.path()).expect("read"));
        }
        let mut an = crate::analysis::analyzer("nl");
        let shared = crate::stored::WordTerms::default();
        for query in
            ["wachtwoord", "gebruiker gegevens", "e-mail idee", "cafe een", "straße oresund", "12ab x", "ijssel"]
        {
            let terms: Terms = crate::analysis::terms("nl", query).into_iter().map(|t| (t, 1.0)).collect();
            let fast: Vec<(usize, usize, String)> = Matcher::new(&terms)
                .matches(&mut an, &text)
                .into_iter()
                .map(|(a, b, t)| (a, b, t.to_owned()))
                .collect();
            let slow = every_word_analyzed(&mut an, &text, &terms);
            assert!(!slow.is_empty(), "{query}");
            assert_eq!(fast, slow, "{query}");
            // With what words are analyzed to kept between queries: the same, the first time
            // and again.
            for _ in 0..2 {
                let mut matcher = Matcher::new(&terms).shared(&shared);
                matcher.language("nl");
                let kept: Vec<(usize, usize, String)> =
                    matcher.matches(&mut an, &text).into_iter().map(|(a, b, t)| (a, b, t.to_owned())).collect();
                assert_eq!(kept, slow, "{query}");
            }
        }
    }

    /// The real articles, cut into sections at their `## ` headings.
    fn real_articles() -> Vec<crate::Article> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../content/faq");
        let mut out = Vec::new();
        for lang in ["nl", "en"] {
            for cat in std::fs::read_dir(root.join(lang)).expect("content").flatten() {
                for file in std::fs::read_dir(cat.path()).into_iter().flatten().flatten() {
                    let text = std::fs::read_to_string(file.path()).expect("read");
                    let mut sections = vec![crate::Section::default()];
                    for line in text.lines() {
                        if let Some(h) = line.strip_prefix("## ") {
                            let anchor = crate::text::slugify(h);
                            sections.push(crate::Section { anchor, heading: h.to_owned(), text: String::new() });
                        } else if let Some(s) = sections.last_mut() {
                            s.text.push_str(line);
                            s.text.push('\n');
                        }
                    }
                    let name = file.file_name().to_string_lossy().into_owned();
                    out.push(crate::Article {
                        lang: lang.into(),
                        category: cat.file_name().to_string_lossy().into_owned(),
                        url: format!("/{lang}/{name}/"),
                        title: name,
                        sections,
                        ..Default::default()
                    });
                }
            }
        }
        out
    }

    #[test]
    fn results_from_kept_documents_are_the_results_of_scanning() {
        let articles = real_articles();
        assert!(articles.iter().filter(|a| a.is_long()).count() >= 3, "some long articles");
        let kept = crate::build(&articles).expect("build").index;
        let mut scanned = crate::build(&articles).expect("build").index;
        scanned.docs = crate::stored::DocCache::with_budget(&scanned.searcher, 0);
        let queries = [
            ("wachtwoord vergeten", "nl"),
            ("abonnement wijzigen", "nl"),
            ("ticket aanmaken bijlagen", "nl"),
            ("inloggen lukt niet", "nl"),
            ("reactie termijn supportniveau", "nl"),
            ("telefoon", "nl"),
            ("password reset", "en"),
            ("attachments", "en"),
            ("ticket status", "en"),
            ("wachtw", "nl"),
        ];
        for round in 0..2 {
            for (q, lang) in queries {
                let req = SearchRequest::new(q).lang(lang).limit(20);
                let a = serde_json::to_string(&kept.search(&req).expect("search")).expect("json");
                let b = serde_json::to_string(&scanned.search(&req).expect("search")).expect("json");
                assert!(a.contains("<mark>"), "{q}: {a}");
                assert_eq!(a, b, "{q}, round {round}");
            }
        }
        assert!(kept.docs.get(&kept.searcher, &kept.fields, DocAddress::new(0, 0)).expect("doc").1);
    }

    /// Every query of the relevance sets, as typed and while being typed (the words so far).
    fn many_queries() -> Vec<(String, Option<&'static str>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
        let mut out = Vec::new();
        for file in ["relevance.toml", "questions.toml"] {
            let text = std::fs::read_to_string(dir.join(file)).expect("queries");
            for line in text.lines() {
                let Some(q) = line.strip_prefix("q = \"").and_then(|q| q.strip_suffix('"')) else { continue };
                for lang in [Some("nl"), Some("en"), None] {
                    out.push((q.to_owned(), lang));
                }
                out.push((format!("{q} "), Some("nl")));
                if let Some((start, _)) = q.rsplit_once(' ') {
                    out.push((format!("{start} "), None));
                }
            }
        }
        out
    }

    /// Scores and order of the term-at-a-time scoring against tantivy's own query: documents
    /// may only trade places where their scores are equal to float rounding.
    fn same_as_tantivy(index: &SearchIndex, query: &str, lang: Option<&str>, category: Option<&str>, offset: usize) {
        let langs: Vec<&str> = match lang {
            Some(l) => vec![l],
            None => index.languages.iter().map(String::as_str).collect(),
        };
        let plan = index.plan(query, &langs);
        let limit = 10;
        let ours = match index.scoring(&plan).expect("scoring") {
            s if s.is_empty() => (Vec::new(), 0),
            s => {
                let lang = lang.map(|l| {
                    let i = index.languages.iter().position(|x| x == l).expect("language");
                    (i as u8, index.doc_langs.as_slice())
                });
                score::top(&index.tables, &s, Only { lang, category }, &index.searcher, limit, offset).expect("top")
            }
        };
        let theirs = match tantivy_query(index, &plan, Filter { lang, category }) {
            None => (Vec::new(), 0),
            Some(q) => {
                let top = TopDocs::with_limit(limit).and_offset(offset).order_by_score();
                index.searcher.search(&*q, &(top, Count)).expect("search")
            }
        };
        let what = format!("{query:?} {lang:?} {category:?} +{offset}");
        assert_eq!(ours.1, theirs.1, "total of {what}");
        assert_eq!(ours.0.len(), theirs.0.len(), "{what}");
        let close = |a: Score, b: Score| (a - b).abs() <= 1e-4 * a.abs().max(1.0);
        for (i, ((a, da), (b, db))) in ours.0.iter().zip(&theirs.0).enumerate() {
            assert!(close(*a, *b), "{what}: #{i} scores {a} against {b}");
            if da != db {
                // Only a tie may be ordered otherwise: the other document has the same score.
                let other = theirs.0.iter().chain(&ours.0).find(|(_, d)| d == da).map(|(s, _)| *s);
                assert!(other.is_some_and(|s| close(s, *a)), "{what}: #{i} {da:?} against {db:?}");
            }
        }
    }

    #[test]
    fn term_at_a_time_scores_are_tantivys_scores() {
        let articles = real_articles();
        let built = crate::build(&articles).expect("build");
        let index = &built.index;
        let queries = many_queries();
        assert!(queries.len() > 500, "{}", queries.len());
        for (q, lang) in &queries {
            same_as_tantivy(index, q, *lang, None, 0);
        }
        for (q, lang) in queries.iter().step_by(7) {
            same_as_tantivy(index, q, *lang, Some("account"), 0);
            same_as_tantivy(index, q, *lang, None, 3);
        }
        // With deleted documents and several segments: an updated index.
        let (built, mut updater) = crate::build_updatable(&articles).expect("build");
        drop(built);
        for n in (0..articles.len()).step_by(3) {
            let mut a = articles[n].clone();
            a.title.push_str(" wachtwoordkluis");
            updater.replace(n, &a).expect("replace");
        }
        let index = updater.open().expect("open");
        assert!(index.searcher.segment_readers().len() > 1);
        assert!(index.searcher.segment_readers().iter().any(|s| s.num_deleted_docs() > 0));
        for (q, lang) in queries.iter().step_by(3) {
            same_as_tantivy(&index, q, *lang, None, 0);
        }
        same_as_tantivy(&index, "wachtwoordkluis", Some("nl"), None, 0);
    }

    /// The total's scores read at once and as they were touched: the same results, scores to
    /// the bit and totals.
    #[test]
    fn a_total_read_at_once_is_the_total_read_as_touched() {
        let articles = real_articles();
        let (built, mut updater) = crate::build_updatable(&articles).expect("build");
        let fresh = built.index;
        for n in (0..articles.len()).step_by(3) {
            let mut a = articles[n].clone();
            a.title.push_str(" wachtwoordkluis");
            updater.replace(n, &a).expect("replace");
        }
        let updated = updater.open().expect("open");
        assert!(updated.searcher.segment_readers().iter().any(|s| s.num_deleted_docs() > 0));
        for index in [&fresh, &updated] {
            let nl = index.languages.iter().position(|x| x == "nl").expect("nl") as u8;
            for (q, langs) in
                [("wachtwoordkluis", vec!["nl"])].into_iter().chain(many_queries().iter().step_by(2).map(|(q, l)| {
                    (q.as_str(), l.map_or_else(|| index.languages.iter().map(String::as_str).collect(), |l| vec![l]))
                }))
            {
                let scoring = index.scoring(&index.plan(q, &langs)).expect("scoring");
                for (lang, category, limit, offset) in
                    [(None, None, 10, 0), (Some(nl), None, 3, 0), (Some(nl), Some("account"), 5, 2), (None, None, 0, 0)]
                {
                    let only = Only { lang: lang.map(|l| (l, index.doc_langs.as_slice())), category };
                    let top = |dense| {
                        score::DENSE.with(|d| d.set(Some(dense)));
                        let r = score::top(&index.tables, &scoring, only, &index.searcher, limit, offset).expect("top");
                        score::DENSE.with(|d| d.set(None));
                        (r.0.iter().map(|(s, d)| (s.to_bits(), *d)).collect::<Vec<_>>(), r.1)
                    };
                    assert_eq!(top(true), top(false), "{q:?} {lang:?} {category:?} {limit}+{offset}");
                }
            }
        }
    }

    #[test]
    fn a_word_is_planned_alike_from_the_memo() {
        let index = crate::build(&real_articles()).expect("build").index;
        let mut queries = many_queries();
        // Typos and unfinished words, typed and done.
        queries.extend(
            ["wachtwoord vergetn", "tickte", "wachtw", "factuur adm", "klanten kaart", "log in te loggen"]
                .iter()
                .flat_map(|q| [(q.to_string(), Some("nl")), (format!("{q} "), None)]),
        );
        let langs = |lang: Option<&'static str>| -> Vec<&str> {
            match lang {
                Some(l) => vec![l],
                None => index.languages.iter().map(String::as_str).collect(),
            }
        };
        let planned = |q: &str, lang| format!("{:?}", index.plan(q, &langs(lang)));
        let mut fresh = Vec::new();
        for (q, lang) in &queries {
            *index.plans.words.write().unwrap() = HashMap::default();
            *index.plans.pairs.write().unwrap() = HashMap::default();
            fresh.push(planned(q, *lang));
        }
        // Every word met before, in other queries, typed or not.
        for (q, lang) in queries.iter().rev() {
            planned(q, *lang);
        }
        assert!(index.plans.words.read().unwrap().len() > 100);
        for ((q, lang), fresh) in queries.iter().zip(&fresh) {
            assert_eq!(&planned(q, *lang), fresh, "{q:?} in {lang:?}");
        }
    }

    #[test]
    fn the_words_beginning_a_prefix_are_a_range_of_numbers() {
        let index = crate::build(&real_articles()).expect("build").index;
        let mut all: Vec<(Vec<u8>, usize)> = Vec::new();
        let mut stream = index.words.stream();
        while let Some((k, w)) = stream.next() {
            all.push((k.to_vec(), w as usize));
        }
        assert!(all.len() > 500);
        let mut prefixes: Vec<String> = vec!["".into(), "zzzz".into(), "é".into(), "wachtwoordx".into()];
        for (k, _) in all.iter().step_by(7) {
            let word = String::from_utf8(k.clone()).expect("utf-8");
            prefixes.extend(word.char_indices().skip(1).map(|(i, _)| word[..i].to_owned()));
            prefixes.push(word);
        }
        for p in &prefixes {
            let slow: Vec<usize> = all.iter().filter(|(k, _)| k.starts_with(p.as_bytes())).map(|(_, w)| *w).collect();
            let fast: Vec<usize> = index.words_beginning(p).collect();
            assert_eq!(fast, slow, "{p:?}");
        }
    }

    #[test]
    fn long_snippets_are_cut_at_words_around_the_match() {
        let mut an = crate::analysis::analyzer("nl");
        let terms: Terms = [(crate::analysis::terms("nl", "wachtwoord").remove(0), 1.0)].into_iter().collect();
        let text = format!("{} Kies een nieuw wachtwoord. {}", "woord ".repeat(60), "staart ".repeat(60));
        let html = snippet(&mut an, &text, &terms, 80).unwrap();
        assert!(html.starts_with('…') && html.ends_with('…'), "{html}");
        assert!(html.contains("<mark>wachtwoord</mark>"), "{html}");
        assert!(html.chars().count() < 110, "{html}");
    }
}
