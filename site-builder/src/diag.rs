//! Problems found in content, reported as `file:line: message` with the offending line.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in one file. `line` is 1-based; 0 means "the file as a whole".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
    /// The text of the offending line, shown under the message.
    pub source_line: Option<String>,
}

impl Diagnostic {
    pub fn new(file: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        Self { file: file.into(), line, message: message.into(), source_line: None }
    }

    /// Attaches the text of `line` from `source` (the whole file).
    pub fn with_source(mut self, source: &str) -> Self {
        if self.line > 0 {
            self.source_line = source.lines().nth(self.line - 1).map(|l| l.trim_end().to_owned());
        }
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.line.max(1);
        write!(f, "{}:{}: {}", self.file.display(), line, self.message)?;
        if let Some(src) = &self.source_line {
            write!(f, "\n    | {src}")?;
        }
        Ok(())
    }
}

/// A list of diagnostics, sorted for stable output.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| (&a.file, a.line, &a.message).cmp(&(&b.file, b.line, &b.message)));
        self.0.dedup();
    }
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Maps byte offsets in a text to 1-based line numbers. The lines are found on the first
/// look-up: most texts never need one (only a problem or a link to an anchor does).
#[derive(Debug)]
pub struct LineIndex<'t> {
    text: &'t str,
    starts: std::sync::OnceLock<Vec<usize>>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> Self {
        Self { text, starts: std::sync::OnceLock::new() }
    }

    pub fn line_of(&self, offset: usize) -> usize {
        let starts = self.starts.get_or_init(|| {
            let mut starts = vec![0];
            // (A byte search: every article with a link to another's section asks for one.)
            starts.extend(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|i| i + 1));
            starts
        });
        match starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

/// Turns a `toml` error into a diagnostic; `line_offset` is the number of lines in the file
/// before the TOML text starts.
pub fn toml_diagnostic(file: &Path, toml_text: &str, line_offset: usize, err: &toml::de::Error) -> Diagnostic {
    let line = err.span().map(|Range { start, .. }| LineIndex::new(toml_text).line_of(start)).unwrap_or(1);
    let message = err.message().trim().replace('\n', " ");
    Diagnostic::new(file, line + line_offset, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_maps_offsets() {
        let idx = LineIndex::new("ab\ncd\n\nef");
        assert_eq!(idx.line_of(0), 1);
        assert_eq!(idx.line_of(2), 1);
        assert_eq!(idx.line_of(3), 2);
        assert_eq!(idx.line_of(6), 3);
        assert_eq!(idx.line_of(7), 4);
    }

    #[test]
    fn display_shows_file_line_and_source() {
        let d = Diagnostic::new("content/a.md", 2, "broken link").with_source("x\n  [a](b.md)\n");
        assert_eq!(d.to_string(), "content/a.md:2: broken link\n    |   [a](b.md)");
    }
}
