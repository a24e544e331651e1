//! Where links in markdown point: editors link to files (`../account/x.md#anchor`), readers get
//! URLs (`/nl/account/x/#anchor`). A link that leads nowhere is a diagnostic.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::content::Content;

/// What a link lands on, for the anchor check after rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Landing {
    /// An article, by index in `Content::articles`.
    Article(usize),
    /// A category or home page: no anchors to check there.
    Listing,
    /// A page of the service (portal, search): not ours to check.
    Service,
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub url: String,
    pub landing: Landing,
    pub anchor: Option<String>,
}

/// Paths of the web service, which the static site may link to.
pub const SERVICE_PREFIXES: &[&str] =
    &["/portal", "/search", "/login", "/logout", "/agent", "/api/", "/invite/", "/password/", "/evaluate/", "/healthz"];

#[derive(Debug)]
pub struct LinkTable {
    /// The content directory.
    dir: std::path::PathBuf,
    by_file: HashMap<String, (String, Landing)>,
    by_url: HashMap<String, Landing>,
    drafts: HashSet<String>,
}

pub fn article_url(lang: &str, category: &str, slug: &str) -> String {
    format!("/{lang}/{category}/{slug}/")
}
pub fn category_url(lang: &str, category: &str) -> String {
    format!("/{lang}/{category}/")
}
pub fn home_url(lang: &str) -> String {
    format!("/{lang}/")
}

impl LinkTable {
    /// The table of `content`. It stays right while no article, category, alias or draft
    /// state comes or goes.
    pub fn new(content: &Content) -> Self {
        let mut by_file = HashMap::new();
        let mut by_url = HashMap::new();
        let mut drafts = HashSet::new();
        for (i, a) in content.articles.iter().enumerate() {
            if a.meta.draft {
                drafts.insert(a.source.rel.clone());
                continue;
            }
            let url = article_url(&a.lang, &a.category, &a.slug);
            by_url.insert(url.clone(), Landing::Article(i));
            for alias in &a.meta.aliases {
                by_url.insert(alias.clone(), Landing::Article(i));
            }
            by_file.insert(a.source.rel.clone(), (url, Landing::Article(i)));
        }
        for c in &content.categories {
            let url = category_url(&c.lang, &c.slug);
            by_url.insert(url.clone(), Landing::Listing);
            by_file.insert(c.source.rel.clone(), (url, Landing::Listing));
        }
        by_url.insert("/".into(), Landing::Listing);
        for l in content.config.language_codes() {
            by_url.insert(home_url(l), Landing::Listing);
        }
        Self { dir: content.dir.clone(), by_file, by_url, drafts }
    }

    /// Resolves `dest` written in the file `from_rel` (relative to content/). `Ok(None)` means
    /// "leave it alone" (external links, mail addresses).
    pub fn resolve(&self, from_rel: &str, dest: &str) -> Result<Option<Resolved>, String> {
        let dest = dest.trim();
        if dest.is_empty() {
            return Err("empty link".into());
        }
        if is_external(dest) {
            return Ok(None);
        }
        let (path, anchor) = match dest.split_once('#') {
            Some((p, a)) => (p, Some(a.to_owned())),
            None => (dest, None),
        };
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() {
            // `#anchor` on the page itself.
            let landing = self.by_file.get(from_rel).map(|(_, l)| *l).unwrap_or(Landing::Listing);
            return Ok(Some(Resolved { url: dest.to_owned(), landing, anchor }));
        }
        let with_anchor = |url: &str| match &anchor {
            Some(a) => format!("{url}#{a}"),
            None => url.to_owned(),
        };
        if path.starts_with('/') {
            let (url, landing) = self.resolve_absolute(path)?;
            let url = with_anchor(&url);
            return Ok(Some(Resolved { url, landing, anchor }));
        }
        let target = join_relative(from_rel, path).ok_or_else(|| format!("`{dest}` points outside content/"))?;
        if target.ends_with(".md") {
            if let Some((url, landing)) = self.by_file.get(target.as_str()) {
                return Ok(Some(Resolved { url: with_anchor(url), landing: *landing, anchor }));
            }
            if self.drafts.contains(target.as_str()) {
                return Err(format!("`{dest}` is a draft, which is left out of the site"));
            }
            return Err(format!("`{dest}` does not exist (looked for content/{target})"));
        }
        if let Some(rest) = target.strip_prefix("static/") {
            if self.dir.join("static").join(rest).is_file() {
                return Ok(Some(Resolved { url: format!("/static/{rest}"), landing: Landing::Service, anchor: None }));
            }
            return Err(format!("`{dest}` does not exist (looked for content/{target})"));
        }
        if self.dir.join(&target).exists() {
            return Err(format!("`{dest}` is not served: put files for pages in content/static/"));
        }
        Err(format!("`{dest}` does not exist (looked for content/{target})"))
    }

    fn resolve_absolute(&self, path: &str) -> Result<(String, Landing), String> {
        let with_slash = if path.ends_with('/') || path.contains('.') { path.to_owned() } else { format!("{path}/") };
        if let Some(l) = self.by_url.get(&with_slash) {
            return Ok((with_slash, *l));
        }
        if let Some(rest) = path.strip_prefix("/static/") {
            if self.dir.join("static").join(rest).is_file() {
                return Ok((path.to_owned(), Landing::Service));
            }
            return Err(format!("`{path}` does not exist in content/static/"));
        }
        if SERVICE_PREFIXES.iter().any(|p| path == p.trim_end_matches('/') || path.starts_with(p)) {
            return Ok((path.to_owned(), Landing::Service));
        }
        Err(format!("there is no page at `{path}`"))
    }
}

fn is_external(dest: &str) -> bool {
    dest.starts_with("//")
        || dest.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        })
}

/// Joins a relative link to the directory of `from` (both `/`-separated, relative to content/),
/// resolving `.` and `..`. `None` if it climbs out of content/.
pub fn join_relative(from: &str, link: &str) -> Option<String> {
    let mut parts: Vec<&str> = Path::new(from)
        .parent()
        .map(|p| p.to_str().unwrap_or("").split('/').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    for seg in link.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_relative_paths() {
        assert_eq!(join_relative("faq/nl/a/x.md", "y.md").unwrap(), "faq/nl/a/y.md");
        assert_eq!(join_relative("faq/nl/a/x.md", "../b/z.md").unwrap(), "faq/nl/b/z.md");
        assert_eq!(join_relative("faq/nl/a/x.md", "../../../static/i.svg").unwrap(), "static/i.svg");
        assert!(join_relative("faq/nl/a/x.md", "../../../../etc/passwd").is_none());
    }

    #[test]
    fn recognises_external_links() {
        assert!(is_external("https://example.org"));
        assert!(is_external("mailto:a@b.nl"));
        assert!(is_external("tel:0881234567"));
        assert!(!is_external("../x.md"));
        assert!(!is_external("/nl/x/"));
    }
}
