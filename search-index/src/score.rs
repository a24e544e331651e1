//! Scoring a query term at a time.
//!
//! A query's plan (see [`crate::query`]) scores a document as the sum over the query's words
//! of the best of each word's alternatives. An alternative scores the sum of its terms' BM25
//! scores in the fields they occur in, each field and alternative weighted, and matches only
//! where all of its terms do. Tantivy's boolean and disjunction-max queries compute the same
//! document at a time, through nested unions that each buffer and merge their postings; on a
//! helpdesk's index (thousands of documents, queries of a few dozen term × field lists) that
//! merging was most of a query's time. Here every posting list is read once, a block at a
//! time, into per-document accumulators: one for the term, one for the alternative, one for
//! the word's best and one for the total, each remembering which documents it touched so it
//! is cleared in the time it took to fill. The scores are tantivy's own (same BM25, same
//! statistics, same weights), and so is the order of equal scores (by document address).

use std::cell::RefCell;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::TermInfo;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, InvertedIndexReader, Score, Searcher, Term};

use crate::index::{DocLanguages, SearchError};
use crate::schema::{Fields, PART_WEIGHTS, PartField, SearchField, WEIGHTS};

/// Documents per block of postings (tantivy's; a longer block is taken in parts).
const COMPRESSION_BLOCK_SIZE: usize = 128;

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
}

struct SegmentTables {
    inverted: Vec<std::sync::Arc<InvertedIndexReader>>,
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
            let mut seg = SegmentTables { inverted: Vec::new(), lengths: Vec::new(), max_doc: reader.max_doc() };
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
        Ok(Tables { fields, norms, total_docs, segments })
    }

    fn position(&self, field: Field) -> Option<usize> {
        self.fields.iter().position(|&f| f == field)
    }
}

/// One term to look for in one field: its BM25 weight (idf, `1 + K1` and the boosts) and where
/// its postings are in each segment.
struct FieldTerm {
    field: usize,
    weight: Score,
    infos: Vec<Option<TermInfo>>,
}

/// A term of an alternative: the fields it is scored in.
type ScoredTerm = Vec<FieldTerm>;

/// What to score: per word, per alternative, per term, per field.
pub(crate) struct Scoring {
    words: Vec<Vec<Vec<ScoredTerm>>>,
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
        let mut out = Vec::new();
        for alts in words {
            let mut scored_alts = Vec::new();
            'alt: for alt in alts {
                let mut terms = Vec::with_capacity(alt.len());
                for t in &alt {
                    let scored = scored_term(tables, fields, t)?;
                    if scored.is_empty() {
                        continue 'alt;
                    }
                    terms.push(scored);
                }
                if !terms.is_empty() {
                    scored_alts.push(terms);
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

/// A term's fields that have it, with their weights.
fn scored_term(tables: &Tables, fields: &Fields, t: &PlanTerm<'_>) -> Result<ScoredTerm, SearchError> {
    let whole =
        WEIGHTS.iter().filter(|(sf, _)| t.mask & SearchField::bit(*sf) != 0).map(|&(sf, w)| (fields.field(sf), w));
    let parts = PART_WEIGHTS
        .iter()
        .filter(|(pf, _)| t.parts && t.mask & PartField::bit(*pf) != 0)
        .map(|&(pf, w)| (fields.part(pf), w));
    let mut out = Vec::new();
    for (field, boost) in whole.chain(parts) {
        let Some(fi) = tables.position(field) else { continue };
        let term = Term::from_field_text(field, t.term);
        let mut infos = Vec::with_capacity(tables.segments.len());
        let mut doc_freq = 0u64;
        for seg in &tables.segments {
            let info = seg.inverted[fi].get_term_info(&term)?;
            doc_freq += info.as_ref().map_or(0, |i| u64::from(i.doc_freq));
            infos.push(info);
        }
        if doc_freq == 0 {
            continue;
        }
        let weight = idf(doc_freq, tables.total_docs) * (1.0 + K1) * (boost * t.weight);
        out.push(FieldTerm { field: fi, weight, infos });
    }
    Ok(out)
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
        for (ord, (seg, reader)) in tables.segments.iter().zip(searcher.segment_readers()).enumerate() {
            let category = match only.category {
                Some(c) => Some(category_docs(tables, seg, c)?),
                None => None,
            };
            let lang = only.lang.map(|(l, of)| (l, of.get(ord).map_or(&[][..], |d| &d.of_doc[..])));
            let alive = reader.alive_bitset();
            scratch.score(tables, seg, ord, scoring, |doc, score| {
                if alive.is_some_and(|a| a.is_deleted(doc))
                    || lang.is_some_and(|(l, of)| of.get(doc as usize) != Some(&l))
                    || category.as_ref().is_some_and(|c| !c.contains(doc))
                {
                    return;
                }
                total += 1;
                best.offer(score, DocAddress::new(ord as u32, doc));
            })?;
        }
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
}

/// The documents of one category in a segment, as a set of bits.
struct DocBits(Vec<u64>);

impl DocBits {
    fn contains(&self, doc: DocId) -> bool {
        self.0.get(doc as usize / 64).is_some_and(|w| w & (1 << (doc % 64)) != 0)
    }
}

fn category_docs(tables: &Tables, seg: &SegmentTables, category: &str) -> Result<DocBits, SearchError> {
    let mut bits = vec![0u64; (seg.max_doc as usize).div_ceil(64)];
    let fi = tables.fields.len() - 1;
    let inverted = &seg.inverted[fi];
    let term = Term::from_field_text(tables.fields[fi], category);
    if let Some(info) = inverted.get_term_info(&term)? {
        let mut block = inverted.read_block_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
        while !block.docs().is_empty() {
            for &doc in block.docs() {
                if let Some(w) = bits.get_mut(doc as usize / 64) {
                    *w |= 1 << (doc % 64);
                }
            }
            block.advance();
        }
    }
    Ok(DocBits(bits))
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
    term: Accumulator,
    alt: Accumulator,
    /// Per document, how many of the alternative's terms it has.
    matched: Vec<u8>,
    best: Accumulator,
    total: Accumulator,
    dirty: bool,
}

impl Scratch {
    /// Scores the documents of one segment, giving each matching one to `found`.
    fn score(
        &mut self,
        tables: &Tables,
        seg: &SegmentTables,
        ord: usize,
        scoring: &Scoring,
        mut found: impl FnMut(DocId, Score),
    ) -> Result<(), SearchError> {
        let dirty = std::mem::replace(&mut self.dirty, true);
        for acc in [&mut self.term, &mut self.alt, &mut self.best, &mut self.total] {
            acc.ready(seg.max_doc, dirty);
        }
        if dirty || self.matched.len() != seg.max_doc as usize {
            self.matched.clear();
            self.matched.resize(seg.max_doc as usize, 0);
        }
        for alts in &scoring.words {
            // A word of one term: its scores go to the total as they are read.
            if let [terms] = alts.as_slice()
                && let [fields] = terms.as_slice()
            {
                for ft in fields {
                    add_postings(tables, seg, ord, ft, &mut self.total)?;
                }
                continue;
            }
            for terms in alts {
                if let [fields] = terms.as_slice() {
                    for ft in fields {
                        add_postings(tables, seg, ord, ft, &mut self.alt)?;
                    }
                    // The first alternative is the best so far as it is.
                    if self.best.is_empty() {
                        std::mem::swap(&mut self.alt, &mut self.best);
                    } else {
                        let best = &mut self.best;
                        self.alt.drain(|doc, s| best.max(doc, s));
                    }
                    continue;
                }
                for fields in terms {
                    for ft in fields {
                        add_postings(tables, seg, ord, ft, &mut self.term)?;
                    }
                    let (alt, matched) = (&mut self.alt, &mut self.matched);
                    self.term.drain(|doc, s| {
                        alt.add(doc, s);
                        matched[doc as usize] = matched[doc as usize].saturating_add(1);
                    });
                }
                let (best, matched) = (&mut self.best, &mut self.matched);
                let all = terms.len() as u8;
                self.alt.drain(|doc, s| {
                    if std::mem::take(&mut matched[doc as usize]) == all {
                        best.max(doc, s);
                    }
                });
            }
            // The first word is the total so far as it is.
            if self.total.is_empty() {
                std::mem::swap(&mut self.best, &mut self.total);
            } else {
                let total = &mut self.total;
                self.best.drain(|doc, s| total.add(doc, s));
            }
        }
        self.total.drain(&mut found);
        self.dirty = false;
        Ok(())
    }
}

/// Adds a term's BM25 scores in one field of one segment to `acc`.
fn add_postings(
    tables: &Tables,
    seg: &SegmentTables,
    ord: usize,
    ft: &FieldTerm,
    acc: &mut Accumulator,
) -> Result<(), SearchError> {
    let Some(Some(info)) = ft.infos.get(ord) else { return Ok(()) };
    let norm = &tables.norms[ft.field];
    let lengths = &seg.lengths[ft.field];
    let mut block = seg.inverted[ft.field].read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
    loop {
        let docs = block.docs();
        if docs.is_empty() {
            return Ok(());
        }
        // In three passes, so that the arithmetic of a block runs in vector registers: each
        // document's length normalisation and term frequency, the scores, then their sums.
        let freqs = block.freqs();
        let mut norms = [0.0; COMPRESSION_BLOCK_SIZE];
        for (c, docs) in docs.chunks(COMPRESSION_BLOCK_SIZE).enumerate() {
            let mut tfs = [1.0; COMPRESSION_BLOCK_SIZE];
            for (n, &doc) in norms.iter_mut().zip(docs) {
                *n = norm[usize::from(lengths.get(doc as usize).copied().unwrap_or_default())];
            }
            // A field indexed without frequencies counts every term once.
            let freqs = freqs.get(c * COMPRESSION_BLOCK_SIZE..).unwrap_or_default();
            for (tf, &f) in tfs.iter_mut().zip(freqs) {
                *tf = f as Score;
            }
            let weight = ft.weight;
            let mut scores = [0.0; COMPRESSION_BLOCK_SIZE];
            for ((score, &tf), &n) in scores.iter_mut().zip(&tfs).zip(&norms) {
                *score = weight * (tf / (tf + n));
            }
            for (&doc, &score) in docs.iter().zip(&scores) {
                acc.add(doc, score);
            }
        }
        block.advance();
    }
}
