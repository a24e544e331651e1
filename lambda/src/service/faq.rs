//! From answer to FAQ: an answered ticket becomes a draft article (TOML front matter with
//! `draft = true`, then markdown) that an editor reviews and commits, so the knowledge base
//! grows from the questions people really ask. Personal data is taken out: names, e-mail
//! addresses, phone numbers, the organisation, the administration and incident numbers.

use std::path::{Path, PathBuf};

use super::{Service, ServiceError};
use crate::model::*;

/// A drafted article and where it belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaqDraft {
    pub lang: String,
    pub category: String,
    pub slug: String,
    /// The whole file: front matter and markdown.
    pub text: String,
    /// The category's `_index.md` when the category does not exist yet.
    pub category_index: Option<String>,
}

impl FaqDraft {
    /// `faq/<lang>/<category>/<slug>.md`, relative to `content/`.
    pub fn path(&self) -> PathBuf {
        Path::new("faq").join(&self.lang).join(&self.category).join(format!("{}.md", self.slug))
    }
}

impl Service {
    /// Drafts an article from the ticket's question and its last answer.
    pub async fn faq_draft(&self, ticket: &Ticket) -> Result<FaqDraft, ServiceError> {
        let messages = self.store.messages(&ticket.number).await?;
        let question = messages.iter().find(|m| m.kind == MessageKind::Customer).map(|m| m.body.as_str()).unwrap_or("");
        let Some(answer) = messages.iter().rev().find(|m| m.kind == MessageKind::Answer) else {
            return Err(ServiceError::NotNow("no answer"));
        };
        let org = self.store.org(&ticket.org_id).await?;
        let mut private: Vec<String> = vec![ticket.requester_name.clone(), ticket.number.clone()];
        private.extend(ticket.requester_name.split_whitespace().filter(|w| w.chars().count() > 2).map(str::to_owned));
        private.extend(org.map(|o| o.name));
        private.extend(ticket.administration.clone());
        private.push(answer.author_name.clone());
        private.extend(answer.author_name.split_whitespace().filter(|w| w.chars().count() > 2).map(str::to_owned));
        private.extend(self.config.agents.iter().map(|a| a.name.clone()));
        let clean = |s: &str| redact(s, &private);
        let lang = if self.texts.get(&ticket.lang).is_some() { ticket.lang.clone() } else { "nl".into() };
        let texts = self.texts.or_default(Some(&lang));
        let sector = self.config.sectors.iter().find(|s| s.id == ticket.sector);
        let subtopic = sector.and_then(|s| s.subtopics.iter().find(|t| t.id == ticket.subtopic));
        let category = subtopic.and_then(|t| t.faq_category.clone()).unwrap_or_else(|| ticket.subtopic.clone());
        let category = slugify(&category);
        let title = clean(&ticket.subject);
        let description = site_builder::build::summary(&clean(&answer.body), 150);
        let tags: Vec<String> =
            [sector.map(|s| s.name.get(&lang).to_lowercase()), subtopic.map(|t| t.name.get(&lang).to_lowercase())]
                .into_iter()
                .flatten()
                .collect();
        let mut text = String::from("+++\n");
        text.push_str(&format!("title = {}\n", toml_string(&title)));
        text.push_str(&format!("description = {}\n", toml_string(&description)));
        text.push_str(&format!("tags = [{}]\n", tags.iter().map(|t| toml_string(t)).collect::<Vec<_>>().join(", ")));
        text.push_str("draft = true\n+++\n");
        text.push_str(&format!(
            "<!-- {} -->\n\n",
            texts.fill("agent_faq_origin", &[("date", &self.clock.now().format("%Y-%m-%d").to_string())])
        ));
        text.push_str(&format!("## {}\n\n{}\n\n", texts.get("agent_faq_question"), clean(question).trim()));
        text.push_str(&format!("## {}\n\n{}\n", texts.get("agent_faq_answer"), clean(&answer.body).trim()));
        let category_index = subtopic.map(|t| format!("+++\ntitle = {}\n+++\n", toml_string(t.name.get(&lang))));
        Ok(FaqDraft { lang, category, slug: slugify(&title), text, category_index })
    }
}

/// Writes a draft under `content` (the one-machine install): the article, and the category's
/// `_index.md` if the category is new. A slug already taken gets `-2`, `-3`, ... Returns the
/// article's path relative to `content`.
pub fn write_draft(content: &Path, draft: &FaqDraft) -> std::io::Result<PathBuf> {
    let dir = content.join("faq").join(&draft.lang).join(&draft.category);
    std::fs::create_dir_all(&dir)?;
    let index = dir.join("_index.md");
    if !index.exists()
        && let Some(text) = &draft.category_index
    {
        std::fs::write(&index, text)?;
    }
    for n in 1..1000 {
        let slug = if n == 1 { draft.slug.clone() } else { format!("{}-{n}", draft.slug) };
        let file = dir.join(format!("{slug}.md"));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&file) {
            Ok(mut f) => {
                std::io::Write::write_all(&mut f, draft.text.as_bytes())?;
                return Ok(Path::new("faq").join(&draft.lang).join(&draft.category).join(format!("{slug}.md")));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free file name for the draft"))
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Lowercase ASCII words joined by `-` (accents dropped), at most 60 characters.
pub fn slugify(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    for c in s.nfd().filter(|c| c.is_ascii()) {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out: String = out.trim_matches('-').chars().take(60).collect();
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "vraag".into() } else { out }
}

/// Takes personal data out of `text`: e-mail addresses, phone numbers (eight digits or more),
/// web addresses with a query, and every word or phrase in `private` (case-insensitive).
pub fn redact(text: &str, private: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    for word in text.split_inclusive(char::is_whitespace) {
        let core = word.trim_end();
        let tail = &word[core.len()..];
        let trimmed = core.trim_matches(|c: char| !c.is_alphanumeric());
        let digits = core.chars().filter(char::is_ascii_digit).count();
        let replaced = if trimmed.contains('@') && trimmed.contains('.') {
            Some("[e-mailadres]")
        } else if (core.starts_with("http://") || core.starts_with("https://")) && core.contains('?') {
            Some("[link]")
        } else if digits >= 8 && core.chars().all(|c| c.is_ascii_digit() || "+-() ./".contains(c)) {
            Some("[telefoonnummer]")
        } else {
            None
        };
        match replaced {
            Some(r) => out.push(format!("{r}{tail}")),
            None => out.push(word.to_owned()),
        }
    }
    let mut text = out.concat();
    // Phone numbers written with spaces ("06 1234 5678") span several words.
    text = redact_spaced_numbers(&text);
    let mut names: Vec<&String> = private.iter().filter(|p| p.trim().chars().count() > 2).collect();
    names.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for name in names {
        text = replace_ci(&text, name.trim(), "[naam]");
    }
    text
}

fn redact_spaced_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let mut j = i;
            let mut digits = 0;
            while j < chars.len() && (chars[j].is_ascii_digit() || " -+()".contains(chars[j])) {
                digits += usize::from(chars[j].is_ascii_digit());
                j += 1;
            }
            if digits >= 9 {
                out.push_str("[telefoonnummer]");
                if chars[j - 1] == ' ' {
                    out.push(' ');
                }
                i = j;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Replaces every case-insensitive occurrence of `needle` that stands as a whole word.
fn replace_ci(text: &str, needle: &str, with: &str) -> String {
    if needle.is_empty() {
        return text.to_owned();
    }
    let lower = text.to_lowercase();
    let needle_lower = needle.to_lowercase();
    // Lowercasing can change lengths outside ASCII; then leave the text as it is.
    if lower.len() != text.len() {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut last = 0;
    let mut from = 0;
    while let Some(pos) = lower[from..].find(&needle_lower) {
        let start = from + pos;
        let end = start + needle_lower.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        let whole = !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric);
        if whole {
            out.push_str(&text[last..start]);
            out.push_str(with);
            last = end;
        }
        from = end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_taken_out() {
        let private = vec![
            "Alice de Boer".to_owned(),
            "Alice".to_owned(),
            "Gemeente Aadorp".to_owned(),
            "INC-2026-00042".to_owned(),
        ];
        let text = "Beste Alice, bel 06-12345678 of 020 123 4567, of mail alice@aadorp.example. \
                    Zie https://app.example/x?token=abc. Groet, Gemeente Aadorp (INC-2026-00042). Alicevormig blijft.";
        let clean = redact(text, &private);
        for gone in [
            "Alice,",
            "06-12345678",
            "020 123 4567",
            "alice@aadorp.example",
            "token=abc",
            "Gemeente Aadorp",
            "INC-2026-00042",
        ] {
            assert!(!clean.contains(gone), "{gone} in {clean}");
        }
        assert!(clean.contains("Alicevormig"), "only whole words: {clean}");
        assert!(clean.contains("[e-mailadres]") && clean.contains("[telefoonnummer]") && clean.contains("[naam]"));
    }

    #[test]
    fn slugs_are_plain() {
        assert_eq!(slugify("Kaart laadt niet — café's & co!"), "kaart-laadt-niet-cafe-s-co");
        assert_eq!(slugify("???"), "vraag");
    }

    #[test]
    fn toml_strings_escape() {
        assert_eq!(toml_string("a \"b\" \\ c\nd"), "\"a \\\"b\\\" \\\\ c\\nd\"");
    }
}
