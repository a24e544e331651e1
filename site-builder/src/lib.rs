//! The static help centre: `content/` (markdown + TOML) in, `dist/` (HTML, CSS, sitemap) out.
//!
//! - [`content`] reads and strictly validates what editors write;
//! - [`markdown`] renders article bodies, rewriting file links to URLs;
//! - [`build`] checks everything and writes the site; [`check`] only checks;
//! - [`search`] builds the search index from the same content (and related articles from it);
//! - [`incremental`] rebuilds only what edited articles touch (for `helpdesk serve`);
//! - [`watch`] rebuilds when files change (for `helpdesk serve`).

pub mod build;
pub mod config;
pub mod content;
pub mod diag;
pub mod incremental;
pub mod links;
pub mod markdown;
pub mod search;
pub mod watch;

pub use build::{BuildError, BuildOptions, BuildReport, build, check, prepare};
pub use config::HelpdeskConfig;
pub use content::{Content, Dates};
pub use diag::{Diagnostic, Diagnostics};
pub use incremental::Session;
