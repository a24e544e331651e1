//! Compound words and verb forms, from the index's own vocabulary.
//!
//! Dutch (and German, Danish, Swedish...) writes compounds as one word where English writes
//! them apart, and people type both ways: `klantenkaart`, `klanten kaart`. A dictionary
//! decompounder splits a word into words the site itself uses ([`split`]): each part at least
//! [`MIN_PART`] letters, at most [`MAX_PARTS`] parts, between two parts optionally one of the
//! Dutch linking letters `-s-`, `-e-`, `-en-` ([`LINKS`]); the split with the fewest parts wins,
//! then the one whose rarest part is most frequent. Stop words are not in the vocabulary, so
//! they are never parts (`voorbeeld` is not `voor` + `beeld`).
//!
//! A word the vocabulary has only inside compounds can still be a part: [`split_head`] takes
//! a known head and leaves the rest (`accountinstellingen` -> `account` + `instellingen`).
//!
//! [`verb_forms`] gives the other forms of a Dutch verb form that may occur in the text, with
//! a separable particle attached or not (`inloggen`, `ingelogd`, `inlogt`; `log` + `in`): they
//! are only used when the vocabulary has them. [`separated_verbs`] finds the candidates of a
//! text's verbs written apart from their particle (`U logt zich in`).

/// The shortest part of a compound, in characters.
pub const MIN_PART: usize = 4;
/// The most parts a compound is split into.
pub const MAX_PARTS: usize = 3;
/// Linking letters between two parts of a compound (`klant-en-kaart`, `abonnement-s-vorm`).
pub const LINKS: [&str; 3] = ["en", "s", "e"];

/// Dutch separable particles (`in` of `inloggen`, `logt ... in`).
pub const PARTICLES: [&str; 22] = [
    "aan", "af", "bij", "binnen", "door", "in", "los", "mee", "na", "om", "onder", "op", "over", "rond", "samen",
    "terug", "toe", "uit", "vast", "voor", "weg", "tegen",
];

/// Whether `word` is a separable particle.
pub fn is_particle(word: &str) -> bool {
    PARTICLES.contains(&word)
}

/// The particle `word` is, in any case.
fn particle(word: &str) -> Option<&'static str> {
    let b = word.as_bytes();
    if !(2..=6).contains(&b.len()) {
        return None;
    }
    let lower = b.iter().enumerate().fold(0, |v, (i, c)| v | u64::from(c.to_ascii_lowercase()) << (8 * i));
    PACKED_PARTICLES.iter().position(|&p| p == lower).map(|i| PARTICLES[i])
}

/// The particles' bytes packed into a number each, first byte lowest: a word of at most 8
/// letters is compared with a particle at once.
const PACKED_PARTICLES: [u64; PARTICLES.len()] = {
    let mut packed = [0; PARTICLES.len()];
    let mut i = 0;
    while i < PARTICLES.len() {
        let b = PARTICLES[i].as_bytes();
        let mut j = 0;
        while j < b.len() {
            packed[i] |= (b[j] as u64) << (8 * j);
            j += 1;
        }
        i += 1;
    }
    packed
};

/// The verbs of `text` that may have been separated from their particle (`U logt zich in`,
/// `Log in op de portal`): each particle with the one or two words before it in its sentence,
/// lowercased; [`verb_forms`] and the vocabulary tell which of them are verbs.
pub fn separated_verbs(text: &str) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let mut scan = VerbScan::default();
    let mut at = 0;
    while let Some((from, to, ascii)) = crate::analysis::next_word(text, at) {
        at = to;
        scan.word(text, from, to, ascii, |verb, particle| out.push((verb.to_owned(), particle)));
    }
    out
}

/// [`separated_verbs`] a word at a time, for a reader of the words of a text that has other
/// uses for them.
#[derive(Debug, Default)]
pub struct VerbScan {
    /// The last two words of the sentence so far (byte ranges).
    before: [Option<(usize, usize)>; 2],
    /// The end of the last word.
    at: usize,
    lower: String,
}

impl VerbScan {
    /// Starts a new text: a particle never belongs to a word of the text before.
    pub fn reset(&mut self) {
        self.before = [None, None];
        self.at = 0;
    }

    /// The next word of `text`, `text[from..to]` (`ascii`: it is ASCII); calls `found` with each
    /// candidate verb (lowercased) and its particle.
    pub fn word(&mut self, text: &str, from: usize, to: usize, ascii: bool, mut found: impl FnMut(&str, &'static str)) {
        // All ASCII: the bytes between the words tell.
        if text.as_bytes()[self.at.min(from)..from]
            .iter()
            .any(|b| matches!(b, b'.' | b'!' | b'?' | b';' | b':' | b'\n'))
        {
            self.before = [None, None];
        }
        self.at = to;
        let word = &text[from..to];
        if ascii
            && word.len() <= 6
            && let Some(p) = particle(word)
        {
            for (f, t) in self.before.into_iter().flatten() {
                let verb = &text[f..t];
                if verb.len() >= 3 && verb.is_ascii() {
                    self.lower.clear();
                    self.lower.extend(verb.bytes().map(|b| char::from(b.to_ascii_lowercase())));
                    if !is_particle(&self.lower) {
                        found(&self.lower, p);
                    }
                }
            }
        }
        self.before = [self.before[1], Some((from, to))];
    }
}

/// Splits `word` (lowercased, folded) into known words: the parts, without linking letters,
/// or `None` when it is not a compound of known words. `known(part, last)` is the frequency of a
/// known word (`last`: the part ends the compound, where an inflected form may be accepted),
/// `None` for an unknown one.
pub fn split(word: &str, mut known: impl FnMut(&str, bool) -> Option<u32>) -> Option<Vec<&str>> {
    if word.chars().count() < 2 * MIN_PART || !word.chars().all(char::is_alphabetic) {
        return None;
    }
    // Character boundaries, as byte offsets (words may be non-ascii).
    let bounds: Vec<usize> = word.char_indices().map(|(i, _)| i).chain([word.len()]).collect();
    let n = bounds.len() - 1;
    // best[i]: the best split of the characters from i on: (parts, the rarest part's frequency,
    // the end of the first part, where the next part starts).
    let mut best: Vec<Option<(usize, u32, usize, usize)>> = vec![None; n + 1];
    for i in (0..n).rev() {
        let mut found: Option<(usize, u32, usize, usize)> = None;
        let mut consider = |cand: (usize, u32, usize, usize)| {
            let better = match found {
                None => true,
                Some(f) => cand.0 < f.0 || (cand.0 == f.0 && (cand.1 > f.1 || (cand.1 == f.1 && cand.2 > f.2))),
            };
            if better {
                found = Some(cand);
            }
        };
        for j in i + MIN_PART..=n {
            let part = &word[bounds[i]..bounds[j]];
            if j == n {
                // The whole rest as the last part (not the whole word: a split has two parts).
                if i > 0
                    && let Some(f) = known(part, true)
                {
                    consider((1, f, j, j));
                }
                continue;
            }
            // Too short a rest for another part.
            if n - j < MIN_PART {
                continue;
            }
            let Some(f) = known(part, false) else { continue };
            for link in [""].into_iter().chain(LINKS) {
                let next = bounds[j] + link.len();
                if !word[bounds[j]..].starts_with(link) {
                    continue;
                }
                let Ok(k) = bounds.binary_search(&next) else { continue };
                if let Some((parts, rarest, _, _)) = best[k]
                    && parts < MAX_PARTS
                {
                    consider((parts + 1, rarest.min(f), j, k));
                }
            }
        }
        best[i] = found;
    }
    let (parts, _, _, _) = best[0]?;
    if parts < 2 {
        return None;
    }
    let mut out = Vec::with_capacity(parts);
    let mut i = 0;
    while i < n {
        let (_, _, end, next) = best[i]?;
        out.push(&word[bounds[i]..bounds[end]]);
        i = next;
    }
    Some(out)
}

/// The shortest known head and unknown tail of [`split_head`], in characters.
pub const MIN_HEAD: usize = 5;

/// A compound of a known word and a word the vocabulary does not have on its own
/// (`accountinstellingen` when only `account` is known): the longest known head of at least
/// [`MIN_HEAD`] letters, and the rest after a linking letter, of at least as many. For words
/// [`split`] cannot split: it makes the tail searchable on its own (`instellingen`).
pub fn split_head(word: &str, mut known: impl FnMut(&str) -> bool) -> Option<(&str, &str)> {
    if word.chars().count() < 2 * MIN_HEAD || !word.chars().all(char::is_alphabetic) {
        return None;
    }
    let bounds: Vec<usize> = word.char_indices().map(|(i, _)| i).collect();
    let n = bounds.len();
    for j in (MIN_HEAD..=n - MIN_HEAD).rev() {
        let head = &word[..bounds[j]];
        if !known(head) {
            continue;
        }
        let rest = &word[bounds[j]..];
        for link in [""].into_iter().chain(LINKS) {
            if let Some(tail) = rest.strip_prefix(link)
                && tail.chars().count() >= MIN_HEAD
            {
                return Some((head, tail));
            }
        }
    }
    None
}

/// Strong and irregular participles (without `ge`) common in helpdesk text, and their
/// infinitives.
const IRREGULAR: [(&str, &str); 18] = [
    ("kregen", "krijgen"),
    ("sloten", "sluiten"),
    ("vonden", "vinden"),
    ("zonden", "zenden"),
    ("geven", "geven"),
    ("lezen", "lezen"),
    ("zien", "zien"),
    ("daan", "doen"),
    ("gaan", "gaan"),
    ("kozen", "kiezen"),
    ("schreven", "schrijven"),
    ("bleven", "blijven"),
    ("slagen", "slaan"),
    ("nomen", "nemen"),
    ("dragen", "dragen"),
    ("beden", "bieden"),
    ("vraagd", "vragen"),
    ("zocht", "zoeken"),
];

/// Irregular participles without a `ge` prefix (`ver`, `be`, `ont`... verbs).
const IRREGULAR_PLAIN: [(&str, &str); 5] = [
    ("verzonden", "verzenden"),
    ("vergeten", "vergeten"),
    ("ontvangen", "ontvangen"),
    ("begonnen", "beginnen"),
    ("verkregen", "verkrijgen"),
];

/// Other forms of the Dutch verb form `word` (lowercased, folded), the particle kept where it
/// is attached: infinitives, participles, present and past tense (`ingelogd` -> `inloggen`,
/// `inlogt`; `geblokkeerd` -> `blokkeren`; `inloggen` -> `ingelogd`). Most are no words; the
/// caller keeps the ones its vocabulary has. With `particle`, the word is a verb form that
/// the query separated from its particle (`log` + `in`, `logt` + `in`): the forms are the
/// particle's compounds (`inloggen`, `ingelogd`, `inlogt`).
pub fn verb_forms(word: &str, particle: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if !word.is_ascii() || word.len() < 3 || word.len() > 30 {
        return out;
    }
    let mut add = |s: String| {
        if s != word && !out.contains(&s) {
            out.push(s);
        }
    };
    // (particle, the rest of the word) readings.
    let mut readings: Vec<(&str, &str)> = Vec::new();
    match particle {
        Some(p) => readings.push((p, word)),
        None => {
            readings.push(("", word));
            for p in PARTICLES {
                if let Some(rest) = word.strip_prefix(p)
                    && rest.len() >= 3
                {
                    readings.push((p, rest));
                }
            }
        }
    }
    for &(p, rest) in &readings {
        for &(irr, inf) in IRREGULAR.iter() {
            if rest.strip_prefix("ge") == Some(irr) {
                add(format!("{p}{inf}"));
            }
            if rest == inf {
                add(format!("{p}ge{irr}"));
            }
        }
    }
    if particle.is_none() {
        for &(irr, inf) in IRREGULAR_PLAIN.iter() {
            if word == irr {
                add(inf.to_owned());
            } else if word == inf {
                add(irr.to_owned());
            }
        }
    }
    for (p, rest) in readings {
        // The verb's base (`log`, `maak`, `blokkeer`), from the form read.
        let mut bases: Vec<String> = Vec::new();
        let participle = rest.strip_prefix("ge").filter(|r| r.len() >= 4);
        if let Some(r) = participle.and_then(|r| r.strip_suffix(['d', 't'])) {
            bases.push(r.to_owned());
        } else if let Some(r) = participle.filter(|r| r.ends_with("en")) {
            // A strong participle has the infinitive's form (`gehouden`, `houden`).
            add(format!("{p}{r}"));
            bases.extend(infinitive_bases(&r[..r.len() - 2]));
        } else if let Some(stem) = rest.strip_suffix("en").filter(|s| s.len() >= 2) {
            bases.extend(infinitive_bases(stem));
        } else if let Some(stem) = rest.strip_suffix("de").or_else(|| rest.strip_suffix("te")).filter(|s| s.len() >= 3)
        {
            bases.push(stem.to_owned());
        } else if let Some(stem) = rest.strip_suffix(['t', 'd']).filter(|s| s.len() >= 3) {
            bases.push(stem.to_owned());
        } else if particle.is_some() || !p.is_empty() {
            // `log` + `in`, or the particle's own form (`inlog` of `inlogpagina`).
            bases.push(rest.to_owned());
        }
        bases.dedup();
        for b in bases {
            if b.len() < 2 || !b.bytes().any(is_vowel) {
                continue;
            }
            for inf in infinitives(&b) {
                add(format!("{p}{inf}"));
                // A strong verb's participle (`tegengehouden`).
                add(format!("{p}ge{inf}"));
            }
            let last = b.as_bytes()[b.len() - 1];
            // 't kofschip: a stem ending in one of t k f s ch p takes -t, the others -d.
            let t =
                if matches!(last, b't' | b'k' | b'f' | b's' | b'p' | b'x') || b.ends_with("ch") { 't' } else { 'd' };
            if b.ends_with(['t', 'd']) {
                add(format!("{p}ge{b}"));
            } else {
                add(format!("{p}ge{b}{t}"));
            }
            if !p.is_empty() || particle.is_some() {
                add(format!("{p}{b}t"));
            }
        }
    }
    out
}

/// The bases a verb's infinitive stem (`logg` of `loggen`, `mak` of `maken`) may have in
/// other forms: `log`, `maak`; `v`/`z` become `f`/`s` (`geven` -> `geef`).
fn infinitive_bases(stem: &str) -> Vec<String> {
    let b = stem.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    if n >= 2 && b[n - 1] == b[n - 2] && !is_vowel(b[n - 1]) {
        out.push(stem[..n - 1].to_owned());
        return out;
    }
    let mut s = stem.to_owned();
    if s.ends_with('v') {
        s.pop();
        s.push('f');
    } else if s.ends_with('z') {
        s.pop();
        s.push('s');
    }
    // An open syllable: a single vowel before the last consonant is long (`mak` -> `maak`).
    let sb = s.as_bytes();
    let m = sb.len();
    if m >= 2 && !is_vowel(sb[m - 1]) && is_vowel(sb[m - 2]) && (m < 3 || !is_vowel(sb[m - 3])) && sb[m - 2] != b'i' {
        let mut long = s[..m - 1].to_owned();
        long.push(char::from(sb[m - 2]));
        long.push(char::from(sb[m - 1]));
        out.push(long);
    }
    out.push(s);
    out
}

/// The infinitives a verb base may have: `log` -> `loggen`, `logen`; `maak` -> `maken`;
/// `geef` -> `geven`; `stuur` -> `sturen`.
fn infinitives(base: &str) -> Vec<String> {
    let b = base.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let last = b[n - 1];
    if is_vowel(last) {
        out.push(format!("{base}n"));
        out.push(format!("{base}en"));
        return out;
    }
    let soft = match last {
        b'f' => 'v',
        b's' => 'z',
        c => char::from(c),
    };
    if n >= 3 && b[n - 2] == b[n - 3] && is_vowel(b[n - 2]) && b[n - 2] != b'i' {
        // A long vowel: written single in the open syllable (`maak` -> `maken`).
        out.push(format!("{}{soft}en", &base[..n - 2]));
        out.push(format!("{}{last}en", &base[..n - 2], last = char::from(last)));
    } else if n >= 2 && is_vowel(b[n - 2]) && (n < 3 || !is_vowel(b[n - 3])) {
        // A short vowel: the consonant doubles (`log` -> `loggen`).
        out.push(format!("{base}{}en", char::from(last)));
    }
    out.push(format!("{base}en"));
    if soft != char::from(last) {
        out.push(format!("{}{soft}en", &base[..n - 1]));
    }
    out
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: [(&str, u32); 24] = [
        ("klant", 20),
        ("klanten", 30),
        ("kaart", 5),
        ("wachtwoord", 40),
        ("reset", 3),
        ("reactie", 4),
        ("termijn", 6),
        ("abonnement", 50),
        ("wijziging", 3),
        ("instellingen", 10),
        ("account", 25),
        ("stellingen", 1),
        ("kantoor", 4),
        ("uren", 8),
        ("telefoon", 5),
        ("nummer", 12),
        ("ticket", 90),
        ("deling", 2),
        ("office", 3),
        ("hours", 4),
        ("knowledge", 2),
        ("base", 3),
        ("link", 9),
        ("mail", 30),
    ];

    fn known(part: &str, _last: bool) -> Option<u32> {
        WORDS.iter().find(|(w, _)| *w == part).map(|(_, f)| *f)
    }

    fn parts(word: &str) -> Option<Vec<&str>> {
        split(word, known)
    }

    #[test]
    fn compounds_split_into_known_words_with_linking_letters() {
        assert_eq!(parts("klantenkaart"), Some(vec!["klanten", "kaart"]));
        assert_eq!(parts("wachtwoordreset"), Some(vec!["wachtwoord", "reset"]));
        assert_eq!(parts("reactietermijn"), Some(vec!["reactie", "termijn"]));
        assert_eq!(parts("abonnementswijziging"), Some(vec!["abonnement", "wijziging"]));
        assert_eq!(parts("accountinstellingen"), Some(vec!["account", "instellingen"]));
        assert_eq!(parts("kantooruren"), Some(vec!["kantoor", "uren"]));
        assert_eq!(parts("telefoonnummer"), Some(vec!["telefoon", "nummer"]));
        assert_eq!(parts("ticketdeling"), Some(vec!["ticket", "deling"]));
        assert_eq!(parts("officehours"), Some(vec!["office", "hours"]));
        assert_eq!(parts("knowledgebase"), Some(vec!["knowledge", "base"]));
        assert_eq!(parts("ticketnummerreset"), Some(vec!["ticket", "nummer", "reset"]));
    }

    #[test]
    fn a_linking_en_is_taken_when_only_the_singular_is_known() {
        let known = |p: &str, _: bool| ["klant", "kaart"].contains(&p).then_some(1);
        assert_eq!(split("klantenkaart", known), Some(vec!["klant", "kaart"]));
    }

    #[test]
    fn words_that_are_no_compounds_stay_whole() {
        // `in` is too short a part, `stellingen` alone leaves `in`.
        assert_eq!(parts("instellingen"), None);
        assert_eq!(parts("klanten"), None);
        assert_eq!(parts("wachtwoord"), None);
        assert_eq!(parts("abonnementen"), None);
        assert_eq!(parts("ticket2024"), None);
        assert_eq!(parts("mailbox"), None);
        // No part of `kaartlezer` is `lezer`.
        assert_eq!(parts("kaartlezer"), None);
    }

    #[test]
    fn an_unknown_tail_after_a_known_head() {
        let known = |p: &str| ["account", "ticket"].contains(&p);
        assert_eq!(split_head("accountinstellingen", known), Some(("account", "instellingen")));
        assert_eq!(split_head("ticketstatussen", known), Some(("ticket", "statussen")));
        assert_eq!(split_head("accountnaam", known), None);
        assert_eq!(split_head("instellingen", known), None);
    }

    #[test]
    fn fewer_parts_win() {
        let known = |p: &str, _: bool| ["ticket", "nummer", "ticketnummer", "reset"].contains(&p).then_some(1);
        assert_eq!(split("ticketnummerreset", known), Some(vec!["ticketnummer", "reset"]));
    }

    #[test]
    fn frequent_parts_win_a_tie() {
        let known = |p: &str, _: bool| match p {
            "kanto" | "ooruren" => Some(1),
            "kantoor" | "uren" => Some(9),
            _ => None,
        };
        assert_eq!(split("kantooruren", known), Some(vec!["kantoor", "uren"]));
    }

    #[test]
    fn non_ascii_words_split_at_characters() {
        let known = |p: &str, _: bool| ["ideeën", "lijst"].contains(&p).then_some(1);
        assert_eq!(split("ideeënlijst", known), Some(vec!["ideeën", "lijst"]));
    }

    #[test]
    fn every_particle_is_known_in_any_case_and_nothing_else() {
        for p in PARTICLES {
            assert_eq!(particle(p), Some(p));
            assert_eq!(particle(&p.to_uppercase()), Some(p));
        }
        for w in ["i", "inn", "aa", "uitt", "terugg", "samenn", "logt", "ïn", ""] {
            assert_eq!(particle(w), None, "{w}");
        }
    }

    #[test]
    fn particles_find_the_words_before_them() {
        let found = separated_verbs("U logt zich in. Log in op de portal; kijk verder");
        assert_eq!(
            found,
            vec![
                ("logt".to_owned(), "in"),
                ("zich".to_owned(), "in"),
                ("log".to_owned(), "in"),
                ("log".to_owned(), "op"),
            ]
        );
    }

    #[test]
    fn verb_forms_of_separable_verbs() {
        let forms = verb_forms("inloggen", None);
        for f in ["ingelogd", "inlogt"] {
            assert!(forms.contains(&f.to_owned()), "{f} not in {forms:?}");
        }
        assert!(verb_forms("ingelogd", None).contains(&"inloggen".to_owned()));
        assert!(verb_forms("log", Some("in")).contains(&"inloggen".to_owned()));
        assert!(verb_forms("logt", Some("in")).contains(&"inloggen".to_owned()));
        assert!(verb_forms("loggen", Some("in")).contains(&"inloggen".to_owned()));
        assert!(verb_forms("aangemaakt", None).contains(&"aanmaken".to_owned()));
        assert!(verb_forms("aanmaken", None).contains(&"aangemaakt".to_owned()));
        assert!(verb_forms("geblokkeerd", None).contains(&"blokkeren".to_owned()));
        assert!(verb_forms("blokkeren", None).contains(&"geblokkeerd".to_owned()));
        assert!(verb_forms("opgelost", None).contains(&"oplossen".to_owned()));
        assert!(verb_forms("gekregen", None).contains(&"krijgen".to_owned()));
        assert!(verb_forms("afgesloten", None).contains(&"afsluiten".to_owned()));
        assert!(verb_forms("verstuurd", None).contains(&"versturen".to_owned()));
        assert!(verb_forms("krijgt", None).contains(&"krijgen".to_owned()));
        assert!(verb_forms("geven", None).contains(&"gegeven".to_owned()));
        assert!(verb_forms("houdt", Some("tegen")).contains(&"tegengehouden".to_owned()));
        assert!(verb_forms("tegengehouden", None).contains(&"tegenhouden".to_owned()));
        assert!(verb_forms("meesturen", None).contains(&"meegestuurd".to_owned()));
        assert!(verb_forms("meesturen", None).contains(&"meestuurt".to_owned()));
    }
}
