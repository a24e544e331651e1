//! The portal's languages. Texts are the `portal_*` and `mail_*` keys of `content/i18n/<lang>.toml`
//! (the same checked files as the help centre's texts: `helpdesk check` reports a key missing
//! from a language). A request's language is `?lang=` (then remembered in a cookie), else that
//! cookie, else the browser's `Accept-Language`, else the site's default language. While a
//! request is handled, its language is task-local, so every text and template of that request
//! can reach it without passing it around.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use minijinja::Value;

/// The cookie that remembers a chosen language.
pub const LANG_COOKIE: &str = "hd_lang";

/// Texts per language code.
#[derive(Debug, Clone)]
pub struct Texts {
    default: String,
    langs: BTreeMap<String, Language>,
}

/// One language's texts, also as a template value (built once, cheap to clone).
#[derive(Debug, Clone)]
pub struct Language {
    pub code: String,
    strings: Arc<BTreeMap<String, String>>,
    value: Value,
}

impl Language {
    /// The text for `key`, or the key itself when it is missing (a visible mistake, not a crash).
    pub fn get(&self, key: &str) -> String {
        self.strings.get(key).cloned().unwrap_or_else(|| key.to_owned())
    }

    /// The text for `key` with `{name}` placeholders filled in.
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        fill(&self.get(key), args)
    }

    /// The texts as a template value: `{{ t.portal_login_title }}`.
    pub fn value(&self) -> Value {
        self.value.clone()
    }
}

pub fn fill(text: &str, args: &[(&str, &str)]) -> String {
    args.iter().fold(text.to_owned(), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v))
}

const EMBEDDED: &[(&str, &str)] =
    &[("nl", include_str!("../../content/i18n/nl.toml")), ("en", include_str!("../../content/i18n/en.toml"))];

impl Texts {
    /// The texts compiled into the binary (what the Lambda uses; `serve` reads `content/`).
    pub fn embedded(default: &str) -> Texts {
        let files = EMBEDDED.iter().map(|(code, text)| ((*code).to_owned(), (*text).to_owned())).collect();
        Texts::parse(default, files).expect("the embedded UI strings parse (checked by `helpdesk check`)")
    }

    /// The texts of a `content/` folder: `i18n/<lang>.toml` for each of `langs`.
    pub fn load(content: &std::path::Path, default: &str, langs: &[&str]) -> Result<Texts, String> {
        let mut files = BTreeMap::new();
        for code in langs {
            let path = content.join("i18n").join(format!("{code}.toml"));
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            files.insert((*code).to_owned(), text);
        }
        Texts::parse(default, files)
    }

    /// Texts from `content/i18n/<lang>.toml` sources.
    pub fn parse(default: &str, files: BTreeMap<String, String>) -> Result<Texts, String> {
        let mut langs = BTreeMap::new();
        for (code, text) in files {
            let strings: BTreeMap<String, String> =
                toml::from_str(&text).map_err(|e| format!("content/i18n/{code}.toml: {e}"))?;
            let value = Value::from_serialize(&strings);
            langs.insert(code.clone(), Language { code, strings: Arc::new(strings), value });
        }
        if !langs.contains_key(default) {
            return Err(format!("no UI strings for the default language `{default}`"));
        }
        Ok(Texts { default: default.to_owned(), langs })
    }

    pub fn default_language(&self) -> &Language {
        &self.langs[&self.default]
    }

    pub fn get(&self, code: &str) -> Option<&Language> {
        self.langs.get(code)
    }

    /// The language for `code`, or the default one.
    pub fn or_default(&self, code: Option<&str>) -> &Language {
        code.and_then(|c| self.langs.get(c)).unwrap_or_else(|| self.default_language())
    }

    /// The best language for a request without an explicit choice.
    fn negotiate(&self, headers: &HeaderMap) -> &Language {
        if let Some(lang) = crate::web::cookie(headers, LANG_COOKIE).and_then(|c| self.langs.get(&c)) {
            return lang;
        }
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let mut ranked: Vec<(f32, &Language)> = accept
            .split(',')
            .filter_map(|part| {
                let mut bits = part.split(';');
                let tag = bits.next()?.trim().to_ascii_lowercase();
                let q =
                    bits.find_map(|b| b.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
                let primary = tag.split('-').next()?.to_owned();
                Some((q, self.langs.get(&primary)?))
            })
            .filter(|(q, _)| *q > 0.0)
            .collect();
        // Stable: among equal weights the browser's order wins.
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|(_, l)| *l).unwrap_or_else(|| self.default_language())
    }
}

tokio::task_local! {
    static CURRENT: Language;
}

/// The language of the request being handled; the default one outside a request.
pub fn current(texts: &Texts) -> Language {
    CURRENT.try_with(Language::clone).unwrap_or_else(|_| texts.default_language().clone())
}

/// Runs `f` in `lang` (what a request gets from the middleware), e.g. an admin command's mail.
pub async fn in_language<F: std::future::Future>(lang: Language, f: F) -> F::Output {
    CURRENT.scope(lang, f).await
}

/// Picks the request's language and handles the request in it; `?lang=xx` also sets the cookie.
pub async fn middleware(State(texts): State<Arc<Texts>>, req: Request, next: Next) -> Response {
    let chosen = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")))
        .and_then(|code| texts.get(code))
        .cloned();
    let lang = chosen.clone().unwrap_or_else(|| texts.negotiate(req.headers()).clone());
    let mut response = CURRENT.scope(lang, next.run(req)).await;
    if let Some(lang) = chosen {
        // Not HttpOnly-sensitive, but no script needs it either.
        let cookie = format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax", lang.code);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts() -> Texts {
        Texts::embedded("nl")
    }

    #[test]
    fn every_language_has_every_portal_text() {
        let t = texts();
        let nl = t.get("nl").unwrap();
        for lang in ["en"] {
            let other = t.get(lang).unwrap();
            for key in nl.strings.keys().filter(|k| k.starts_with("portal_") || k.starts_with("mail_")) {
                assert!(other.strings.contains_key(key), "{lang}.toml lacks {key}");
            }
        }
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        let t = texts();
        let pick = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(accept).unwrap());
            t.negotiate(&h).code.clone()
        };
        assert_eq!(pick("en-GB,en;q=0.9"), "en");
        assert_eq!(pick("de-DE,en;q=0.5,nl;q=0.8"), "nl");
        assert_eq!(pick("fr"), "nl", "unsupported: the default");
        assert_eq!(pick("en;q=0"), "nl", "q=0 means not wanted");
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("hd_lang=en"));
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("nl"));
        assert_eq!(t.negotiate(&h).code, "en", "a chosen language beats the browser's");
    }

    #[test]
    fn placeholders_are_filled() {
        let en = texts().get("en").unwrap().clone();
        assert_eq!(en.fill("portal_welcome", &[("name", "Anna")]), "Welcome, Anna");
        assert_eq!(en.get("no_such_key"), "no_such_key");
    }
}
