//! The site's search index, built with the pages from the same parsed content.
//!
//! Everything the service needs to answer `/search` and `/api/search` goes into `<out>/search/`:
//! - `index.bin`: the packed tantivy index (see [`search_index::index`]);
//! - `strings.json`: the result pages' texts per language (from `content/i18n/`);
//! - `<lang>.html`: the result page of each language, rendered from `templates/search.html`
//!   with [`QUERY_MARKER`] where the query goes and [`RESULTS_MARKER`] where the results go.
//!
//! The index is rebuilt only when what it is made of changes (its fingerprint): an unchanged
//! rebuild writes nothing, and an unchanged index file is not uploaded again.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rayon::prelude::*;
use search_index::{Article, ArticleTerms, Packed, Related, SearchIndex, Section, Updater};

use crate::build::{BuildError, Prepared};
use crate::content::Content;
use crate::links::article_url;

/// The folder under the output directory.
pub const SEARCH_DIR: &str = "search";
/// Stands for the (HTML-escaped) query in a result page shell.
pub const QUERY_MARKER: &str = "%%SEARCH_QUERY%%";
/// Stands for the results in a result page shell.
pub const RESULTS_MARKER: &str = "<!--%%SEARCH_RESULTS%%-->";
/// The texts file.
pub const STRINGS_FILE: &str = "strings.json";
/// Related articles per article.
pub const RELATED: usize = 4;

/// Article (index in `Content::articles`) -> its related articles, best first.
pub type RelatedMap = HashMap<usize, Vec<usize>>;

/// The index of the published articles.
#[derive(Debug)]
pub struct SiteIndex {
    pub index: SearchIndex,
    /// The new `index.bin` when the index was (re)built (perhaps still being made); `None` when
    /// the one on disk is current.
    pub packed: Option<Packed>,
    /// Search article number -> index in `Content::articles`.
    pub numbers: Vec<usize>,
    pub articles: Vec<Article>,
    /// What the index build gathered for related articles (`None` when the index was reused).
    pub terms: Option<Vec<ArticleTerms>>,
    /// Replaces articles in the index after edits ([`prepare_updatable`] only).
    pub updater: Option<Updater>,
}

/// What the index gets of each published article. Takes the articles' sections out of `p`
/// (nothing after the index needs them), so that the site's text is not held twice.
pub fn articles(p: &mut Prepared, published: &[usize]) -> Vec<Article> {
    let taken: Vec<Vec<(String, String, String)>> =
        published.iter().map(|&i| std::mem::take(&mut p.rendered[i].sections)).collect();
    let c = &p.content;
    let category_titles = category_titles(c);
    published.par_iter().zip(taken).map(|(&i, taken)| article(c, &category_titles, i, taken)).collect()
}

/// (language, category slug) -> the category's title.
pub(crate) fn category_titles(c: &Content) -> HashMap<(&str, &str), &str> {
    c.categories.iter().map(|cat| ((cat.lang.as_str(), cat.slug.as_str()), cat.title.as_str())).collect()
}

/// What the index gets of article `i`, with its sections (anchor, heading, text).
pub(crate) fn article(
    c: &Content,
    category_titles: &HashMap<(&str, &str), &str>,
    i: usize,
    taken: Vec<(String, String, String)>,
) -> Article {
    let a = &c.articles[i];
    let mut sections: Vec<Section> =
        taken.into_iter().map(|(anchor, heading, text)| Section { anchor, heading, text }).collect();
    if sections.is_empty() {
        // No text at all (the text before the first heading is a section).
        sections.push(Section::default());
    }
    Article {
        lang: a.lang.clone(),
        category: a.category.clone(),
        category_title: category_titles.get(&(a.lang.as_str(), a.category.as_str())).copied().unwrap_or("").into(),
        url: article_url(&a.lang, &a.category, &a.slug),
        title: a.title.clone(),
        description: a.meta.description.clone(),
        tags: a.meta.tags.clone(),
        sections,
    }
}

/// The index for `published`: the one in `out/search/` when it was made from the same articles,
/// else a new one.
pub fn prepare_index(p: &mut Prepared, published: &[usize], out: &Path) -> Result<SiteIndex, BuildError> {
    let articles = articles(p, published);
    let fingerprint = search_index::fingerprint(&articles);
    let existing = out.join(SEARCH_DIR).join(search_index::INDEX_FILE);
    if let Ok(bytes) = std::fs::read(&existing)
        && SearchIndex::peek_fingerprint(&bytes) == Some(fingerprint)
        && let Ok(index) = SearchIndex::from_bytes(&bytes)
    {
        return Ok(SiteIndex {
            index,
            packed: None,
            numbers: published.to_vec(),
            articles,
            terms: None,
            updater: None,
        });
    }
    let b = search_index::build_packing(&articles, fingerprint)?;
    Ok(site_index(b.index, b.packed, b.terms, articles, published, None))
}

/// A new index for `published` that can replace articles afterwards (for `serve`).
pub fn prepare_updatable(p: &mut Prepared, published: &[usize]) -> Result<SiteIndex, BuildError> {
    let articles = articles(p, published);
    let (b, updater) = search_index::build_updatable(&articles)?;
    Ok(site_index(b.index, Packed::Ready(b.packed), b.terms, articles, published, Some(updater)))
}

fn site_index(
    index: SearchIndex,
    packed: Packed,
    terms: Vec<ArticleTerms>,
    articles: Vec<Article>,
    published: &[usize],
    updater: Option<Updater>,
) -> SiteIndex {
    // Related articles read what the build gathered, not the text.
    let mut articles = articles;
    articles.par_iter_mut().with_min_len(256).for_each(|a| a.sections = Vec::new());
    SiteIndex { index, packed: Some(packed), numbers: published.to_vec(), articles, terms: Some(terms), updater }
}

/// Related articles of every published article (by index in `Content::articles`), from the
/// index: articles whose text matches this one's title, tags and description, in the same
/// language, the same category breaking ties.
pub fn related(si: &SiteIndex) -> Result<RelatedMap, BuildError> {
    Ok(related_scored(si)?.0)
}

/// [`related`], and per search article number what tells whether an edited article enters
/// the list ([`search_index::Related`]).
pub fn related_scored(si: &SiteIndex) -> Result<(RelatedMap, Vec<Related>), BuildError> {
    let related = si.index.related_of(&si.articles, si.terms.as_deref(), RELATED, None, None)?;
    Ok((by_content_index(si, &related), related))
}

/// Related articles by index in `Content::articles`, of search articles' related ones.
pub(crate) fn by_content_index(si: &SiteIndex, related: &[Related]) -> RelatedMap {
    related
        .iter()
        .enumerate()
        .map(|(n, found)| (si.numbers[n], found.articles.iter().map(|&m| si.numbers[m]).collect()))
        .collect()
}

/// `strings.json`: per language, the `search_*` texts and the labels the result pages use, and
/// the default language.
pub fn strings_json(p: &Prepared) -> String {
    let c = &p.content;
    let mut langs: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    for (lang, strings) in &c.strings {
        let picked = strings
            .iter()
            .filter(|(k, _)| {
                k.starts_with("search_") || ["new_ticket", "was_helpful", "tab_solutions"].contains(&k.as_str())
            })
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        langs.insert(lang.as_str(), picked);
    }
    let value = serde_json::json!({
        "default_language": c.config.site.default_language,
        "languages": langs,
    });
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
    s.push('\n');
    s
}
