//! Running a query on the tantivy index: the shared "simple query" of
//! docs/search.md §3–5 built from tantivy `TermQuery`s (never the QueryParser, whose
//! syntax and recursion the browser could not follow), typo correction and snippets.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value as _};
use tantivy::{DocSet as _, Index, IndexReader, TantivyDocument, Term, TERMINATED};

use super::analysis::{self, Concepts, Item, ParsedQuery, Piece, QueryError};
use super::index::{self, Fields, CONCEPT_FIELD, TEXT_FIELDS};

/// Most results one query may ask for.
pub const MAX_LIMIT: usize = 100;
/// Largest offset accepted.
pub const MAX_OFFSET: usize = 1_000;

/// An open index, ready for queries.
pub struct Searcher {
    reader: IndexReader,
    fields: Fields,
    concepts: Concepts,
    base_url: String,
    vocab_dir: PathBuf,
    n_docs: u64,
    labels: super::Labels,
}

/// What to search for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The query as typed.
    pub query: String,
    /// Results wanted.
    pub limit: usize,
    /// Results to skip.
    pub offset: usize,
    /// Filters besides those written in the query (field → values).
    pub filters: BTreeMap<String, Vec<String>>,
}

/// One corrected word.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Correction {
    /// The word as typed (lowercased).
    pub from: String,
    /// What it was corrected to.
    pub to: String,
}

/// One result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hit {
    /// Incident id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Absolute URL of the incident page.
    pub url: String,
    /// BM25 score.
    pub score: f32,
    /// The title as HTML, matches in `<mark>` (escaped and unmarked when it is too
    /// long to be shown whole as a snippet).
    pub title_html: String,
    /// The best passage, as HTML (escaped text, matches in `<mark>`).
    pub snippet: String,
    /// Date as written.
    pub date: String,
    /// Organization.
    pub organization: String,
    /// Pattern slugs, in chain order.
    pub patterns: Vec<String>,
    /// Symptom slugs.
    pub symptoms: Vec<String>,
    #[serde(skip)]
    /// The snippet as pieces (for terminals).
    pub pieces: Vec<Piece>,
}

/// One value of a facet with its count among the results (docs/search.md §8).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FacetCount {
    /// The value, as filters name it (`cpu-limit-throttling`, `2019`).
    pub value: String,
    /// How pages name it (the pattern's title).
    pub label: String,
    /// Matching documents with every filter but this facet's applied.
    pub count: usize,
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct Results {
    /// The query as typed.
    pub query: String,
    /// The query that was run instead, when words were corrected.
    pub corrected_query: Option<String>,
    /// Corrected words.
    pub corrected: Vec<Correction>,
    /// Scoring terms of the query that ran.
    pub terms: Vec<String>,
    /// Concepts of the query that ran.
    pub concepts: Vec<String>,
    /// Number of matching documents.
    pub total: usize,
    /// The requested page of results.
    pub results: Vec<Hit>,
    /// Facet (`pattern`, `symptom`, `platform`, `year`) → values with their counts,
    /// by count, then value; a value counted 0 is listed only if a filter chose it.
    pub facets: BTreeMap<String, Vec<FacetCount>>,
}

impl Results {
    /// The results as `blameless search --json` prints them and `blameless serve`'s
    /// `/api/search` answers (docs/search.md §9).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("results serialize to JSON")
    }
}

impl Searcher {
    /// Open the index in `dir` with its side files (written by [`super::write_index`]).
    pub(super) fn open(dir: &std::path::Path, meta: super::IndexMeta) -> anyhow::Result<Self> {
        let index: Index = index::open(&dir.join("tantivy"))?;
        let reader = index.reader()?;
        let (_, fields) = index::schema();
        Ok(Searcher {
            n_docs: reader.searcher().num_docs(),
            reader,
            fields,
            concepts: meta.concepts,
            base_url: meta.base_url,
            vocab_dir: dir.join("vocab"),
            labels: meta.labels,
        })
    }

    /// Number of documents.
    pub fn len(&self) -> u64 {
        self.n_docs
    }

    /// Whether the index has no document.
    pub fn is_empty(&self) -> bool {
        self.n_docs == 0
    }

    /// Run a request, correcting typos once.
    pub fn search(&self, req: &Request) -> Result<Results, QueryError> {
        if req.limit == 0 || req.limit > MAX_LIMIT {
            return Err(QueryError(format!("limit must be 1 to {MAX_LIMIT}")));
        }
        if req.offset > MAX_OFFSET {
            return Err(QueryError(format!("offset must be at most {MAX_OFFSET}")));
        }
        let parsed = analysis::parse_query(&req.query)?;
        let searcher = self.reader.searcher();
        let mut corrected = Vec::new();
        let mut run = parsed.clone();
        let fixes: BTreeMap<String, String> = parsed
            .typo_candidates()
            .into_iter()
            .filter(|run| {
                analysis::terms(run)
                    .iter()
                    .all(|t| self.text_doc_freq(&searcher, t) == 0)
            })
            .filter_map(|run| {
                let word = analysis::lowercase(run);
                let fix = self.correct(&word)?;
                Some((word, fix))
            })
            .collect();
        if !fixes.is_empty() {
            for (from, to) in &fixes {
                corrected.push(Correction {
                    from: from.clone(),
                    to: to.clone(),
                });
            }
            let text = parsed.rewrite(&|run| fixes.get(&analysis::lowercase(run)).cloned());
            run = analysis::parse_query(&text)?;
        }
        let mut results = self.execute(&run, req)?;
        results.query = req.query.clone();
        if !corrected.is_empty() {
            results.corrected_query = Some(run_text(&run));
            results.corrected = corrected;
        }
        Ok(results)
    }

    fn text_doc_freq(&self, searcher: &tantivy::Searcher, term: &str) -> u64 {
        self.fields
            .text
            .iter()
            .map(|f| {
                searcher
                    .doc_freq(&Term::from_field_text(*f, term))
                    .unwrap_or(0)
            })
            .sum()
    }

    fn correct(&self, word: &str) -> Option<String> {
        let first = word.chars().next()?;
        let file = self.vocab_dir.join(super::vocabulary_file_name(first));
        let text = std::fs::read_to_string(file).ok()?;
        let vocab = text.lines().filter_map(|l| {
            let (w, df) = l.split_once('\t')?;
            Some((w, df.parse().ok()?))
        });
        analysis::correct(word, vocab)
    }

    fn execute(&self, q: &ParsedQuery, req: &Request) -> Result<Results, QueryError> {
        let searcher = self.reader.searcher();
        let f = &self.fields;
        let sequence = q.term_sequence();
        let terms = analysis::distinct(&sequence);
        let concepts = self.concepts.match_query(&sequence);
        let mut scoring: Vec<Box<dyn Query>> = Vec::new();
        for t in &terms {
            for (field, (_, boost)) in f.text.iter().zip(TEXT_FIELDS) {
                let term = Term::from_field_text(*field, t);
                if searcher.doc_freq(&term).unwrap_or(0) > 0 {
                    scoring.push(boosted(term, boost));
                }
            }
        }
        for c in &concepts {
            let term = Term::from_field_text(f.concepts, c);
            if searcher.doc_freq(&term).unwrap_or(0) > 0 {
                scoring.push(boosted(term, CONCEPT_FIELD.1));
            }
        }
        let mut filters = q.filters();
        for (k, vs) in &req.filters {
            let values = filters.entry(k.clone()).or_default();
            for v in vs {
                let v = analysis::lowercase(v);
                if !values.contains(&v) {
                    values.push(v);
                }
            }
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let has_words = !terms.is_empty() || !concepts.is_empty();
        if has_words {
            if scoring.is_empty() {
                let facets = self.facets(&searcher, None, &filters)?;
                return Ok(self.empty(terms, concepts, facets));
            }
            clauses.push((Occur::Must, any_of(scoring)));
        }
        for item in &q.items {
            match item {
                Item::Phrase(p) => {
                    if let Some(query) = self.phrase(p) {
                        clauses.push((Occur::Must, zero(query)));
                    }
                }
                Item::Exclude(w) => {
                    let parts = required_terms(w);
                    if !parts.is_empty() {
                        let all: Vec<(Occur, Box<dyn Query>)> = parts
                            .iter()
                            .map(|t| (Occur::Must, self.any_text_field(t)))
                            .collect();
                        clauses.push((Occur::MustNot, Box::new(BooleanQuery::new(all))));
                    }
                }
                _ => {}
            }
        }
        // What the words, phrases and exclusions match, before any filter: the facets
        // count it (every document when there are no words, docs/search.md §3, §8).
        let mut unfiltered: Vec<(Occur, Box<dyn Query>)> =
            clauses.iter().map(|(o, q)| (*o, q.box_clone())).collect();
        if !has_words {
            unfiltered.push((Occur::Must, Box::new(AllQuery)));
        }
        let facets = self.facets(&searcher, Some(&BooleanQuery::new(unfiltered)), &filters)?;
        let mut has_filter = false;
        for (name, field) in analysis::FILTER_FIELDS.iter().zip(&f.filters) {
            let Some(values) = filters.get(*name) else {
                continue;
            };
            has_filter = true;
            let any = any_of(values.iter().map(|v| has_term(*field, v)));
            clauses.push((Occur::Must, zero(any)));
        }
        if !has_words && !has_filter {
            return Ok(self.empty(terms, concepts, facets));
        }
        let query = BooleanQuery::new(clauses);
        let collector = (
            TopDocs::with_limit(req.limit)
                .and_offset(req.offset)
                .order_by_score(),
            Count,
        );
        let (top, total) = searcher
            .search(&query, &collector)
            .map_err(|e| QueryError(format!("search failed: {e}")))?;
        let phrases: Vec<&[String]> = self
            .concepts
            .concepts
            .iter()
            .filter(|c| concepts.contains(&c.id))
            .flat_map(|c| c.phrases.iter().map(Vec::as_slice))
            .collect();
        let mut results = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher
                .doc(addr)
                .map_err(|e| QueryError(format!("cannot read a result: {e}")))?;
            results.push(self.hit(&doc, score, &terms, &phrases));
        }
        Ok(Results {
            query: String::new(),
            corrected_query: None,
            corrected: Vec::new(),
            terms,
            concepts,
            total,
            results,
            facets,
        })
    }

    fn empty(
        &self,
        terms: Vec<String>,
        concepts: Vec<String>,
        facets: BTreeMap<String, Vec<FacetCount>>,
    ) -> Results {
        Results {
            query: String::new(),
            corrected_query: None,
            corrected: Vec::new(),
            terms,
            concepts,
            total: 0,
            results: Vec::new(),
            facets,
        }
    }

    /// Calls `f` with each value of filter field `name` and the documents holding it
    /// (numbered across segments), read from the index's postings.
    fn each_value(
        &self,
        searcher: &tantivy::Searcher,
        name: &str,
        mut f: impl FnMut(&str, &[usize]),
    ) -> Result<(), QueryError> {
        let failed = |e: &dyn std::fmt::Display| QueryError(format!("cannot count facets: {e}"));
        let Some(at) = analysis::FILTER_FIELDS.iter().position(|x| *x == name) else {
            return Ok(());
        };
        let field = self.fields.filters[at];
        let mut docs = Vec::new();
        let mut base = 0usize;
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(field).map_err(|e| failed(&e))?;
            let mut terms = inverted.terms().stream().map_err(|e| failed(&e))?;
            while terms.advance() {
                let mut postings = inverted
                    .read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)
                    .map_err(|e| failed(&e))?;
                docs.clear();
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if segment
                        .alive_bitset()
                        .is_none_or(|alive| alive.is_alive(doc))
                    {
                        docs.push(base + doc as usize);
                    }
                    doc = postings.advance();
                }
                f(&String::from_utf8_lossy(terms.key()), &docs);
            }
            base += segment.max_doc() as usize;
        }
        Ok(())
    }

    /// Disjunctive facet counts (docs/search.md §8) of the documents `matched` matches
    /// (none when `None`) under `filters`; one pass over the facet fields' postings.
    fn facets(
        &self,
        searcher: &tantivy::Searcher,
        matched: Option<&dyn Query>,
        filters: &BTreeMap<String, Vec<String>>,
    ) -> Result<BTreeMap<String, Vec<FacetCount>>, QueryError> {
        let segments = searcher.segment_readers();
        let mut bases = Vec::with_capacity(segments.len());
        let mut n = 0usize;
        for segment in segments {
            bases.push(n);
            n += segment.max_doc() as usize;
        }
        let mut hit = vec![false; n];
        if let Some(q) = matched {
            let docs = searcher
                .search(q, &DocSetCollector)
                .map_err(|e| QueryError(format!("search failed: {e}")))?;
            for d in docs {
                hit[bases[d.segment_ord as usize] + d.doc_id as usize] = true;
            }
        }
        // Per matched document: how many filter fields reject it, and the last one.
        let mut failures = vec![0u8; n];
        let mut failed = vec![usize::MAX; n];
        let chosen: Vec<(&String, &Vec<String>)> = filters.iter().collect();
        for (i, (name, values)) in chosen.iter().enumerate() {
            let mut allowed = vec![false; n];
            self.each_value(searcher, name, |value, docs| {
                if values.iter().any(|v| v == value) {
                    for &d in docs {
                        allowed[d] = true;
                    }
                }
            })?;
            for d in (0..n).filter(|&d| hit[d] && !allowed[d]) {
                failures[d] = failures[d].saturating_add(1);
                failed[d] = i;
            }
        }
        let mut out = BTreeMap::new();
        for name in super::FACETS {
            let own = chosen.iter().position(|(n, _)| **n == name);
            let picked = filters.get(name);
            let mut counts: Vec<FacetCount> = Vec::new();
            self.each_value(searcher, name, |value, docs| {
                let count = docs
                    .iter()
                    .filter(|&&d| {
                        hit[d] && (failures[d] == 0 || (failures[d] == 1 && Some(failed[d]) == own))
                    })
                    .count();
                if count > 0 || picked.is_some_and(|p| p.iter().any(|v| v == value)) {
                    let label = self.labels.get(name).and_then(|l| l.get(value));
                    counts.push(FacetCount {
                        value: value.to_string(),
                        label: label.map_or_else(|| value.to_string(), String::clone),
                        count,
                    });
                }
            })?;
            counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            out.insert(name.to_string(), counts);
        }
        Ok(out)
    }

    fn any_text_field(&self, term: &str) -> Box<dyn Query> {
        any_of(self.fields.text.iter().map(|field| has_term(*field, term)))
    }

    /// An exact phrase in any text field (a single term: that term anywhere).
    fn phrase(&self, text: &str) -> Option<Box<dyn Query>> {
        let tokens: Vec<(usize, String)> = phrase_tokens(text);
        match tokens.len() {
            0 => None,
            1 => Some(self.any_text_field(&tokens[0].1)),
            _ => Some(any_of(self.fields.text.iter().map(|field| {
                let terms = tokens
                    .iter()
                    .map(|(pos, t)| (*pos, Term::from_field_text(*field, t)))
                    .collect();
                let q: Box<dyn Query> = Box::new(PhraseQuery::new_with_offset(terms));
                q
            }))),
        }
    }

    fn hit(
        &self,
        doc: &TantivyDocument,
        score: f32,
        terms: &[String],
        phrases: &[&[String]],
    ) -> Hit {
        let f = &self.fields;
        let first = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let all = |field: Field| -> Vec<String> {
            doc.get_all(field)
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        };
        let id = first(f.id);
        let pieces = analysis::snippet(&first(f.snippet), terms, phrases);
        let title = first(f.display[0]);
        // The title marked as a snippet would be, if that keeps it whole.
        let marked = analysis::snippet(&title, terms, phrases);
        let whole = marked.iter().map(|p| p.text.as_str()).collect::<String>() == title;
        Hit {
            url: format!("{}incidents/{id}/", self.base_url),
            title_html: if whole {
                snippet_html(&marked)
            } else {
                crate::markdown::escape_html(&title)
            },
            title,
            score,
            snippet: snippet_html(&pieces),
            date: first(f.display[1]),
            organization: first(f.display[2]),
            patterns: all(f.filters[0]),
            symptoms: all(f.filters[1]),
            pieces,
            id,
        }
    }
}

fn boosted(term: Term, boost: f32) -> Box<dyn Query> {
    let q = Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
    if boost == 1.0 {
        q
    } else {
        Box::new(BoostQuery::new(q, boost))
    }
}

/// Documents matching any of `queries` (scores add up).
fn any_of(queries: impl IntoIterator<Item = Box<dyn Query>>) -> Box<dyn Query> {
    let clauses = queries.into_iter().map(|q| (Occur::Should, q)).collect();
    Box::new(BooleanQuery::new(clauses))
}

/// Documents with `text` in `field` (no scoring statistics needed).
fn has_term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

/// A required clause that adds nothing to the score.
fn zero(q: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, 0.0))
}

/// Tokens of a phrase or excluded word without the wholes of split identifiers (a
/// whole shares its position with its last part): `OOMKilled pods` → oom@0, kill@1,
/// pod@2, which matches both "OOMKilled pods" and "OOM killed pods".
fn phrase_tokens(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for t in analysis::analyze(text) {
        if out.last().is_some_and(|(p, _)| *p == t.position) {
            continue;
        }
        out.push((t.position, t.text));
    }
    out
}

/// The terms a document must hold all of to be excluded by `-word`.
fn required_terms(word: &str) -> Vec<String> {
    let terms: Vec<String> = phrase_tokens(word).into_iter().map(|(_, t)| t).collect();
    analysis::distinct(&terms)
}

fn run_text(q: &ParsedQuery) -> String {
    q.rewrite(&|_| None)
}

/// Snippet pieces as HTML: escaped text, matches in `<mark>`.
pub fn snippet_html(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for p in pieces {
        let text = crate::markdown::escape_html(&p.text);
        if p.mark {
            out.push_str("<mark>");
            out.push_str(&text);
            out.push_str("</mark>");
        } else {
            out.push_str(&text);
        }
    }
    out
}
