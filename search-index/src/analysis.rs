//! Analyzers: how text becomes index terms, one analyzer per language.
//!
//! Every analyzer splits on anything that is not a letter or digit, drops absurdly long
//! tokens, lowercases and folds diacritics (`één` -> `een`); the languages with a stemmer then
//! drop stop words and stem (`facturen` and `factuur` share a stem). Documents are
//! analyzed with their own language's analyzer, queries with the analyzer of every language
//! they may match.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
    Token, TokenFilter, TokenStream, Tokenizer,
};

/// Tokens longer than this (in bytes) are dropped: they are noise, not words.
pub const MAX_TOKEN_LEN: usize = 40;

/// The stemmer language for a site language code, when there is one.
pub fn stemmer_language(code: &str) -> Option<Language> {
    Some(match code {
        "nl" => Language::Dutch,
        "en" => Language::English,
        "de" => Language::German,
        "fr" => Language::French,
        "da" => Language::Danish,
        "sv" => Language::Swedish,
        "no" | "nb" => Language::Norwegian,
        "es" => Language::Spanish,
        "it" => Language::Italian,
        "pt" => Language::Portuguese,
        "fi" => Language::Finnish,
        _ => return None,
    })
}

/// The analyzer for documents and queries in language `code`.
pub fn analyzer(code: &str) -> TextAnalyzer {
    let base = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_LEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match stemmer_language(code) {
        Some(Language::Dutch) => match StopWordFilter::new(Language::Dutch) {
            Some(stop) => base.filter(stop).filter(Stemmer::new(Language::Dutch)).filter(DutchStemNormalizer).build(),
            None => base.filter(Stemmer::new(Language::Dutch)).filter(DutchStemNormalizer).build(),
        },
        Some(lang) => match StopWordFilter::new(lang) {
            Some(stop) => base.filter(stop).filter(Stemmer::new(lang)).build(),
            None => base.filter(Stemmer::new(lang)).build(),
        },
        None => base.build(),
    }
}

/// Evens out what the Dutch Snowball stemmer leaves different between forms of one word: it
/// lengthens vowels in some plurals (`werkdag` / `werkdagen` -> `werkdag` / `werkdaag`,
/// `bijlage` / `bijlagen` -> `bijlag` / `bijlaag`) and drops the `d` of some `-den` plurals
/// (`wachtwoord` / `wachtwoorden` -> `wachtwoord` / `wachtwoor`). A double vowel before a
/// final consonant is undoubled and a final `d` dropped, so the forms meet again.
#[derive(Debug, Clone, Copy)]
pub struct DutchStemNormalizer;

impl TokenFilter for DutchStemNormalizer {
    type Tokenizer<T: Tokenizer> = DutchStemNormalizerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> DutchStemNormalizerFilter<T> {
        DutchStemNormalizerFilter(tokenizer)
    }
}

#[derive(Debug, Clone)]
pub struct DutchStemNormalizerFilter<T>(T);

impl<T: Tokenizer> Tokenizer for DutchStemNormalizerFilter<T> {
    type TokenStream<'a> = DutchStemNormalizerStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        DutchStemNormalizerStream(self.0.token_stream(text))
    }
}

#[derive(Debug)]
pub struct DutchStemNormalizerStream<T>(T);

impl<T: TokenStream> TokenStream for DutchStemNormalizerStream<T> {
    fn advance(&mut self) -> bool {
        if !self.0.advance() {
            return false;
        }
        normalize_dutch_stem(&mut self.0.token_mut().text);
        true
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

/// See [`DutchStemNormalizer`]. Only touches ascii stems of 4 or more letters.
pub fn normalize_dutch_stem(stem: &mut String) {
    if stem.len() < 4 || !stem.is_ascii() {
        return;
    }
    undouble(stem);
    if stem.len() >= 4 && stem.ends_with('d') {
        stem.pop();
        undouble(stem);
    }
}

/// `..aaC` -> `..aC` for a double a, e, o or u and a final consonant.
fn undouble(stem: &mut String) {
    let b = stem.as_bytes();
    let n = b.len();
    if n >= 4 {
        let (v1, v2, c) = (b[n - 3], b[n - 2], b[n - 1]);
        if v1 == v2 && matches!(v1, b'a' | b'e' | b'o' | b'u') && !is_vowel(c) && c.is_ascii_alphabetic() {
            stem.remove(n - 2);
        }
    }
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// The analyzer of language `code` without its stemmer: the same tokens as [`analyzer`], as
/// they were written (lowercased and folded). Pairs tokens with the terms they became.
pub fn unstemmed_analyzer(code: &str) -> TextAnalyzer {
    let base = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_LEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match stemmer_language(code).and_then(StopWordFilter::new) {
        Some(stop) => base.filter(stop).build(),
        None => base.build(),
    }
}

/// Words as typed, lowercased and folded, without stemming or stop words: how a query is cut
/// into words before each word is analyzed per language.
pub fn word_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_LEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Runs `analyzer` over `text`.
pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push(t.clone());
    }
    out
}

/// A language's analyzer that remembers: words are cut here the way its tokenizer cuts them
/// (runs of letters and digits), and every distinct word is analyzed once. Analyzing a large
/// site's text word by word is what building the index and finding related articles cost;
/// most words occur again and again.
#[derive(Clone)]
pub struct MemoAnalyzer {
    analyzer: TextAnalyzer,
    /// Lowercases and folds the words that are not plain ascii.
    words: TextAnalyzer,
    /// Word (lowercased and folded) -> its term, `None` for a stop word, and how often the word
    /// was seen.
    memo: std::collections::HashMap<String, Memo, FxBuildHasher>,
    /// Every term made so far, once, with its number (its place in `table`): words with the
    /// same term share it, so that within one analyzer the same term is the same `Arc` (and
    /// can be told apart by address).
    terms: std::collections::HashMap<std::sync::Arc<str>, u32, FxBuildHasher>,
    /// The terms by number.
    table: Vec<std::sync::Arc<str>>,
    buf: String,
}

impl std::fmt::Debug for MemoAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoAnalyzer").field("words", &self.memo.len()).finish()
    }
}

/// What a [`MemoAnalyzer`] remembers of a word: its term's number (`None` for a stop word) and
/// how often it was seen.
type Memo = (Option<u32>, std::cell::Cell<u32>);

/// One token of [`MemoAnalyzer::for_each`].
#[derive(Debug, Clone, Copy)]
pub struct Term<'a> {
    /// Byte offsets in the text.
    pub from: usize,
    pub to: usize,
    /// The token's position (every word counts, also the ones dropped).
    pub position: usize,
    /// The word as written, lowercased and folded (what [`unstemmed_analyzer`] gives).
    pub word: &'a str,
    /// The term (what [`analyzer`] gives).
    pub term: &'a str,
    /// The same, to keep without copying: one `Arc` per term and analyzer.
    pub shared: &'a std::sync::Arc<str>,
    /// The term's number in this analyzer ([`MemoAnalyzer::table`]).
    pub id: u32,
    /// First time this analyzer saw the word.
    pub new: bool,
}

impl MemoAnalyzer {
    pub fn new(code: &str) -> Self {
        MemoAnalyzer {
            analyzer: analyzer(code),
            words: word_analyzer(),
            memo: std::collections::HashMap::default(),
            terms: std::collections::HashMap::default(),
            table: Vec::new(),
            buf: String::new(),
        }
    }

    /// Calls `f` with every token [`analyzer`] makes of `text`, in order; exactly those.
    pub fn for_each(&mut self, text: &str, mut f: impl FnMut(Term<'_>)) {
        self.for_each_word(text, |_, _, _, t| {
            if let Some(t) = t {
                f(t);
            }
        });
    }

    /// Calls `f` with every word of `text` ([`next_word`]): its byte range, whether it is
    /// ascii, and its token (`None` for a word [`analyzer`] drops).
    pub fn for_each_word(&mut self, text: &str, mut f: impl FnMut(usize, usize, bool, Option<Term<'_>>)) {
        let mut at = 0;
        let mut position = 0;
        while let Some((from, to, ascii)) = next_word(text, at) {
            at = to;
            position += 1;
            let raw = &text[from..to];
            // A lowercase ASCII word (most are) is folded already: looked up as it is.
            let folded = ascii && raw.len() < MAX_TOKEN_LEN && !raw.bytes().any(|c| c.is_ascii_uppercase());
            if !folded && !self.fold(raw, ascii) {
                f(from, to, ascii, None);
                continue;
            }
            let key = if folded { raw } else { self.buf.as_str() };
            let new = match self.memo.get_key_value(key) {
                Some((word, (Some(id), seen))) => {
                    seen.set(seen.get().saturating_add(1));
                    let term = &self.table[*id as usize];
                    let t = Term { from, to, position: position - 1, word, term, shared: term, id: *id, new: false };
                    f(from, to, ascii, Some(t));
                    continue;
                }
                Some((_, (None, _))) => {
                    f(from, to, ascii, None);
                    continue;
                }
                None => true,
            };
            let word = &text[from..to];
            let id = tokens(&mut self.analyzer, word).pop().map(|t| match self.terms.get(t.text.as_str()) {
                Some(&id) => id,
                None => {
                    let term: std::sync::Arc<str> = t.text.into();
                    let id = u32::try_from(self.table.len()).expect("fewer than 2^32 terms");
                    self.terms.insert(term.clone(), id);
                    self.table.push(term);
                    id
                }
            });
            let term = id.map(|id| {
                let term = &self.table[id as usize];
                Term { from, to, position: position - 1, word: key, term, shared: term, id, new }
            });
            f(from, to, ascii, term);
            self.memo.insert(key.to_owned(), (id, std::cell::Cell::new(1)));
        }
    }

    /// What `known` has for `word` (a word of [`next_word`]'s, `ascii` as it tells), folded.
    pub fn known<'k, V>(
        &mut self,
        word: &str,
        ascii: bool,
        known: &'k std::collections::HashMap<String, V, FxBuildHasher>,
    ) -> Option<&'k V> {
        if self.fold(word, ascii) { known.get(self.buf.as_str()) } else { None }
    }

    /// Lowercases and folds `word` into `self.buf`; false for a word not to index.
    fn fold(&mut self, word: &str, ascii: bool) -> bool {
        if word.len() >= MAX_TOKEN_LEN {
            return false;
        }
        self.buf.clear();
        if ascii {
            self.buf.push_str(word);
            self.buf.make_ascii_lowercase();
        } else {
            let mut stream = self.words.token_stream(word);
            if !stream.advance() {
                return false;
            }
            self.buf.push_str(&stream.token().text);
        }
        true
    }

    /// Every word this analyzer has seen that is no stop word, with its term and how often it
    /// was seen: the vocabulary compounds are split with. The analyzer forgets the words; it
    /// keeps its terms and their numbers.
    pub fn take_vocabulary(&mut self) -> impl Iterator<Item = (String, std::sync::Arc<str>, u32)> + '_ {
        let table = &self.table;
        std::mem::take(&mut self.memo)
            .into_iter()
            .filter_map(|(w, (id, n))| id.map(|id| (w, table[id as usize].clone(), n.get())))
    }

    /// The terms made so far, by number ([`Term::id`]).
    pub fn table(&self) -> &[std::sync::Arc<str>] {
        &self.table
    }

    /// The terms of `text`, in order (what [`terms`] gives).
    pub fn terms(&mut self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each(text, |t| out.push(t.term.to_owned()));
        out
    }
}

/// FxHash (as in rustc and Firefox): a fast hash for the short strings of the analyzers' memos,
/// which are looked up for every word of a site. Only for text the site is made of, not for
/// what visitors type.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

pub type FxBuildHasher = std::hash::BuildHasherDefault<FxHasher>;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The next word of `text` from byte `at` on, as the analyzers' tokenizer cuts words (a run of
/// letters and digits): its byte range and whether it is all ascii.
pub(crate) fn next_word(text: &str, mut at: usize) -> Option<(usize, usize, bool)> {
    let b = text.as_bytes();
    let start = loop {
        let &c = b.get(at)?;
        if c < 0x80 {
            if c.is_ascii_alphanumeric() {
                break at;
            }
            at += 1;
        } else {
            let ch = text[at..].chars().next()?;
            if ch.is_alphanumeric() {
                break at;
            }
            at += ch.len_utf8();
        }
    };
    let mut ascii = true;
    while let Some(&c) = b.get(at) {
        if c < 0x80 {
            if !c.is_ascii_alphanumeric() {
                break;
            }
            at += 1;
        } else {
            let Some(ch) = text[at..].chars().next().filter(|ch| ch.is_alphanumeric()) else { break };
            ascii = false;
            at += ch.len_utf8();
        }
    }
    Some((start, at, ascii))
}

/// How many words `text` has (see [`next_word`]).
pub(crate) fn words_in(text: &str) -> usize {
    let (mut at, mut n) = (0, 0);
    while let Some((_, to, _)) = next_word(text, at) {
        (at, n) = (to, n + 1);
    }
    n
}

/// The words of `text` (see [`next_word`]) short enough to be tokens.
pub(crate) fn words(text: &str) -> impl Iterator<Item = (usize, usize, bool)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let word = next_word(text, at)?;
        at = word.1;
        Some(word)
    })
    .filter(|&(from, to, _)| to - from < MAX_TOKEN_LEN)
}

/// The terms of `text` in language `code`, in order.
pub fn terms(code: &str, text: &str) -> Vec<String> {
    tokens(&mut analyzer(code), text).into_iter().map(|t| t.text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dutch_word_forms_share_a_stem() {
        for forms in [
            &["factuur", "facturen"][..],
            &["wachtwoord", "wachtwoorden"],
            &["aanmaken", "aanmaak"],
            &["bijlage", "bijlagen"],
            &["werkdag", "werkdagen"],
            &["tabblad", "tabbladen"],
            &["vraag", "vragen"],
            &["dringend", "dringende"],
            &["uitnodiging", "uitnodigingen"],
            &["abonnement", "abonnementen"],
            &["medewerker", "medewerkers"],
            &["versturen", "verstuurd"],
            &["ticketstatus", "ticketstatussen"],
        ] {
            let stems: Vec<Vec<String>> = forms.iter().map(|f| terms("nl", f)).collect();
            assert!(stems.windows(2).all(|w| w[0] == w[1]), "{forms:?} -> {stems:?}");
        }
    }

    #[test]
    fn the_dutch_normalizer_undoubles_and_drops_a_final_d() {
        for (stem, expected) in
            [("werkdaag", "werkdag"), ("wachtwoord", "wachtwor"), ("wachtwoor", "wachtwor"), ("kat", "kat")]
        {
            let mut s = stem.to_owned();
            normalize_dutch_stem(&mut s);
            assert_eq!(s, expected);
        }
    }

    #[test]
    fn english_is_stemmed_as_english() {
        assert_eq!(terms("en", "passwords"), vec!["password"]);
        assert_eq!(terms("en", "creating"), terms("en", "create"));
        assert_eq!(terms("en", "the attachments"), terms("en", "attachment"));
    }

    #[test]
    fn accents_and_case_do_not_matter() {
        assert_eq!(terms("nl", "Ideeën Één"), terms("nl", "ideeen een"));
        assert_eq!(terms("nl", "CAFÉ"), terms("nl", "cafe"));
    }

    #[test]
    fn stop_words_are_dropped() {
        assert_eq!(terms("nl", "de factuur van het abonnement"), terms("nl", "factuur abonnement"));
        assert!(terms("nl", "de het een").is_empty());
    }

    #[test]
    fn unknown_languages_are_folded_but_not_stemmed() {
        assert_eq!(terms("xx", "Facturen ÉÉN"), vec!["facturen", "een"]);
    }

    #[test]
    fn the_memo_analyzer_makes_what_the_analyzers_make() {
        let text = "Ideeën, ÉÉN e-mail; café-achtige GEBRUIKERS wachtwoorden. Straße ﬁle Øresund x 12ab \
                    2026 de het een Gebruikersnamen, gegevens en GEGEVENS. Wachtwoord\u{a0}vergeten? \
                    naïef Ĳssel ĳs aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa wachtwoord İstanbul the";
        for code in ["nl", "en", "xx"] {
            let mut memo = MemoAnalyzer::new(code);
            for _ in 0..2 {
                let stems = tokens(&mut analyzer(code), text);
                let words = tokens(&mut unstemmed_analyzer(code), text);
                let mut got = Vec::new();
                memo.for_each(text, |t| got.push((t.from, t.to, t.position, t.word.to_owned(), t.term.to_owned())));
                let want: Vec<_> = stems
                    .iter()
                    .zip(&words)
                    .map(|(s, w)| (s.offset_from, s.offset_to, s.position, w.text.clone(), s.text.clone()))
                    .collect();
                assert_eq!(got, want, "{code}");
            }
        }
    }

    #[test]
    fn words_keep_their_offsets() {
        let t = tokens(&mut word_analyzer(), "Wacht-woord  é");
        let texts: Vec<_> = t.iter().map(|t| (t.text.as_str(), t.offset_from)).collect();
        assert_eq!(texts, vec![("wacht", 0), ("woord", 6), ("e", 13)]);
    }
}
