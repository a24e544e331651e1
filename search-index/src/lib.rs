//! Full-text search over the FAQ knowledge base.
//!
//! This crate owns everything about how text is normalised, so that the site builder (heading
//! anchors, slugs) and the search side (analyzers, queries) agree on one definition.
//!
//! - [`text`]: diacritic folding and slugs;
//! - [`analysis`]: the per-language analyzers (Dutch and English stemming, folding);
//! - [`compound`]: compound words split with the site's own vocabulary, Dutch verb forms;
//! - [`index`]: building the index from [`Article`]s at site-build time, packed into one file;
//! - [`query`]: typo-tolerant, syntax-free searching with snippets, scored term at a time
//!   (`score`);
//! - related articles of every article at once (`SearchIndex::related`);
//! - replacing articles of a built index one at a time ([`Updater`]);
//! - [`cache`]: a bounded cache of JSON answers for the service.

pub mod analysis;
pub mod cache;
pub mod compound;
pub mod index;
pub mod query;
mod related;
pub mod schema;
mod score;
mod stored;
pub mod text;
mod update;

pub use cache::{Answer, AnswerCache};
pub use index::{
    Article, BuildStats, Built, BuiltPacking, INDEX_FILE, Packed, SearchError, SearchIndex, Section, build,
    build_packing, build_updatable, build_with, fingerprint,
};
pub use query::{Hit, SearchRequest, SearchResults};
pub use related::{ArticleTerms, Related};
pub use update::Updater;
