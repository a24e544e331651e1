//! Building the index from articles, packing it into one file and opening it in memory.
//!
//! The packed index is one file, `index.bin`: a small header (format, fingerprint of the
//! input, article count) and the files of a tantivy index. It is always opened into a
//! [`RamDirectory`]: on AWS Lambda the function's files are read-only, and a FAQ index is small.
//!
//! Building takes two steps: the articles are read once ([`analyse`]), which gathers each
//! language's vocabulary (words, their terms and frequencies) and keeps each article's terms by
//! number, and the verbs it writes apart; then the compounds of that vocabulary are split into its
//! own words ([`crate::compound`]), and the documents are made and written as they come (a large
//! site's in two halves at once, merged after; a site build finds related articles in the two
//! halves while they are merged, [`build_packing`]): each gets the terms of the parts of its compounds
//! in the `title_parts` and `parts` fields, and the Dutch verbs it writes apart from their particle
//! (`logt ... in`) as the compound verb (`inloggen`). The packed word list keeps, per word, its
//! terms, the terms of its parts and its languages, for queries.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tantivy::directory::{OwnedBytes, RamDirectory};
use tantivy::index::SegmentId;
use tantivy::schema::document::TantivyDocument;
use tantivy::store::Compressor;
use tantivy::tokenizer::{TextAnalyzer, Token};
use tantivy::{Directory, Index, IndexSettings, ReloadPolicy, Searcher};

use crate::analysis::{FxBuildHasher, MemoAnalyzer, analyzer};
use crate::compound;

use crate::related::{ArticleTerms, Part};
use crate::schema::{Fields, PART_WEIGHTS, WEIGHTS};
use crate::update::Updater;

/// File name of the packed index inside the search directory.
pub const INDEX_FILE: &str = "index.bin";

const MAGIC: &[u8; 8] = b"HDSEARCH";
/// Bump when the schema, the analyzers or the document layout change: the fingerprint changes
/// with it, so a build never keeps an index made by an older version.
const FORMAT: u32 = 6;
/// The packed index ends with the CRC-32 of everything before it: a damaged file (a partial
/// upload, a flipped bit) is refused as a whole, before tantivy reads any of it (tantivy trusts
/// its own files and may panic on corrupt ones). The file comes from the site's own build, so
/// the check is against accidents, not forgery; CRC-32 (as zip, gzip and tantivy's own footers
/// use) runs at memory speed, where SHA-256 took a large site's index 8 ms each way.
const CHECKSUM_LEN: usize = 4;

/// An article with a heading structure of at least this many sections, and at least
/// [`LONG_WORDS`] words in its sections (as the analyzers cut words), is long: a result then
/// leads to its best matching section.
pub const LONG_SECTIONS: usize = 3;
pub const LONG_WORDS: usize = 150;

/// What the index needs to know about an article.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Article {
    /// Language code (`nl`, `en`): picks the analyzer.
    pub lang: String,
    /// Category slug (the filter) and title (shown).
    pub category: String,
    pub category_title: String,
    /// The article's address, e.g. `/nl/tickets/ticket-aanmaken/`.
    pub url: String,
    pub title: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// The body by heading: the text before the first heading has an empty anchor.
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// The heading's id (`#anchor`); empty for the text before the first heading.
    pub anchor: String,
    pub heading: String,
    pub text: String,
}

impl Article {
    /// Results in long articles lead to a section.
    pub fn is_long(&self) -> bool {
        self.headed_sections() >= LONG_SECTIONS
            && self.sections.iter().map(|s| crate::analysis::words_in(&s.text)).sum::<usize>() >= LONG_WORDS
    }

    fn headed_sections(&self) -> usize {
        self.sections.iter().filter(|s| !s.anchor.is_empty()).count()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index: {0}")]
    Io(#[from] io::Error),
    #[error("search index: {0}")]
    Format(String),
    /// [`crate::Updater::replace`] cannot make this change (a new language); build anew.
    #[error("search index: {0}")]
    NotUpdatable(String),
}

/// Timings of [`build`], for progress output and benchmarks.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildStats {
    pub documents: usize,
    /// The vocabulary: every word analyzed, compounds split, related articles' terms.
    pub analyze: Duration,
    /// The documents made and written (one after the other, batch by batch), the index packed.
    pub index: Duration,
    /// Opening the built index for searching.
    pub open: Duration,
}

/// A stable fingerprint of everything the index is made from: equal input, equal index.
pub fn fingerprint(articles: &[Article]) -> u64 {
    // Each article on its own (in parallel), then the articles' fingerprints in order.
    let each: Vec<u64> = articles.par_iter().with_min_len(256).map(article_fingerprint).collect();
    combine_fingerprints(&each)
}

/// The fingerprint of one article, for [`fingerprint`].
pub(crate) fn article_fingerprint(a: &Article) -> u64 {
    let mut h = Hash64::default();
    for s in [&a.lang, &a.category, &a.category_title, &a.url, &a.title] {
        h.str(s);
    }
    h.str(a.description.as_deref().unwrap_or("\u{0}"));
    h.write(&(a.tags.len() as u64).to_le_bytes());
    for t in &a.tags {
        h.str(t);
    }
    h.write(&(a.sections.len() as u64).to_le_bytes());
    for s in &a.sections {
        h.str(&s.anchor);
        h.str(&s.heading);
        h.str(&s.text);
    }
    h.0
}

/// The fingerprint of the articles whose own fingerprints are `each`, in order.
pub(crate) fn combine_fingerprints(each: &[u64]) -> u64 {
    let mut h = Hash64::default();
    h.write(MAGIC);
    h.write(&FORMAT.to_le_bytes());
    h.str(tantivy::version_string());
    h.write(&(each.len() as u64).to_le_bytes());
    for f in each {
        h.write(&f.to_le_bytes());
    }
    h.0
}

/// The hash of [`fingerprint`]: eight bytes at a time, each step a multiply and a shift (a
/// large site's text is hashed on every build; a byte at a time took tens of milliseconds).
/// Not for adversarial input: a collision only makes a build keep an old index.
#[derive(Debug)]
struct Hash64(u64);

impl Default for Hash64 {
    fn default() -> Self {
        Hash64(0xcbf29ce484222325)
    }
}

impl Hash64 {
    fn mix(&mut self, word: u64) {
        let x = (self.0 ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = x ^ (x >> 31);
    }
    /// (Callers write lengths first: the zeros that fill the last word are not ambiguous.)
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.mix(u64::from_le_bytes(w.try_into().unwrap_or_default()));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(last));
        }
    }
    fn str(&mut self, s: &str) {
        self.write(&(s.len() as u64).to_le_bytes());
        self.write(s.as_bytes());
    }
}

/// The open index: a searcher over an in-memory copy, and the vocabulary for typo and prefix
/// expansion.
pub struct SearchIndex {
    pub(crate) searcher: Searcher,
    pub(crate) fields: Fields,
    /// Every term of the searchable fields -> (fields it occurs in as a bit mask, the parts
    /// fields included) << 32 | the largest document frequency it has in one of them (in the
    /// parts fields for a term that is only a part).
    pub(crate) vocab: tantivy_fst::Map<Vec<u8>>,
    /// Every word as written (folded) -> its number in `word_stems`.
    pub(crate) words: tantivy_fst::Map<Vec<u8>>,
    /// The terms each word was indexed as (one per language it was analyzed in, when they differ).
    pub(crate) word_stems: Vec<Vec<String>>,
    /// The terms of the parts of each word that is a compound of other words (see
    /// [`crate::compound`]); empty for the others.
    pub(crate) word_parts: Vec<Vec<String>>,
    /// The terms of the other forms of each Dutch verb form the articles have (`ingelogd` for
    /// `inloggen`); empty for the others.
    pub(crate) word_forms: Vec<Vec<String>>,
    /// The languages each word occurs in: bit `i` for `languages[i]`.
    pub(crate) word_languages: Vec<u64>,
    /// Per language code, the analyzer (cloned per use: analyzers need `&mut`).
    pub(crate) analyzers: HashMap<String, TextAnalyzer>,
    pub(crate) languages: Vec<String>,
    /// Per segment, per document: its language's position in `languages`.
    pub(crate) doc_langs: Vec<DocLanguages>,
    /// What scoring looks up in every query (see [`crate::score`]).
    pub(crate) tables: crate::score::Tables,
    /// Article number -> the article's URL.
    pub(crate) article_urls: Vec<String>,
    /// Documents as results show them, and what their words are analyzed to (see
    /// [`crate::stored`]).
    pub(crate) docs: crate::stored::DocCache,
    pub(crate) word_terms: crate::stored::WordTerms,
    /// The plans of the words queries had (see [`crate::query::PlanMemo`]).
    pub(crate) plans: crate::query::PlanMemo,
    fingerprint: u64,
    /// Opened only to find related articles: no vocabulary and no words (term statistics
    /// come from the searcher), not for searching.
    pub(crate) related_only: bool,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("documents", &self.searcher.num_docs())
            .field("articles", &self.article_urls.len())
            .field("fingerprint", &format_args!("{:016x}", self.fingerprint))
            .finish()
    }
}

/// A freshly built index: open, and packed for writing to disk.
#[derive(Debug)]
pub struct Built {
    pub index: SearchIndex,
    /// The contents of `index.bin`.
    pub packed: Vec<u8>,
    pub stats: BuildStats,
    /// Per article, what related articles need of it (for [`SearchIndex::related`], which
    /// otherwise analyzes the articles again).
    pub terms: Vec<ArticleTerms>,
}

/// The contents of `index.bin`: made, or being made on a thread of its own ([`build_packing`]).
#[derive(Debug)]
pub enum Packed {
    Ready(Vec<u8>),
    Making(std::thread::JoinHandle<Result<Vec<u8>, SearchError>>),
}

impl Packed {
    /// The bytes, once made.
    pub fn wait(self) -> Result<Vec<u8>, SearchError> {
        match self {
            Packed::Ready(bytes) => Ok(bytes),
            Packed::Making(thread) => thread.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
        }
    }
}

/// A freshly built index whose packed file may still be being made ([`build_packing`]).
#[derive(Debug)]
pub struct BuiltPacking {
    /// Open for related articles. A large site's segments are not merged in it: it gives the
    /// scores of the packed index, but answers queries more slowly.
    pub index: SearchIndex,
    pub packed: Packed,
    pub stats: BuildStats,
    /// As [`Built::terms`].
    pub terms: Vec<ArticleTerms>,
}

impl BuiltPacking {
    /// The build, once its packed file is made.
    fn wait(self) -> Result<Built, SearchError> {
        Ok(Built { index: self.index, packed: self.packed.wait()?, stats: self.stats, terms: self.terms })
    }
}

/// How a build ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finish {
    /// Merged, opened and packed.
    Merged,
    /// [`Finish::Merged`], keeping what an [`Updater`] needs.
    Kept,
    /// Opened before the merge; the merge and packing go on on a thread of their own.
    Packing,
}

/// Builds the index of `articles` in memory. Article numbers are positions in `articles`.
pub fn build(articles: &[Article]) -> Result<Built, SearchError> {
    build_with(articles, fingerprint(articles))
}

/// [`build`], with the articles' [`fingerprint`] already computed.
pub fn build_with(articles: &[Article], fingerprint: u64) -> Result<Built, SearchError> {
    build_inner(articles, fingerprint, Finish::Merged)?.0.wait()
}

/// [`build_with`], for a site build: a large site's index is returned before its segments are
/// merged and packed, which goes on meanwhile ([`Packed::wait`] for the file). Related
/// articles can be found in the returned index at once; nothing needs the merge until
/// `index.bin` is written.
pub fn build_packing(articles: &[Article], fingerprint: u64) -> Result<BuiltPacking, SearchError> {
    Ok(build_inner(articles, fingerprint, Finish::Packing)?.0)
}

/// [`build`], keeping what it takes to replace articles afterwards one at a time
/// ([`Updater`]); this holds the vocabulary and an index writer for as long as it lives.
pub fn build_updatable(articles: &[Article]) -> Result<(Built, Updater), SearchError> {
    let prints: Vec<u64> = articles.par_iter().with_min_len(256).map(article_fingerprint).collect();
    let (b, kept) = build_inner(articles, combine_fingerprints(&prints), Finish::Kept)?;
    let kept = kept.ok_or_else(|| SearchError::Format("nothing kept".into()))?;
    Ok((b.wait()?, Updater::new(kept, prints)?))
}

/// What an [`Updater`] takes over from the build.
pub(crate) struct Kept {
    pub(crate) index: Index,
    pub(crate) dir: RamDirectory,
    pub(crate) fields: Fields,
    pub(crate) urls: Vec<String>,
    /// Sorted by word.
    pub(crate) words: Vec<WordEntry>,
    pub(crate) compounds: HashMap<String, Compounds>,
    /// Sorted: a word's language bit is its language's position here.
    pub(crate) languages: Vec<String>,
}

fn build_inner(
    articles: &[Article],
    fingerprint: u64,
    finish: Finish,
) -> Result<(BuiltPacking, Option<Kept>), SearchError> {
    let mut stats = BuildStats::default();
    let start = Instant::now();
    let (schema, fields) = Fields::schema();
    // 1. The vocabulary: every word analyzed once per worker thread (an analyzer remembers the
    //    words it has seen; one per rayon split would analyze the same words over and over),
    //    and what related articles need.
    let slots: Vec<Mutex<(HashMap<String, MemoAnalyzer>, Words)>> =
        (0..rayon::current_num_threads()).map(|_| Mutex::default()).collect();
    let (terms, read): (Vec<ArticleTerms>, Vec<(usize, Analysed)>) = articles
        .par_iter()
        .with_min_len(64)
        // (Pieces small enough for both threads to end together: rayon cuts a step into
        // about four pieces otherwise, and a slowed-down thread ends a quarter alone.)
        .with_max_len(128)
        .map(|a| {
            let s = rayon::current_thread_index().unwrap_or(0) % slots.len();
            let mut slot = slots[s].lock().unwrap_or_else(|e| e.into_inner());
            let (cache, words) = &mut *slot;
            let an = cache.entry(a.lang.clone()).or_insert_with(|| MemoAnalyzer::new(&a.lang));
            // Records which word became which term (each word once per analyzer).
            let (terms, read) = analyse(a, an, |word, term| words.add(word, term));
            (terms, (s, read))
        })
        .unzip();
    let mut words = Words::default();
    let mut vocabularies: HashMap<String, Vocabulary> = HashMap::new();
    // Each slot's analyzers by language: the articles they read name their terms by number.
    let analyzers: Vec<HashMap<String, MemoAnalyzer>> = slots
        .into_iter()
        .map(|slot| {
            let (mut cache, more) = slot.into_inner().unwrap_or_else(|e| e.into_inner());
            words.merge(more);
            for (lang, an) in &mut cache {
                vocabularies.entry(lang.clone()).or_default().add(an);
            }
            cache
        })
        .collect();
    // Compound words: split with each language's own vocabulary; their parts are indexed in
    // the parts fields.
    let mut languages: Vec<String> = vocabularies.keys().cloned().collect();
    languages.sort();
    for (lang, v) in &vocabularies {
        // Languages are numbered in order, as the open index numbers them.
        let bit = languages.iter().position(|l| l == lang).filter(|&i| i < 64).map_or(0, |i| 1u64 << i);
        for word in v.0.keys() {
            words.add_language(word, bit);
        }
    }
    let mut compounds: HashMap<String, Compounds> = vocabularies
        .into_iter()
        .map(|(lang, v)| {
            let c = Compounds::of(&lang, v);
            (lang, c)
        })
        .collect();
    for c in compounds.values_mut() {
        for (word, parts) in std::mem::take(&mut c.words) {
            words.add_parts(&word, &parts);
        }
        for (word, forms) in std::mem::take(&mut c.forms) {
            words.add_forms(&word, &forms);
        }
    }
    let tables: Vec<HashMap<&str, TermTable>> = analyzers
        .iter()
        .map(|cache| cache.iter().map(|(lang, an)| (lang.as_str(), TermTable::new(an, compounds.get(lang)))).collect())
        .collect();
    stats.documents = articles.len();
    stats.analyze = start.elapsed();

    // 2. The documents, made and written as they come. A large site's are written in two
    //    halves at once (one writer keeps one core busy, and is what takes longest), each into
    //    a segment of its own, then merged into one in order: the documents keep the order of
    //    the articles.
    let start = Instant::now();
    let settings = IndexSettings {
        docstore_compression: Compressor::Lz4,
        docstore_blocksize: 4 * 1024,
        // Compressed by the writer itself: a block is about one article, and handing each to a
        // thread of its own cost a wake-up per article (more than the compression).
        docstore_compress_dedicated_thread: false,
        ..IndexSettings::default()
    };
    let tokenizers = tantivy::tokenizer::TokenizerManager::default();
    tokenizers.register(TERMS_TOKENIZER, TermsTokenizer::default());
    // Halves of about as many terms (what a writer's time goes by).
    let ends = if articles.len() >= 2 * HALF {
        let total: usize = read.iter().map(|(_, r)| r.ids.len()).sum();
        let mut sum = 0;
        let middle = read.iter().position(|(_, r)| {
            sum += r.ids.len();
            sum * 2 >= total
        });
        vec![middle.map_or(articles.len(), |m| m + 1), articles.len()]
    } else {
        vec![articles.len()]
    };
    let halves = ends.len();
    let (made, urls, words) = std::thread::scope(|scope| {
        let (fields, compounds, tables) = (&fields, &compounds, &tables);
        let writers: Vec<_> = (0..halves)
            .map(|h| {
                let first = if h == 0 { 0 } else { ends[h - 1] };
                let range = first..ends[h];
                let (articles, read) = (&articles[range.clone()], &read[range]);
                let index =
                    Index::builder().schema(schema.clone()).settings(settings.clone()).tokenizers(tokenizers.clone());
                scope.spawn(move || -> Result<(Index, RamDirectory), SearchError> {
                    let dir = RamDirectory::create();
                    let mut writer =
                        index.single_segment_index_writer::<TantivyDocument>(dir.clone(), BUDGET / halves)?;
                    let mut scratch = DocScratch::default();
                    for (j, (a, (s, read))) in articles.iter().zip(read).enumerate() {
                        let table = &tables[*s][a.lang.as_str()];
                        let id = (first + j) as u64;
                        writer.add_document(document(
                            fields,
                            id,
                            a,
                            read,
                            table,
                            compounds.get(&a.lang),
                            &mut scratch,
                        ))?;
                    }
                    Ok((writer.finalize()?, dir))
                })
            })
            .collect();
        // Meanwhile, what the packed index needs besides.
        let urls: Vec<String> = articles.iter().map(|a| a.url.clone()).collect();
        let words = words.into_sorted();
        let made = writers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect::<Result<Vec<_>, SearchError>>();
        (made, urls, words)
    });
    let mut made = made?;
    // Freed by a worker: the workers wait for the index meanwhile.
    rayon::spawn(move || drop(read));
    let (index, dir) = made.remove(0);
    let segments = add_segments(&index, made)?;
    if finish == Finish::Packing && segments.len() > 1 {
        // The merge and packing work on a copy of the segments, made on their own thread (the
        // index opened here meanwhile reads them, and the merge removes them from its directory).
        let (from, from_dir, pack_urls, pack_words) = (index, dir.clone(), urls.clone(), words.clone());
        let packing = std::thread::Builder::new()
            .name("index merge".into())
            .spawn(move || -> Result<Vec<u8>, SearchError> {
                let (copy, copy_dir) = copy_index(&from, &from_dir)?;
                drop((from, from_dir));
                merge_segments(&copy, &segments)?;
                let files = index_files(&copy, &copy_dir)?;
                Ok(pack(fingerprint, &pack_urls, &pack_words, &files))
            })
            .map_err(SearchError::Io)?;
        let index = SearchIndex::open(dir, fingerprint, urls, words)?;
        stats.index = start.elapsed();
        return Ok((BuiltPacking { index, packed: Packed::Making(packing), stats, terms }, None));
    }
    merge_segments(&index, &segments)?;
    let files = index_files(&index, &dir)?;
    let packed = pack(fingerprint, &urls, &words, &files);
    drop(files);
    stats.index = start.elapsed();
    let kept = (finish == Finish::Kept).then(|| Kept {
        index,
        dir: dir.clone(),
        fields,
        urls: urls.clone(),
        words: words.clone(),
        compounds,
        languages,
    });

    let start = Instant::now();
    let index = SearchIndex::open(dir, fingerprint, urls, words)?;
    stats.open = start.elapsed();
    Ok((BuiltPacking { index, packed: Packed::Ready(packed), stats, terms }, kept))
}

/// A site of at least twice this many articles is written in two halves at once.
const HALF: usize = 1024;
/// The index writers' memory (a segment is written when it is full).
const BUDGET: usize = 32 * 1024 * 1024;

/// Adds the segments of `others` (each an index of one segment in a directory of its own) to
/// `index`, after its own: their files go into its directory, and into its list of segments.
/// Returns the index's segments, in order.
fn add_segments(index: &Index, others: Vec<(Index, RamDirectory)>) -> Result<Vec<SegmentId>, SearchError> {
    let format = |e: &dyn std::fmt::Display| SearchError::Format(e.to_string());
    let mut meta = index.load_metas()?;
    if others.is_empty() {
        return Ok(meta.segments.iter().map(|s| s.id()).collect());
    }
    for (other, dir) in others {
        let more = other.load_metas()?;
        let mut files: Vec<_> = more.list_segment_files().into_iter().collect();
        files.sort();
        for file in files {
            if !dir.exists(&file).map_err(|e| format(&e))? {
                continue;
            }
            let bytes = dir.open_read(&file).map_err(|e| format(&e))?.read_bytes()?;
            // As it is (with its footer), through the index's directory, which then manages
            // the file as its own.
            index.directory().atomic_write(&file, &bytes)?;
        }
        meta.segments.extend(more.segments);
        meta.opstamp = meta.opstamp.max(more.opstamp);
    }
    let json = serde_json::to_vec_pretty(&meta).map_err(|e| format(&e))?;
    index.directory().atomic_write(Path::new("meta.json"), &json)?;
    Ok(meta.segments.iter().map(|s| s.id()).collect())
}

/// Merges `segments` of `index` into one, in that order (the documents keep theirs); the
/// merge removes the parts. A query then reads one term dictionary per field, not one per
/// segment (two segments answer 14 % fewer queries a second).
fn merge_segments(index: &Index, segments: &[SegmentId]) -> Result<(), SearchError> {
    if segments.len() < 2 {
        return Ok(());
    }
    let mut writer: tantivy::IndexWriter<TantivyDocument> = index.writer_with_num_threads(1, MERGE_BUDGET)?;
    writer.merge(segments).wait()?;
    writer.wait_merging_threads()?;
    Ok(())
}

/// A copy of `index` (its files in `dir`) in a directory of its own.
fn copy_index(index: &Index, dir: &RamDirectory) -> Result<(Index, RamDirectory), SearchError> {
    let copy = RamDirectory::create();
    for (name, bytes) in index_files(index, dir)? {
        copy.atomic_write(Path::new(&name), &bytes)?;
    }
    let index = Index::open(copy.clone())?;
    Ok((index, copy))
}

/// The smallest budget tantivy takes for an index writer; a merge writes no documents.
const MERGE_BUDGET: usize = 15_000_000;

/// Words as they occur in the articles (folded, not stemmed) -> the terms they were indexed as:
/// typos and unfinished words are matched against words, not stems, since stemming changes
/// word endings (`escalatie` is indexed as `escaleer`). Once the vocabulary is complete, also
/// the terms of the parts of compounds, of other forms of verbs, and the languages of words.
#[derive(Debug, Default)]
struct Words {
    stems: HashMap<String, Vec<String>>,
    parts: HashMap<String, Vec<String>>,
    forms: HashMap<String, Vec<String>>,
    languages: HashMap<String, u64>,
}

impl Words {
    /// The word occurs in the language of bit `bit`.
    fn add_language(&mut self, word: &str, bit: u64) {
        match self.languages.get_mut(word) {
            Some(m) => *m |= bit,
            None => {
                self.languages.insert(word.to_owned(), bit);
            }
        }
    }

    /// The terms of the parts of a compound word.
    fn add_parts(&mut self, word: &str, parts: &[std::sync::Arc<str>]) {
        add_terms(&mut self.parts, word, parts);
    }

    /// The terms of the other forms of a verb form.
    fn add_forms(&mut self, word: &str, forms: &[std::sync::Arc<str>]) {
        add_terms(&mut self.forms, word, forms);
    }

    fn add(&mut self, word: &str, stem: &str) {
        match self.stems.get_mut(word) {
            Some(stems) if stems.iter().any(|s| s == stem) => {}
            Some(stems) => stems.push(stem.to_owned()),
            None => {
                self.stems.insert(word.to_owned(), vec![stem.to_owned()]);
            }
        }
    }

    /// Adds the words of `other` (made while analyzing: only words and their terms).
    fn merge(&mut self, other: Words) {
        if self.stems.len() < other.stems.len() {
            let mine = std::mem::replace(&mut self.stems, other.stems);
            for (w, stems) in mine {
                for s in stems {
                    self.add(&w, &s);
                }
            }
        } else {
            for (w, stems) in other.stems {
                for s in stems {
                    self.add(&w, &s);
                }
            }
        }
    }

    fn into_sorted(mut self) -> Vec<WordEntry> {
        let mut v: Vec<WordEntry> = self
            .stems
            .into_iter()
            .map(|(word, stems)| {
                let parts = self.parts.remove(&word).unwrap_or_default();
                let forms = self.forms.remove(&word).unwrap_or_default();
                let languages = self.languages.get(&word).copied().unwrap_or(u64::MAX);
                WordEntry { word, stems, parts, forms, languages }
            })
            .collect();
        v.sort_unstable_by(|a, b| a.word.cmp(&b.word));
        for w in &mut v {
            w.stems.sort_unstable();
        }
        v
    }
}

fn add_terms(map: &mut HashMap<String, Vec<String>>, word: &str, terms: &[std::sync::Arc<str>]) {
    let known = map.entry(word.to_owned()).or_default();
    for t in terms {
        if !known.iter().any(|k| **k == **t) {
            known.push(t.to_string());
        }
    }
}

/// A word of the articles: the terms it was indexed as, the terms of its parts when it is a
/// compound, of its other forms when it is a Dutch verb form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WordEntry {
    pub(crate) word: String,
    pub(crate) stems: Vec<String>,
    pub(crate) parts: Vec<String>,
    pub(crate) forms: Vec<String>,
    /// The languages it occurs in, a bit per language in the order of the index's languages.
    pub(crate) languages: u64,
}

/// The words of one language with their terms and how often they occur: the dictionary
/// compounds are split with.
#[derive(Debug, Default)]
pub(crate) struct Vocabulary(pub(crate) HashMap<String, (std::sync::Arc<str>, u32), FxBuildHasher>);

impl Vocabulary {
    /// Takes the words of `an`.
    fn add(&mut self, an: &mut MemoAnalyzer) {
        let mut other = Vocabulary(HashMap::default());
        other.0.extend(an.take_vocabulary().map(|(word, term, n)| (word, (term, n))));
        self.merge(other);
    }

    fn merge(&mut self, mut other: Vocabulary) {
        if self.0.len() < other.0.len() {
            std::mem::swap(&mut self.0, &mut other.0);
        }
        for (word, (term, n)) in other.0 {
            self.0.entry(word).and_modify(|e| e.1 = e.1.saturating_add(n)).or_insert((term, n));
        }
    }
}

/// The terms of the parts of `word` (indexed as `term`) when the vocabulary `v` makes it a
/// compound of its own words; `an` is the language's analyzer, made when first needed.
pub(crate) fn split_word(
    lang: &str,
    v: &Vocabulary,
    an: &mut Option<TextAnalyzer>,
    word: &str,
    term: &std::sync::Arc<str>,
) -> Option<Vec<std::sync::Arc<str>>> {
    let known = |part: &str, _last: bool| v.0.get(part).map(|e| e.1);
    let mut terms: Vec<std::sync::Arc<str>> = Vec::new();
    if let Some(parts) = compound::split(word, known) {
        for p in parts {
            let t = &v.0.get(p)?.0;
            if t != term && !terms.contains(t) {
                terms.push(t.clone());
            }
        }
    } else {
        // A known head and a tail the vocabulary only has in compounds.
        let (head, tail) = compound::split_head(word, |p| v.0.contains_key(p))?;
        let an = an.get_or_insert_with(|| analyzer(lang));
        let tail: std::sync::Arc<str> = crate::analysis::tokens(an, tail).pop()?.text.into();
        for t in [&v.0.get(head)?.0, &tail] {
            if t != term && !terms.contains(t) {
                terms.push(t.clone());
            }
        }
    }
    (!terms.is_empty()).then_some(terms)
}

/// The terms of the other forms of the Dutch verb form `word` (indexed as `term`) that the
/// vocabulary has ([`compound::verb_forms`]).
pub(crate) fn verb_form_terms(
    v: &Vocabulary,
    word: &str,
    term: &std::sync::Arc<str>,
) -> Option<Vec<std::sync::Arc<str>>> {
    let mut terms: Vec<std::sync::Arc<str>> = Vec::new();
    for form in compound::verb_forms(word, None) {
        if let Some((t, _)) = v.0.get(&form)
            && t != term
            && !terms.contains(t)
        {
            terms.push(t.clone());
        }
    }
    (!terms.is_empty()).then_some(terms)
}

/// The compound words of one language and the terms of their parts.
#[derive(Debug, Default)]
pub(crate) struct Compounds {
    /// Word -> the terms of its parts.
    words: Vec<(String, Vec<std::sync::Arc<str>>)>,
    /// Term -> the terms of the parts of the words indexed as it.
    pub(crate) terms: HashMap<std::sync::Arc<str>, Vec<std::sync::Arc<str>>, FxBuildHasher>,
    /// The length of the shortest term in `terms`: shorter terms need no look-up.
    pub(crate) shortest: usize,
    /// Dutch verb forms -> the terms of their other forms the vocabulary has
    /// ([`compound::verb_forms`]).
    forms: Vec<(String, Vec<std::sync::Arc<str>>)>,
    pub(crate) vocabulary: Vocabulary,
}

impl Compounds {
    fn of(lang: &str, v: Vocabulary) -> Compounds {
        let mut words: Vec<(String, Vec<std::sync::Arc<str>>)> =
            v.0.par_iter()
                .map_init(
                    || None,
                    |an: &mut Option<TextAnalyzer>, (word, (term, _))| {
                        split_word(lang, &v, an, word, term).map(|terms| (word.clone(), terms))
                    },
                )
                .flatten()
                .collect();
        words.sort_unstable();
        let mut terms: HashMap<std::sync::Arc<str>, Vec<std::sync::Arc<str>>, FxBuildHasher> = HashMap::default();
        for (word, parts) in &words {
            let Some((term, _)) = v.0.get(word) else { continue };
            let known = terms.entry(term.clone()).or_default();
            for p in parts {
                if !known.contains(p) {
                    known.push(p.clone());
                }
            }
        }
        let mut forms: Vec<(String, Vec<std::sync::Arc<str>>)> = Vec::new();
        if crate::analysis::stemmer_language(lang) == Some(tantivy::tokenizer::Language::Dutch) {
            forms =
                v.0.par_iter()
                    .filter_map(|(word, (term, _))| Some((word.clone(), verb_form_terms(&v, word, term)?)))
                    .collect();
        }
        let shortest = terms.keys().map(|t| t.len()).min().unwrap_or(usize::MAX);
        Compounds { words, terms, shortest, forms, vocabulary: v }
    }

    /// The terms of the other forms of `verb` the vocabulary has, when it is written apart from
    /// `particle` (each followed by the separator; empty when it is no verb), remembered in
    /// `verbs`.
    fn separated_terms<'v>(&self, verbs: &'v mut VerbTerms, verb: &str, particle: &'static str) -> &'v str {
        let of_particle = verbs.entry(particle).or_default();
        if !of_particle.contains_key(verb) {
            let mut terms = String::new();
            for form in compound::verb_forms(verb, Some(particle)) {
                if let Some((term, _)) = self.vocabulary.0.get(&form)
                    && !terms.split(TERM_SEP).any(|t| t == &**term)
                {
                    terms.push_str(term);
                    terms.push(TERM_SEP);
                }
            }
            of_particle.insert(verb.to_owned(), terms);
        }
        of_particle.get(verb).map_or("", String::as_str)
    }
}

/// The `index.bin` format: magic, format, fingerprint, the article URLs, the words (each with
/// its terms, the terms of its parts, of its other forms, and its languages), the files, then
/// the checksum of all that.
pub(crate) fn pack(fingerprint: u64, urls: &[String], words: &[WordEntry], files: &[(String, OwnedBytes)]) -> Vec<u8> {
    let size: usize = files.iter().map(|(n, b)| n.len() + b.len() + 16).sum::<usize>()
        + urls.iter().map(|u| u.len() + 8).sum::<usize>();
    let mut out = Vec::with_capacity(size + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&fingerprint.to_le_bytes());
    out.extend_from_slice(&(urls.len() as u32).to_le_bytes());
    for url in urls {
        put_bytes(&mut out, url.as_bytes());
    }
    out.extend_from_slice(&(words.len() as u32).to_le_bytes());
    for w in words {
        put_bytes(&mut out, w.word.as_bytes());
        for list in [&w.stems, &w.parts, &w.forms] {
            out.extend_from_slice(&(list.len() as u32).to_le_bytes());
            for s in list {
                put_bytes(&mut out, s.as_bytes());
            }
        }
        out.extend_from_slice(&w.languages.to_le_bytes());
    }
    out.extend_from_slice(&(files.len() as u32).to_le_bytes());
    for (name, bytes) in files {
        put_bytes(&mut out, name.as_bytes());
        put_bytes(&mut out, bytes);
    }
    let checksum = crc32fast::hash(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

/// The tokenizer of the searchable fields, by name in the schema. Their text is analyzed
/// before indexing (each article with its own language's analyzer, in parallel, see
/// [`MemoAnalyzer`]) into its terms, each followed by [`TERM_SEP`]; this tokenizer only reads
/// them back. (Handing tantivy pre-tokenized strings instead costs a JSON round trip and two
/// copies of every token.)
pub(crate) const TERMS_TOKENIZER: &str = "terms";
const TERM_SEP: char = '\0';

#[derive(Debug, Clone, Default)]
struct TermsTokenizer {
    token: Token,
}

#[derive(Debug)]
struct TermsStream<'a> {
    text: &'a str,
    /// Where the next term starts.
    at: usize,
    token: &'a mut Token,
}

impl tantivy::tokenizer::Tokenizer for TermsTokenizer {
    type TokenStream<'a> = TermsStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TermsStream<'a> {
        self.token.reset();
        self.token.position = usize::MAX;
        TermsStream { text, at: 0, token: &mut self.token }
    }
}

impl tantivy::tokenizer::TokenStream for TermsStream<'_> {
    fn advance(&mut self) -> bool {
        let b = self.text.as_bytes();
        while self.at < b.len() {
            // Terms are short: a plain loop finds the end sooner than a general search.
            let from = self.at;
            let to = b[from..].iter().position(|&c| c == TERM_SEP as u8).map_or(b.len(), |n| from + n);
            self.at = to + 1;
            if to > from {
                self.token.text.clear();
                self.token.text.push_str(&self.text[from..to]);
                self.token.position = self.token.position.wrapping_add(1);
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// Separates the parts of a stored section, and the sections.
pub(crate) const UNIT_SEP: char = '\u{1f}';
pub(crate) const RECORD_SEP: char = '\u{1e}';

/// The searchable texts of an article, in the order they are read: each is a field of the
/// index and a part of what related articles read.
const SEARCHABLE: [Part; 5] = [Part::Title, Part::Description, Part::Tags, Part::Other, Part::Body];

/// Calls `f` with each piece of `a`'s text that is `part`: the title, the description, each
/// tag, each heading (`Part::Other`), each section's text (`Part::Body`).
fn each_piece<'a>(a: &'a Article, part: Part, mut f: impl FnMut(&'a str)) {
    match part {
        Part::Title => f(&a.title),
        Part::Description => f(a.description.as_deref().unwrap_or("")),
        Part::Tags => a.tags.iter().for_each(|t| f(t)),
        Part::Other => a.sections.iter().filter(|s| !s.heading.is_empty()).for_each(|s| f(&s.heading)),
        Part::Body => a.sections.iter().for_each(|s| f(&s.text)),
    }
}

/// An article's searchable text as read once by [`analyse`], for its [`document`]: the numbers
/// of its terms in the analyzer that read it, and in Dutch the verbs before a particle.
#[derive(Debug, Default)]
pub(crate) struct Analysed {
    /// Term numbers ([`MemoAnalyzer::table`]) of the texts of [`SEARCHABLE`], one after another.
    ids: Vec<u32>,
    /// Where the numbers of each of [`SEARCHABLE`] end.
    ends: [usize; 5],
    /// Verbs before a particle (`logt ... in`): the place in [`SEARCHABLE`], the verb
    /// (lowercased, in `verb_text`) and the particle.
    verbs: Vec<(usize, std::ops::Range<usize>, &'static str)>,
    verb_text: String,
    /// [`Article::is_long`].
    long: bool,
}

/// Which terms (by number) an article's body has had so far, for [`analyse`]: each article is
/// a round of its own, so nothing is made or cleared per article (a site's articles have
/// hundreds of distinct terms each).
#[derive(Debug, Default)]
struct Rounds {
    round: u32,
    /// Term number -> the last round it was seen in.
    seen: Vec<u32>,
}

impl Rounds {
    fn next_round(&mut self) {
        self.round = self.round.wrapping_add(1);
        if self.round == 0 {
            self.seen.fill(0);
            self.round = 1;
        }
    }

    /// Whether this round has not had term `id` yet; it has now.
    fn first(&mut self, id: u32) -> bool {
        let i = id as usize;
        if i >= self.seen.len() {
            self.seen.resize((i + 1).next_power_of_two(), 0);
        }
        std::mem::replace(&mut self.seen[i], self.round) != self.round
    }
}

thread_local! {
    static BODY_TERMS: std::cell::Cell<Rounds> = std::cell::Cell::default();
}

/// Reads the searchable texts of `a` with `an` (its language's analyzer), once, for both the
/// index and related articles; `new_word` hears of each word the analyzer had not seen before,
/// with its term.
pub(crate) fn analyse(
    a: &Article,
    an: &mut MemoAnalyzer,
    mut new_word: impl FnMut(&str, &str),
) -> (ArticleTerms, Analysed) {
    let dutch = crate::analysis::stemmer_language(&a.lang) == Some(tantivy::tokenizer::Language::Dutch);
    let mut terms = ArticleTerms::default();
    let mut read = Analysed::default();
    // The words of the body, for [`Article::is_long`] (counted as they are read).
    let mut body_words = 0;
    let mut scan = compound::VerbScan::default();
    let mut body = BODY_TERMS.take();
    body.next_round();
    for (k, part) in SEARCHABLE.into_iter().enumerate() {
        // Not in tags: they are no sentences.
        let find_verbs = dutch && part != Part::Tags;
        each_piece(a, part, |piece| {
            // A particle never belongs to a word of another heading or section.
            scan.reset();
            an.for_each_word(piece, |from, to, ascii, t| {
                body_words += usize::from(part == Part::Body);
                if let Some(t) = t {
                    if t.new {
                        new_word(t.word, t.term);
                    }
                    terms.add(part, t.shared, || body.first(t.id));
                    read.ids.push(t.id);
                }
                if find_verbs {
                    scan.word(piece, from, to, ascii, |verb, particle| {
                        let at = read.verb_text.len();
                        read.verb_text.push_str(verb);
                        read.verbs.push((k, at..read.verb_text.len(), particle));
                    });
                }
            });
        });
        read.ends[k] = read.ids.len();
    }
    BODY_TERMS.set(body);
    read.long = a.headed_sections() >= LONG_SECTIONS && body_words >= LONG_WORDS;
    debug_assert_eq!(read.long, a.is_long());
    (terms, read)
}

/// An analyzer's terms by number, each with the terms of its parts when the vocabulary makes
/// it a compound (each followed by [`TERM_SEP`], empty for none).
#[derive(Debug, Default)]
pub(crate) struct TermTable {
    terms: Vec<std::sync::Arc<str>>,
    parts: Vec<String>,
}

impl TermTable {
    pub(crate) fn new(an: &MemoAnalyzer, compounds: Option<&Compounds>) -> TermTable {
        let terms = an.table().to_vec();
        let parts = terms
            .iter()
            .map(|t| {
                let mut parts = String::new();
                if let Some(of_term) = compounds.filter(|c| t.len() >= c.shortest).and_then(|c| c.terms.get(&**t)) {
                    for p in of_term {
                        parts.push_str(p);
                        parts.push(TERM_SEP);
                    }
                }
                parts
            })
            .collect();
        TermTable { terms, parts }
    }
}

/// What each Dutch verb written apart from its particle became, by particle and verb: the terms
/// of its forms the vocabulary has (see [`document`]).
pub(crate) type VerbTerms = HashMap<&'static str, HashMap<String, String, FxBuildHasher>, FxBuildHasher>;

/// What [`document`] keeps from one document to the next of a writer.
#[derive(Debug, Default)]
pub(crate) struct DocScratch {
    pub(crate) verbs: VerbTerms,
    /// A bit per term of the term table and group of parts fields (title and tags, the rest):
    /// whether the document's parts have that term's parts already. Cleared after each document.
    seen: Vec<u64>,
    /// The bits set in `seen`.
    set: Vec<usize>,
}

/// The tantivy document of one article, once the vocabulary is complete (`compounds`: its
/// language's; `None` when the language has no words at all), from what [`analyse`] read of
/// it with the analyzer whose terms `table` has.
///
/// The terms of each searchable text become the field's terms (as the `terms` tokenizer reads
/// them back), and in Dutch the verbs before a particle (`logt ... in`) become the terms of
/// the verb's other forms too. The parts of a compound go into the parts fields once per
/// article, however often it has the compound: a part says what an article is about, not how
/// much (and a long text of compounds is not written three times over into the index).
pub(crate) fn document(
    f: &Fields,
    id: u64,
    a: &Article,
    read: &Analysed,
    table: &TermTable,
    compounds: Option<&Compounds>,
    scratch: &mut DocScratch,
) -> TantivyDocument {
    let mut d = TantivyDocument::default();
    // The terms of the parts of the compounds of the title and tags, and of the other texts.
    let (mut title_parts, mut parts) = (String::new(), String::new());
    let bits = 2 * table.terms.len();
    if scratch.seen.len() * 64 < bits {
        scratch.seen.resize(bits.div_ceil(64), 0);
    }
    // Per field, the terms of its separated verbs (their parts are not looked for).
    let mut verb_terms: Vec<(tantivy::schema::Field, String)> = Vec::new();
    let mut from = 0;
    for (k, part) in SEARCHABLE.into_iter().enumerate() {
        let field = match part {
            Part::Title => f.title,
            Part::Description => f.description,
            Part::Tags => f.tags,
            Part::Other => f.headings,
            Part::Body => f.body,
        };
        let mut size = 0;
        each_piece(a, part, |piece| size += piece.len() + 1);
        let mut terms = String::with_capacity(size);
        let group = usize::from(matches!(part, Part::Title | Part::Tags));
        let parts = if group == 1 { &mut title_parts } else { &mut parts };
        for &n in &read.ids[from..read.ends[k]] {
            let n = n as usize;
            terms.push_str(&table.terms[n]);
            terms.push(TERM_SEP);
            if !table.parts[n].is_empty() {
                let bit = 2 * n + group;
                let (word, mask) = (&mut scratch.seen[bit / 64], 1u64 << (bit % 64));
                if *word & mask == 0 {
                    *word |= mask;
                    scratch.set.push(bit);
                    parts.push_str(&table.parts[n]);
                }
            }
        }
        from = read.ends[k];
        d.add_text(field, terms);
        if let Some(c) = compounds {
            let mut separated = String::new();
            for (_, verb, particle) in read.verbs.iter().filter(|v| v.0 == k) {
                separated.push_str(c.separated_terms(&mut scratch.verbs, &read.verb_text[verb.clone()], particle));
            }
            if !separated.is_empty() {
                verb_terms.push((field, separated));
            }
        }
    }
    for bit in scratch.set.drain(..) {
        scratch.seen[bit / 64] &= !(1u64 << (bit % 64));
    }
    let body = a.sections.iter().map(|s| s.text.len()).sum::<usize>();
    let mut stored = String::with_capacity(body + 256);
    for (i, s) in a.sections.iter().enumerate() {
        if i > 0 {
            stored.push(RECORD_SEP);
        }
        for (j, part) in [&s.anchor, &s.heading, &s.text].into_iter().enumerate() {
            if j > 0 {
                stored.push(UNIT_SEP);
            }
            // (Both are ASCII: a byte search finds them, at memory speed.)
            if memchr::memchr2(UNIT_SEP as u8, RECORD_SEP as u8, part.as_bytes()).is_some() {
                stored.extend(part.chars().map(|c| if c == UNIT_SEP || c == RECORD_SEP { ' ' } else { c }));
            } else {
                stored.push_str(part);
            }
        }
    }
    d.add_text(f.category, &a.category);
    d.add_text(f.language, &a.lang);
    d.add_text(f.url, &a.url);
    d.add_u64(f.article, id);
    d.add_u64(f.long, u64::from(read.long));
    d.add_text(f.stored_title, &a.title);
    d.add_text(f.summary, a.description.as_deref().unwrap_or(""));
    d.add_text(f.category_title, &a.category_title);
    d.add_text(f.sections, &stored);
    if compounds.is_some_and(|c| !c.terms.is_empty()) {
        d.add_text(f.title_parts, title_parts);
        d.add_text(f.parts, parts);
    }
    for (field, terms) in verb_terms {
        d.add_text(field, terms);
    }
    d
}

/// The files an open reader needs: `meta.json` and every segment file, sorted by name.
pub(crate) fn index_files(index: &Index, dir: &RamDirectory) -> Result<Vec<(String, OwnedBytes)>, SearchError> {
    let mut names = vec![std::path::PathBuf::from("meta.json")];
    names.extend(index.load_metas()?.list_segment_files());
    names.sort();
    names.dedup();
    let mut files = Vec::with_capacity(names.len());
    for name in names {
        if !dir.exists(&name).map_err(|e| SearchError::Format(e.to_string()))? {
            continue; // e.g. no deletes file
        }
        // The directory's own bytes, not a copy.
        let bytes = dir.open_read(&name).map_err(|e| SearchError::Format(e.to_string()))?.read_bytes()?;
        files.push((name.to_string_lossy().into_owned(), bytes));
    }
    Ok(files)
}

impl SearchIndex {
    pub(crate) fn open(
        dir: RamDirectory,
        fingerprint: u64,
        article_urls: Vec<String>,
        words: Vec<WordEntry>,
    ) -> Result<Self, SearchError> {
        Self::open_with(dir, fingerprint, article_urls, Some(words))
    }

    /// [`Self::open`]; without `words`, only for related articles ([`Self::related_only`]):
    /// neither the vocabulary nor the word list is made, which takes a large site's index
    /// tens of milliseconds.
    pub(crate) fn open_with(
        dir: RamDirectory,
        fingerprint: u64,
        article_urls: Vec<String>,
        words: Option<Vec<WordEntry>>,
    ) -> Result<Self, SearchError> {
        let index = Index::open(dir)?;
        let fields = Fields::from_schema(&index.schema())?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let searcher = reader.searcher();
        let related_only = words.is_none();
        let words = words.unwrap_or_default();
        let vocab = if related_only {
            tantivy_fst::Map::from_iter(std::iter::empty::<(&[u8], u64)>())
                .map_err(|e| SearchError::Format(format!("vocabulary: {e}")))?
        } else {
            vocabulary(&searcher, &fields)?
        };
        let mut languages: Vec<String> = Vec::new();
        for seg in searcher.segment_readers() {
            let inverted = seg.inverted_index(fields.language)?;
            let mut terms = inverted.terms().stream()?;
            while terms.advance() {
                let lang = String::from_utf8_lossy(terms.key()).into_owned();
                if !languages.contains(&lang) {
                    languages.push(lang);
                }
            }
        }
        languages.sort();
        let doc_langs = if related_only { Vec::new() } else { doc_languages(&searcher, &fields, &languages)? };
        let docs = crate::stored::DocCache::new(&searcher);
        let tables = crate::score::Tables::new(&searcher, &fields)?;
        let analyzers = languages.iter().map(|l| (l.clone(), analyzer(l))).collect();
        let word_fst =
            tantivy_fst::Map::from_iter(words.iter().enumerate().map(|(i, w)| (w.word.as_bytes(), i as u64)))
                .map_err(|e| SearchError::Format(format!("words: {e}")))?;
        let word_languages = words.iter().map(|w| w.languages).collect();
        let mut word_forms = Vec::with_capacity(words.len());
        let (word_stems, word_parts) = words
            .into_iter()
            .map(|w| {
                word_forms.push(w.forms);
                (w.stems, w.parts)
            })
            .unzip();
        Ok(SearchIndex {
            searcher,
            fields,
            vocab,
            words: word_fst,
            word_stems,
            word_parts,
            word_forms,
            word_languages,
            analyzers,
            languages,
            doc_langs,
            tables,
            article_urls,
            docs,
            word_terms: crate::stored::WordTerms::default(),
            plans: crate::query::PlanMemo::default(),
            fingerprint,
            related_only,
        })
    }

    /// The fingerprint of the articles this index was built from (see [`fingerprint`]).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Number of articles and of indexed documents (sections of long articles count apart).
    pub fn articles(&self) -> usize {
        self.article_urls.len()
    }

    /// The URL of article number `n`.
    pub fn article_url(&self, n: usize) -> Option<&str> {
        self.article_urls.get(n).map(String::as_str)
    }

    pub fn documents(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// The languages that have articles.
    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    /// Opens a packed index in memory.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SearchError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(8)? != MAGIC {
            return Err(SearchError::Format("not a packed search index".into()));
        }
        let format = u32::from_le_bytes(r.array()?);
        if format != FORMAT {
            return Err(SearchError::Format(format!("index format {format}, expected {FORMAT}: rebuild the site")));
        }
        let Some(body_len) = bytes.len().checked_sub(CHECKSUM_LEN) else {
            return Err(SearchError::Format("the index is cut short".into()));
        };
        let (body, checksum) = bytes.split_at(body_len);
        if crc32fast::hash(body).to_le_bytes() != checksum {
            return Err(SearchError::Format("the index is damaged (checksum mismatch): rebuild the site".into()));
        }
        let mut r = Reader { bytes: body, at: r.at };
        let fingerprint = u64::from_le_bytes(r.array()?);
        let n = u32::from_le_bytes(r.array()?) as usize;
        let mut urls = Vec::with_capacity(n.min(1 << 20));
        for _ in 0..n {
            urls.push(r.string()?);
        }
        let n = u32::from_le_bytes(r.array()?) as usize;
        let mut words = Vec::with_capacity(n.min(1 << 22));
        for _ in 0..n {
            let word = r.string()?;
            let mut lists = [Vec::new(), Vec::new(), Vec::new()];
            for list in &mut lists {
                let k = u32::from_le_bytes(r.array()?) as usize;
                list.reserve(k.min(16));
                for _ in 0..k {
                    list.push(r.string()?);
                }
            }
            let [stems, parts, forms] = lists;
            let languages = u64::from_le_bytes(r.array()?);
            words.push(WordEntry { word, stems, parts, forms, languages });
        }
        if !words.windows(2).all(|w| w[0].word < w[1].word) {
            return Err(SearchError::Format("words out of order".into()));
        }
        let n = u32::from_le_bytes(r.array()?) as usize;
        let dir = RamDirectory::create();
        for _ in 0..n {
            let name = r.string()?;
            if name.contains('/') || name.contains('\\') || name.starts_with('.') {
                return Err(SearchError::Format(format!("unexpected file name {name:?}")));
            }
            dir.atomic_write(Path::new(&name), r.bytes()?)?;
        }
        SearchIndex::open(dir, fingerprint, urls, words)
    }

    /// Opens `<dir>/index.bin`.
    pub fn load(dir: &Path) -> Result<Self, SearchError> {
        SearchIndex::from_bytes(&std::fs::read(dir.join(INDEX_FILE))?)
    }

    /// Only the fingerprint of a packed index, without opening it.
    pub fn peek_fingerprint(bytes: &[u8]) -> Option<u64> {
        let mut r = Reader { bytes, at: 0 };
        (r.take(8).ok()? == MAGIC && u32::from_le_bytes(r.array().ok()?) == FORMAT)
            .then(|| r.array().ok().map(u64::from_le_bytes))
            .flatten()
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SearchError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| SearchError::Format("truncated index file".into()))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], SearchError> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn bytes(&mut self) -> Result<&'a [u8], SearchError> {
        let n = u64::from_le_bytes(self.array()?);
        self.take(usize::try_from(n).map_err(|_| SearchError::Format("bad length".into()))?)
    }
    fn string(&mut self) -> Result<String, SearchError> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| SearchError::Format("bad string".into()))
    }
}

/// The documents of each language in a segment.
#[derive(Debug, Clone)]
pub(crate) struct DocLanguages {
    /// Per language (its position in the index's list), its documents as bits.
    pub(crate) bits: Vec<Box<[u64]>>,
}

fn doc_languages(searcher: &Searcher, fields: &Fields, languages: &[String]) -> Result<Vec<DocLanguages>, SearchError> {
    use tantivy::DocSet as _;
    let mut out = Vec::new();
    for seg in searcher.segment_readers() {
        let mut bits = Vec::new();
        let inverted = seg.inverted_index(fields.language)?;
        for lang in languages.iter().take(usize::from(u8::MAX)) {
            let mut of_lang = vec![0u64; (seg.max_doc() as usize).div_ceil(64)];
            let term = tantivy::Term::from_field_text(fields.language, lang);
            if let Some(mut postings) = inverted.read_postings(&term, tantivy::schema::IndexRecordOption::Basic)? {
                let mut doc = postings.doc();
                while doc != tantivy::TERMINATED {
                    crate::score::set_bit(&mut of_lang, doc);
                    doc = postings.advance();
                }
            }
            bits.push(of_lang.into_boxed_slice());
        }
        out.push(DocLanguages { bits });
    }
    Ok(out)
}

/// The bits of the parts fields in a vocabulary entry's mask.
const PART_BITS: u64 = crate::schema::PartField::Title.bit() | crate::schema::PartField::Other.bit();

/// All terms of the searchable fields with the fields they occur in and their document
/// frequency (the largest of a field's, over all segments).
fn vocabulary(searcher: &Searcher, fields: &Fields) -> Result<tantivy_fst::Map<Vec<u8>>, SearchError> {
    // Per term: its mask, its frequency, and the one in the field being read (which field).
    let mut all: BTreeMap<Vec<u8>, (u64, u64, u64, usize)> = BTreeMap::new();
    // Adds a segment's frequency of the term in field `i` (fields are read one after another).
    let count = |e: &mut (u64, u64, u64, usize), i: usize, df: u32| {
        if e.3 != i {
            (e.2, e.3) = (0, i);
        }
        e.2 += u64::from(df);
        e.1 = e.1.max(e.2);
    };
    let segments = searcher.segment_readers();
    for (i, (sf, _)) in WEIGHTS.iter().enumerate() {
        for seg in segments {
            let inverted = seg.inverted_index(fields.field(*sf))?;
            let mut terms = inverted.terms().stream()?;
            while terms.advance() {
                let e = all.entry(terms.key().to_vec()).or_insert((0, 0, 0, usize::MAX));
                e.0 |= sf.bit();
                count(e, i, terms.value().doc_freq);
            }
        }
    }
    // Parts of compounds: some occur on their own nowhere (`instellingen` of
    // `accountinstellingen`); their frequency is the number of documents with compounds.
    for (i, (pf, _)) in PART_WEIGHTS.iter().enumerate() {
        let i = WEIGHTS.len() + i;
        for seg in segments {
            let inverted = seg.inverted_index(fields.part(*pf))?;
            let mut terms = inverted.terms().stream()?;
            while terms.advance() {
                let e = all.entry(terms.key().to_vec()).or_insert((0, 0, 0, usize::MAX));
                e.0 |= pf.bit();
                if e.0 & !PART_BITS == 0 {
                    count(e, i, terms.value().doc_freq);
                }
            }
        }
    }
    tantivy_fst::Map::from_iter(
        all.into_iter().map(|(k, (mask, df, ..))| (k, (mask << 32) | df.min(u64::from(u32::MAX)))),
    )
    .map_err(|e| SearchError::Format(format!("vocabulary: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SearchRequest;

    /// Long articles are told by their words as the analyzers cut them (runs of letters and
    /// digits), whether asked of the article or found while it is analysed.
    #[test]
    fn an_article_is_long_from_the_words_its_analyzer_reads() {
        let section =
            |anchor: &str, text: &str| Section { anchor: anchor.into(), heading: anchor.into(), text: text.into() };
        // 4 words a piece as the analyzers cut them (`e-mail` is two), 3 by whitespace.
        let text = "e-mail\u{a0}adres, 3.";
        let article = |pieces: usize, headed: usize| Article {
            lang: "nl".into(),
            sections: (0..headed.max(1))
                .map(|i| {
                    let anchor = if i < headed { format!("s{i}") } else { String::new() };
                    let n = pieces / headed.max(1) + usize::from(i < pieces % headed.max(1));
                    section(&anchor, &vec![text; n].join(" "))
                })
                .collect(),
            ..Article::default()
        };
        let enough = LONG_WORDS.div_ceil(4);
        for (pieces, headed, long) in [
            (enough, LONG_SECTIONS, true),
            (enough - 1, LONG_SECTIONS, false),
            (enough, LONG_SECTIONS - 1, false),
            (5 * enough, 0, false),
        ] {
            let a = article(pieces, headed);
            assert_eq!(a.is_long(), long, "{pieces} pieces, {headed} headings");
            let (_, read) = analyse(&a, &mut MemoAnalyzer::new("nl"), |_, _| {});
            assert_eq!(read.long, long, "{pieces} pieces, {headed} headings, analysed");
        }
    }

    /// A large site's documents are written in two halves at once, then merged; each must
    /// still be its own article, in order, in one segment.
    #[test]
    fn every_article_of_a_build_in_halves_is_found_as_itself() {
        let n = 2 * HALF + 7;
        let articles: Vec<Article> = (0..n)
            .map(|i| {
                let lang = if i % 3 == 0 { "en" } else { "nl" };
                Article {
                    lang: lang.into(),
                    category: "c".into(),
                    category_title: "C".into(),
                    url: format!("/{lang}/c/a{i}/"),
                    title: format!("Artikel {i}"),
                    description: None,
                    tags: vec![],
                    sections: vec![Section {
                        text: format!("Een tekst over kenmerk zq{i}w en wachtwoorden."),
                        ..Section::default()
                    }],
                }
            })
            .collect();
        let built = build(&articles).expect("build");
        assert_eq!(built.terms.len(), n);
        assert_eq!(built.index.searcher.segment_readers().len(), 1, "one segment");
        for (i, a) in articles.iter().enumerate() {
            let found = built.index.search(&SearchRequest::new(&format!("zq{i}w"))).expect("search");
            let urls: Vec<&str> = found.results.iter().map(|h| h.url.as_str()).collect();
            assert_eq!(urls, [a.url.as_str()], "article {i}");
            assert_eq!(built.index.article_url(i), Some(a.url.as_str()));
            // In order: document i is article i.
            use tantivy::schema::Value as _;
            let doc: TantivyDocument =
                built.index.searcher.doc(tantivy::DocAddress::new(0, i as u32)).expect("stored document");
            let number = doc.get_first(built.index.fields.article).and_then(|v| v.as_u64());
            assert_eq!(number, Some(i as u64), "document {i}");
        }
        // The same articles give the same index.
        let again = build(&articles).expect("build");
        assert_eq!(again.packed.len(), built.packed.len());
    }

    #[test]
    fn a_build_that_packs_meanwhile_finds_the_related_articles_of_the_packed_index() {
        let n = 2 * HALF + 31;
        let articles: Vec<Article> = (0..n)
            .map(|i| {
                let lang = if i % 5 == 0 { "en" } else { "nl" };
                Article {
                    lang: lang.into(),
                    category: format!("c{}", i % 9),
                    category_title: "C".into(),
                    url: format!("/{lang}/c{}/a{i}/", i % 9),
                    title: format!("Factuur {} en kenmerk k{}", i % 13, i % 97),
                    description: (i % 4 == 0).then(|| format!("Over woord{} en abonnement", i % 17)),
                    tags: if i % 3 == 0 { vec![format!("tag{}", i % 11)] } else { vec![] },
                    sections: vec![Section {
                        text: format!(
                            "Een tekst over zq{i}w, woord{} en woord{}, rapport{} en klantenkaart{}.",
                            i % 41,
                            i % 59,
                            i % 23,
                            i % 7
                        ),
                        ..Section::default()
                    }],
                }
            })
            .collect();
        let print = fingerprint(&articles);
        let packing = build_packing(&articles, print).expect("build");
        assert_eq!(packing.index.searcher.segment_readers().len(), 2, "not merged yet");
        let before = packing.index.related_of(&articles, Some(&packing.terms), 4, None, None).expect("related");
        let bytes = packing.packed.wait().expect("packed");
        // As large as a build that waits makes it (segments are named at random).
        assert_eq!(bytes.len(), build_with(&articles, print).expect("build").packed.len());
        let merged = SearchIndex::from_bytes(&bytes).expect("open");
        assert_eq!(merged.searcher.segment_readers().len(), 1);
        let after = merged.related_of(&articles, Some(&packing.terms), 4, None, None).expect("related");
        assert_eq!(before.len(), n);
        for (i, (b, a)) in before.iter().zip(&after).enumerate() {
            assert_eq!(b.articles, a.articles, "article {i}");
            assert_eq!(b.floor.to_bits(), a.floor.to_bits(), "floor of article {i}");
            let q = |r: &crate::Related| r.query.iter().map(|(t, w)| (t.to_string(), w.to_bits())).collect::<Vec<_>>();
            assert_eq!(q(b), q(a), "query of article {i}");
        }
        assert!(before.iter().filter(|r| r.floor > 0.0).count() > n / 2, "most lists are scored");
    }

    /// The parts of a compound are indexed once per article and group of parts fields,
    /// however often the article has it; the word itself as often as it occurs.
    #[test]
    fn a_compound_said_often_gives_its_parts_once() {
        let article = |i: usize, title: &str, text: &str| Article {
            lang: "nl".into(),
            category: "c".into(),
            category_title: "C".into(),
            url: format!("/nl/c/a{i}/"),
            title: title.into(),
            description: None,
            tags: vec![],
            sections: vec![Section { text: text.into(), ..Section::default() }],
        };
        let articles = vec![
            article(0, "Klantenkaart", "De klantenkaart, een klantenkaart en nog een klantenkaart of klantenkaarten."),
            article(1, "Klanten", "Klanten van de helpdesk."),
            article(2, "Kaart", "Een kaart tonen."),
        ];
        let built = build(&articles).expect("build");
        let (_, fields) = Fields::schema();
        let term = |word: &str| crate::analysis::terms("nl", word).pop().expect("a term");
        use tantivy::{DocSet as _, postings::Postings as _};
        let freqs = |field: tantivy::schema::Field, word: &str| -> Vec<(u32, u32)> {
            let mut found = Vec::new();
            for segment in built.index.searcher.segment_readers() {
                let inverted = segment.inverted_index(field).expect("inverted index");
                let t = tantivy::Term::from_field_text(field, &term(word));
                if let Some(mut p) =
                    inverted.read_postings(&t, tantivy::schema::IndexRecordOption::WithFreqs).expect("postings")
                {
                    while p.doc() != tantivy::TERMINATED {
                        found.push((p.doc(), p.term_freq()));
                        p.advance();
                    }
                }
            }
            found
        };
        assert_eq!(freqs(fields.body, "klantenkaart"), vec![(0, 4)], "the word, each time");
        assert_eq!(freqs(fields.parts, "kaart"), vec![(0, 1)], "its part, once");
        assert_eq!(freqs(fields.parts, "klanten"), vec![(0, 1)]);
        assert_eq!(freqs(fields.title_parts, "kaart"), vec![(0, 1)], "the title's parts apart");
        // Still found by a part.
        let found = built.index.search(&SearchRequest::new("kaart")).expect("search");
        assert!(found.results.iter().any(|h| h.url == "/nl/c/a0/"), "found by its part");
    }
}
