//! Scoring a query term at a time.
//!
//! A query's plan (see [`crate::query`]) scores a document as the sum over the query's words
//! of the best of each word's alternatives. An alternative scores the sum of its terms' BM25
//! scores in the fields they occur in, each field and alternative weighted, and matches only
//! where all of its terms do. Tantivy's boolean and disjunction-max queries compute the same
//! document at a time, through nested unions that each buffer and merge their postings; on a
//! helpdesk's index (thousands of documents, queries of a few dozen term × field lists) that
//! merging was most of a query's time.
//!
//! Here a term's scores in all the fields it is scored in are summed once per document, into
//! one list per segment, the first time a query needs the term; the list is kept while the
//! index is open, since a term's scores depend only on the index. A query then reads one list
//! per term, multiplied by its alternative's weight, into per-document accumulators: one for
//! the alternative, one for the word's best and one for the total, each remembering which
//! documents it touched so it is cleared in the time it took to fill. When a query's lists
//! reach many of the documents (an eighth, counting postings), the total does not note them:
//! its scores are read at the end in document order, 64 at a time, the documents that may be
//! results (language, category, not deleted) taken from bit sets. The scores are tantivy's
//! own (same BM25, same statistics, same weights, to float rounding), and so is the order of
//! equal scores (by document address).

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::TermInfo;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, InvertedIndexReader, Score, Searcher, Term};

use crate::analysis::FxBuildHasher;
use crate::index::{DocLanguages, SearchError};
use crate::schema::{Fields, PART_WEIGHTS, PartField, SearchField, WEIGHTS};

/// BM25's parameters, as tantivy has them.
const K1: Score = 1.2;
const B: Score = 0.75;

/// What scoring needs of an open index, looked up once: per scored field, the length
/// normalisation of BM25 for each of tantivy's 256 field-length codes; per segment, the
/// fields' inverted indexes and field lengths.
pub(crate) struct Tables {
    fields: Vec<Field>,
    /// Per field (as in `fields`), `K1 * (1 - B + B * length / average length)` per length code.
    norms: Vec<[Score; 256]>,
    /// Documents in all segments, deleted ones included (as tantivy counts them for the idf).
    total_docs: u64,
    segments: Vec<SegmentTables>,
    /// Terms' scores, as queries need them.
    kept: [RwLock<Kept>; SHARDS],
    kept_postings: AtomicUsize,
}

struct SegmentTables {
    inverted: Vec<Arc<InvertedIndexReader>>,
    /// The documents not deleted, as bits; `None` when none is.
    alive: Option<Box<[u64]>>,
    /// Per field, per document: its length code (a copy of tantivy's field norms, read
    /// without tantivy's per-call dispatch).
    lengths: Vec<Box<[u8]>>,
    max_doc: DocId,
}

impl Tables {
    pub(crate) fn new(searcher: &Searcher, f: &Fields) -> Result<Tables, SearchError> {
        let mut fields: Vec<Field> = WEIGHTS.iter().map(|&(sf, _)| f.field(sf)).collect();
        fields.extend(PART_WEIGHTS.iter().map(|&(pf, _)| f.part(pf)));
        fields.push(f.category);
        let total_docs: u64 = searcher.segment_readers().iter().map(|s| u64::from(s.max_doc())).sum();
        let mut segments = Vec::new();
        let mut tokens = vec![0u64; fields.len()];
        for reader in searcher.segment_readers() {
            let alive = reader.alive_bitset().map(|a| {
                let mut bits = vec![0u64; (reader.max_doc() as usize).div_ceil(64)];
                (0..reader.max_doc()).filter(|&d| !a.is_deleted(d)).for_each(|d| set_bit(&mut bits, d));
                bits.into_boxed_slice()
            });
            let mut seg = SegmentTables { inverted: Vec::new(), alive, lengths: Vec::new(), max_doc: reader.max_doc() };
            for (i, &field) in fields.iter().enumerate() {
                let inverted = reader.inverted_index(field)?;
                tokens[i] += inverted.total_num_tokens();
                seg.inverted.push(inverted);
                let norms = reader.get_fieldnorms_reader(field)?;
                seg.lengths.push((0..reader.max_doc()).map(|doc| norms.fieldnorm_id(doc)).collect());
            }
            segments.push(seg);
        }
        let norms = tokens
            .iter()
            .map(|&t| {
                let average = t as Score / total_docs.max(1) as Score;
                let mut norm = [0.0; 256];
                for (id, n) in norm.iter_mut().enumerate() {
                    let length = FieldNormReader::id_to_fieldnorm(id as u8) as Score;
                    *n = K1 * (1.0 - B + B * length / average);
                }
                norm
            })
            .collect();
        Ok(Tables {
            fields,
            norms,
            total_docs,
            segments,
            kept: std::array::from_fn(|_| RwLock::default()),
            kept_postings: AtomicUsize::new(0),
        })
    }

    fn position(&self, field: Field) -> Option<usize> {
        self.fields.iter().position(|&f| f == field)
    }
}

/// Terms' lists kept at most, in postings (8 bytes each): about 32 MB. The benchmark's site of
/// ten thousand articles grew the server by 12-16 MB over a run of distinct queries; past the
/// limit, a term's list is made for each query that needs it.
const MAX_KEPT_POSTINGS: usize = 4 << 20;

/// Shards of the kept lists, so that threads looking up different terms seldom wait.
const SHARDS: usize = 16;

/// One term's documents in one segment, each with the term's BM25 score summed over the fields
/// it is scored in (idf, `1 + K1` and the fields' weights included; not the alternative's
/// weight, which multiplies it at query time). In document order.
struct TermList {
    docs: Box<[DocId]>,
    scores: Box<[Score]>,
}

/// A term's lists, one per segment.
pub(crate) struct TermScores {
    segments: Box<[TermList]>,
}

impl TermScores {
    fn is_empty(&self) -> bool {
        self.segments.iter().all(|l| l.docs.is_empty())
    }

    /// The documents and scores in segment `ord`.
    fn list(&self, ord: usize) -> (&[DocId], &[Score]) {
        self.segments.get(ord).map_or((&[], &[]), |l| (&l.docs, &l.scores))
    }

    fn postings(&self) -> usize {
        self.segments.iter().map(|l| l.docs.len()).sum()
    }
}

/// Per term, per field mask: its lists, made the first time a query needs them and kept while
/// the index is open. A term's scores depend on the index alone (its statistics), never on
/// the query, so one list serves every query with that term.
type Kept = HashMap<Box<str>, Vec<(u64, Arc<TermScores>)>, FxBuildHasher>;

impl Tables {
    /// The scores of `term` in the fields of `mask`.
    fn term_scores(&self, fields: &Fields, term: &str, mask: u64) -> Result<Arc<TermScores>, SearchError> {
        let shard = &self.kept[(FxBuildHasher::default().hash_one(term) as usize) % SHARDS];
        let known = |kept: &Kept| kept.get(term).and_then(|v| v.iter().find(|k| k.0 == mask).map(|k| k.1.clone()));
        if let Some(found) = shard.read().ok().and_then(|kept| known(&kept)) {
            return Ok(found);
        }
        let made = Arc::new(self.make_term_scores(fields, term, mask)?);
        let postings = made.postings().max(1);
        if self.kept_postings.fetch_add(postings, Ordering::Relaxed) + postings <= MAX_KEPT_POSTINGS
            && let Ok(mut kept) = shard.write()
        {
            // Another thread may have made it meanwhile: one is kept.
            if let Some(found) = known(&kept) {
                return Ok(found);
            }
            kept.entry(term.into()).or_default().push((mask, made.clone()));
        }
        Ok(made)
    }

    /// The term's scores in the fields of `mask` as one list of live documents, numbered
    /// across segments, in order; made afresh, not kept (related articles read each term once).
    pub(crate) fn term_postings(
        &self,
        fields: &Fields,
        term: &str,
        mask: u64,
    ) -> Result<Vec<(DocId, Score)>, SearchError> {
        let mut out = Vec::new();
        let mut base = 0;
        self.segment_scores(fields, term, mask, |seg, postings| {
            match seg.alive.as_deref() {
                None => out.extend(postings.iter().map(|&(doc, score)| (base + doc, score))),
                Some(alive) => {
                    out.extend(postings.iter().filter(|p| has_bit(alive, p.0)).map(|&(doc, score)| (base + doc, score)))
                }
            }
            base += seg.max_doc;
        })?;
        Ok(out)
    }

    /// Reads the term's postings in every field of `mask` and sums its scores per document.
    fn make_term_scores(&self, fields: &Fields, term: &str, mask: u64) -> Result<TermScores, SearchError> {
        let mut segments = Vec::with_capacity(self.segments.len());
        self.segment_scores(fields, term, mask, |_, postings| {
            segments.push(TermList {
                docs: postings.iter().map(|p| p.0).collect(),
                scores: postings.iter().map(|p| p.1).collect(),
            });
        })?;
        Ok(TermScores { segments: segments.into_boxed_slice() })
    }

    /// Calls `f` with each segment (in order) and the term's documents in it, each once with
    /// its scores in the fields of `mask` summed, in document order.
    fn segment_scores(
        &self,
        fields: &Fields,
        term: &str,
        mask: u64,
        mut f: impl FnMut(&SegmentTables, &[(DocId, Score)]),
    ) -> Result<(), SearchError> {
        let whole =
            WEIGHTS.iter().filter(|(sf, _)| mask & SearchField::bit(*sf) != 0).map(|&(sf, w)| (fields.field(sf), w));
        let parts =
            PART_WEIGHTS.iter().filter(|(pf, _)| mask & PartField::bit(*pf) != 0).map(|&(pf, w)| (fields.part(pf), w));
        // Per field that has the term: its position, BM25 weight and term info per segment.
        let mut found: Vec<(usize, Score, Vec<Option<TermInfo>>)> = Vec::new();
        for (field, boost) in whole.chain(parts) {
            let Some(fi) = self.position(field) else { continue };
            let t = Term::from_field_text(field, term);
            let mut infos = Vec::with_capacity(self.segments.len());
            let mut doc_freq = 0u64;
            for seg in &self.segments {
                let info = seg.inverted[fi].get_term_info(&t)?;
                doc_freq += info.as_ref().map_or(0, |i| u64::from(i.doc_freq));
                infos.push(info);
            }
            if doc_freq > 0 {
                found.push((fi, idf(doc_freq, self.total_docs) * (1.0 + K1) * boost, infos));
            }
        }
        let mut postings: Vec<(DocId, Score)> = Vec::new();
        for (ord, seg) in self.segments.iter().enumerate() {
            postings.clear();
            for (fi, weight, infos) in &found {
                if let Some(Some(info)) = infos.get(ord) {
                    field_scores(
                        &self.norms[*fi],
                        &seg.lengths[*fi],
                        &seg.inverted[*fi],
                        info,
                        *weight,
                        &mut postings,
                    )?;
                }
            }
            if found.len() > 1 {
                sum_per_doc(&mut postings);
            }
            f(seg, &postings);
        }
        Ok(())
    }
}

/// A term's scores in one field of one segment, appended to `out` in document order.
fn field_scores(
    norm: &[Score; 256],
    lengths: &[u8],
    inverted: &InvertedIndexReader,
    info: &TermInfo,
    weight: Score,
    out: &mut Vec<(DocId, Score)>,
) -> Result<(), SearchError> {
    let mut block = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
    loop {
        let docs = block.docs();
        if docs.is_empty() {
            return Ok(());
        }
        let freqs = block.freqs();
        for (i, &doc) in docs.iter().enumerate() {
            // A field indexed without frequencies counts every term once.
            let tf = freqs.get(i).map_or(1.0, |&f| f as Score);
            let n = norm[usize::from(lengths.get(doc as usize).copied().unwrap_or_default())];
            out.push((doc, weight * (tf / (tf + n))));
        }
        block.advance();
    }
}

/// One alternative of a word: its terms, each with the weight its scores are multiplied by.
struct Alternative {
    terms: Vec<(Score, Arc<TermScores>)>,
}

/// What to score: per word, its alternatives.
pub(crate) struct Scoring {
    words: Vec<Vec<Alternative>>,
}

/// One term of an alternative as the plan has it: the term, the fields it occurs in (bits of
/// [`SearchField::bit`] and [`PartField::bit`]), and whether the parts fields count.
pub(crate) struct PlanTerm<'a> {
    pub term: &'a str,
    pub mask: u64,
    pub weight: Score,
    pub parts: bool,
}

impl Scoring {
    /// Looks the terms up: `words` holds per word its alternatives, each the terms that must
    /// all match. Alternatives that cannot match anywhere are left out.
    pub(crate) fn new<'a>(
        tables: &Tables,
        fields: &Fields,
        words: impl IntoIterator<Item = Vec<Vec<PlanTerm<'a>>>>,
    ) -> Result<Scoring, SearchError> {
        let part_bits = PART_WEIGHTS.iter().fold(0, |m, &(pf, _)| m | PartField::bit(pf));
        let mut out = Vec::new();
        for alts in words {
            let mut scored_alts = Vec::new();
            'alt: for alt in alts {
                let mut terms = Vec::with_capacity(alt.len());
                for t in &alt {
                    let mask = if t.parts { t.mask } else { t.mask & !part_bits };
                    let scores = tables.term_scores(fields, t.term, mask)?;
                    if scores.is_empty() {
                        continue 'alt;
                    }
                    terms.push((t.weight, scores));
                }
                if !terms.is_empty() {
                    scored_alts.push(Alternative { terms });
                }
            }
            if !scored_alts.is_empty() {
                out.push(scored_alts);
            }
        }
        Ok(Scoring { words: out })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// Merges a term's lists of several fields, appended one after the other and each in document
/// order, into one with each document once and its fields' scores summed: a stable sort keeps a
/// document's scores in the order of the fields, and they are added in that order.
pub(crate) fn sum_per_doc(postings: &mut Vec<(DocId, Score)>) {
    postings.sort_by_key(|p| p.0);
    postings.dedup_by(|next, kept| {
        let same = next.0 == kept.0;
        if same {
            kept.1 += next.1;
        }
        same
    });
}

/// BM25's idf, as tantivy computes it.
fn idf(doc_freq: u64, docs: u64) -> Score {
    let x = (docs.saturating_sub(doc_freq) as Score + 0.5) / (doc_freq as Score + 0.5);
    (1.0 + x).ln()
}

/// Which documents may be results: of one language (its position in the index's list, with
/// each segment's document languages), of one category.
#[derive(Clone, Copy, Default)]
pub(crate) struct Only<'a> {
    pub lang: Option<(u8, &'a [DocLanguages])>,
    pub category: Option<&'a str>,
}

/// The best documents: `offset..offset + limit` of them by score (ties by address), and how
/// many match.
pub(crate) fn top(
    tables: &Tables,
    scoring: &Scoring,
    only: Only<'_>,
    searcher: &Searcher,
    limit: usize,
    offset: usize,
) -> Result<(Vec<(Score, DocAddress)>, usize), SearchError> {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        // Of equal scores, the first address first.
        let mut best = Best::new(offset.saturating_add(limit), |a: &DocAddress, b: &DocAddress| a < b);
        let mut total = 0;
        let mut both = std::mem::take(&mut scratch.allowed);
        for (ord, seg) in tables.segments.iter().enumerate().take(searcher.segment_readers().len()) {
            // The documents that may be results, as bits (`None`: all of them; no bits for a
            // language the segment does not have: none of them).
            let lang =
                only.lang.map(|(l, of)| of.get(ord).and_then(|d| d.bits.get(usize::from(l))).map_or(&[][..], |b| b));
            let category = only.category.map(|c| category_docs(tables, seg, c)).transpose()?;
            let mut filters = [seg.alive.as_deref(), lang, category.as_deref()].into_iter().flatten();
            let allowed = match (filters.next(), filters.next()) {
                (None, _) => None,
                (Some(one), None) => Some(one),
                (Some(a), Some(b)) => {
                    both.clear();
                    both.extend(a.iter().zip(b).map(|(a, b)| a & b));
                    for c in filters {
                        both.iter_mut().zip(c.iter().chain(std::iter::repeat(&0))).for_each(|(a, c)| *a &= c);
                    }
                    Some(&both[..])
                }
            };
            let found = Found { ord: ord as u32, allowed, best: &mut best };
            total += scratch.score(seg.max_doc, scoring, found);
        }
        scratch.allowed = both;
        Ok((best.into_found().into_iter().skip(offset).collect(), total))
    })
}

/// The best `n` of what is offered, best first: by score, then, of equal scores, the one
/// `before` puts first.
pub(crate) struct Best<T, F> {
    n: usize,
    found: Vec<(Score, T)>,
    /// The score of the last one once there are `n`.
    floor: Score,
    before: F,
}

impl<T: Copy, F: Fn(&T, &T) -> bool> Best<T, F> {
    pub(crate) fn new(n: usize, before: F) -> Self {
        Best { n, found: Vec::with_capacity(n.min(64) + 1), floor: Score::NEG_INFINITY, before }
    }

    /// Whether `a` comes before `b`.
    fn first(&self, a: &(Score, T), b: &(Score, T)) -> bool {
        a.0 > b.0 || (a.0 == b.0 && (self.before)(&a.1, &b.1))
    }

    #[inline]
    pub(crate) fn offer(&mut self, score: Score, item: T) {
        // Most score below the last of a full list: one comparison says so.
        if score < self.floor {
            return;
        }
        let new = (score, item);
        if self.found.len() == self.n && self.found.last().is_none_or(|last| !self.first(&new, last)) {
            return;
        }
        let at = self.found.partition_point(|f| self.first(f, &new));
        self.found.insert(at, new);
        self.found.truncate(self.n);
        if self.found.len() == self.n {
            self.floor = self.found.last().map_or(Score::NEG_INFINITY, |l| l.0);
        }
    }

    /// Best first.
    pub(crate) fn found(&self) -> &[(Score, T)] {
        &self.found
    }

    pub(crate) fn into_found(self) -> Vec<(Score, T)> {
        self.found
    }

    /// The score of the last one kept once all `n` are there (below it, nothing is kept);
    /// minus infinity before.
    fn floor(&self) -> Score {
        self.floor
    }
}

pub(crate) fn set_bit(bits: &mut [u64], doc: DocId) {
    if let Some(w) = bits.get_mut(doc as usize / 64) {
        *w |= 1 << (doc % 64);
    }
}

fn has_bit(bits: &[u64], doc: DocId) -> bool {
    bits.get(doc as usize / 64).is_some_and(|w| w & (1 << (doc % 64)) != 0)
}

/// The documents of one category in a segment, as bits.
fn category_docs(tables: &Tables, seg: &SegmentTables, category: &str) -> Result<Vec<u64>, SearchError> {
    let mut bits = vec![0u64; (seg.max_doc as usize).div_ceil(64)];
    let fi = tables.fields.len() - 1;
    let inverted = &seg.inverted[fi];
    let term = Term::from_field_text(tables.fields[fi], category);
    if let Some(info) = inverted.get_term_info(&term)? {
        let mut block = inverted.read_block_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
        while !block.docs().is_empty() {
            block.docs().iter().for_each(|&doc| set_bit(&mut bits, doc));
            block.advance();
        }
    }
    Ok(bits)
}

#[cfg(test)]
thread_local! {
    /// Whether the total is read at once (`Some(true)`) or as touched, whatever the lists.
    pub(crate) static DENSE: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A score per document, and the documents that have one (scores are positive: a document
/// has none while its score is 0).
#[derive(Default)]
struct Accumulator {
    score: Vec<Score>,
    /// The documents with a score are the first `n`; there is room for every document and
    /// one more, so a document is written there before knowing whether it is new (no branch
    /// to mispredict on the half of the documents that are).
    touched: Vec<DocId>,
    n: usize,
}

impl Accumulator {
    /// Ready for a segment of `max_doc` documents, all at 0.
    fn ready(&mut self, max_doc: DocId, dirty: bool) {
        if dirty || self.score.len() != max_doc as usize {
            self.score.clear();
            self.score.resize(max_doc as usize, 0.0);
            self.touched.clear();
            self.touched.resize(max_doc as usize + 1, 0);
        }
        self.n = 0;
    }

    fn is_empty(&self) -> bool {
        self.n == 0
    }

    #[inline]
    fn add(&mut self, doc: DocId, score: Score) {
        if let Some(s) = self.score.get_mut(doc as usize) {
            self.touched[self.n] = doc;
            self.n += usize::from(*s == 0.0);
            *s += score;
        }
    }

    /// Keeps the larger score.
    #[inline]
    fn max(&mut self, doc: DocId, score: Score) {
        if let Some(s) = self.score.get_mut(doc as usize) {
            self.touched[self.n] = doc;
            self.n += usize::from(*s == 0.0);
            *s = s.max(score);
        }
    }

    /// Every document with a score that `allowed` has (all when `None`), read in document
    /// order 64 at a time, leaving all at 0; returns how many there are. Of those, the ones
    /// that may be among the `best` are offered there (as documents of segment `ord`).
    fn drain_dense<F: Fn(&DocAddress, &DocAddress) -> bool>(
        &mut self,
        allowed: Option<&[u64]>,
        ord: u32,
        best: &mut Best<DocAddress, F>,
    ) -> usize {
        let mut count = 0;
        for (w, chunk) in self.score.chunks_mut(64).enumerate() {
            let allow = allowed.map_or(u64::MAX, |a| a.get(w).copied().unwrap_or(0));
            // Written as counts and folds over the scores, these compile to vector compares.
            count += if allow == u64::MAX {
                chunk.iter().map(|&s| usize::from(s != 0.0)).sum::<usize>()
            } else {
                chunk.iter().enumerate().map(|(i, &s)| usize::from(s != 0.0 && allow & (1 << i) != 0)).sum::<usize>()
            };
            for (part, scores) in chunk.chunks(16).enumerate() {
                let floor = best.floor();
                if !scores.iter().fold(false, |any, &s| any | ((s >= floor) & (s != 0.0))) {
                    continue;
                }
                for (i, &s) in scores.iter().enumerate() {
                    let i = part * 16 + i;
                    if s != 0.0 && s >= best.floor() && allow & (1 << i) != 0 {
                        best.offer(s, DocAddress::new(ord, (w * 64 + i) as DocId));
                    }
                }
            }
            chunk.fill(0.0);
        }
        self.n = 0;
        count
    }

    /// Every touched document with its score, leaving all at 0.
    fn drain(&mut self, mut f: impl FnMut(DocId, Score)) {
        for &doc in &self.touched[..self.n] {
            let s = std::mem::take(&mut self.score[doc as usize]);
            f(doc, s);
        }
        self.n = 0;
    }
}

/// Accumulators kept between queries (per thread); all at 0 between uses, unless a query
/// failed half-way (`dirty`).
#[derive(Default)]
struct Scratch {
    alt: Accumulator,
    /// Per document, how many of the alternative's terms it has.
    matched: Vec<u8>,
    best: Accumulator,
    total: Accumulator,
    dirty: bool,
    /// The documents allowed by two filters or more, as bits.
    allowed: Vec<u64>,
}

/// Adds a list's scores times `weight` to an accumulator's, without noting the documents (for
/// [`Accumulator::drain_dense`]).
fn add_dense(acc: &mut [Score], docs: &[DocId], scores: &[Score], weight: Score) {
    for (&doc, &s) in docs.iter().zip(scores) {
        if let Some(a) = acc.get_mut(doc as usize) {
            *a += weight * s;
        }
    }
}

/// Where a segment's scored documents go.
struct Found<'a, F> {
    ord: u32,
    /// The documents that may be results (`None`: all).
    allowed: Option<&'a [u64]>,
    best: &'a mut Best<DocAddress, F>,
}

/// From this many postings on (per document of the segment), the total's documents are not
/// noted as they are touched: its scores are read all at once at the end, a word of 64
/// documents at a time.
const DENSE_FROM: usize = 8;

impl Scratch {
    /// Scores the documents of one segment (of `max_doc` documents), offering each allowed one
    /// that matches to `found.best`; returns how many allowed ones match.
    fn score<F: Fn(&DocAddress, &DocAddress) -> bool>(
        &mut self,
        max_doc: DocId,
        scoring: &Scoring,
        found: Found<'_, F>,
    ) -> usize {
        let ord = found.ord as usize;
        let dirty = std::mem::replace(&mut self.dirty, true);
        for acc in [&mut self.alt, &mut self.best, &mut self.total] {
            acc.ready(max_doc, dirty);
        }
        if dirty || self.matched.len() != max_doc as usize {
            self.matched.clear();
            self.matched.resize(max_doc as usize, 0);
        }
        // When the query's lists touch many of the documents, noting each one the total
        // touches costs more than reading every score once.
        let postings: usize =
            scoring.words.iter().flatten().flat_map(|a| &a.terms).map(|(_, t)| t.list(ord).0.len()).sum();
        let dense = postings * DENSE_FROM >= max_doc as usize;
        #[cfg(test)]
        let dense = DENSE.with(|d| d.get()).unwrap_or(dense);
        for alts in &scoring.words {
            // A word of one term: its scores go to the total as they are read.
            if let [alt] = alts.as_slice()
                && let [(weight, t)] = alt.terms.as_slice()
            {
                let (docs, scores) = t.list(ord);
                if dense {
                    add_dense(&mut self.total.score, docs, scores, *weight);
                } else {
                    for (&doc, &s) in docs.iter().zip(scores) {
                        self.total.add(doc, weight * s);
                    }
                }
                continue;
            }
            for alt in alts {
                // An alternative of one term: each document once, so straight to the best.
                if let [(weight, t)] = alt.terms.as_slice() {
                    let (docs, scores) = t.list(ord);
                    for (&doc, &s) in docs.iter().zip(scores) {
                        self.best.max(doc, weight * s);
                    }
                    continue;
                }
                for (weight, t) in &alt.terms {
                    let (docs, scores) = t.list(ord);
                    for (&doc, &s) in docs.iter().zip(scores) {
                        self.alt.add(doc, weight * s);
                        if let Some(m) = self.matched.get_mut(doc as usize) {
                            *m = m.saturating_add(1);
                        }
                    }
                }
                let (best, matched) = (&mut self.best, &mut self.matched);
                let all = u8::try_from(alt.terms.len()).unwrap_or(u8::MAX);
                self.alt.drain(|doc, s| {
                    if std::mem::take(&mut matched[doc as usize]) == all {
                        best.max(doc, s);
                    }
                });
            }
            let total = &mut self.total;
            if dense {
                let scores = &mut total.score[..];
                self.best.drain(|doc, s| {
                    if let Some(t) = scores.get_mut(doc as usize) {
                        *t += s;
                    }
                });
            } else if total.is_empty() {
                // The first word is the total so far as it is.
                std::mem::swap(&mut self.best, total);
            } else {
                self.best.drain(|doc, s| total.add(doc, s));
            }
        }
        let (ord, allowed, best) = (found.ord, found.allowed, found.best);
        let count = if dense {
            self.total.drain_dense(allowed, ord, best)
        } else {
            let mut count = 0;
            self.total.drain(|doc, s| {
                if allowed.is_none_or(|a| has_bit(a, doc)) {
                    count += 1;
                    best.offer(s, DocAddress::new(ord, doc));
                }
            });
            count
        };
        self.dirty = false;
        count
    }
}
