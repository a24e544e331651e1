//! Text normalisation shared by the site builder and the search index.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Removes diacritics: `één` -> `een`, `café` -> `cafe`, `Ĳ` stays a letter.
///
/// Decomposes to NFD and drops combining marks, then recomposes what is left. Characters
/// without a decomposition (`ß`, `ø`) are kept as they are.
pub fn fold_diacritics(input: &str) -> String {
    if input.is_ascii() {
        return input.to_owned();
    }
    input.nfd().filter(|c| !is_combining_mark(*c)).nfc().collect()
}

/// The URL fragment for a heading or the slug for a name: lowercase ascii letters and digits,
/// every other run of characters becomes one hyphen, no hyphen at either end.
///
/// `"Wat is een incidentnummer?"` -> `"wat-is-een-incidentnummer"`,
/// `"Één bijlage toevoegen"` -> `"een-bijlage-toevoegen"`.
pub fn slugify(input: &str) -> String {
    let folded = fold_diacritics(input);
    let mut out = String::with_capacity(folded.len());
    let mut pending_hyphen = false;
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_hyphen && !out.is_empty() {
                out.push('-');
            }
            pending_hyphen = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending_hyphen = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_dutch_and_french_accents() {
        assert_eq!(fold_diacritics("één café, ideeën, reçu"), "een cafe, ideeen, recu");
        assert_eq!(fold_diacritics("plain"), "plain");
    }

    #[test]
    fn slugs_are_lowercase_ascii_with_single_hyphens() {
        assert_eq!(slugify("Wat is een incidentnummer?"), "wat-is-een-incidentnummer");
        assert_eq!(slugify("  Één -- bijlage (PDF) "), "een-bijlage-pdf");
        assert_eq!(slugify("Stap 2: Versturen"), "stap-2-versturen");
        assert_eq!(slugify("???"), "");
    }
}
