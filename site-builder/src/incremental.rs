//! Rebuilding after edits without starting over (`helpdesk serve`).
//!
//! A [`Session`] builds the whole site once and keeps it in memory: the rendered articles, the
//! search index (able to replace articles, see [`search_index::Updater`]), each article's
//! related articles with the query and score that found them, and the link table. When only the
//! text of existing articles changed (title, description, tags, body; the same address, draft
//! state and aliases), [`Session::update`] reads those files again, checks them as a full build
//! would, replaces them in the search index, finds the related articles again of the edited
//! articles, of those that listed them and of those whose lists they now enter (their score
//! for the list's query reaches its last entry's), and rewrites only the pages that show them:
//! their own, their neighbours in the category, the category, the home and "not found" pages,
//! the related articles' pages that changed, `index.bin`, and the sitemap when the order or a
//! date changed. Any other change (a new or deleted file, a category, the configuration,
//! templates, static files, texts) builds everything.
//!
//! What differs from a full build until the next one (every start of `serve`): the lists are
//! checked with the queries of the last full build, so an edit that shifts word frequencies
//! enough to reorder unrelated lists shows after a full build; and the search index's own
//! approximations (see [`search_index::Updater`]). The tests hold an updated site to every
//! byte of a full build's, the index aside.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::build::{
    BuildError, BuildOptions, BuildReport, Kept, PageKind, Site, broken_anchor, build_full, sync_file, template_env,
};
use crate::diag::Diagnostics;
use crate::markdown;

/// More changed files than this in one burst build everything.
const MOST_EDITS: usize = 16;

/// A built site that rebuilds after edits (see the module documentation).
pub struct Session {
    opts: BuildOptions,
    kept: Option<Kept>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("out", &self.opts.out_dir).field("built", &self.kept.is_some()).finish()
    }
}

impl Session {
    pub fn new(opts: BuildOptions) -> Self {
        Session { opts, kept: None }
    }

    /// Builds everything, as [`crate::build`] does, and keeps the site for updates.
    pub fn build(&mut self) -> Result<BuildReport, BuildError> {
        self.kept = None; // the old site's memory goes before the new one's comes
        let (report, kept) = build_full(&self.opts, true)?;
        self.kept = kept;
        Ok(report)
    }

    /// Rebuilds after the files `changed` changed: only what they touch when they are
    /// existing articles whose address, draft state and aliases stay, else everything.
    /// Content problems leave the site as it was.
    pub fn update(&mut self, changed: &[PathBuf]) -> Result<BuildReport, BuildError> {
        match self.edits(changed) {
            Some(edits) => {
                let result = self.apply(&edits);
                if let Err(e) = &result
                    && !matches!(e, BuildError::Content(_))
                {
                    // Content problems are found before anything changes; after any other
                    // failure the kept site may be half updated: the next change builds anew.
                    self.kept = None;
                }
                result
            }
            None => self.build(),
        }
    }

    /// The articles (their numbers in the content, and files) that `changed` are, when all
    /// of them are existing articles.
    fn edits(&self, changed: &[PathBuf]) -> Option<Vec<(usize, String)>> {
        let kept = self.kept.as_ref()?;
        if changed.is_empty() || changed.len() > MOST_EDITS {
            return None;
        }
        let mut edits: Vec<(usize, String)> = Vec::new();
        let c = &kept.p.content;
        for path in changed {
            if path.is_dir() {
                continue; // what changed in it comes on its own
            }
            if crate::watch::is_scratch(path) && !path.exists() {
                continue; // an editor's file, come and gone
            }
            let rel = relative(&self.opts.content_dir, path)?;
            match c.articles.iter().position(|a| a.source.rel == rel) {
                Some(i) if !edits.iter().any(|e| e.0 == i) => edits.push((i, rel)),
                Some(_) => {}
                // A file no build read, come and gone under faq/ (`sed -i` writes one).
                None if rel.starts_with("faq/")
                    && !path.exists()
                    && !c.categories.iter().any(|cat| cat.source.rel == rel) => {}
                None => return None,
            }
        }
        Some(edits)
    }

    fn apply(&mut self, edits: &[(usize, String)]) -> Result<BuildReport, BuildError> {
        let start = Instant::now();
        let mut phases = vec![];
        let Some(kept) = self.kept.as_mut() else { return self.build() };
        if edits.is_empty() {
            // Only an editor's scratch files came and went.
            return Ok(BuildReport {
                articles: kept.listing.published.len(),
                pages: 0,
                redirects: 0,
                partial: true,
                written: 0,
                elapsed: start.elapsed(),
                phases: Vec::new(),
            });
        }
        // 1. Read and check the edited files; nothing changes unless all of them are fine.
        let mut diags = Diagnostics::default();
        let mut fresh = Vec::new();
        {
            let c = &kept.p.content;
            let links = &kept.links;
            for (i, rel) in edits {
                let old = &c.articles[*i];
                let (article, d) = c.reload_article(rel, self.opts.dates, old.source.updated);
                diags.extend(d);
                let Some(article) = article else { continue };
                if article.meta.draft != old.meta.draft || article.meta.aliases != old.meta.aliases {
                    return self.build();
                }
                let rendered = markdown::render(&article.source, links);
                diags.extend(rendered.diags.clone());
                fresh.push((*i, article, rendered));
            }
            for (i, article, rendered) in &fresh {
                // Its links to headings, and the other articles' links to its headings.
                let ids = |t: usize| fresh.iter().find(|f| f.0 == t).map_or(&kept.p.rendered[t].ids, |f| &f.2.ids);
                for a in &rendered.anchor_refs {
                    if !ids(a.target).contains(&a.anchor) {
                        diags.push(
                            article.source.diag(a.line, broken_anchor(&c.articles[a.target].source.display, &a.anchor)),
                        );
                    }
                }
                for (j, other) in kept.p.rendered.iter().enumerate().filter(|(j, _)| !fresh.iter().any(|f| f.0 == *j)) {
                    for a in other.anchor_refs.iter().filter(|a| a.target == *i && !rendered.ids.contains(&a.anchor)) {
                        diags
                            .push(c.articles[j].source.diag(a.line, broken_anchor(&article.source.display, &a.anchor)));
                    }
                }
            }
        }
        if !diags.is_empty() {
            diags.sort();
            return Err(BuildError::Content(diags));
        }
        phases.push(("markdown", start.elapsed()));

        // 2. The pages that show the edited articles before the edit.
        let mut pages: BTreeSet<usize> = BTreeSet::new();
        for (i, ..) in &fresh {
            pages.insert(*i);
            pages.extend(kept.listing.neighbours(&kept.p.content, *i));
        }

        // 3. The search index and related articles.
        let step = Instant::now();
        let Some(updater) = kept.search.updater.as_mut() else { return self.build() };
        // The edited articles' numbers in the index.
        let mut numbers: Vec<usize> = Vec::new();
        // The sitemap lists the articles in order, with their dates.
        let mut sitemap = false;
        for (i, article, mut rendered) in fresh {
            let sections = std::mem::take(&mut rendered.sections);
            sitemap |= article.source.updated != kept.p.content.articles[i].source.updated;
            kept.p.content.articles[i] = article;
            kept.p.rendered[i] = rendered;
            sitemap |= kept.listing.reorder(&kept.p.content, i);
            // A draft is in no index and on no page.
            let Ok(n) = kept.search.numbers.binary_search(&i) else { continue };
            let c = &kept.p.content;
            let mut a = crate::search::article(c, &crate::search::category_titles(c), i, sections);
            let terms = updater.replace(n, &a)?;
            let Some(all) = kept.search.terms.as_mut() else { return self.build() };
            all[n] = terms;
            numbers.push(n);
            a.sections = Vec::new();
            kept.search.articles[n] = a;
        }
        kept.search.index = updater.open_for_related()?;
        let packed = updater.pack()?;
        phases.push(("search index", step.elapsed()));
        let step = Instant::now();
        // Their own related articles, those of the articles that listed them, and of those
        // whose lists they now enter.
        let edited: Vec<usize> = numbers.iter().map(|&n| kept.search.numbers[n]).collect();
        let mut again: Vec<usize> = numbers.clone();
        for (n, &i) in kept.search.numbers.iter().enumerate() {
            if kept.related.get(&i).is_some_and(|r| r.iter().any(|j| edited.contains(j))) && !again.contains(&n) {
                again.push(n);
            }
        }
        let all_terms = kept.search.terms.as_deref().unwrap_or_default();
        for &n in &numbers {
            let entering = kept.search.index.related_entering(&kept.search.articles, all_terms, &kept.scored, n)?;
            again.extend(entering);
        }
        again.sort_unstable();
        again.dedup();
        // Reading order, which an edited title or weight may have changed.
        let mut place = vec![u32::MAX; kept.p.content.articles.len()];
        for (at, &i) in kept.listing.published.iter().enumerate() {
            place[i] = at as u32;
        }
        let rank: Vec<u32> = kept.search.numbers.iter().map(|&i| place[i]).collect();
        let mut found = kept.search.index.related_of(
            &kept.search.articles,
            kept.search.terms.as_deref(),
            crate::search::RELATED,
            Some(&again),
            Some(&rank),
        )?;
        for &n in &again {
            let i = kept.search.numbers[n];
            let new: Vec<usize> = found[n].articles.iter().map(|&m| kept.search.numbers[m]).collect();
            // Their pages show other related articles now, or an edited one's new title.
            let old = kept.related.get(&i);
            if old != Some(&new) || new.iter().any(|j| edited.contains(j)) {
                pages.insert(i);
            }
            kept.related.insert(i, new);
            kept.scored[n] = std::mem::take(&mut found[n]);
        }
        phases.push(("related", step.elapsed()));

        // 4. The pages.
        let step = Instant::now();
        let site = Site::new(&kept.p, &self.opts, &kept.listing, &kept.related);
        for &i in &edited {
            pages.extend(kept.listing.neighbours(&kept.p.content, i));
        }
        let categories: Vec<(&str, &str)> = edited
            .iter()
            .map(|&i| &kept.p.content.articles[i])
            .map(|a| (a.lang.as_str(), a.category.as_str()))
            .collect();
        let chosen = site.pages_where(|kind| match kind {
            PageKind::Home { .. } | PageKind::NotFound { .. } => true,
            PageKind::Category { index } => {
                let cat = &kept.p.content.categories[*index];
                categories.contains(&(cat.lang.as_str(), cat.slug.as_str()))
            }
            PageKind::Article { index } => pages.contains(index),
            PageKind::Redirect { .. } | PageKind::Search { .. } => false,
        });
        let env = template_env(&self.opts.content_dir);
        // All rendered before any is written: a template failing leaves the site as it was.
        let rendered: Vec<Vec<u8>> = chosen.iter().map(|page| site.render(&env, page)).collect::<Result<_, _>>()?;
        let out = &self.opts.out_dir;
        let mut written = 0;
        for (page, html) in chosen.iter().zip(&rendered) {
            written += usize::from(sync_file(out, &page.path, html, false)?);
        }
        if sitemap {
            written += usize::from(sync_file(out, "sitemap.xml", site.sitemap().as_bytes(), false)?);
        }
        // Replaced whole (a reader never sees half of it), without reading the old one first.
        let index_path = out.join(crate::search::SEARCH_DIR).join(search_index::INDEX_FILE);
        let part = index_path.with_extension("bin.part");
        std::fs::write(&part, &packed).map_err(|source| BuildError::Io { path: part.clone(), source })?;
        std::fs::rename(&part, &index_path).map_err(|source| BuildError::Io { path: index_path.clone(), source })?;
        written += 1;
        phases.push(("pages", step.elapsed()));
        Ok(BuildReport {
            articles: kept.listing.published.len(),
            pages: chosen.len(),
            redirects: 0,
            partial: true,
            written,
            elapsed: start.elapsed(),
            phases,
        })
    }
}

/// `path` relative to the content directory, with `/` separators (as [`crate::content::Source::rel`]).
fn relative(content_dir: &Path, path: &Path) -> Option<String> {
    let rel = match path.strip_prefix(content_dir) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => {
            // A path that is gone can't be made canonical; its folder can.
            let dir = path.parent()?.canonicalize().ok()?.join(path.file_name()?);
            dir.strip_prefix(content_dir.canonicalize().ok()?).ok()?.to_path_buf()
        }
    };
    let parts: Vec<&str> = rel.components().map(|c| c.as_os_str().to_str()).collect::<Option<_>>()?;
    Some(parts.join("/"))
}
