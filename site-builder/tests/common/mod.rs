//! Test helpers: small content trees in temporary directories, built from the repository's
//! real configuration, templates and static files plus the FAQ files a test gives.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use site_builder::{Dates, Diagnostics};

pub fn repo_content() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../content")
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// A content dir with the real helpdesk.toml (minus `popular`), i18n, templates and
    /// static files, and the given `(path under content/, text)` files.
    pub fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let content = dir.path().join("content");
        for sub in ["i18n", "templates", "static"] {
            copy_dir(&repo_content().join(sub), &content.join(sub));
        }
        let config = std::fs::read_to_string(repo_content().join("helpdesk.toml")).expect("helpdesk.toml");
        let config = strip_popular(&config);
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

    pub fn write(&self, path: &str, text: &str) {
        write(&self.content().join(path), text);
    }

    /// `check`, with the diagnostics' paths made relative to the fixture's root.
    pub fn check(&self) -> Vec<String> {
        relative(&site_builder::check(&self.content()), self.dir.path())
    }

    pub fn build(&self) -> site_builder::BuildReport {
        let mut opts = site_builder::BuildOptions::new(self.content(), self.out());
        opts.dates = Dates::Fixed(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"));
        match site_builder::build(&opts) {
            Ok(r) => r,
            Err(e) => panic!("build failed: {e}"),
        }
    }

    pub fn page(&self, rel: &str) -> String {
        std::fs::read_to_string(self.out().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
}

pub fn relative(diags: &Diagnostics, root: &Path) -> Vec<String> {
    diags
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.file = d.file.strip_prefix(root).map(Path::to_path_buf).unwrap_or(d.file);
            d.to_string()
        })
        .collect()
}

fn strip_popular(config: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in config.lines() {
        if line.starts_with("popular = [") {
            skipping = !line.ends_with(']');
            out.push_str("popular = []\n");
            continue;
        }
        if skipping {
            skipping = !line.starts_with(']');
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}

pub const CAT_NL: &str = "+++\ntitle = \"Tickets\"\ndescription = \"Vragen stellen\"\nweight = 10\n+++\n";
pub const CAT_EN: &str = "+++\ntitle = \"Tickets\"\ndescription = \"Asking questions\"\n+++\n";

pub fn article(title: &str, body: &str) -> String {
    format!("+++\ntitle = \"{title}\"\n+++\n{body}")
}
