//! Full-text search over the FAQ knowledge base.
//!
//! This crate owns everything about how text is normalised, so that the site builder (heading
//! anchors, slugs) and the search side (analyzers, queries) agree on one definition.

pub mod text;
