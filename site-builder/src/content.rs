//! Loading `content/`: the configuration, the UI strings and the FAQ tree.
//!
//! Loading never stops at the first problem: it collects a diagnostic for each one and keeps
//! whatever could be read, so `check` can report everything in one run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Deserialize;

use crate::config::HelpdeskConfig;
use crate::diag::{Diagnostic, Diagnostics, LineIndex, toml_diagnostic};

/// Front matter of an article. Unknown keys are errors.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleMeta {
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub weight: i64,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// Front matter of a category (`_index.md`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryMeta {
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub weight: i64,
}

/// A markdown source file: where it is and what it says.
#[derive(Debug, Clone)]
pub struct Source {
    /// Path shown to people, e.g. `content/faq/nl/tickets/ticket-aanmaken.md`.
    pub display: PathBuf,
    /// Path relative to the content directory with `/` separators, e.g. `faq/nl/tickets/x.md`.
    pub rel: String,
    /// The whole file.
    pub text: String,
    /// Byte offset in `text` where the markdown body starts.
    pub body_start: usize,
    /// Line number (0-based count of lines) before the body starts.
    pub body_line_offset: usize,
    /// When the file last changed (last commit, or modification time).
    pub updated: Option<NaiveDate>,
}

impl Source {
    pub fn body(&self) -> &str {
        &self.text[self.body_start..]
    }
    /// The 1-based line in the file of a byte offset in the body.
    pub fn diag_at_body(&self, body_lines: &LineIndex, body_offset: usize, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.display, self.body_line_offset + body_lines.line_of(body_offset), msg)
            .with_source(&self.text)
    }
    pub fn diag(&self, line: usize, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.display, line, msg).with_source(&self.text)
    }
    /// The line of the first occurrence of `needle` inside the front matter, else line 1.
    pub fn front_matter_line(&self, needle: &str) -> usize {
        self.text[..self.body_start].find(needle).map(|o| LineIndex::new(&self.text).line_of(o)).unwrap_or(1)
    }
}

#[derive(Debug, Clone)]
pub struct Category {
    pub lang: String,
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub weight: i64,
    pub source: Source,
}

#[derive(Debug, Clone)]
pub struct Article {
    pub lang: String,
    pub category: String,
    pub slug: String,
    pub title: String,
    pub meta: ArticleMeta,
    pub source: Source,
}

impl Article {
    /// `category/slug`: the same for an article and its translations.
    pub fn key(&self) -> String {
        [self.category.as_str(), "/", &self.slug].concat()
    }
}

/// Everything in `content/`, as far as it could be read.
#[derive(Debug)]
pub struct Content {
    pub dir: PathBuf,
    pub config: HelpdeskConfig,
    pub config_source: Source,
    /// UI strings per language: `content/i18n/<lang>.toml`.
    pub strings: BTreeMap<String, BTreeMap<String, String>>,
    pub categories: Vec<Category>,
    /// All articles, drafts included (the builder leaves drafts out).
    pub articles: Vec<Article>,
}

pub const CONFIG_FILE: &str = "helpdesk.toml";

/// How the "last updated" date of a page is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dates {
    /// Last git commit touching the file, else its modification time.
    Git,
    /// Modification time only.
    Mtime,
    /// One fixed date for every file (tests, reproducible builds).
    Fixed(NaiveDate),
}

impl Content {
    /// Loads `dir`. Returns the content with every problem found, or, when even the
    /// configuration can't be read, only the problems.
    pub fn load(dir: &Path, dates: Dates) -> Result<(Content, Diagnostics), Diagnostics> {
        let config_display = dir.join(CONFIG_FILE);
        let config_text = std::fs::read_to_string(&config_display).map_err(|e| {
            Diagnostics(vec![Diagnostic::new(&config_display, 0, format!("cannot read the configuration: {e}"))])
        })?;
        let config = HelpdeskConfig::parse(&config_text, &config_display)?;
        let config_source = Source {
            display: config_display,
            rel: CONFIG_FILE.into(),
            text: config_text,
            body_start: 0,
            body_line_offset: 0,
            updated: None,
        };

        let mut diags = Diagnostics::default();
        let strings = load_strings(dir, &config, &mut diags);

        let git_dates = match dates {
            Dates::Git => git_dates(dir),
            _ => HashMap::new(),
        };
        let files = list_faq_files(dir, &config, &mut diags);
        let parsed: Vec<(Option<Entry>, Diagnostics)> =
            files.par_iter().with_max_len(crate::build::PIECE).map(|f| parse_file(dir, f, dates, &git_dates)).collect();

        let mut categories = Vec::new();
        let mut articles = Vec::new();
        for (entry, d) in parsed {
            diags.extend(d);
            match entry {
                Some(Entry::Category(c)) => categories.push(c),
                Some(Entry::Article(a)) => articles.push(a),
                None => {}
            }
        }
        categories.sort_by(|a, b| (&a.lang, a.weight, &a.title, &a.slug).cmp(&(&b.lang, b.weight, &b.title, &b.slug)));
        articles.par_sort_by(|a, b| {
            (&a.lang, &a.category, a.meta.weight, &a.title, &a.slug).cmp(&(
                &b.lang,
                &b.category,
                b.meta.weight,
                &b.title,
                &b.slug,
            ))
        });
        let content = Content { dir: dir.to_path_buf(), config, config_source, strings, categories, articles };
        diags.extend(content.cross_check());
        Ok((content, diags))
    }

    /// Problems that need the whole tree: categories, duplicate slugs, popular articles.
    fn cross_check(&self) -> Diagnostics {
        let mut diags = Diagnostics::default();
        let categories: HashSet<(&str, &str)> = self.categories.iter().map(|c| (&*c.lang, &*c.slug)).collect();
        let mut slugs: HashMap<(&str, &str, &str), &Source> = HashMap::new();
        for a in &self.articles {
            if !categories.contains(&(&*a.lang, &*a.category)) {
                diags.push(a.source.diag(
                    1,
                    format!(
                        "unknown category `{}`: there is no content/faq/{}/{}/_index.md",
                        a.category, a.lang, a.category
                    ),
                ));
            }
            if let Some(first) = slugs.insert((&a.lang, &a.category, &a.slug), &a.source) {
                diags.push(
                    a.source.diag(
                        1,
                        format!("duplicate slug `{}`: {} has the same address", a.slug, first.display.display()),
                    ),
                );
            }
        }
        let lines = LineIndex::new(&self.config_source.text);
        for key in &self.config.site.popular {
            let known = self
                .articles
                .iter()
                .any(|a| !a.meta.draft && key.split_once('/') == Some((a.category.as_str(), a.slug.as_str())));
            if !known {
                let at = self.config_source.text.find(&format!("\"{key}\"")).map(|o| lines.line_of(o)).unwrap_or(0);
                diags.push(
                    self.config_source.diag(at, format!("popular article `{key}` does not exist (use category/slug)")),
                );
            }
        }
        diags
    }

    /// Reads the article file `rel` (`faq/<lang>/<category>/<name>.md`) again, after an edit.
    /// `updated`: its date before, kept when dates come from git (an edit is not a commit).
    pub fn reload_article(
        &self,
        rel: &str,
        dates: Dates,
        updated: Option<NaiveDate>,
    ) -> (Option<Article>, Diagnostics) {
        let mut parts = rel.split('/');
        let (Some("faq"), Some(lang), Some(category), Some(name), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return (None, Diagnostics(vec![Diagnostic::new(self.dir.join(rel), 0, "not an article file")]));
        };
        let f = FaqFile {
            path: self.dir.join(rel),
            dir: None,
            rel: rel.to_owned(),
            lang: lang.to_owned(),
            category: category.to_owned(),
            file_name: name.to_owned(),
        };
        let git: HashMap<String, NaiveDate> = updated.map(|d| (rel.to_owned(), d)).into_iter().collect();
        match parse_file(&self.dir, &f, dates, &git) {
            (Some(Entry::Article(a)), diags) => (Some(a), diags),
            (_, diags) => (None, diags),
        }
    }

    pub fn string<'a>(&'a self, lang: &str, key: &'a str) -> &'a str {
        self.strings.get(lang).and_then(|m| m.get(key)).map(String::as_str).unwrap_or(key)
    }
}

enum Entry {
    Category(Category),
    Article(Article),
}

struct FaqFile {
    path: PathBuf,
    /// Its directory, open: the file is opened relative to it (the kernel looks up one name
    /// instead of the whole path again for each of a large site's files).
    dir: Option<Arc<std::os::fd::OwnedFd>>,
    rel: String,
    lang: String,
    category: String,
    file_name: String,
}

/// Walks `faq/<lang>/<category>/*.md`, reporting anything that doesn't fit that shape.
fn list_faq_files(dir: &Path, config: &HelpdeskConfig, diags: &mut Diagnostics) -> Vec<FaqFile> {
    let faq = dir.join("faq");
    let Ok(langs) = read_dir_sorted(&faq) else {
        diags.push(Diagnostic::new(&faq, 0, "there is no faq directory"));
        return Vec::new();
    };
    let mut categories = Vec::new();
    for (lang_path, is_dir) in langs {
        let lang = file_name(&lang_path);
        if !is_dir {
            diags.push(Diagnostic::new(&lang_path, 0, "unexpected file: put articles in faq/<lang>/<category>/"));
            continue;
        }
        if !config.language_codes().any(|c| c == lang) {
            diags.push(Diagnostic::new(
                &lang_path,
                0,
                format!("unknown language `{lang}`: helpdesk.toml lists the languages"),
            ));
            continue;
        }
        for (cat_path, is_dir) in read_dir_sorted(&lang_path).unwrap_or_default() {
            let category = file_name(&cat_path);
            if !is_dir {
                diags.push(Diagnostic::new(&cat_path, 0, "unexpected file: articles live in a category directory"));
                continue;
            }
            if !valid_slug(&category) {
                diags.push(Diagnostic::new(
                    &cat_path,
                    0,
                    format!("category name `{category}`: use lowercase letters, digits and hyphens"),
                ));
                continue;
            }
            categories.push((lang.clone(), category, cat_path));
        }
    }
    // The category directories are read in parallel; their files come out in order.
    let listed: Vec<(Vec<FaqFile>, Diagnostics)> =
        categories.into_par_iter().map(|(lang, category, cat_path)| list_category(lang, category, &cat_path)).collect();
    let mut out = Vec::new();
    for (files, d) in listed {
        out.extend(files);
        diags.extend(d);
    }
    out
}

/// The files of the category directory `cat_path` (`faq/<lang>/<category>/`).
fn list_category(lang: String, category: String, cat_path: &Path) -> (Vec<FaqFile>, Diagnostics) {
    let mut out = Vec::new();
    let mut diags = Diagnostics::default();
    let dir = std::fs::File::open(cat_path).ok().map(|d| Arc::new(std::os::fd::OwnedFd::from(d)));
    for (file, is_dir) in read_dir_sorted(cat_path).unwrap_or_default() {
        let name = file_name(&file);
        if name.starts_with('.') {
            continue;
        }
        if is_dir || !name.ends_with(".md") {
            diags.push(Diagnostic::new(
                &file,
                0,
                "unexpected file: only .md files belong here (images go in content/static/)",
            ));
            continue;
        }
        out.push(FaqFile {
            rel: format!("faq/{lang}/{category}/{name}"),
            path: file,
            dir: dir.clone(),
            lang: lang.clone(),
            category: category.clone(),
            file_name: name,
        });
    }
    (out, diags)
}

/// The entries of `dir` in order of name, each with whether it is a directory: told by the
/// directory listing itself (no look-up per file), following a symbolic link only.
fn read_dir_sorted(dir: &Path) -> std::io::Result<Vec<(PathBuf, bool)>> {
    let mut v: Vec<(PathBuf, bool)> = std::fs::read_dir(dir)?
        .filter_map(|e| {
            let e = e.ok()?;
            let path = e.path();
            let is_dir = match e.file_type() {
                Ok(t) if t.is_symlink() => path.is_dir(),
                Ok(t) => t.is_dir(),
                Err(_) => path.is_dir(),
            };
            Some((path, is_dir))
        })
        .collect();
    v.sort();
    Ok(v)
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

pub fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn parse_file(dir: &Path, f: &FaqFile, dates: Dates, git: &HashMap<String, NaiveDate>) -> (Option<Entry>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let display = dir.join(&f.rel);
    // The file's size and modification time come with the open file (no second look-up of
    // its path).
    // A problem: its line (0: the file as a whole) and what it is.
    let read = |f: &FaqFile| -> Result<(String, Option<std::time::SystemTime>), (usize, String)> {
        let cannot = |e: std::io::Error| (0, format!("cannot read: {e}"));
        let mut file = match &f.dir {
            Some(dir) => {
                let flags = rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC;
                std::fs::File::from(
                    rustix::fs::openat(&**dir, f.file_name.as_str(), flags, rustix::fs::Mode::empty())
                        .map_err(|e| cannot(e.into()))?,
                )
            }
            None => std::fs::File::open(&f.path).map_err(cannot)?,
        };
        let meta = file.metadata().map_err(cannot)?;
        // Read through `take`, which does not ask the file its size and position again (a
        // `File` does, two more system calls per file).
        let size = usize::try_from(meta.len()).unwrap_or(0);
        let mut bytes = Vec::with_capacity(size.saturating_add(1));
        std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, u64::MAX), &mut bytes).map_err(cannot)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
            let column = 1 + at - bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            (line, format!("not UTF-8 text at byte {column} of the line: save the file as UTF-8"))
        })?;
        Ok((text, meta.modified().ok()))
    };
    let (text, modified) = match read(f) {
        Ok(t) => t,
        Err((line, msg)) => {
            diags.push(Diagnostic::new(&display, line, msg));
            return (None, diags);
        }
    };
    let modified = modified.map(|t| chrono::DateTime::<chrono::Utc>::from(t).date_naive());
    let updated = match dates {
        Dates::Fixed(d) => Some(d),
        Dates::Git => git.get(&f.rel).copied().or(modified),
        Dates::Mtime => modified,
    };
    let (fm, fm_line_offset, body_start, body_line_offset) = match split_front_matter(&text) {
        Ok(parts) => parts,
        Err((line, msg)) => {
            diags.push(Diagnostic::new(&display, line, msg).with_source(&text));
            return (None, diags);
        }
    };
    let fm = fm.to_owned();
    let source = Source { display: display.clone(), rel: f.rel.clone(), text, body_start, body_line_offset, updated };

    if f.file_name == "_index.md" {
        let meta: CategoryMeta = match toml::from_str(&fm) {
            Ok(m) => m,
            Err(e) => {
                diags.push(toml_diagnostic(&display, &fm, fm_line_offset, &e).with_source(&source.text));
                return (None, diags);
            }
        };
        let title = required_title(&source, meta.title.as_deref(), &mut diags);
        let cat = Category {
            lang: f.lang.clone(),
            slug: f.category.clone(),
            title,
            description: meta.description,
            weight: meta.weight,
            source,
        };
        return (Some(Entry::Category(cat)), diags);
    }

    let stem = f.file_name.trim_end_matches(".md");
    let slug = search_index::text::slugify(stem);
    if slug.is_empty() {
        diags.push(Diagnostic::new(&display, 0, "file name gives an empty slug"));
        return (None, diags);
    }
    if slug != stem {
        diags.push(source.diag(1, format!("file name `{stem}` is not a clean slug: rename it to `{slug}.md`")));
    }
    let meta: ArticleMeta = match plain_article_meta(&fm).map_or_else(|| toml::from_str(&fm), Ok) {
        Ok(m) => m,
        Err(e) => {
            diags.push(toml_diagnostic(&display, &fm, fm_line_offset, &e).with_source(&source.text));
            return (None, diags);
        }
    };
    let title = required_title(&source, meta.title.as_deref(), &mut diags);
    for tag in &meta.tags {
        if tag.trim().is_empty() {
            diags.push(source.diag(source.front_matter_line("tags"), "empty tag"));
        }
    }
    let article = Article { lang: f.lang.clone(), category: f.category.clone(), slug, title, meta, source };
    (Some(Entry::Article(article)), diags)
}

fn required_title(source: &Source, title: Option<&str>, diags: &mut Diagnostics) -> String {
    match title.map(str::trim) {
        Some(t) if !t.is_empty() => t.to_owned(),
        Some(_) => {
            diags.push(source.diag(source.front_matter_line("title"), "the title is empty"));
            String::new()
        }
        None => {
            diags.push(source.diag(1, "missing required key `title` in the front matter"));
            String::new()
        }
    }
}

/// An article's front matter when it is written plainly, as nearly all are: one `key = value`
/// a line, the values basic strings without escapes, arrays of them on one line, decimal
/// integers and booleans, each key once. Read here directly (TOML's parser took a quarter of
/// a large site's loading); anything else is `None`, for the TOML parser to read (or to
/// explain what is wrong). What this gives is what TOML gives.
fn plain_article_meta(fm: &str) -> Option<ArticleMeta> {
    let mut meta = ArticleMeta::default();
    let mut seen = [false; 6];
    for line in fm.split('\n') {
        let line = line.trim_start_matches([' ', '\t']);
        if line.is_empty() {
            continue;
        }
        let key_end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))?;
        let (key, rest) = line.split_at(key_end);
        let value = rest.trim_start_matches([' ', '\t']).strip_prefix('=')?.trim_start_matches([' ', '\t']);
        // Which key it is (each may come once), and what follows its value.
        let (k, rest) = match key {
            "title" | "description" => {
                let (text, rest) = plain_string(value)?;
                let slot = if key == "title" { &mut meta.title } else { &mut meta.description };
                *slot = Some(text.to_owned());
                (usize::from(key == "description"), rest)
            }
            "tags" | "aliases" => {
                let mut rest = value.strip_prefix('[')?;
                let mut list = Vec::new();
                let rest = loop {
                    rest = rest.trim_start_matches([' ', '\t']);
                    if let Some(after) = rest.strip_prefix(']') {
                        break after;
                    }
                    let (text, after) = plain_string(rest)?;
                    list.push(text.to_owned());
                    let after = after.trim_start_matches([' ', '\t']);
                    match after.strip_prefix(',') {
                        Some(more) => rest = more,
                        None => break after.strip_prefix(']')?,
                    }
                };
                let slot = if key == "tags" { &mut meta.tags } else { &mut meta.aliases };
                *slot = list;
                (if key == "tags" { 2 } else { 3 }, rest)
            }
            "weight" => {
                let end = value.find([' ', '\t']).unwrap_or(value.len());
                let digits = value[..end].strip_prefix(['+', '-']).unwrap_or(&value[..end]);
                // Decimal, no leading zeros, no `_` (TOML has those too: left to it).
                if digits.is_empty()
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                    || (digits.len() > 1 && digits.starts_with('0'))
                {
                    return None;
                }
                meta.weight = value[..end].parse().ok()?;
                (4, &value[end..])
            }
            "draft" => {
                let (b, rest) = if let Some(r) = value.strip_prefix("true") {
                    (true, r)
                } else {
                    (false, value.strip_prefix("false")?)
                };
                meta.draft = b;
                (5, rest)
            }
            _ => return None,
        };
        if std::mem::replace(&mut seen[k], true) || !rest.trim_matches([' ', '\t']).is_empty() {
            return None;
        }
    }
    Some(meta)
}

/// A TOML basic string without escapes at the start of `s`: its text and what follows it.
fn plain_string(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('"')?;
    let end = s.find(|c: char| c == '"' || c == '\\' || (c.is_control() && c != '\t'))?;
    (s.as_bytes()[end] == b'"').then(|| (&s[..end], &s[end + 1..]))
}

/// Splits `+++\n<toml>\n+++\n<body>`. Returns (toml, lines before toml, body offset, lines
/// before body) or (line, message).
fn split_front_matter(text: &str) -> Result<(&str, usize, usize, usize), (usize, String)> {
    let text_no_bom = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = text.len() - text_no_bom.len();
    let mut lines = text_no_bom.split_inclusive('\n');
    match lines.next() {
        Some(first) if first.trim_end() == "+++" => {}
        _ => return Err((1, "the file must start with front matter between `+++` lines".into())),
    }
    let fm_start = bom + text_no_bom.find('\n').map(|i| i + 1).unwrap_or(text_no_bom.len());
    let mut offset = fm_start;
    let mut line_no = 1;
    for line in lines {
        line_no += 1;
        if line.trim_end() == "+++" {
            let fm = &text[fm_start..offset];
            return Ok((fm, 1, offset + line.len(), line_no));
        }
        offset += line.len();
    }
    Err((1, "the front matter is not closed: add a `+++` line after it".into()))
}

/// Date of the last commit of each file under `dir`, keyed by path relative to `dir`. Empty
/// when `dir` isn't in a git work tree or git isn't installed.
fn git_dates(dir: &Path) -> HashMap<String, NaiveDate> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["log", "--format=%x00%cs", "--name-only", "--relative", "--", "."])
        .stderr(std::process::Stdio::null())
        .output();
    let mut map = HashMap::new();
    let Ok(out) = out else { return map };
    if !out.status.success() {
        return map;
    }
    let mut current = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(date) = line.strip_prefix('\0') {
            current = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok();
        } else if !line.is_empty()
            && let Some(d) = current
        {
            map.entry(line.to_owned()).or_insert(d);
        }
    }
    map
}

/// `content/i18n/<lang>.toml`: flat `key = "text"` tables; every language has the same keys as
/// the default language.
fn load_strings(
    dir: &Path,
    config: &HelpdeskConfig,
    diags: &mut Diagnostics,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut all = BTreeMap::new();
    for lang in config.language_codes() {
        let path = dir.join("i18n").join(format!("{lang}.toml"));
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::new(&path, 0, format!("cannot read the UI strings: {e}")));
                continue;
            }
        };
        match toml::from_str::<BTreeMap<String, String>>(&text) {
            Ok(map) => {
                all.insert(lang.to_owned(), map);
            }
            Err(e) => diags.push(toml_diagnostic(&path, &text, 0, &e).with_source(&text)),
        }
    }
    let default = &config.site.default_language;
    if let Some(reference) = all.get(default) {
        for (lang, map) in &all {
            for key in reference.keys().filter(|k| !map.contains_key(*k)) {
                diags.push(Diagnostic::new(
                    dir.join("i18n").join(format!("{lang}.toml")),
                    0,
                    format!("missing UI string `{key}` (present in {default}.toml)"),
                ));
            }
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter_and_counts_lines() {
        let text = "+++\ntitle = \"A\"\n+++\nBody\n";
        let (fm, fm_off, body, body_off) = split_front_matter(text).unwrap();
        assert_eq!(fm, "title = \"A\"\n");
        assert_eq!(fm_off, 1);
        assert_eq!(&text[body..], "Body\n");
        assert_eq!(body_off, 3);
    }

    #[test]
    fn rejects_missing_or_unclosed_front_matter() {
        assert_eq!(split_front_matter("# Hi\n").unwrap_err().0, 1);
        assert!(split_front_matter("+++\ntitle = \"x\"\n").unwrap_err().1.contains("not closed"));
    }

    #[test]
    fn plain_front_matter_is_read_without_the_toml_parser() {
        let fm = "title = \"Vraag 1 over #wachtwoord\"\ndescription = \"Alles.\"\ntags = [\"a\", \"b c\"]\nweight = -3\ndraft = false\n";
        let meta = plain_article_meta(fm).expect("plain");
        assert_eq!(meta, toml::from_str::<ArticleMeta>(fm).unwrap());
        assert_eq!(meta.tags, ["a", "b c"]);
        assert_eq!(meta.weight, -3);
        for other in
            ["title = 'x'\n", "title = \"a\\tb\"\n", "weight = 1_000\n", "title = \"x\" # c\n", "x = 1\n", "[t]\n"]
        {
            assert_eq!(plain_article_meta(other), None, "{other}");
        }
    }

    proptest::proptest! {
        /// Whatever the plain reader reads, it reads as TOML does.
        #[test]
        fn plain_front_matter_is_read_as_toml_reads_it(
            lines in proptest::collection::vec(
                (
                    "[ \t]{0,2}",
                    proptest::sample::select(vec!["title", "description", "tags", "aliases", "weight", "draft", "other", "title.x", ""]),
                    "[ \t]{0,2}=?[ \t]{0,2}",
                    proptest::prop_oneof![
                        "\"[a-z #é\"\\\\\t\u{1}\u{7f}]{0,6}\"?",
                        "\\[[ \t]{0,1}(\"[a-z,\\] ]{0,3}\"[ \t]{0,1},?[ \t]{0,1}){0,3}\\]?",
                        "[+-]?[0-9_]{0,20}",
                        "(true|false|tru|True)",
                        "'[a-z]{0,3}'",
                    ],
                    "[ \t#a]{0,2}",
                ),
                0..6,
            ),
        ) {
            let fm: String = lines.iter().map(|(a, k, eq, v, end)| format!("{a}{k}{eq}{v}{end}\n")).collect();
            if let Some(meta) = plain_article_meta(&fm) {
                proptest::prop_assert_eq!(Some(meta), toml::from_str::<ArticleMeta>(&fm).ok(), "{}", fm);
            }
        }

        /// Nearly plain front matter (each line plain but for a slip now and then): read as
        /// TOML reads it, and plain front matter is read.
        #[test]
        fn nearly_plain_front_matter_is_read_as_toml_reads_it(
            lines in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        (proptest::sample::select(vec!["title", "description"]), "\"[a-zé #,\\]\\[]{0,6}\""),
                        (
                            proptest::sample::select(vec!["tags", "aliases"]),
                            "\\[[ ]{0,1}(\"[a-z ]{0,3}\"[ ]{0,1},[ ]{0,1}){0,3}(\"[a-z]{0,2}\")?[ ]{0,1}\\]",
                        ),
                        (proptest::strategy::Just("weight"), "[+-]?(0|[1-9][0-9]{0,19})"),
                        (proptest::strategy::Just("draft"), "(true|false)"),
                    ],
                    proptest::prop_oneof![9 => proptest::strategy::Just(String::new()), 1 => "[ \ta,\\]\"]"],
                ),
                0..7,
            ),
        ) {
            let fm: String = lines.iter().map(|((k, v), end)| format!("{k} = {v}{end}\n")).collect();
            let toml = toml::from_str::<ArticleMeta>(&fm).ok();
            let plain = plain_article_meta(&fm);
            if plain.is_some() {
                proptest::prop_assert_eq!(&plain, &toml, "{}", fm);
            }
            // Each key once, no slips, and a weight that fits: plain.
            let mut keys: Vec<_> = lines.iter().map(|l| l.0.0).collect();
            keys.sort_unstable();
            keys.dedup();
            if keys.len() == lines.len() && lines.iter().all(|l| l.1.is_empty()) && toml.is_some() {
                proptest::prop_assert!(plain.is_some(), "{}", fm);
            }
        }
    }

    #[test]
    fn slugs_must_be_clean() {
        assert!(valid_slug("ticket-aanmaken"));
        assert!(!valid_slug("Ticket"));
        assert!(!valid_slug("-x"));
    }
}
