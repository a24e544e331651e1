//! The index of the repository's real content, built the way `helpdesk build` builds it (once
//! per test binary), and small fixture sites.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use search_index::SearchIndex;

pub fn repo_content() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../content")
}

fn fixed_dates() -> site_builder::Dates {
    site_builder::Dates::Fixed(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"))
}

/// Builds `content` into `out` and opens the index from `out/search/`.
pub fn build_and_open(content: &Path, out: &Path) -> SearchIndex {
    let mut opts = site_builder::BuildOptions::new(content, out);
    opts.dates = fixed_dates();
    if let Err(e) = site_builder::build(&opts) {
        panic!("build failed: {e}");
    }
    SearchIndex::load(&out.join("search")).expect("open the index")
}

/// The index of the real content.
pub fn real_index() -> &'static SearchIndex {
    static INDEX: OnceLock<(tempfile::TempDir, SearchIndex)> = OnceLock::new();
    &INDEX
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let index = build_and_open(&repo_content(), &dir.path().join("dist"));
            (dir, index)
        })
        .1
}

/// A content directory with the real configuration, strings, templates and static files and
/// the given `(path under content/, text)` files.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let content = dir.path().join("content");
        for sub in ["i18n", "templates", "static"] {
            copy_dir(&repo_content().join(sub), &content.join(sub));
        }
        let config = std::fs::read_to_string(repo_content().join("helpdesk.toml")).expect("config");
        // The real popular articles do not exist in a fixture.
        let start = config.find("popular = [").expect("popular");
        let end = start + config[start..].find(']').expect("]") + 1;
        let config = format!("{}popular = []{}", &config[..start], &config[end..]);
        write(&content.join("helpdesk.toml"), &config);
        for (path, text) in files {
            write(&content.join(path), text);
        }
        Fixture { dir }
    }

    pub fn content(&self) -> PathBuf {
        self.dir.path().join("content")
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("dist")
    }

    pub fn open(&self) -> SearchIndex {
        build_and_open(&self.content(), &self.out())
    }
}

pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() { copy_dir(&src, &dst) } else { std::fs::copy(&src, &dst).map(drop).expect("copy") }
    }
}

/// Result URLs without the `#section`.
pub fn article_urls(results: &search_index::SearchResults) -> Vec<String> {
    results.results.iter().map(|h| h.url.split('#').next().unwrap_or_default().to_owned()).collect()
}
