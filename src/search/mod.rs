//! Search by symptom (docs/search.md is the contract): the one module tree that uses
//! tantivy.
//!
//! ```text
//! Site + Bodies ─ documents ─▶ Vec<SearchDoc> ─ index::build ─▶ tantivy index
//!                                                  │                (.blameless/index)
//!                                                  └ export ─▶ search/ (static, browser)
//! blameless search ─ open_fresh (rebuild if content changed) ─ query::Searcher
//! ```
//!
//! - [`analysis`]: analyzer, concept table, query language, typo rule, snippets (no
//!   tantivy; mirrored by `static/search-core.js`);
//! - [`index`]: schema and tokenizer adapter, building and opening the tantivy index;
//! - [`query`]: running a query on it;
//! - [`cache`]: analysed documents kept between runs of `serve`, so a re-index after
//!   an edit analyses only the stories that changed;
//! - [`export`]: the sharded static index read by the browser, written from the
//!   tantivy index's own postings and fieldnorms so both rank alike.
//!
//! The tantivy index lives in `<root>/.blameless/index/` (not deployed: tantivy's
//! files are not byte-reproducible). It carries a stamp of the content it was built
//! from; `pipeline::open_search` rebuilds it when the content changed, so a query never sees a
//! stale index.

pub mod analysis;
pub mod cache;
pub mod export;
pub mod index;
pub mod query;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hasher as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rayon::prelude::*;

use crate::model::{slugify, Fnv1a, Incident};
use crate::render::Bodies;
use crate::site::Site;

pub use analysis::{Concepts, QueryError};
pub use query::{Request, Results, Searcher};

/// Version of the on-disk index layout and its side files.
const INDEX_FORMAT: u32 = 2;
/// Where the tantivy index lives under the site root.
pub const INDEX_DIR: &str = ".blameless/index";
/// Bytes of text kept for snippets (docs/search.md §6): enough for the summary, the
/// trigger and the start of the body, where a story says what went wrong; every
/// fragment the browser fetches carries it, and every shown result analyzes it.
pub const SNIPPET_SOURCE_BYTES: usize = 1_500;

/// One incident as search sees it: the text of each field and its filter values.
#[derive(Debug, Clone)]
pub struct SearchDoc {
    /// Incident id.
    pub id: String,
    /// Page path relative to the base URL (`incidents/<id>/`).
    pub path: String,
    /// Title.
    pub title: String,
    /// ISO date as written (`2019`, `2019-06`, `2019-06-03`).
    pub date: String,
    /// Organization.
    pub organization: String,
    /// Summary.
    pub summary: String,
    /// Text of the five text fields (docs/search.md §4).
    pub fields: [String; 5],
    /// Concept ids.
    pub concepts: Vec<String>,
    /// `(slug, title)` of the patterns, in chain order.
    pub patterns: Vec<(String, String)>,
    /// `(slug, title)` of the symptoms.
    pub symptoms: Vec<(String, String)>,
    /// Filter field → values (lowercase slugs).
    pub filters: BTreeMap<&'static str, Vec<String>>,
    /// The snippet source: summary, trigger, then body text, cut at
    /// [`SNIPPET_SOURCE_BYTES`].
    pub text: String,
}

/// The concept table of a site (its symptom vocabulary).
pub fn concepts(site: &Site) -> Concepts {
    Concepts::new(
        site.symptoms
            .iter()
            .map(|s| (s.slug.as_str(), s.title.as_str(), s.synonyms.as_slice())),
    )
}

/// Every incident of `site` as a [`SearchDoc`], in site order (newest first).
pub fn documents(site: &Site, bodies: &Bodies, concepts: &Concepts) -> Vec<SearchDoc> {
    let matcher = concepts.matcher();
    site.incidents
        .par_iter()
        .zip(&bodies.incidents)
        .map(|(inc, body)| document(site, inc, &body.plain_text, &matcher))
        .collect()
}

fn document(
    site: &Site,
    inc: &Incident,
    body: &str,
    matcher: &analysis::ConceptMatcher<'_>,
) -> SearchDoc {
    let pattern_title = |slug: &str| {
        site.patterns
            .iter()
            .find(|p| p.slug.as_str() == slug)
            .map_or_else(|| slug.to_string(), |p| p.title.clone())
    };
    let symptoms: Vec<(String, String)> = inc
        .symptoms
        .iter()
        .map(|s| {
            let title = site
                .symptoms
                .iter()
                .find(|x| x.slug == *s)
                .map_or_else(|| s.to_string(), |x| x.title.clone());
            (s.to_string(), title)
        })
        .collect();
    let symptom_text: Vec<String> = inc
        .symptoms
        .iter()
        .filter_map(|s| site.symptoms.iter().find(|x| x.slug == *s))
        .map(|x| {
            let mut t = x.title.clone();
            for syn in &x.synonyms {
                t.push_str(". ");
                t.push_str(syn);
            }
            t
        })
        .collect();
    let patterns: Vec<(String, String)> = inc
        .patterns()
        .into_iter()
        .map(|p| (p.to_string(), pattern_title(p.as_str())))
        .collect();
    let mut chain: Vec<String> = vec![inc.trigger.description.clone()];
    for cf in &inc.contributing_failures {
        chain.push(pattern_title(cf.pattern.as_str()));
        chain.push(cf.description.clone());
    }
    chain.extend(inc.resolutions.iter().map(|r| r.action.clone()));
    chain.extend(inc.lessons.iter().cloned());
    chain.extend(inc.components.iter().cloned());
    chain.extend(inc.tags.iter().cloned());
    chain.push(inc.organization.clone());
    chain.extend(inc.platforms.iter().map(|p| p.label().to_string()));
    let summary = format!("{}\n\n{}", inc.summary, inc.impact);
    let chain = chain.join("\n\n");

    // Concepts: front-matter symptoms, then phrases in the structured fields.
    let mut found = BTreeSet::new();
    for text in [&inc.title, &summary, &chain] {
        matcher.find(&analysis::terms(text), &mut found);
    }
    let mut concepts: Vec<String> = inc.symptoms.iter().map(|s| s.to_string()).collect();
    for i in found {
        let id = matcher.id(i);
        if !concepts.iter().any(|c| c == id) {
            concepts.push(id.to_string());
        }
    }

    let mut filters: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    filters.insert("pattern", patterns.iter().map(|p| p.0.clone()).collect());
    filters.insert("symptom", symptoms.iter().map(|s| s.0.clone()).collect());
    filters.insert(
        "platform",
        inc.platforms.iter().map(|p| p.slug().to_string()).collect(),
    );
    filters.insert(
        "component",
        inc.components.iter().map(|c| slugify(c)).collect(),
    );
    filters.insert("organization", vec![slugify(&inc.organization)]);
    filters.insert("year", vec![inc.date.year.to_string()]);
    if let Some(level) = inc.impact_level {
        filters.insert("impact", vec![level.slug().to_string()]);
    }

    let mut text = format!(
        "{}\n\n{}\n\n{}",
        inc.summary.trim(),
        inc.trigger.description.trim(),
        body.trim()
    );
    truncate_on_word(&mut text, SNIPPET_SOURCE_BYTES);
    SearchDoc {
        id: inc.id.to_string(),
        path: format!("incidents/{}/", inc.id),
        title: inc.title.clone(),
        date: inc.date.iso(),
        organization: inc.organization.clone(),
        summary: inc.summary.clone(),
        fields: [
            inc.title.clone(),
            symptom_text.join("\n\n"),
            summary,
            chain,
            body.to_string(),
        ],
        concepts,
        patterns,
        symptoms,
        filters,
        text,
    }
}

fn truncate_on_word(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    if let Some(space) = s[..end].rfind(char::is_whitespace) {
        end = space;
    }
    s.truncate(end);
}

/// The typo vocabulary (docs/search.md §5): surface word → document frequency.
pub fn typo_vocabulary(docs: &[SearchDoc], concepts: &Concepts) -> BTreeMap<String, u32> {
    // Counted in hash maps, one per rayon task, merged pairwise; sorted once at the end.
    let counts: HashMap<String, u32> = docs
        .par_iter()
        .fold(HashMap::new, |mut counts: HashMap<String, u32>, d| {
            for w in document_words(d) {
                *counts.entry(w).or_default() += 1;
            }
            counts
        })
        .reduce(HashMap::new, |a, b| {
            let (mut into, from) = if a.len() >= b.len() { (a, b) } else { (b, a) };
            for (w, n) in from {
                *into.entry(w).or_default() += n;
            }
            into
        });
    vocabulary_of_counts(counts, docs.len(), concepts)
}

/// The distinct surface words of a document (each counts once towards its word's
/// document frequency).
fn document_words(d: &SearchDoc) -> HashSet<String> {
    d.fields
        .iter()
        .flat_map(|f| analysis::surface_words(f))
        .collect()
}

/// The typo vocabulary from each word's document frequency among `n_docs` documents.
fn vocabulary_of_counts(
    counts: impl IntoIterator<Item = (String, u32)>,
    n_docs: usize,
    concepts: &Concepts,
) -> BTreeMap<String, u32> {
    let min = if n_docs < 1_000 { 1 } else { 2 };
    let mut df: BTreeMap<String, u32> = counts.into_iter().filter(|(_, n)| *n >= min).collect();
    for c in &concepts.concepts {
        // Concept words are chosen by the site's maintainers: always correctable to.
        for w in &c.words {
            df.entry(w.clone()).or_insert(0);
        }
    }
    df
}

/// Name of the typo vocabulary file of words starting with `first` (its code point
/// in hex), the same in `.blameless/index/vocab/` and in the static `search/v/…/`.
pub fn vocabulary_file_name(first: char) -> String {
    format!("{:x}.txt", u32::from(first))
}

/// Typo vocabulary files: first character → `word\tdf` lines sorted by word bytes.
pub fn vocabulary_files(vocab: &BTreeMap<String, u32>) -> BTreeMap<char, String> {
    let mut files: BTreeMap<char, String> = BTreeMap::new();
    for (w, df) in vocab {
        if let Some(first) = w.chars().next() {
            let f = files.entry(first).or_default();
            f.push_str(w);
            f.push('\t');
            f.push_str(&df.to_string());
            f.push('\n');
        }
    }
    files
}

/// Side data of the tantivy index (`blameless.json` beside it).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IndexMeta {
    /// Version of the index layout (rebuilt when it differs).
    pub format: u32,
    /// Analyzer id ([`analysis::ANALYZER`]).
    pub analyzer: String,
    /// Fingerprint of the content the index was built from ([`content_stamp`]).
    pub stamp: String,
    /// The site's base URL (for result URLs).
    pub base_url: String,
    /// The concept table.
    pub concepts: Concepts,
    /// Facet → value → label (the titles of patterns and symptoms, platform names),
    /// for the facet counts of results (docs/search.md §8).
    pub labels: Labels,
}

/// The facets of results (docs/search.md §6, §8), in the order the page shows them.
pub const FACETS: [&str; 4] = ["pattern", "symptom", "platform", "year"];

/// Facet → value → label.
pub type Labels = BTreeMap<String, BTreeMap<String, String>>;

/// How pages name the values of the facets of `site`: pattern and symptom titles,
/// platform names (a value without a label is its own).
pub fn facet_labels(site: &Site) -> Labels {
    let mut labels = Labels::new();
    labels.insert(
        "pattern".into(),
        site.patterns
            .iter()
            .map(|p| (p.slug.as_str().to_string(), p.title.clone()))
            .collect(),
    );
    labels.insert(
        "symptom".into(),
        site.symptoms
            .iter()
            .map(|s| (s.slug.as_str().to_string(), s.title.clone()))
            .collect(),
    );
    labels.insert(
        "platform".into(),
        site.platforms
            .keys()
            .map(|p| (p.slug().to_string(), p.label().to_string()))
            .collect(),
    );
    labels
}

/// Everything the index's side files are built from.
pub struct IndexInput<'a> {
    /// The concept table.
    pub concepts: &'a Concepts,
    /// The typo vocabulary.
    pub vocabulary: &'a BTreeMap<String, u32>,
    /// The site's base URL.
    pub base_url: &'a str,
    /// The facet labels ([`facet_labels`]).
    pub labels: &'a Labels,
    /// [`content_stamp`] taken before the content was read.
    pub stamp: &'a str,
}

/// Build the tantivy index of `docs` (in site order) and its side files into `dir`
/// (created; must not exist).
pub fn write_index(
    dir: &Path,
    docs: &[SearchDoc],
    input: &IndexInput<'_>,
) -> anyhow::Result<tantivy::Index> {
    let index = index::build(&dir.join("tantivy"), docs)?;
    write_side_files(dir, input)?;
    Ok(index)
}

/// [`write_index`] from documents analysed beforehand, reusing `cache`'s chunk
/// indexes ([`cache::DocCache::index`]): the same index and side files. Also returns
/// how many chunks were indexed again.
pub fn write_analyzed_index(
    dir: &Path,
    cache: &mut cache::DocCache,
    docs: &[std::sync::Arc<cache::Analyzed>],
    input: &IndexInput<'_>,
) -> anyhow::Result<(tantivy::Index, usize)> {
    let built = cache.index(&dir.join("tantivy"), docs)?;
    write_side_files(dir, input)?;
    Ok(built)
}

/// The typo vocabulary files and `blameless.json` beside the tantivy index.
fn write_side_files(dir: &Path, input: &IndexInput<'_>) -> anyhow::Result<()> {
    let vocab_dir = dir.join("vocab");
    std::fs::create_dir_all(&vocab_dir)
        .with_context(|| format!("cannot create {}", vocab_dir.display()))?;
    for (first, text) in vocabulary_files(input.vocabulary) {
        let path = vocab_dir.join(vocabulary_file_name(first));
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let meta = IndexMeta {
        format: INDEX_FORMAT,
        analyzer: analysis::ANALYZER.to_string(),
        stamp: input.stamp.to_string(),
        base_url: input.base_url.to_string(),
        concepts: input.concepts.clone(),
        labels: input.labels.clone(),
    };
    let path = dir.join("blameless.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&meta)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A new index directory under the root (`.blameless/index.new-…`), removed on drop
/// unless [`StagedIndex::install`]ed.
pub struct StagedIndex {
    root: PathBuf,
    dir: PathBuf,
}

static STAGED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn unique(root: &Path, kind: &str) -> PathBuf {
    let n = STAGED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    root.join(format!("{INDEX_DIR}.{kind}-{}-{n}", std::process::id()))
}

impl StagedIndex {
    /// A fresh staging path (not created yet).
    pub fn new(root: &Path) -> Self {
        StagedIndex {
            root: root.to_path_buf(),
            dir: unique(root, "new"),
        }
    }

    /// Where to build.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Replace `<root>/.blameless/index` by the complete staged index.
    pub fn install(self) -> anyhow::Result<()> {
        let target = self.root.join(INDEX_DIR);
        let cache = self.root.join(crate::output::CACHE_DIR);
        crate::output::create_cache_dir(&cache)
            .with_context(|| format!("cannot create {}", cache.display()))?;
        // Another process may install at the same time: move whatever is there
        // aside and retry, so the last complete index wins and none is half-written.
        let mut attempts = 0;
        loop {
            let old = unique(&self.root, "old");
            if target.exists() {
                let _ = std::fs::rename(&target, &old);
            }
            match std::fs::rename(&self.dir, &target) {
                Ok(()) => {
                    let _ = std::fs::remove_dir_all(&old);
                    break;
                }
                Err(_) if attempts < 5 => {
                    let _ = std::fs::remove_dir_all(&old);
                    attempts += 1;
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot install the search index at {}", target.display())
                    })
                }
            }
        }
        Ok(())
    }
}

impl Drop for StagedIndex {
    fn drop(&mut self) {
        if self.dir.exists() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A fingerprint of everything the index depends on: the paths, sizes and
/// modification times of `site.yaml` and every file under `content/`, and the
/// analyzer version. Cheap (metadata only), so every `search` checks it.
pub fn content_stamp(root: &Path) -> anyhow::Result<String> {
    let mut entries: Vec<(String, u64, u128)> = Vec::new();
    let site = root.join("site.yaml");
    if let Ok(m) = std::fs::symlink_metadata(&site) {
        entries.push(("site.yaml".into(), m.len(), mtime(&m)));
    }
    walk_stamp(root, &root.join("content"), &mut entries)?;
    entries.sort();
    let mut h = Fnv1a::default();
    h.write(analysis::ANALYZER.as_bytes());
    h.write(env!("CARGO_PKG_VERSION").as_bytes());
    for (p, len, t) in &entries {
        h.write(p.as_bytes());
        h.write(&len.to_le_bytes());
        h.write(&t.to_le_bytes());
    }
    Ok(format!("{:016x}-{}", h.finish(), entries.len()))
}

fn mtime(m: &std::fs::Metadata) -> u128 {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

fn walk_stamp(root: &Path, dir: &Path, out: &mut Vec<(String, u64, u128)>) -> anyhow::Result<()> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    for entry in rd {
        let entry = entry?;
        let m = entry.metadata()?;
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        if m.is_dir() {
            out.push((rel, 0, mtime(&m)));
            walk_stamp(root, &path, out)?;
        } else {
            out.push((rel, m.len(), mtime(&m)));
        }
    }
    Ok(())
}

/// Open the index under `root` if it exists and was built from the content as it is
/// now (`stamp`); `None` when it must be rebuilt.
pub fn open_if_fresh(root: &Path, stamp: &str) -> Option<Searcher> {
    let dir = root.join(INDEX_DIR);
    let meta: IndexMeta =
        serde_json::from_slice(&std::fs::read(dir.join("blameless.json")).ok()?).ok()?;
    if meta.format != INDEX_FORMAT || meta.analyzer != analysis::ANALYZER || meta.stamp != stamp {
        return None;
    }
    Searcher::open(&dir, meta).ok()
}

/// Open the index in `dir` regardless of its stamp (just built).
pub fn open_dir(dir: &Path) -> anyhow::Result<Searcher> {
    let meta: IndexMeta = serde_json::from_slice(
        &std::fs::read(dir.join("blameless.json"))
            .with_context(|| format!("cannot read the search index in {}", dir.display()))?,
    )?;
    Searcher::open(dir, meta)
}
