//! Building the index from articles, packing it into one file and opening it in memory.
//!
//! The packed index is one file, `index.bin`: a small header (format, fingerprint of the
//! input, article count) and the files of a tantivy index. It is always opened into a
//! [`RamDirectory`]: on AWS Lambda the function's files are read-only, and a FAQ index is small.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tantivy::directory::RamDirectory;
use tantivy::schema::document::TantivyDocument;
use tantivy::store::Compressor;
use tantivy::tokenizer::{TextAnalyzer, Token};
use tantivy::{Directory, Index, IndexSettings, ReloadPolicy, Searcher};

use crate::analysis::{MemoAnalyzer, analyzer};
use sha2::Digest as _;

use crate::related::{ArticleTerms, Part};
use crate::schema::{Fields, WEIGHTS};

/// File name of the packed index inside the search directory.
pub const INDEX_FILE: &str = "index.bin";

const MAGIC: &[u8; 8] = b"HDSEARCH";
/// Bump when the schema, the analyzers or the document layout change: the fingerprint changes
/// with it, so a build never keeps an index made by an older version.
const FORMAT: u32 = 4;
/// The packed index ends with the SHA-256 of everything before it: a damaged file (a partial
/// upload, a flipped bit) is refused as a whole, before tantivy reads any of it (tantivy trusts
/// its own files and may panic on corrupt ones).
const CHECKSUM_LEN: usize = 32;

/// An article with a heading structure of at least this many sections, and at least
/// [`LONG_WORDS`] words, is long: a result then leads to its best matching section.
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
        self.sections.iter().filter(|s| !s.anchor.is_empty()).count() >= LONG_SECTIONS
            && self.sections.iter().flat_map(|s| s.text.split_whitespace()).nth(LONG_WORDS - 1).is_some()
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
}

/// Timings of [`build`], for progress output and benchmarks.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildStats {
    pub documents: usize,
    pub analyze: Duration,
    pub index: Duration,
    pub open: Duration,
}

/// A stable fingerprint of everything the index is made from: equal input, equal index.
pub fn fingerprint(articles: &[Article]) -> u64 {
    let mut h = Fnv::default();
    h.write(MAGIC);
    h.write(&FORMAT.to_le_bytes());
    h.str(tantivy::version_string());
    for a in articles {
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
    }
    h.0
}

#[derive(Debug)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf29ce484222325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x100000001b3);
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
    /// Every term of the searchable fields -> (fields it occurs in as a bit mask) << 32 | the
    /// largest document frequency it has in one of them.
    pub(crate) vocab: tantivy_fst::Map<Vec<u8>>,
    /// Every word as written (folded) -> its number in `word_stems`.
    pub(crate) words: tantivy_fst::Map<Vec<u8>>,
    /// The terms each word was indexed as (one per language it was analyzed in, when they differ).
    pub(crate) word_stems: Vec<Vec<String>>,
    /// Per language code, the analyzer (cloned per use: analyzers need `&mut`).
    pub(crate) analyzers: HashMap<String, TextAnalyzer>,
    pub(crate) languages: Vec<String>,
    /// Per segment, per document: its language's position in `languages`.
    pub(crate) doc_langs: Vec<DocLanguages>,
    /// Article number -> the article's URL.
    pub(crate) article_urls: Vec<String>,
    fingerprint: u64,
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

/// Builds the index of `articles` in memory. Article numbers are positions in `articles`.
pub fn build(articles: &[Article]) -> Result<Built, SearchError> {
    let mut stats = BuildStats::default();
    let start = Instant::now();
    let (schema, fields) = Fields::schema();
    let (docs, terms, words) = articles
        .par_iter()
        .enumerate()
        .with_min_len(64)
        .fold(
            || (Vec::new(), Vec::new(), Words::default(), HashMap::<String, MemoAnalyzer>::new()),
            |(mut docs, mut terms, mut words, mut cache), (i, a)| {
                let an = cache.entry(a.lang.clone()).or_insert_with(|| MemoAnalyzer::new(&a.lang));
                let (doc, t) = document(&fields, i as u64, a, an, &mut words);
                docs.push(doc);
                terms.push(t);
                (docs, terms, words, cache)
            },
        )
        .map(|(docs, terms, words, _)| (docs, terms, words))
        .reduce(
            || (Vec::new(), Vec::new(), Words::default()),
            |(mut docs, mut terms, mut words), (more, more_terms, other)| {
                docs.extend(more);
                terms.extend(more_terms);
                words.merge(other);
                (docs, terms, words)
            },
        );
    stats.documents = docs.len();
    stats.analyze = start.elapsed();

    let start = Instant::now();
    let settings = IndexSettings {
        docstore_compression: Compressor::Lz4,
        docstore_blocksize: 4 * 1024,
        ..IndexSettings::default()
    };
    let dir = RamDirectory::create();
    let tokenizers = tantivy::tokenizer::TokenizerManager::default();
    tokenizers.register(TERMS_TOKENIZER, TermsTokenizer::default());
    let mut writer = Index::builder()
        .schema(schema)
        .settings(settings)
        .tokenizers(tokenizers)
        .single_segment_index_writer::<TantivyDocument>(dir.clone(), 32 * 1024 * 1024)?;
    for d in docs {
        writer.add_document(d)?;
    }
    let index = writer.finalize()?;
    let files = index_files(&index, &dir)?;
    let urls: Vec<String> = articles.iter().map(|a| a.url.clone()).collect();
    let fingerprint = fingerprint(articles);
    let words = words.into_sorted();
    let packed = pack(fingerprint, &urls, &words, &files);
    stats.index = start.elapsed();

    let start = Instant::now();
    let index = SearchIndex::open(files, fingerprint, urls, words)?;
    stats.open = start.elapsed();
    Ok(Built { index, packed, stats, terms })
}

/// Words as they occur in the articles (folded, not stemmed) -> the terms they were indexed as:
/// typos and unfinished words are matched against words, not stems, since stemming changes
/// word endings (`escalatie` is indexed as `escaleer`).
#[derive(Debug, Default)]
struct Words(HashMap<String, Vec<String>>);

impl Words {
    fn add(&mut self, word: &str, stem: &str) {
        match self.0.get_mut(word) {
            Some(stems) if stems.iter().any(|s| s == stem) => {}
            Some(stems) => stems.push(stem.to_owned()),
            None => {
                self.0.insert(word.to_owned(), vec![stem.to_owned()]);
            }
        }
    }

    fn merge(&mut self, other: Words) {
        if self.0.len() < other.0.len() {
            let mine = std::mem::replace(&mut self.0, other.0);
            for (w, stems) in mine {
                for s in stems {
                    self.add(&w, &s);
                }
            }
        } else {
            for (w, stems) in other.0 {
                for s in stems {
                    self.add(&w, &s);
                }
            }
        }
    }

    fn into_sorted(self) -> Vec<(String, Vec<String>)> {
        let mut v: Vec<(String, Vec<String>)> = self.0.into_iter().collect();
        v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (_, stems) in &mut v {
            stems.sort_unstable();
        }
        v
    }
}

/// The `index.bin` format: magic, format, fingerprint, the article URLs, the words, the files,
/// then the checksum of all that.
fn pack(fingerprint: u64, urls: &[String], words: &[(String, Vec<String>)], files: &[(String, Vec<u8>)]) -> Vec<u8> {
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
    for (word, stems) in words {
        put_bytes(&mut out, word.as_bytes());
        out.extend_from_slice(&(stems.len() as u32).to_le_bytes());
        for s in stems {
            put_bytes(&mut out, s.as_bytes());
        }
    }
    out.extend_from_slice(&(files.len() as u32).to_le_bytes());
    for (name, bytes) in files {
        put_bytes(&mut out, name.as_bytes());
        put_bytes(&mut out, bytes);
    }
    let checksum = sha2::Sha256::digest(&out);
    out.extend_from_slice(&checksum);
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
    terms: std::str::Split<'a, char>,
    token: &'a mut Token,
}

impl tantivy::tokenizer::Tokenizer for TermsTokenizer {
    type TokenStream<'a> = TermsStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TermsStream<'a> {
        self.token.reset();
        self.token.position = usize::MAX;
        TermsStream { terms: text.split(TERM_SEP), token: &mut self.token }
    }
}

impl tantivy::tokenizer::TokenStream for TermsStream<'_> {
    fn advance(&mut self) -> bool {
        for term in self.terms.by_ref() {
            if !term.is_empty() {
                self.token.text.clear();
                self.token.text.push_str(term);
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

/// The tantivy document of one article, and what related articles need of it. Records which
/// word became which term in `words` (each word once per analyzer: the analyzer remembers the
/// words it has seen).
fn document(
    f: &Fields,
    id: u64,
    a: &Article,
    an: &mut MemoAnalyzer,
    words: &mut Words,
) -> (TantivyDocument, ArticleTerms) {
    let mut related = ArticleTerms::default();
    let mut distinct = HashSet::default();
    // The terms, as the `terms` tokenizer reads them back.
    let mut pretok = |text: &str, part: Part| {
        let mut terms = String::with_capacity(text.len());
        an.for_each(text, |t| {
            if t.new {
                words.add(t.word, t.term);
            }
            related.add(part, t.shared, &mut distinct);
            terms.push_str(t.term);
            terms.push(TERM_SEP);
        });
        terms
    };
    let description = a.description.as_deref().unwrap_or("");
    let headings: Vec<&str> = a.sections.iter().map(|s| s.heading.as_str()).filter(|h| !h.is_empty()).collect();
    let body = a.sections.iter().map(|s| s.text.trim()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n");
    let mut stored = String::with_capacity(body.len() + 256);
    for (i, s) in a.sections.iter().enumerate() {
        if i > 0 {
            stored.push(RECORD_SEP);
        }
        for (j, part) in [&s.anchor, &s.heading, &s.text].into_iter().enumerate() {
            if j > 0 {
                stored.push(UNIT_SEP);
            }
            stored.extend(part.chars().map(|c| if c == UNIT_SEP || c == RECORD_SEP { ' ' } else { c }));
        }
    }
    let mut d = TantivyDocument::default();
    d.add_text(f.title, pretok(&a.title, Part::Title));
    d.add_text(f.description, pretok(description, Part::Description));
    d.add_text(f.tags, pretok(&a.tags.join("\n"), Part::Tags));
    d.add_text(f.headings, pretok(&headings.join("\n"), Part::Other));
    d.add_text(f.body, pretok(&body, Part::Body));
    d.add_text(f.category, &a.category);
    d.add_text(f.language, &a.lang);
    d.add_text(f.url, &a.url);
    d.add_u64(f.article, id);
    d.add_u64(f.long, u64::from(a.is_long()));
    d.add_text(f.stored_title, &a.title);
    d.add_text(f.summary, description);
    d.add_text(f.category_title, &a.category_title);
    d.add_text(f.sections, &stored);
    (d, related)
}

/// The files an open reader needs: `meta.json` and every segment file, sorted by name.
fn index_files(index: &Index, dir: &RamDirectory) -> Result<Vec<(String, Vec<u8>)>, SearchError> {
    let mut names = vec![std::path::PathBuf::from("meta.json")];
    names.extend(index.load_metas()?.list_segment_files());
    names.sort();
    names.dedup();
    let mut files = Vec::with_capacity(names.len());
    for name in names {
        if !dir.exists(&name).map_err(|e| SearchError::Format(e.to_string()))? {
            continue; // e.g. no deletes file
        }
        let bytes =
            dir.open_read(&name).map_err(|e| SearchError::Format(e.to_string()))?.read_bytes()?.as_slice().to_vec();
        files.push((name.to_string_lossy().into_owned(), bytes));
    }
    Ok(files)
}

impl SearchIndex {
    fn open(
        files: Vec<(String, Vec<u8>)>,
        fingerprint: u64,
        article_urls: Vec<String>,
        words: Vec<(String, Vec<String>)>,
    ) -> Result<Self, SearchError> {
        let dir = RamDirectory::create();
        for (name, bytes) in &files {
            dir.atomic_write(Path::new(name), bytes)?;
        }
        let index = Index::open(dir)?;
        let fields = Fields::from_schema(&index.schema())?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let searcher = reader.searcher();
        let vocab = vocabulary(&searcher, &fields)?;
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
        let doc_langs = doc_languages(&searcher, &fields, &languages)?;
        let analyzers = languages.iter().map(|l| (l.clone(), analyzer(l))).collect();
        let word_fst =
            tantivy_fst::Map::from_iter(words.iter().enumerate().map(|(i, (w, _))| (w.as_bytes(), i as u64)))
                .map_err(|e| SearchError::Format(format!("words: {e}")))?;
        let word_stems = words.into_iter().map(|(_, stems)| stems).collect();
        Ok(SearchIndex {
            searcher,
            fields,
            vocab,
            words: word_fst,
            word_stems,
            analyzers,
            languages,
            doc_langs,
            article_urls,
            fingerprint,
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
        if sha2::Sha256::digest(body).as_slice() != checksum {
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
            let k = u32::from_le_bytes(r.array()?) as usize;
            let mut stems = Vec::with_capacity(k.min(16));
            for _ in 0..k {
                stems.push(r.string()?);
            }
            words.push((word, stems));
        }
        if !words.windows(2).all(|w| w[0].0 < w[1].0) {
            return Err(SearchError::Format("words out of order".into()));
        }
        let n = u32::from_le_bytes(r.array()?) as usize;
        let mut files = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let name = r.string()?;
            if name.contains('/') || name.contains('\\') || name.starts_with('.') {
                return Err(SearchError::Format(format!("unexpected file name {name:?}")));
            }
            files.push((name, r.bytes()?.to_vec()));
        }
        SearchIndex::open(files, fingerprint, urls, words)
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

/// The language of every document of a segment (its position in the sorted language list), and
/// how many documents each language has.
#[derive(Debug, Clone)]
pub(crate) struct DocLanguages {
    pub(crate) of_doc: std::sync::Arc<[u8]>,
    pub(crate) counts: Vec<u32>,
}

fn doc_languages(searcher: &Searcher, fields: &Fields, languages: &[String]) -> Result<Vec<DocLanguages>, SearchError> {
    use tantivy::DocSet as _;
    let mut out = Vec::new();
    for seg in searcher.segment_readers() {
        let mut of_doc = vec![u8::MAX; seg.max_doc() as usize];
        let mut counts = vec![0; languages.len()];
        let inverted = seg.inverted_index(fields.language)?;
        for (i, lang) in languages.iter().enumerate().take(usize::from(u8::MAX)) {
            let term = tantivy::Term::from_field_text(fields.language, lang);
            let Some(mut postings) = inverted.read_postings(&term, tantivy::schema::IndexRecordOption::Basic)? else {
                continue;
            };
            let mut doc = postings.doc();
            while doc != tantivy::TERMINATED {
                of_doc[doc as usize] = i as u8;
                counts[i] += 1;
                doc = postings.advance();
            }
        }
        out.push(DocLanguages { of_doc: of_doc.into(), counts });
    }
    Ok(out)
}

/// All terms of the searchable fields with the fields they occur in and their document
/// frequency.
fn vocabulary(searcher: &Searcher, fields: &Fields) -> Result<tantivy_fst::Map<Vec<u8>>, SearchError> {
    let mut all: BTreeMap<Vec<u8>, (u64, u64)> = BTreeMap::new();
    for seg in searcher.segment_readers() {
        for (sf, _) in WEIGHTS {
            let inverted = seg.inverted_index(fields.field(sf))?;
            let mut terms = inverted.terms().stream()?;
            while terms.advance() {
                let df = u64::from(terms.value().doc_freq);
                let e = all.entry(terms.key().to_vec()).or_default();
                e.0 |= sf.bit();
                e.1 = e.1.max(df);
            }
        }
    }
    tantivy_fst::Map::from_iter(all.into_iter().map(|(k, (mask, df))| (k, (mask << 32) | df.min(u64::from(u32::MAX)))))
        .map_err(|e| SearchError::Format(format!("vocabulary: {e}")))
}
