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

/// Build the index of `docs` in `dir` (which must be empty or missing), analysing
/// their text fields.
pub fn build(dir: &Path, docs: &[SearchDoc]) -> anyhow::Result<Index> {
    build_with(
        dir,
        KbTokenizer,
        docs.iter()
            .map(|d| (d, d.fields.each_ref().map(String::as_str))),
    )
}

/// One index in `dir` holding the documents of `parts`, in order, each part being
/// one segment (as [`build_analyzed`] makes them): tantivy merges their postings,
/// fieldnorms and stored fields without analysing or indexing any text again, so the
/// result is the index [`build`] makes of all the documents in that order.
pub fn merge(dir: &Path, parts: &[Index]) -> anyhow::Result<Index> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let directory = tantivy::directory::MmapDirectory::open(dir)
        .with_context(|| format!("cannot open {}", dir.display()))?;
    let index = tantivy::indexer::merge_indices(parts, directory)
        .context("cannot merge the search index")?;
    register(&index);
    let expected: u64 = parts
        .iter()
        .map(|p| p.reader().map(|r| r.searcher().num_docs()))
        .sum::<tantivy::Result<u64>>()?;
    let searcher = index.reader()?.searcher();
    anyhow::ensure!(
        searcher.segment_readers().len() <= 1 && searcher.num_docs() == expected,
        "search index: expected one segment of {expected} documents"
    );
    Ok(index)
}

/// [`build`] from documents whose text fields were analysed beforehand: each one's
/// five [`analyzed_text`]s. The index is the one [`build`] makes of the same documents
/// (same schema, terms, positions and fieldnorms), without analysing again.
pub fn build_analyzed<'a>(
    dir: &Path,
    docs: impl Iterator<Item = (&'a SearchDoc, [&'a str; 5])>,
) -> anyhow::Result<Index> {
    build_with(dir, PreAnalyzed, docs)
}

/// Build the index in `dir` with `tokenizer` as `kb_en` for the text fields, which get
/// the texts paired with each document.
fn build_with<'a, T: Tokenizer>(
    dir: &Path,
    tokenizer: T,
    docs: impl Iterator<Item = (&'a SearchDoc, [&'a str; 5])>,
) -> anyhow::Result<Index> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (schema, f) = schema();
    let index = Index::create_in_dir(dir, schema)
        .with_context(|| format!("cannot create the search index in {}", dir.display()))?;
    index
        .tokenizers()
        .register(KB_EN, TextAnalyzer::builder(tokenizer).build());
    // One thread, documents in site order, no background merges: doc id = position.
    let budget = 1_500_000_000;
    let mut writer = index
        .writer_with_num_threads::<TantivyDocument>(1, budget)
        .context("cannot open the search index writer")?;
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    let mut n_docs = 0u64;
    for (d, texts) in docs {
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &d.id);
        for (field, text) in f.text.iter().zip(texts) {
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
        n_docs += 1;
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
        searcher.segment_readers().len() <= 1 && searcher.num_docs() == n_docs,
        "search index: expected one segment of {n_docs} documents"
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

/// `text` analysed ([`analysis::analyze`]) into the compact form [`build_analyzed`]
/// reads: one line per token, `<position delta> <term>\n`. Offsets are left out
/// (tantivy does not index them); terms hold no whitespace (they are lowercased,
/// stemmed runs of alphanumeric characters).
///
/// Why not tantivy's `PreTokenizedString`: it holds a `String` per token and tantivy
/// clones it twice per document while indexing; this form is a third of the memory
/// of a token vector and is read without allocating.
pub fn analyzed_text(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    let mut previous = 0;
    for t in analysis::analyze(text) {
        // Positions never decrease (a split identifier's whole shares its last part's).
        let delta = t.position.saturating_sub(previous);
        previous = t.position;
        let _ = writeln!(out, "{delta} {}", t.text);
    }
    out
}

/// Reads [`analyzed_text`]'s form back into tokens (registered as `kb_en` only while
/// [`build_analyzed`] indexes; an opened index registers [`KbTokenizer`]).
#[derive(Clone)]
struct PreAnalyzed;

struct PreAnalyzedStream<'a> {
    rest: &'a str,
    token: TvToken,
}

impl Tokenizer for PreAnalyzed {
    type TokenStream<'a> = PreAnalyzedStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PreAnalyzedStream<'a> {
        PreAnalyzedStream {
            rest: text,
            token: TvToken {
                offset_from: 0,
                offset_to: 0,
                position: 0,
                text: String::new(),
                position_length: 1,
            },
        }
    }
}

impl TokenStream for PreAnalyzedStream<'_> {
    fn advance(&mut self) -> bool {
        let (line, rest) = self.rest.split_once('\n').unwrap_or((self.rest, ""));
        self.rest = rest;
        let Some((delta, term)) = line.split_once(' ') else {
            return false;
        };
        let Ok(delta) = delta.parse::<usize>() else {
            return false;
        };
        self.token.position += delta;
        self.token.text.clear();
        self.token.text.push_str(term);
        true
    }

    fn token(&self) -> &TvToken {
        &self.token
    }

    fn token_mut(&mut self) -> &mut TvToken {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pre-analysed form reads back as exactly the analyzer's terms and positions.
    #[test]
    fn analyzed_text_reads_back_as_the_analyzer_tokens() {
        let text = "OOMKilled pods: the kubelet's DNS-lookup timed out (x509) \
                    after 3 retries; ÉCHEC d'écriture, CrashLoopBackOff again.\n\nNext";
        let expected: Vec<(String, usize)> = analysis::analyze(text)
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect();
        assert!(
            expected.windows(2).any(|w| w[0].1 == w[1].1),
            "a split identifier"
        );
        let encoded = analyzed_text(text);
        let mut tokenizer = PreAnalyzed;
        let mut stream = tokenizer.token_stream(&encoded);
        let mut got = Vec::new();
        while stream.advance() {
            got.push((stream.token().text.clone(), stream.token().position));
        }
        assert_eq!(got, expected);
        assert!(analyzed_text("").is_empty());
        let mut stream = tokenizer.token_stream("");
        assert!(!stream.advance());
    }
}
