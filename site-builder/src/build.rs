//! The build: content -> checked, rendered pages -> `dist/`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use minijinja::value::{Enumerator, Object};
use minijinja::{Environment, Value, context};
use rayon::prelude::*;
use serde::Serialize;

use crate::content::{Article, Content, Dates};
use crate::diag::{Diagnostic, Diagnostics};
use crate::links::{LinkTable, SERVICE_PREFIXES, article_url, category_url, home_url};
use crate::markdown::{self, Rendered, TocEntry};

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub content_dir: PathBuf,
    pub out_dir: PathBuf,
    pub dates: Dates,
    /// Adds the live-reload script (for `serve`).
    pub live_reload: bool,
    /// Prints progress on long builds.
    pub progress: bool,
}

impl BuildOptions {
    pub fn new(content_dir: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        Self {
            content_dir: content_dir.into(),
            out_dir: out_dir.into(),
            dates: Dates::Git,
            live_reload: false,
            progress: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BuildReport {
    pub articles: usize,
    /// Pages rendered: all of the site's, or after an edit the ones it touches (`partial`).
    pub pages: usize,
    pub redirects: usize,
    /// Only what edits touched was rebuilt ([`crate::Session::update`]).
    pub partial: bool,
    /// Files written or removed; 0 when nothing changed.
    pub written: usize,
    pub elapsed: Duration,
    /// Wall time of each step, in order.
    pub phases: Vec<(&'static str, Duration)>,
}

/// Wall times of the steps of a build.
#[derive(Debug)]
struct Phases {
    last: Instant,
    done: Vec<(&'static str, Duration)>,
}

impl Phases {
    fn start() -> Self {
        Self { last: Instant::now(), done: Vec::new() }
    }

    /// Ends step `name` now; the next step starts.
    fn end(&mut self, name: &'static str) {
        let now = Instant::now();
        self.done.push((name, now - self.last));
        self.last = now;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the content has {n} problem(s):\n{0}", n = .0.len())]
    Content(Diagnostics),
    #[error("template error: {0}")]
    Template(String),
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Search(#[from] search_index::SearchError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
    move |source| BuildError::Io { path: path.to_path_buf(), source }
}

/// The content, fully rendered and checked in memory.
#[derive(Debug)]
pub struct Prepared {
    pub content: Content,
    /// One per article (drafts included), same order as `content.articles`.
    pub rendered: Vec<Rendered>,
    /// Category intros, same order as `content.categories`.
    pub intros: Vec<Rendered>,
}

/// Loads, renders and checks everything. Every problem is in the returned diagnostics; the
/// content is returned when it could be loaded at all.
pub fn prepare(content_dir: &Path, dates: Dates) -> (Option<Prepared>, Diagnostics) {
    prepare_timed(content_dir, dates, &mut Phases::start())
}

fn prepare_timed(content_dir: &Path, dates: Dates, phases: &mut Phases) -> (Option<Prepared>, Diagnostics) {
    rayon::broadcast(|_| grow_heap());
    let (content, mut diags) = match Content::load(content_dir, dates) {
        Ok(x) => x,
        Err(d) => return (None, d),
    };
    phases.end("load");
    // Aliases are checked meanwhile (alone, a large site's keep one core busy for ~10 ms).
    let ((rendered, intros), aliases) = rayon::join(
        || {
            let links = LinkTable::new(&content);
            let rendered: Vec<Rendered> =
                content.articles.par_iter().with_max_len(PIECE).map(|a| markdown::render(&a.source, &links)).collect();
            let intros: Vec<Rendered> =
                content.categories.par_iter().map(|c| markdown::render(&c.source, &links)).collect();
            (rendered, intros)
        },
        || check_aliases(&content),
    );
    phases.end("markdown");
    for (i, r) in rendered.iter().chain(intros.iter()).enumerate() {
        diags.extend(r.diags.clone());
        let source = if i < content.articles.len() {
            &content.articles[i].source
        } else {
            &content.categories[i - content.articles.len()].source
        };
        for a in &r.anchor_refs {
            if !rendered[a.target].ids.contains(&a.anchor) {
                let target = &content.articles[a.target];
                diags.push(source.diag(a.line, broken_anchor(&target.source.display, &a.anchor)));
            }
        }
    }
    diags.extend(aliases);
    diags.extend(check_templates(content_dir));
    diags.sort();
    phases.end("checks");
    (Some(Prepared { content, rendered, intros }), diags)
}

/// Validates content without writing anything: the diagnostics `check` prints.
pub fn check(content_dir: &Path) -> Diagnostics {
    prepare(content_dir, Dates::Mtime).1
}

/// The problem of a link to a heading that is not there.
pub(crate) fn broken_anchor(target: &Path, anchor: &str) -> String {
    format!("broken link: `{}` has no heading with anchor `#{anchor}`", target.display())
}

fn check_aliases(content: &Content) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let mut taken: HashMap<String, &Article> = HashMap::new();
    for a in content.articles.iter().filter(|a| !a.meta.draft) {
        taken.insert(article_url(&a.lang, &a.category, &a.slug), a);
    }
    let categories: HashSet<String> = content.categories.iter().map(|c| category_url(&c.lang, &c.slug)).collect();
    for a in content.articles.iter().filter(|a| !a.meta.draft) {
        for alias in &a.meta.aliases {
            let line = a.source.front_matter_line(&format!("\"{alias}\""));
            if !alias.starts_with('/') || !alias.ends_with('/') || alias.contains("..") || alias.contains("//") {
                diags
                    .push(a.source.diag(line, format!("alias `{alias}` must be a path that starts and ends with `/`")));
                continue;
            }
            if alias == "/"
                || alias.starts_with("/static/")
                || SERVICE_PREFIXES.iter().any(|p| alias.starts_with(p.trim_end_matches('/')))
                || content.config.language_codes().any(|l| *alias == home_url(l))
            {
                diags.push(a.source.diag(line, format!("alias `{alias}` is a reserved address")));
                continue;
            }
            if categories.contains(alias) {
                diags.push(a.source.diag(line, format!("alias `{alias}` collides with a category page")));
                continue;
            }
            match taken.get(alias.as_str()) {
                Some(other) if std::ptr::eq(*other, a) => {
                    diags.push(a.source.diag(line, format!("alias `{alias}` is the article's own address")));
                }
                Some(other) => diags.push(
                    a.source.diag(line, format!("alias `{alias}` collides with {}", other.source.display.display())),
                ),
                None => {
                    taken.insert(alias.clone(), a);
                }
            }
        }
    }
    diags
}

/// The page footer: the same on every page of a language ([`Site::footer`]).
const FOOTER: &str = "footer.html";

const TEMPLATES: &[&str] = &[
    "base.html",
    FOOTER,
    "contact.html",
    "home.html",
    "category.html",
    "article.html",
    "404.html",
    "redirect.html",
    "search.html",
];

pub(crate) fn template_env(content_dir: &Path) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_loader(minijinja::path_loader(content_dir.join("templates")));
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    readable_escaping(&mut env);
    env
}

/// Escape what HTML needs escaped, and leave `/` alone so URLs stay readable (minijinja's own
/// escaping writes `&#x2f;`). Used by the site's and the service's templates alike.
pub fn readable_escaping(env: &mut Environment<'_>) {
    env.set_formatter(|out, state, value| {
        match (state.auto_escape(), value.as_str()) {
            (minijinja::AutoEscape::Html, Some(s)) if !value.is_safe() => write_escaped_html(out, s)?,
            _ => minijinja::escape_formatter(out, state, value)?,
        }
        Ok(())
    });
}

/// Escapes text for HTML content and quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let _ = write_escaped_html(&mut out, s);
    out
}

/// [`escape_html`] into `out`: the text between the characters to escape is written as is.
pub fn write_escaped_html(out: &mut impl std::fmt::Write, s: &str) -> std::fmt::Result {
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&s[from..i])?;
        out.write_str(entity)?;
        from = i + 1;
    }
    out.write_str(&s[from..])
}

fn check_templates(content_dir: &Path) -> Diagnostics {
    let env = template_env(content_dir);
    let mut diags = Diagnostics::default();
    for name in TEMPLATES {
        if let Err(e) = env.get_template(name) {
            let file = content_dir.join("templates").join(name);
            diags.push(Diagnostic::new(
                file,
                e.line().unwrap_or(0),
                format!("template error: {}", e.detail().unwrap_or(&e.to_string())),
            ));
        }
    }
    diags
}

/// Builds the site into `opts.out_dir`. Refuses to build content with problems.
pub fn build(opts: &BuildOptions) -> Result<BuildReport, BuildError> {
    Ok(build_full(opts, false)?.0)
}

/// What a build keeps for rebuilding after edits ([`crate::incremental`]).
pub(crate) struct Kept {
    pub(crate) p: Prepared,
    pub(crate) listing: Listing,
    pub(crate) search: crate::search::SiteIndex,
    pub(crate) related: HashMap<usize, Vec<usize>>,
    /// Per search article number, its related articles with their floor and query.
    pub(crate) scored: Vec<search_index::Related>,
    pub(crate) links: LinkTable,
}

/// [`build`]; with `keep`, the search index can replace articles, and what it takes to
/// rebuild after edits is returned.
pub(crate) fn build_full(opts: &BuildOptions, keep: bool) -> Result<(BuildReport, Option<Kept>), BuildError> {
    let start = Instant::now();
    let mut phases = Phases::start();
    let (prepared, diags) = prepare_timed(&opts.content_dir, opts.dates, &mut phases);
    if !diags.is_empty() {
        return Err(BuildError::Content(diags));
    }
    let Some(mut p) = prepared else { return Err(BuildError::Content(diags)) };
    if !keep {
        // Checked: nothing reads the files' text again (a large site's is tens of MB, which
        // the index and the pages can use).
        let sources = p.content.articles.iter_mut().map(|a| &mut a.source);
        for s in sources.chain(p.content.categories.iter_mut().map(|c| &mut c.source)) {
            (s.text, s.body_start) = (String::new(), 0);
        }
    }
    if opts.progress {
        eprintln!("checked {} files in {:.0?}", p.content.articles.len() + p.content.categories.len(), start.elapsed());
    }
    // The search index comes first: related articles are read from it.
    let published = published_articles(&p.content);
    let index_start = Instant::now();
    let mut search = if keep {
        crate::search::prepare_updatable(&mut p, &published)?
    } else {
        crate::search::prepare_index(&mut p, &published, &opts.out_dir)?
    };
    phases.end("search index");
    // What the pages list is sorted out meanwhile.
    let (related, listing) =
        rayon::join(|| crate::search::related_scored(&search), || Listing::new(&p.content, published));
    let (related, scored) = related?;
    phases.end("related");
    if opts.progress {
        eprintln!(
            "{} the search index of {} articles and found related articles in {:.0?}",
            if search.packed.is_some() { "built" } else { "reused" },
            search.articles.len(),
            index_start.elapsed()
        );
    }
    let site = Site::new(&p, opts, &listing, &related);
    let pages = site.pages();
    let total = pages.len();
    let env = template_env(&opts.content_dir);
    site.probe(&env, &pages)?;
    // Write in place, and only what changed: a rebuild after one edit rewrites a few files, and
    // a server (or `aws s3 sync`) never sees the untouched pages change.
    let out = &opts.out_dir;
    // Into an empty directory: nothing to compare with and nothing stale to look for.
    let fresh = std::fs::read_dir(out).map_or(true, |mut d| d.next().is_none());
    let out_dir = OutDir::open(out)?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let written = std::sync::atomic::AtomicUsize::new(0);
    let write = |rel: &str, bytes: &[u8]| -> Result<(), BuildError> {
        if out_dir.write(rel, bytes, fresh)? {
            written.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    };
    // The sitemap is made meanwhile (alone, a large site's waits for it).
    let (written_pages, sitemap) = rayon::join(
        || {
            pages.par_iter().with_max_len(PIECE).try_for_each(|page| -> Result<(), BuildError> {
                write(&page.path, &site.render(&env, page)?)?;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if opts.progress && total >= 2000 && n.is_multiple_of(2000) {
                    eprintln!("rendered {n}/{total} pages");
                }
                Ok(())
            })
        },
        || site.sitemap(),
    );
    written_pages?;
    phases.end("pages");
    write("sitemap.xml", sitemap.as_bytes())?;
    write("robots.txt", site.robots().as_bytes())?;
    let mut keep_files: HashSet<PathBuf> = pages.iter().map(|p| PathBuf::from(&p.path)).collect();
    keep_files.extend(["sitemap.xml", "robots.txt"].map(PathBuf::from));
    for rel in files_under(&opts.content_dir.join("static"))? {
        let rel = Path::new("static").join(rel);
        let bytes = std::fs::read(opts.content_dir.join(&rel)).map_err(io_err(&rel))?;
        write(&rel.to_string_lossy(), &bytes)?;
        keep_files.insert(rel);
    }
    // The search index and the texts of the service's result pages; the result page shells
    // are among the pages.
    let search_dir = Path::new(crate::search::SEARCH_DIR);
    let index_rel = search_dir.join(search_index::INDEX_FILE);
    if let Some(packed) = search.packed.take() {
        write(&index_rel.to_string_lossy(), &packed.wait()?)?;
    }
    keep_files.insert(index_rel);
    let strings_rel = search_dir.join(crate::search::STRINGS_FILE);
    write(&strings_rel.to_string_lossy(), crate::search::strings_json(&p).as_bytes())?;
    keep_files.insert(strings_rel);
    let removed = if fresh { 0 } else { remove_stale(out, &keep_files)? };
    phases.end("rest");
    let report = BuildReport {
        articles: listing.published.len(),
        pages: total,
        redirects: pages.iter().filter(|p| matches!(p.kind, PageKind::Redirect { .. })).count(),
        partial: false,
        written: written.into_inner() + removed,
        elapsed: start.elapsed(),
        phases: phases.done,
    };
    drop(site);
    search.packed = None;
    let kept = match search.updater {
        Some(_) => Some(Kept { links: LinkTable::new(&p.content), p, listing, search, related, scored }),
        None => {
            drop_later((p, listing, search, related, scored, pages, keep_files));
            None
        }
    };
    Ok((report, kept))
}

/// Makes room in the calling thread's heap at once. glibc gives each thread a heap of its own
/// and grows it a page or so at a time, one `mprotect` each, as the thread allocates: a large
/// site's load and markdown took about 17,000 of them, each of which stops the other thread's
/// page faults meanwhile. Memory taken and given back stays mapped (only its pages are
/// dropped), so growing it later costs nothing more; nothing here is touched but a header per
/// block.
fn grow_heap() {
    // Blocks under glibc's threshold for mapping a block on its own (128 KiB), up to nearly
    // the 64 MiB a thread's heap can hold (a large site's load and markdown take ~56 MiB of
    // each worker's).
    const BLOCK: usize = 96 * 1024;
    const BLOCKS: usize = 640; // 60 MiB
    let blocks: Vec<Vec<u8>> = (0..BLOCKS).map(|_| Vec::with_capacity(BLOCK)).collect();
    std::hint::black_box(&blocks);
}

/// Frees `x` on a worker thread: freeing a large site's text, pages and index takes the best
/// part of 100 ms on one thread, which no caller needs to wait for (a process that exits first
/// frees it all at once).
fn drop_later<T: Send + 'static>(x: T) {
    rayon::spawn(move || drop(x));
}

/// The most articles or pages a thread takes at once in a parallel step. Rayon cuts a step into
/// about four pieces and cuts a piece again only when another thread takes part of it, so a
/// thread slowed down (on a shared VM, one often is) kept working alone at the end of a step
/// while the other waited: ~30 ms of a large site's markdown. Small pieces end together.
pub(crate) const PIECE: usize = 32;

/// What a page holds besides an article's body, about: the room its HTML is given at first.
const PAGE_ROOM: usize = 16 * 1024;

/// Writes `bytes` to `root/rel` unless the file already holds exactly them. Returns whether it
/// wrote. `fresh`: the output directory was empty when the build began.
pub(crate) fn sync_file(root: &Path, rel: &str, bytes: &[u8], fresh: bool) -> Result<bool, BuildError> {
    OutDir::open(root)?.write(rel, bytes, fresh)
}

/// The output directory, written through handles of its directories: a page's file and its
/// own directory are made relative to its category's directory, which the kernel then does not
/// look up again from the root for each of a large site's pages (~2 % of a build's time).
#[derive(Debug)]
pub(crate) struct OutDir {
    root: PathBuf,
    /// Directories by path relative to the root (`""`: the root), opened when first needed.
    dirs: std::sync::Mutex<HashMap<String, Arc<std::os::fd::OwnedFd>>>,
}

impl OutDir {
    /// Makes `root` when it is missing.
    pub(crate) fn open(root: &Path) -> Result<Self, BuildError> {
        std::fs::create_dir_all(root).map_err(io_err(root))?;
        Ok(Self { root: root.to_path_buf(), dirs: std::sync::Mutex::default() })
    }

    /// [`sync_file`] in this directory.
    pub(crate) fn write(&self, rel: &str, bytes: &[u8], fresh: bool) -> Result<bool, BuildError> {
        let path = || self.root.join(rel);
        if !fresh && std::fs::read(path()).is_ok_and(|old| old == bytes) {
            return Ok(false);
        }
        // `a/b/c/index.html`: made as `c/index.html` in `a/b`, `c` first when it is missing.
        let (dir, _) = rel.rsplit_once('/').unwrap_or(("", rel));
        let (parent, last) = dir.rsplit_once('/').unwrap_or(("", dir));
        let parent_fd = self.dir(parent)?;
        let in_parent = if parent.is_empty() { rel } else { &rel[parent.len() + 1..] };
        if !last.is_empty() {
            match rustix::fs::mkdirat(&*parent_fd, last, rustix::fs::Mode::from_raw_mode(0o777)) {
                Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                Err(e) => return Err(io_err(&self.root.join(dir))(e.into())),
            }
        }
        let flags = rustix::fs::OFlags::WRONLY
            | rustix::fs::OFlags::CREATE
            | rustix::fs::OFlags::TRUNC
            | rustix::fs::OFlags::CLOEXEC;
        let opened = rustix::fs::openat(&*parent_fd, in_parent, flags, rustix::fs::Mode::from_raw_mode(0o666));
        let mut file = std::fs::File::from(opened.map_err(|e| io_err(&path())(e.into()))?);
        std::io::Write::write_all(&mut file, bytes).map_err(io_err(&path()))?;
        Ok(true)
    }

    /// The directory `rel` (made when missing), open.
    fn dir(&self, rel: &str) -> Result<Arc<std::os::fd::OwnedFd>, BuildError> {
        let mut dirs = self.dirs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(fd) = dirs.get(rel) {
            return Ok(fd.clone());
        }
        let path = self.root.join(rel);
        std::fs::create_dir_all(&path).map_err(io_err(&path))?;
        let fd = Arc::new(std::os::fd::OwnedFd::from(std::fs::File::open(&path).map_err(io_err(&path))?));
        dirs.insert(rel.to_owned(), fd.clone());
        Ok(fd)
    }
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, BuildError> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else { continue };
        for entry in entries.flatten() {
            let child = rel.join(entry.file_name());
            if entry.file_type().map_err(io_err(&child))?.is_dir() {
                stack.push(child);
            } else {
                out.push(child);
            }
        }
    }
    Ok(out)
}

/// Removes files under `out` that the build did not produce (deleted articles, old aliases),
/// and the directories that leaves empty. Returns how many files it removed.
fn remove_stale(out: &Path, keep: &HashSet<PathBuf>) -> Result<usize, BuildError> {
    let mut removed = 0;
    for rel in files_under(out)? {
        if !keep.contains(&rel) {
            let path = out.join(&rel);
            std::fs::remove_file(&path).map_err(io_err(&path))?;
            removed += 1;
            let mut dir = path.parent();
            while let Some(d) = dir.filter(|d| *d != out) {
                if std::fs::remove_dir(d).is_err() {
                    break; // not empty
                }
                dir = d.parent();
            }
        }
    }
    Ok(removed)
}

/// FNV-1a: a stable, dependency-free fingerprint for cache-busting asset URLs.
fn fingerprint(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{:08x}", h as u32)
}

// ---------------------------------------------------------------------------------------------
// The site model: which pages exist and what their templates get.

/// The kinds of page; `Search` is the service's search result page of a language, with
/// markers for the query and the results.
#[derive(Debug)]
pub(crate) enum PageKind {
    Home {
        lang: String,
    },
    Category {
        index: usize,
    },
    Article {
        index: usize,
    },
    /// The "page not found" page of a language (`404.html` in the default one, served for any
    /// unknown address; `<lang>/404.html` for unknown addresses under `/<lang>/`).
    NotFound {
        lang: String,
    },
    Redirect {
        to: String,
    },
    Search {
        lang: String,
    },
}

#[derive(Debug)]
pub(crate) struct Page {
    /// Output path relative to the output dir.
    pub(crate) path: String,
    pub(crate) kind: PageKind,
}

#[derive(Debug, Clone, Serialize)]
struct LinkCtx {
    title: String,
    url: String,
    description: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct LangLink {
    code: String,
    name: String,
    url: String,
    current: bool,
}

// As values made directly (what serializing makes, without going through serde): every
// article page has a few.
impl LinkCtx {
    fn value(&self) -> Value {
        link_value(&self.title, &self.url, self.description.as_deref())
    }
}

/// A link as [`LinkCtx`] has it, from its parts.
fn link_value(title: &str, url: &str, description: Option<&str>) -> Value {
    Values::value([("title", Value::from(title)), ("url", Value::from(url)), ("description", Value::from(description))])
}

impl LangLink {
    fn value(&self) -> Value {
        Values::value([
            ("code", Value::from(self.code.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("url", Value::from(self.url.as_str())),
            ("current", Value::from(self.current)),
        ])
    }
}

/// What every page of a language shares (see [`PageContext`]).
#[derive(Debug)]
struct Shared {
    site: Value,
    lang: Value,
    home_url: Value,
    /// The language's strings ([`Strings`]).
    t: Value,
    nav: Value,
    asset_version: Value,
    live_reload: Value,
}

/// A page's template context: what its language shares, its footer and its own values. A
/// template looks names up in it all the time: one `match` finds them (three maps merged would
/// be asked in turn, each name made a value first).
#[derive(Debug)]
struct PageContext {
    /// The page's own values (a map), or undefined.
    own: Value,
    footer: Option<Value>,
    shared: Arc<Shared>,
}

impl Object for PageContext {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let s = &self.shared;
        let v = match key {
            "site" => &s.site,
            "lang" => &s.lang,
            "home_url" => &s.home_url,
            "t" => &s.t,
            "nav" => &s.nav,
            "asset_version" => &s.asset_version,
            "live_reload" => &s.live_reload,
            "footer" => return self.footer.clone(),
            _ => return self.own.get_attr(key).ok().filter(|v| !v.is_undefined()),
        };
        Some(v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let shared = ["site", "lang", "home_url", "t", "nav", "asset_version", "live_reload"].map(Value::from);
        let footer = self.footer.as_ref().map(|_| Value::from("footer"));
        let own = self.own.try_iter().into_iter().flatten();
        Enumerator::Values(shared.into_iter().chain(footer).chain(own).collect())
    }
}

/// Values by fixed names, as `context!` makes them, but each value made directly rather than
/// serialized: an article page's values are made for every article of a site.
#[derive(Debug)]
struct Values(Vec<(&'static str, Value)>);

impl Values {
    fn value<const N: usize>(pairs: [(&'static str, Value); N]) -> Value {
        Value::from_object(Values(pairs.into()))
    }
}

impl Object for Values {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        // Names are short: compared here, a byte at a time, rather than by a call each.
        let same = |k: &str| k.len() == key.len() && k.bytes().zip(key.bytes()).all(|(a, b)| a == b);
        self.0.iter().find(|(k, _)| same(k)).map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.iter().map(|&(k, _)| Value::from(k)).collect())
    }
}

/// A language's strings (`t` in templates), found by hashing: a page asks for a few dozen.
#[derive(Debug)]
struct Strings(HashMap<String, Value, search_index::analysis::FxBuildHasher>);

impl Object for Strings {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        self.0.get(key).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<&String> = self.0.keys().collect();
        keys.sort();
        Enumerator::Values(keys.into_iter().map(|k| Value::from(k.as_str())).collect())
    }
}

pub(crate) struct Site<'a> {
    p: &'a Prepared,
    opts: &'a BuildOptions,
    listing: &'a Listing,
    related: &'a HashMap<usize, Vec<usize>>,
    /// What the pages of each language share, a copy per thread that renders pages (see
    /// [`Site::local`]).
    locals: Vec<Local>,
    asset_version: String,
    /// Each article's link as templates see it, made the first time a page needs it: a page
    /// links to several articles, and a large site's pages to each one many times.
    links: Vec<OnceLock<Value>>,
}

/// What the pages of each language share, and their footers (`footer.html`: the same on
/// every page of a language, so rendered once, the first time a page needs it). Each thread
/// has its own: the values a page takes from here are shared, and counting references to the
/// same values from two threads at once made every lookup a wait.
#[derive(Default)]
struct Local {
    shared: HashMap<String, Arc<Shared>>,
    footers: HashMap<String, OnceLock<Result<Value, String>>>,
}

/// Which articles are published, in what order, and their translations: what pages list.
#[derive(Debug)]
pub(crate) struct Listing {
    /// Indices of published (non-draft) articles, in reading order.
    pub(crate) published: Vec<usize>,
    /// `category/slug` -> the published articles that have it (an article and its
    /// translations), in the order of their language codes.
    translations: HashMap<String, Vec<usize>>,
    /// (lang, category) -> published article indices in reading order.
    by_category: HashMap<(String, String), Vec<usize>>,
}

/// Indices of the published (non-draft) articles.
fn published_articles(c: &Content) -> Vec<usize> {
    (0..c.articles.len()).filter(|&i| !c.articles[i].meta.draft).collect()
}

/// An article's place in reading order: the content's order.
fn reading_order(c: &Content, i: usize) -> (&str, &str, i64, &str, &str) {
    let a = &c.articles[i];
    (a.lang.as_str(), a.category.as_str(), a.meta.weight, a.title.as_str(), a.slug.as_str())
}

impl Listing {
    pub(crate) fn new(c: &Content, published: Vec<usize>) -> Self {
        // Room for every article at once (most have no translation).
        let mut translations: HashMap<String, Vec<usize>> = HashMap::with_capacity(published.len());
        // By borrowed names first: a site has few categories and many articles.
        let mut categories: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for &i in &published {
            let a = &c.articles[i];
            let langs = translations.entry(a.key()).or_default();
            langs.insert(langs.partition_point(|&j| c.articles[j].lang < a.lang), i);
            categories.entry((&a.lang, &a.category)).or_default().push(i);
        }
        let by_category = categories.into_iter().map(|((l, c), v)| ((l.to_owned(), c.to_owned()), v)).collect();
        Listing { published, translations, by_category }
    }

    /// Puts article `i`'s category, and the published articles, in reading order again after
    /// its title or weight changed. Returns whether the published articles' order changed.
    pub(crate) fn reorder(&mut self, c: &Content, i: usize) -> bool {
        let order = |&j: &usize| reading_order(c, j);
        let a = &c.articles[i];
        if let Some(list) = self.by_category.get_mut(&(a.lang.clone(), a.category.clone())) {
            list.sort_by_key(order);
        }
        if self.published.is_sorted_by_key(order) {
            return false;
        }
        self.published.sort_by_key(order);
        true
    }

    /// The articles before and after article `i` in its category (its page links to them,
    /// and theirs to it).
    pub(crate) fn neighbours(&self, c: &Content, i: usize) -> Vec<usize> {
        let a = &c.articles[i];
        let siblings = self.by_category.get(&(a.lang.clone(), a.category.clone())).map(Vec::as_slice).unwrap_or(&[]);
        let Some(pos) = siblings.iter().position(|&j| j == i) else { return Vec::new() };
        pos.checked_sub(1).and_then(|p| siblings.get(p)).into_iter().chain(siblings.get(pos + 1)).copied().collect()
    }
}

impl<'a> Site<'a> {
    pub(crate) fn new(
        p: &'a Prepared,
        opts: &'a BuildOptions,
        listing: &'a Listing,
        related: &'a HashMap<usize, Vec<usize>>,
    ) -> Self {
        let c = &p.content;
        let mut version_input = Vec::new();
        for f in ["css/site.css", "js/site.js", "js/search.js"] {
            version_input.extend(std::fs::read(opts.content_dir.join("static").join(f)).unwrap_or_default());
        }
        let mut site = Site {
            p,
            opts,
            listing,
            related,
            locals: Vec::new(),
            asset_version: fingerprint(&version_input),
            links: (0..c.articles.len()).map(|_| OnceLock::new()).collect(),
        };
        // One for each worker thread and one for any other.
        site.locals = (0..=rayon::current_num_threads())
            .map(|_| {
                let mut local = Local::default();
                for lang in c.config.language_codes() {
                    local.shared.insert(lang.to_owned(), Arc::new(site.shared_context(lang)));
                    local.footers.insert(lang.to_owned(), OnceLock::new());
                }
                local
            })
            .collect();
        site
    }

    /// The calling thread's [`Local`].
    fn local(&self) -> &Local {
        let slot = rayon::current_thread_index().map_or(0, |i| i + 1);
        self.locals.get(slot).unwrap_or(&self.locals[0])
    }

    pub(crate) fn pages(&self) -> Vec<Page> {
        self.pages_where(|_| true)
    }

    /// The pages of the kinds `want` picks (their paths made only for those).
    pub(crate) fn pages_where(&self, want: impl Fn(&PageKind) -> bool) -> Vec<Page> {
        let c = &self.p.content;
        let mut pages = Vec::new();
        let mut add = |kind: PageKind, path: &dyn Fn() -> String| {
            if want(&kind) {
                pages.push(Page { path: path(), kind });
            }
        };
        let default = &c.config.site.default_language;
        add(PageKind::Home { lang: default.clone() }, &|| "index.html".into());
        add(PageKind::NotFound { lang: default.clone() }, &|| "404.html".into());
        for lang in c.config.language_codes() {
            add(PageKind::NotFound { lang: lang.to_owned() }, &|| format!("{lang}/404.html"));
            add(PageKind::Home { lang: lang.to_owned() }, &|| format!("{lang}/index.html"));
            add(PageKind::Search { lang: lang.to_owned() }, &|| format!("{}/{lang}.html", crate::search::SEARCH_DIR));
        }
        for (i, cat) in c.categories.iter().enumerate() {
            add(PageKind::Category { index: i }, &|| format!("{}/{}/index.html", cat.lang, cat.slug));
        }
        for &i in &self.listing.published {
            let a = &c.articles[i];
            add(PageKind::Article { index: i }, &|| format!("{}/{}/{}/index.html", a.lang, a.category, a.slug));
            for alias in &a.meta.aliases {
                let to = article_url(&a.lang, &a.category, &a.slug);
                add(PageKind::Redirect { to }, &|| format!("{}index.html", alias.trim_start_matches('/')));
            }
        }
        pages
    }

    fn t(&self, lang: &str) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.p.content.strings.get(lang).unwrap_or(&EMPTY)
    }

    /// What every page of a language shares: site, strings, navigation.
    fn shared_context(&self, lang: &str) -> Shared {
        let c = &self.p.content;
        let s = &c.config.site;
        let nav: Vec<LinkCtx> = c
            .categories
            .iter()
            .filter(|cat| cat.lang == lang)
            .map(|cat| LinkCtx {
                title: cat.title.clone(),
                url: category_url(lang, &cat.slug),
                description: cat.description.clone(),
            })
            .collect();
        Shared {
            site: context! {
                name => s.name, company => s.company, base_url => s.base_url.trim_end_matches('/'),
                support_email => s.support_email, phone => s.phone,
            },
            lang: Value::from(lang),
            home_url: Value::from(home_url(lang)),
            t: Value::from_object(Strings(
                self.t(lang).iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect(),
            )),
            nav: Value::from_serialize(nav),
            asset_version: Value::from(self.asset_version.as_str()),
            live_reload: Value::from(self.opts.live_reload),
        }
    }

    fn article_link(&self, i: usize) -> Value {
        self.links[i]
            .get_or_init(|| {
                let a = &self.p.content.articles[i];
                link_value(&a.title, &self.url_of(i), a.meta.description.as_deref())
            })
            .clone()
    }

    fn url_of(&self, i: usize) -> String {
        let a = &self.p.content.articles[i];
        article_url(&a.lang, &a.category, &a.slug)
    }

    /// Links to the same page in every language that has it.
    fn languages(&self, lang: &str, urls: &BTreeMap<String, String>) -> Vec<LangLink> {
        self.p
            .content
            .config
            .languages
            .iter()
            .filter_map(|l| {
                urls.get(&l.code).map(|u| LangLink {
                    code: l.code.clone(),
                    name: l.name.clone(),
                    url: u.clone(),
                    current: l.code == lang,
                })
            })
            .collect()
    }

    /// Renders one page of every kind, before the output is touched: a template that fails at
    /// run time then leaves the previous site as it was.
    pub(crate) fn probe(&self, env: &Environment<'_>, pages: &[Page]) -> Result<(), BuildError> {
        let mut probed = HashSet::new();
        for page in pages {
            if probed.insert(std::mem::discriminant(&page.kind)) {
                self.render(env, page)?;
            }
        }
        Ok(())
    }

    /// The page's HTML.
    pub(crate) fn render(&self, env: &Environment<'_>, page: &Page) -> Result<Vec<u8>, BuildError> {
        let c = &self.p.content;
        let default = c.config.site.default_language.clone();
        let (template, lang, ctx) = match &page.kind {
            PageKind::Home { lang } => {
                let urls = c.config.language_codes().map(|l| (l.to_owned(), home_url(l))).collect();
                let categories: Vec<Value> = c
                    .categories
                    .iter()
                    .filter(|cat| &cat.lang == lang)
                    .map(|cat| {
                        let list = self.listing.by_category.get(&(lang.clone(), cat.slug.clone()));
                        let top: Vec<Value> =
                            list.into_iter().flatten().take(4).map(|&i| self.article_link(i)).collect();
                        context! {
                            title => cat.title, url => category_url(lang, &cat.slug), description => cat.description,
                            count => list.map_or(0, Vec::len), top => top,
                        }
                    })
                    .collect();
                let ctx = context! {
                    page => context! {
                        kind => "home", title => self.t(lang).get("home_title"), description => self.t(lang).get("home_intro"),
                        url => home_url(lang), languages => self.languages(lang, &urls), breadcrumbs => Vec::<LinkCtx>::new(),
                    },
                    categories => categories,
                    popular => self.popular(lang),
                };
                ("home.html", lang.clone(), ctx)
            }
            PageKind::Category { index } => {
                let cat = &c.categories[*index];
                let urls = c
                    .categories
                    .iter()
                    .filter(|x| x.slug == cat.slug)
                    .map(|x| (x.lang.clone(), category_url(&x.lang, &x.slug)))
                    .collect();
                let articles: Vec<Value> = self
                    .listing
                    .by_category
                    .get(&(cat.lang.clone(), cat.slug.clone()))
                    .into_iter()
                    .flatten()
                    .map(|&i| self.article_link(i))
                    .collect();
                let ctx = context! {
                    page => context! {
                        kind => "category", title => cat.title, description => cat.description,
                        url => category_url(&cat.lang, &cat.slug), languages => self.languages(&cat.lang, &urls),
                        breadcrumbs => vec![LinkCtx { title: self.t(&cat.lang).get("tab_solutions").cloned().unwrap_or_default(), url: home_url(&cat.lang), description: None }],
                    },
                    intro => self.p.intros[*index].html.clone(),
                    articles => articles,
                };
                ("category.html", cat.lang.clone(), ctx)
            }
            PageKind::Article { index } => {
                let a = &c.articles[*index];
                let r = &self.p.rendered[*index];
                ("article.html", a.lang.clone(), self.article_context(*index, a, r))
            }
            PageKind::NotFound { lang } => {
                let ctx = context! {
                    page => context! {
                        kind => "404", title => self.t(lang).get("not_found_title"), description => "",
                        url => "/404.html", languages => Vec::<LangLink>::new(), breadcrumbs => Vec::<LinkCtx>::new(),
                    },
                    popular => self.popular(lang),
                };
                ("404.html", lang.clone(), ctx)
            }
            PageKind::Redirect { to } => {
                let ctx = context! {
                    page => context! {
                        kind => "redirect", title => self.t(&default).get("redirect_title"), description => "",
                        url => to, languages => Vec::<LangLink>::new(), breadcrumbs => Vec::<LinkCtx>::new(),
                    },
                    target => to,
                };
                ("redirect.html", default, ctx)
            }
            PageKind::Search { lang } => {
                let ctx = context! {
                    page => context! {
                        kind => "search", title => self.t(lang).get("search_title"), description => "",
                        url => "/search", languages => Vec::<LangLink>::new(),
                        breadcrumbs => vec![LinkCtx { title: self.t(lang).get("tab_solutions").cloned().unwrap_or_default(), url: home_url(lang), description: None }],
                    },
                    query => crate::search::QUERY_MARKER,
                    results => Value::from_safe_string(crate::search::RESULTS_MARKER.to_owned()),
                };
                ("search.html", lang.clone(), ctx)
            }
        };
        let shared = match self.local().shared.get(&lang) {
            Some(s) => s.clone(),
            None => Arc::new(self.shared_context(&lang)),
        };
        let footer = self.footer(env, &lang, &shared)?;
        let tmpl = env.get_template(template).map_err(|e| BuildError::Template(format!("{e:#}")))?;
        // Room for the page at once: growing it a doubling at a time copies it over and over.
        let body = match &page.kind {
            PageKind::Article { index } => self.p.rendered[*index].html.as_str().map_or(0, str::len),
            _ => 0,
        };
        let mut out = Vec::with_capacity(body + PAGE_ROOM);
        tmpl.render_captured_to(Value::from_object(PageContext { own: ctx, footer: Some(footer), shared }), &mut out)
            .map_err(|e| BuildError::Template(format!("{template}: {e:#}")))?;
        Ok(out)
    }

    /// The footer of the pages of `lang` (`shared`: what all of them get).
    fn footer(&self, env: &Environment<'_>, lang: &str, shared: &Arc<Shared>) -> Result<Value, BuildError> {
        let render = || {
            let ctx = PageContext { own: Value::UNDEFINED, footer: None, shared: shared.clone() };
            env.get_template(FOOTER)
                .and_then(|t| t.render(Value::from_object(ctx)))
                .map(Value::from_safe_string)
                .map_err(|e| format!("{FOOTER}: {e:#}"))
        };
        match self.local().footers.get(lang) {
            Some(once) => once.get_or_init(render).clone(),
            None => render(),
        }
        .map_err(BuildError::Template)
    }

    fn article_context(&self, index: usize, a: &Article, r: &Rendered) -> Value {
        let c = &self.p.content;
        let siblings =
            self.listing.by_category.get(&(a.lang.clone(), a.category.clone())).map(Vec::as_slice).unwrap_or(&[]);
        let pos = siblings.iter().position(|&i| i == index);
        let prev = pos.and_then(|p| p.checked_sub(1)).map(|p| self.article_link(siblings[p]));
        let next = pos.and_then(|p| siblings.get(p + 1)).map(|&i| self.article_link(i));
        let urls: BTreeMap<String, String> = self
            .listing
            .translations
            .get(&a.key())
            .into_iter()
            .flatten()
            .map(|&i| (c.articles[i].lang.clone(), self.url_of(i)))
            .collect();
        let category = c.categories.iter().find(|x| x.lang == a.lang && x.slug == a.category);
        let category_link = LinkCtx {
            title: category.map(|x| x.title.clone()).unwrap_or_default(),
            url: category_url(&a.lang, &a.category),
            description: None,
        };
        let toc: &[TocEntry] = if r.toc.iter().filter(|t| t.level == 2).count() >= 3 { &r.toc } else { &[] };
        let edit_url = c.config.site.edit_url.as_ref().map(|base| format!("{base}{}", a.source.rel));
        let related: Vec<Value> =
            self.related.get(&index).into_iter().flatten().map(|&i| self.article_link(i)).collect();
        let toc: Vec<Value> = toc
            .iter()
            .map(|e| {
                Values::value([
                    ("level", Value::from(e.level)),
                    ("id", Value::from(e.id.as_str())),
                    ("title", Value::from(e.title.as_str())),
                ])
            })
            .collect();
        let tab = self.t(&a.lang).get("tab_solutions").cloned().unwrap_or_default();
        let home = LinkCtx { title: tab, url: home_url(&a.lang), description: None };
        let description = a.meta.description.as_deref().unwrap_or(&r.summary);
        let url = article_url(&a.lang, &a.category, &a.slug);
        Values::value([
            (
                "page",
                Values::value([
                    ("kind", Value::from("article")),
                    ("title", Value::from(a.title.as_str())),
                    ("description", Value::from(description)),
                    ("url", Value::from(url)),
                    ("languages", self.languages(&a.lang, &urls).iter().map(LangLink::value).collect()),
                    ("breadcrumbs", Value::from(vec![home.value(), category_link.value()])),
                ]),
            ),
            (
                "article",
                Values::value([
                    ("body", r.html.clone()),
                    ("toc", Value::from(toc)),
                    ("updated", Value::from(a.source.updated.map(|d| format_date(&a.lang, d)))),
                    ("updated_iso", Value::from(a.source.updated.map(|d| d.to_string()))),
                    ("edit_url", Value::from(edit_url)),
                    ("prev", Value::from(prev)),
                    ("next", Value::from(next)),
                    ("related", Value::from(related)),
                    ("tags", a.meta.tags.iter().map(|t| Value::from(t.as_str())).collect()),
                    ("category", category_link.value()),
                    ("reading_minutes", Value::from(r.words.div_ceil(200).max(1))),
                ]),
            ),
        ])
    }

    fn popular(&self, lang: &str) -> Vec<Value> {
        let c = &self.p.content;
        let mut picked: Vec<usize> = c
            .config
            .site
            .popular
            .iter()
            .filter_map(|key| {
                let langs = self.listing.translations.get(key)?;
                langs.iter().copied().find(|&i| c.articles[i].lang == lang)
            })
            .collect();
        // Top up with the first article of each category.
        for cat in c.categories.iter().filter(|x| x.lang == lang) {
            if picked.len() >= 6 {
                break;
            }
            if let Some(&first) =
                self.listing.by_category.get(&(lang.to_owned(), cat.slug.clone())).and_then(|v| v.first())
                && !picked.contains(&first)
            {
                picked.push(first);
            }
        }
        picked.into_iter().take(6).map(|i| self.article_link(i)).collect()
    }

    pub(crate) fn sitemap(&self) -> String {
        let c = &self.p.content;
        let base = c.config.site.base_url.trim_end_matches('/');
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
        );
        for lang in c.config.language_codes() {
            let _ = writeln!(xml, "  <url><loc>{base}{}</loc></url>", home_url(lang));
        }
        for cat in &c.categories {
            let _ = writeln!(xml, "  <url><loc>{base}{}</loc></url>", category_url(&cat.lang, &cat.slug));
        }
        for &i in &self.listing.published {
            let a = &c.articles[i];
            let _ = write!(xml, "  <url><loc>{base}{}</loc>", article_url(&a.lang, &a.category, &a.slug));
            if let Some(d) = a.source.updated {
                let _ = write!(xml, "<lastmod>{d}</lastmod>");
            }
            if let Some(langs) = self.listing.translations.get(&a.key()).filter(|m| m.len() > 1) {
                for &j in langs {
                    let l = &c.articles[j].lang;
                    let _ = write!(
                        xml,
                        "<xhtml:link rel=\"alternate\" hreflang=\"{l}\" href=\"{base}{}\"/>",
                        self.url_of(j)
                    );
                }
            }
            xml.push_str("</url>\n");
        }
        xml.push_str("</urlset>\n");
        xml
    }

    fn robots(&self) -> String {
        let base = self.p.content.config.site.base_url.trim_end_matches('/');
        let mut s = String::from("User-agent: *\n");
        for p in ["/portal", "/agent", "/login", "/invite/", "/password/", "/evaluate/", "/api/"] {
            let _ = writeln!(s, "Disallow: {p}");
        }
        let _ = writeln!(s, "\nSitemap: {base}/sitemap.xml");
        s
    }
}

/// The first sentence-ish `max` characters of a text.
pub fn summary(text: &str, max: usize) -> String {
    // The words up to just past `max` characters decide it; the rest is never looked at.
    let mut head = String::new();
    let mut chars = 0;
    for word in text.split_whitespace() {
        if !head.is_empty() {
            head.push(' ');
            chars += 1;
        }
        head.push_str(word);
        chars += word.chars().count();
        if chars > max {
            break;
        }
    }
    if chars <= max {
        return head;
    }
    let cut = &head[..head.char_indices().nth(max).map_or(head.len(), |(i, _)| i)];
    match cut.rfind(' ') {
        Some(i) => format!("{}…", &cut[..i]),
        None => format!("{cut}…"),
    }
}

pub fn format_date(lang: &str, d: NaiveDate) -> String {
    use chrono::Datelike;
    const NL: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let m = d.month0() as usize;
    match lang {
        "nl" => format!("{} {} {}", d.day(), NL[m], d.year()),
        _ => format!("{} {} {}", d.day(), EN[m], d.year()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_the_rest_left_alone() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & 'Jerry'</a> / één"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt; / één"
        );
        assert_eq!(escape_html(""), "");
        assert_eq!(escape_html("&"), "&amp;");
    }
}
