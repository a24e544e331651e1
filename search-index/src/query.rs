//! Searching: what users type becomes a safe, typo-tolerant query; hits become results with
//! highlighted snippets.
//!
//! There is no query language: every character that is not part of a word separates words,
//! so `"(:*^~` and friends can never cause an error. Each word matches its stem in every
//! language searched (word forms), words of 4 or more letters also match terms one edit away
//! (two for long words), and the last word, while it is being typed, also matches terms it is
//! the beginning of. A result in a long article leads to its best matching section.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Score, TantivyDocument, Term};
use tantivy_fst::{IntoStreamer, Streamer};

use crate::analysis::{tokens, word_analyzer};
use crate::index::{Article, RECORD_SEP, SearchError, SearchIndex, Section, UNIT_SEP};
use crate::schema::WEIGHTS;

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
/// Body words a related-articles query uses.
const RELATED_BODY_TERMS: usize = 6;
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

/// What a query is limited to.
#[derive(Debug, Clone, Copy, Default)]
struct Filter<'a> {
    lang: Option<&'a str>,
    category: Option<&'a str>,
}

/// One alternative term for a query word, with how much it counts.
#[derive(Debug, Clone)]
struct Alternative {
    term: String,
    weight: Score,
    /// The fields it occurs in (see [`SearchField::bit`]).
    mask: u64,
}

/// How a query is matched: per word, its alternatives.
#[derive(Debug, Default)]
struct Plan {
    words: Vec<Vec<Alternative>>,
}

impl Plan {
    /// Term -> weight, for highlighting.
    fn highlight_terms(&self) -> HashMap<String, Score> {
        let mut out: HashMap<String, Score> = HashMap::new();
        for alts in &self.words {
            for a in alts {
                let w = out.entry(a.term.clone()).or_default();
                *w = w.max(a.weight);
            }
        }
        out
    }
}

impl SearchIndex {
    /// Searches. Never fails on what a user typed; an empty or meaningless query has no results.
    pub fn search(&self, req: &SearchRequest<'_>) -> Result<SearchResults, SearchError> {
        let query_text = clip(req.query, MAX_QUERY_BYTES);
        let mut out = SearchResults { query: query_text.trim().to_owned(), ..SearchResults::default() };
        let langs: Vec<&str> = match req.lang {
            Some(l) => vec![l],
            None => self.languages.iter().map(String::as_str).collect(),
        };
        let plan = self.plan(query_text, &langs);
        let filter = Filter { lang: req.lang, category: req.category };
        let Some(query) = self.query(&plan, filter) else { return Ok(out) };
        let limit = req.limit.clamp(1, MAX_LIMIT);
        let top = TopDocs::with_limit(limit).and_offset(req.offset.min(10_000)).order_by_score();
        let (top, total) = self.searcher.search(&*query, &(top, Count))?;
        out.total = total;
        let terms = plan.highlight_terms();
        for (score, addr) in top {
            out.results.push(self.hit(addr, score, &terms)?);
        }
        Ok(out)
    }

    /// Articles like article number `index` (`article` as given to the build), in its own
    /// language: its title, tags, description and most telling body words matched against the
    /// others; the same category breaks ties and fills up. Article numbers, best first.
    pub fn related(&self, index: usize, article: &Article, limit: usize) -> Result<Vec<usize>, SearchError> {
        let Some(an) = self.analyzers.get(&article.lang) else { return Ok(Vec::new()) };
        let mut an = an.clone();
        let mut weights: BTreeMap<String, Score> = BTreeMap::new();
        let mut add = |an: &mut TextAnalyzer, text: &str, w: Score| {
            for t in tokens(an, text) {
                let e = weights.entry(t.text).or_default();
                *e = e.max(w);
            }
        };
        add(&mut an, &article.title, 2.0);
        for t in &article.tags {
            add(&mut an, t, 1.5);
        }
        add(&mut an, article.description.as_deref().unwrap_or(""), 1.0);
        // The body's rarest words that other documents share: what the article is about.
        let documents = self.searcher.num_docs().max(1);
        let mut body: Vec<(u64, String)> = Vec::new();
        for s in &article.sections {
            for t in tokens(&mut an, &s.text) {
                if weights.contains_key(&t.text) || body.iter().any(|b| b.1 == t.text) {
                    continue;
                }
                let df = self.vocab.get(t.text.as_bytes()).map_or(0, |v| v & 0xffff_ffff);
                if df >= 2 && df * 20 <= documents {
                    body.push((df, t.text));
                }
            }
        }
        body.sort_unstable();
        for (_, term) in body.into_iter().take(RELATED_BODY_TERMS) {
            weights.insert(term, 0.5);
        }
        // Words in more than one in twenty articles say little, and scanning them for every
        // article would make a large site's build slow.
        let common = (documents / 20).max(3);
        // One flat union of term queries, so that tantivy can skip what cannot reach the top
        // (block-max WAND); language, the article itself and category are sorted out after.
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (term, weight) in weights {
            let Some(v) = self.vocab.get(term.as_bytes()) else { continue };
            if v & 0xffff_ffff > common {
                continue;
            }
            for (sf, w) in WEIGHTS {
                if (v >> 32) & sf.bit() != 0 {
                    let t = TermQuery::new(
                        Term::from_field_text(self.fields.field(sf), &term),
                        IndexRecordOption::WithFreqs,
                    );
                    clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(t), w * weight))));
                }
            }
        }
        let mut found: Vec<(Score, usize)> = Vec::new();
        if !clauses.is_empty() {
            let query = BooleanQuery::new(clauses);
            let top = self.searcher.search(&query, &TopDocs::with_limit(limit * 3 + 1).order_by_score())?;
            let prefix = format!("/{}/", article.lang);
            let category = format!("/{}/{}/", article.lang, article.category);
            for (score, addr) in top {
                let id = self.article_of(addr)? as usize;
                let url = self.article_url(id).unwrap_or_default();
                if id != index && url.starts_with(&prefix) {
                    found.push((score + if url.starts_with(&category) { 0.25 } else { 0.0 }, id));
                }
            }
        }
        found.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        found.truncate(limit);
        // Too few: the first other articles of the same category.
        if found.len() < limit {
            let category = format!("/{}/{}/", article.lang, article.category);
            for id in (0..self.articles()).filter(|&id| id != index) {
                if found.len() == limit {
                    break;
                }
                if self.article_url(id).is_some_and(|u| u.starts_with(&category)) && !found.iter().any(|f| f.1 == id) {
                    found.push((0.0, id));
                }
            }
        }
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    fn article_of(&self, addr: DocAddress) -> Result<u64, SearchError> {
        let col = self.searcher.segment_reader(addr.segment_ord).fast_fields().u64("article")?;
        Ok(col.first(addr.doc_id).unwrap_or(u64::MAX))
    }

    /// Cuts the query into words and finds each word's alternatives in the vocabulary.
    fn plan(&self, query: &str, langs: &[&str]) -> Plan {
        let typing = !query.ends_with(char::is_whitespace);
        let words = tokens(&mut word_analyzer(), query);
        let n = words.len().min(MAX_WORDS);
        let mut plan = Plan::default();
        let mut analyzers: Vec<TextAnalyzer> = langs.iter().filter_map(|l| self.analyzers.get(*l).cloned()).collect();
        for (i, word) in words.into_iter().take(n).enumerate() {
            let raw = word.text;
            let chars = raw.chars().count();
            let mut alts: Vec<Alternative> = Vec::new();
            let push = |alts: &mut Vec<Alternative>, term: String, weight: Score, value: u64| {
                if let Some(a) = alts.iter_mut().find(|a| a.term == term) {
                    a.weight = a.weight.max(weight);
                } else {
                    alts.push(Alternative { term, weight, mask: value >> 32 });
                }
            };
            // Word forms: the stem in every language searched. A stop word in every language
            // has no stems and matches nothing (unless it is being typed).
            let mut stems: Vec<String> = Vec::new();
            for an in &mut analyzers {
                for t in tokens(an, &raw) {
                    if !stems.contains(&t.text) {
                        stems.push(t.text);
                    }
                }
            }
            let mut exact = false;
            for stem in &stems {
                if let Some(v) = self.vocab.get(stem.as_bytes()) {
                    push(&mut alts, stem.clone(), 1.0, v);
                    exact = true;
                }
            }
            // The word being typed: the terms of the words it begins, most frequent first.
            let mut completions = 0;
            if typing && i + 1 == n && chars >= 2 {
                let mut found: Vec<(u64, String, u64)> = Vec::new();
                let mut stream = self.words.range().ge(raw.as_bytes()).into_stream();
                let mut seen = 0;
                while let Some((k, w)) = stream.next() {
                    seen += 1;
                    if seen > 400 || !k.starts_with(raw.as_bytes()) {
                        break;
                    }
                    for stem in self.word_stems.get(w as usize).into_iter().flatten() {
                        if let Some(v) = self.vocab.get(stem.as_bytes())
                            && !stems.contains(stem)
                            && !found.iter().any(|f| &f.1 == stem)
                        {
                            found.push((v & 0xffff_ffff, stem.clone(), v));
                        }
                    }
                }
                found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                completions = found.len();
                for (_, term, v) in found.into_iter().take(PREFIX_CANDIDATES) {
                    push(&mut alts, term, 0.6, v);
                }
            }
            // Typos: the terms of words one edit away (two for long words), for a word that is
            // not in the index, and is not the beginning of known words while it is typed.
            if !exact && !stems.is_empty() && chars >= MIN_FUZZY_CHARS && completions == 0 {
                let distance: u8 = if chars >= MIN_TWO_TYPOS_CHARS { 2 } else { 1 };
                let mut found: Vec<(u32, u64, String, u64)> = Vec::new();
                if let Ok(dfa) =
                    FuzzyTermQuery::new(Term::from_field_text(self.fields.title, &raw), distance, true).automaton()
                {
                    let mut stream = self.words.search(&dfa).into_stream();
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
                        let d = edit_distance(&raw, word);
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
                let mut taken: Vec<String> = Vec::new();
                for (d, _, term, v) in found {
                    if taken.len() == FUZZY_CANDIDATES {
                        break;
                    }
                    if taken.contains(&term) {
                        continue;
                    }
                    taken.push(term.clone());
                    let weight = if d <= 1 { 0.75 } else { 0.5 };
                    push(&mut alts, term, weight, v);
                }
            }
            if !alts.is_empty() {
                plan.words.push(alts);
            }
        }
        plan
    }

    /// The tantivy query of a plan: per word the best of its alternatives, each summed over the
    /// fields it occurs in with the fields' weights; words add up. `None` when nothing can
    /// match.
    fn query(&self, plan: &Plan, filter: Filter<'_>) -> Option<Box<dyn Query>> {
        let Filter { lang, category } = filter;
        let f = &self.fields;
        let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for alts in &plan.words {
            let mut disjuncts: Vec<Box<dyn Query>> = Vec::new();
            for alt in alts {
                let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for (sf, w) in WEIGHTS {
                    if alt.mask & sf.bit() == 0 {
                        continue;
                    }
                    let term = Term::from_field_text(f.field(sf), &alt.term);
                    let q: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                    per_field.push((Occur::Should, Box::new(BoostQuery::new(q, w * alt.weight))));
                }
                match per_field.len() {
                    0 => {}
                    1 => disjuncts.push(per_field.pop().map(|(_, q)| q)?),
                    _ => disjuncts.push(Box::new(BooleanQuery::new(per_field))),
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
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(BooleanQuery::new(words)))];
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

    fn hit(&self, addr: DocAddress, score: Score, terms: &HashMap<String, Score>) -> Result<Hit, SearchError> {
        let f = &self.fields;
        let doc: TantivyDocument = self.searcher.doc(addr)?;
        let get = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let lang = get(f.language);
        let title = get(f.stored_title);
        let summary = get(f.summary);
        let url = get(f.url);
        let stored = get(f.sections);
        let sections: Vec<Section> = stored
            .split(RECORD_SEP)
            .map(|s| {
                let mut parts = s.splitn(3, UNIT_SEP);
                let mut next = || parts.next().unwrap_or_default().to_owned();
                Section { anchor: next(), heading: next(), text: next() }
            })
            .collect();
        let mut an = self.analyzers.get(&lang).cloned().unwrap_or_else(|| crate::analysis::analyzer(&lang));
        let mut hit = Hit {
            title: title.clone(),
            url: url.clone(),
            snippet: String::new(),
            category: get(f.category_title),
            score,
            lang: lang.clone(),
            article: doc.get_first(f.article).and_then(|v| v.as_u64()).unwrap_or_default(),
        };
        // A long article leads to its best matching section.
        let best = if is_long(&sections) {
            sections
                .iter()
                .map(|s| (section_score(&mut an, s, terms), s))
                .filter(|(score, _)| *score > 0.0)
                .fold(None, |best: Option<(Score, &Section)>, x| match best {
                    Some(b) if b.0 >= x.0 => Some(b),
                    _ => Some(x),
                })
                .map(|(_, s)| s)
        } else {
            None
        };
        let body: String;
        let text = match best {
            Some(s) => {
                if !s.anchor.is_empty() {
                    hit.url = format!("{url}#{}", s.anchor);
                }
                if !s.heading.is_empty() {
                    hit.title = format!("{title} › {}", s.heading);
                }
                s.text.as_str()
            }
            None => {
                body = sections.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
                &body
            }
        };
        hit.snippet = snippet(&mut an, text, terms, SNIPPET_CHARS)
            .or_else(|| snippet(&mut an, &summary, terms, SNIPPET_CHARS))
            .unwrap_or_else(|| plain_snippet(if summary.is_empty() { text } else { &summary }, SNIPPET_CHARS));
        Ok(hit)
    }
}

/// How well a section matches: every matching term once, twice in the heading.
fn section_score(an: &mut TextAnalyzer, s: &Section, terms: &HashMap<String, Score>) -> Score {
    let mut seen: Vec<String> = Vec::new();
    let mut score = 0.0;
    for (text, factor) in [(&s.heading, 2.0), (&s.text, 1.0)] {
        for (_, _, term) in matching_tokens(an, text, terms) {
            let w = terms.get(term).copied().unwrap_or(1.0);
            if seen.iter().any(|t| t == term) {
                score += 0.05 * w;
            } else {
                score += factor * w;
                seen.push(term.to_owned());
            }
        }
    }
    score
}

/// The words of `text` that are one of `terms` once analyzed by `an`: (from, to, term).
/// Stemming every word is what costs: only words that begin like a term are stemmed (and
/// words starting with `ge`, which the Dutch stemmer may take off).
fn matching_tokens<'t>(
    an: &mut TextAnalyzer,
    text: &str,
    terms: &'t HashMap<String, Score>,
) -> Vec<(usize, usize, &'t str)> {
    let starts: Vec<&str> = terms.keys().map(|t| head(t, 2)).collect();
    let mut out = Vec::new();
    let mut words = word_analyzer();
    let mut stream = words.token_stream(text);
    while let Some(w) = stream.next() {
        if !(w.text.starts_with("ge") || starts.contains(&head(&w.text, 2))) {
            continue;
        }
        for t in tokens(an, &w.text) {
            if let Some((term, _)) = terms.get_key_value(&t.text) {
                out.push((w.offset_from, w.offset_to, term.as_str()));
            }
        }
    }
    out
}

/// The first `n` characters of `s`.
fn head(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

fn is_long(sections: &[Section]) -> bool {
    Article { sections: sections.to_vec(), ..Article::default() }.is_long()
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
pub(crate) fn snippet(an: &mut TextAnalyzer, text: &str, terms: &HashMap<String, Score>, max: usize) -> Option<String> {
    let matches: Vec<(usize, usize, &str)> = matching_tokens(an, text, terms);
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
    use super::*;

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
        let terms: HashMap<String, Score> = [(crate::analysis::terms("nl", "factuur").remove(0), 1.0)].into();
        let html = snippet(&mut an, "U vindt <b>de</b> facturen & bonnen hier.", &terms, 150).unwrap();
        assert_eq!(html, "U vindt &lt;b&gt;de&lt;/b&gt; <mark>facturen</mark> &amp; bonnen hier.");
        assert!(snippet(&mut an, "niets", &terms, 150).is_none());
    }

    #[test]
    fn long_snippets_are_cut_at_words_around_the_match() {
        let mut an = crate::analysis::analyzer("nl");
        let terms: HashMap<String, Score> = [(crate::analysis::terms("nl", "wachtwoord").remove(0), 1.0)].into();
        let text = format!("{} Kies een nieuw wachtwoord. {}", "woord ".repeat(60), "staart ".repeat(60));
        let html = snippet(&mut an, &text, &terms, 80).unwrap();
        assert!(html.starts_with('…') && html.ends_with('…'), "{html}");
        assert!(html.contains("<mark>wachtwoord</mark>"), "{html}");
        assert!(html.chars().count() < 110, "{html}");
    }
}
