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
    fn words_keep_their_offsets() {
        let t = tokens(&mut word_analyzer(), "Wacht-woord  é");
        let texts: Vec<_> = t.iter().map(|t| (t.text.as_str(), t.offset_from)).collect();
        assert_eq!(texts, vec![("wacht", 0), ("woord", 6), ("e", 13)]);
    }
}
