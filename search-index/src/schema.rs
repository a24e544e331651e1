//! The index schema.
//!
//! The searchable text fields are filled with terms made by the document's own language
//! analyzer before indexing, so one set of fields serves every language. What a result shows
//! is kept in separate stored fields.

use tantivy::schema::{FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};

/// Relative weights of the searchable fields: a word in the title counts most, in the body
/// least.
pub const WEIGHTS: [(SearchField, f32); 5] = [
    (SearchField::Title, 4.0),
    (SearchField::Headings, 2.0),
    (SearchField::Tags, 2.5),
    (SearchField::Description, 1.5),
    (SearchField::Body, 1.0),
];

/// Weights of the parts of compound words (see [`crate::compound`]): `kaart` finds
/// `klantenkaart` through them, below a whole-word match in the same place. Parts of compounds
/// in the title and tags count for [`PartField::Title`], the others for [`PartField::Other`].
pub const PART_WEIGHTS: [(PartField, f32); 2] = [(PartField::Title, 1.6), (PartField::Other, 0.6)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartField {
    Title,
    Other,
}

impl PartField {
    /// Bit in the vocabulary's field mask (after the [`SearchField`] bits).
    pub const fn bit(self) -> u64 {
        1 << (8 + self as u64)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchField {
    Title,
    Headings,
    Body,
    Description,
    Tags,
}

impl SearchField {
    /// Bit in the vocabulary's field mask.
    pub fn bit(self) -> u64 {
        1 << (self as u64)
    }
}

/// Every field of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    // Searchable, analyzed per language before indexing.
    pub title: Field,
    pub headings: Field,
    pub body: Field,
    pub description: Field,
    pub tags: Field,
    /// The parts of the compound words of the title and tags, and of the other fields.
    pub title_parts: Field,
    pub parts: Field,
    // Filters, raw values.
    pub category: Field,
    pub language: Field,
    pub url: Field,
    /// The article's number (its position in the build's list).
    pub article: Field,
    /// 1 for a long article (see [`crate::Article::is_long`]): its results lead to a section.
    pub long: Field,
    // Shown in results.
    pub stored_title: Field,
    /// The body by section: `anchor US heading US text`, sections separated by RS.
    pub sections: Field,
    pub summary: Field,
    pub category_title: Field,
}

impl Fields {
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let searchable = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(crate::index::TERMS_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let stored = TextOptions::default().set_stored();
        let fields = Fields {
            title: b.add_text_field("title", searchable.clone()),
            headings: b.add_text_field("headings", searchable.clone()),
            body: b.add_text_field("body", searchable.clone()),
            description: b.add_text_field("description", searchable.clone()),
            tags: b.add_text_field("tags", searchable.clone()),
            title_parts: b.add_text_field("title_parts", searchable.clone()),
            parts: b.add_text_field("parts", searchable),
            category: b.add_text_field("category", STRING | STORED),
            language: b.add_text_field("language", STRING | STORED),
            url: b.add_text_field("url", STRING | STORED),
            article: b.add_u64_field("article", FAST | STORED),
            long: b.add_u64_field("long", STORED),
            stored_title: b.add_text_field("stored_title", stored.clone()),
            sections: b.add_text_field("sections", stored.clone()),
            summary: b.add_text_field("summary", stored.clone()),
            category_title: b.add_text_field("category_title", stored),
        };
        (b.build(), fields)
    }

    pub fn from_schema(schema: &Schema) -> tantivy::Result<Fields> {
        let f = |name: &str| schema.get_field(name);
        Ok(Fields {
            title: f("title")?,
            headings: f("headings")?,
            body: f("body")?,
            description: f("description")?,
            tags: f("tags")?,
            title_parts: f("title_parts")?,
            parts: f("parts")?,
            category: f("category")?,
            language: f("language")?,
            url: f("url")?,
            article: f("article")?,
            long: f("long")?,
            stored_title: f("stored_title")?,
            sections: f("sections")?,
            summary: f("summary")?,
            category_title: f("category_title")?,
        })
    }

    pub fn field(&self, f: SearchField) -> Field {
        match f {
            SearchField::Title => self.title,
            SearchField::Headings => self.headings,
            SearchField::Body => self.body,
            SearchField::Description => self.description,
            SearchField::Tags => self.tags,
        }
    }

    pub fn part(&self, f: PartField) -> Field {
        match f {
            PartField::Title => self.title_parts,
            PartField::Other => self.parts,
        }
    }
}
