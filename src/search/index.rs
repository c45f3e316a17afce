//! The tantivy index: schema, the `kb_en` tokenizer adapter, building the index from
//! [`SearchDoc`]s and opening it again. Documents are added in site order by one
//! indexing thread into one segment, so tantivy's doc ids are the document numbers
//! of the static export and tie-breaks agree with the browser.

use std::path::Path;

use anyhow::Context as _;
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, STORED, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, Token as TvToken, TokenStream, Tokenizer};
use tantivy::{Index, TantivyDocument};

use super::analysis::{self};
use super::SearchDoc;

/// Name of the tokenizer registered on every open.
const KB_EN: &str = "kb_en";

/// Text fields in field-mask order, with their boosts (docs/search.md §4).
pub const TEXT_FIELDS: [(&str, f32); 5] = [
    ("title", 3.0),
    ("symptoms", 2.0),
    ("summary", 2.0),
    ("chain", 1.5),
    ("body", 1.0),
];
/// The concept field's name and boost (field-mask bit 5).
pub const CONCEPT_FIELD: (&str, f32) = ("concepts", 2.0);

/// Handles to every field of the schema.
#[derive(Debug, Clone)]
pub struct Fields {
    /// `id` (raw, stored).
    pub id: Field,
    /// The five text fields, in [`TEXT_FIELDS`] order.
    pub text: [Field; 5],
    /// Concept ids (raw, freqs, fieldnorms).
    pub concepts: Field,
    /// The snippet source (stored only).
    pub snippet: Field,
    /// Display values, stored only: title, date, organization.
    pub display: [Field; 3],
    /// Filter fields in [`analysis::FILTER_FIELDS`] order (raw; pattern and symptom
    /// also stored).
    pub filters: Vec<Field>,
}

/// The schema and its field handles.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING | STORED);
    let text_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(KB_EN)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let text = TEXT_FIELDS.map(|(name, _)| b.add_text_field(name, text_options.clone()));
    let concepts = b.add_text_field(
        CONCEPT_FIELD.0,
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("raw")
                .set_index_option(IndexRecordOption::WithFreqs),
        ),
    );
    let snippet = b.add_text_field("snippet_text", STORED);
    let display =
        ["display_title", "date", "organization_name"].map(|name| b.add_text_field(name, STORED));
    let filters = analysis::FILTER_FIELDS
        .iter()
        .map(|f| match *f {
            "pattern" | "symptom" => b.add_text_field(f, STRING | STORED),
            _ => b.add_text_field(f, STRING),
        })
        .collect();
    (
        b.build(),
        Fields {
            id,
            text,
            concepts,
            snippet,
            display,
            filters,
        },
    )
}

/// Register the project's analyzer on an index (tokenizers are not persisted).
pub fn register(index: &Index) {
    index
        .tokenizers()
        .register(KB_EN, TextAnalyzer::builder(KbTokenizer).build());
}

/// Build the index of `docs` in `dir` (which must be empty or missing).
pub fn build(dir: &Path, docs: &[SearchDoc]) -> anyhow::Result<Index> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (schema, f) = schema();
    let index = Index::create_in_dir(dir, schema)
        .with_context(|| format!("cannot create the search index in {}", dir.display()))?;
    register(&index);
    // One thread, documents in site order, no background merges: doc id = position.
    let budget = 1_500_000_000;
    let mut writer = index
        .writer_with_num_threads::<TantivyDocument>(1, budget)
        .context("cannot open the search index writer")?;
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    for d in docs {
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &d.id);
        for (field, text) in f.text.iter().zip(&d.fields) {
            doc.add_text(*field, text);
        }
        for c in &d.concepts {
            doc.add_text(f.concepts, c);
        }
        doc.add_text(f.snippet, &d.text);
        for (field, value) in f.display.iter().zip([&d.title, &d.date, &d.organization]) {
            doc.add_text(*field, value);
        }
        for (field, name) in f.filters.iter().zip(analysis::FILTER_FIELDS) {
            for v in d.filters.get(*name).into_iter().flatten() {
                doc.add_text(*field, v);
            }
        }
        writer.add_document(doc)?;
    }
    writer.commit().context("cannot commit the search index")?;
    let segments = index.searchable_segment_ids()?;
    if segments.len() > 1 {
        // Merging keeps segment order, so doc ids stay in site order (checked below).
        writer.merge(&segments).wait()?;
    }
    writer.wait_merging_threads()?;
    let reader = index.reader()?;
    let searcher = reader.searcher();
    anyhow::ensure!(
        searcher.segment_readers().len() <= 1 && searcher.num_docs() == docs.len() as u64,
        "search index: expected one segment of {} documents",
        docs.len()
    );
    Ok(index)
}

/// Open the index in `dir`.
pub fn open(dir: &Path) -> anyhow::Result<Index> {
    let index = Index::open_in_dir(dir)
        .with_context(|| format!("cannot open the search index in {}", dir.display()))?;
    register(&index);
    Ok(index)
}

/// The `kb_en` analyzer as a tantivy tokenizer: it hands tantivy the tokens of
/// [`analysis::analyze`] (lowercasing and stemming included), so the index holds
/// exactly the terms the browser computes.
#[derive(Clone)]
struct KbTokenizer;

struct KbTokenStream {
    tokens: Vec<TvToken>,
    next: usize,
}

impl Tokenizer for KbTokenizer {
    type TokenStream<'a> = KbTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> KbTokenStream {
        let tokens = analysis::analyze(text)
            .into_iter()
            .map(|t| TvToken {
                offset_from: t.from,
                offset_to: t.to,
                position: t.position,
                text: t.text,
                position_length: 1,
            })
            .collect();
        KbTokenStream { tokens, next: 0 }
    }
}

impl TokenStream for KbTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &TvToken {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut TvToken {
        &mut self.tokens[self.next - 1]
    }
}
