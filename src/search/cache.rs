//! Analysed search documents kept between runs of a long-lived process (`serve`), so
//! that re-indexing after a one-story edit analyses only the stories whose inputs
//! changed.
//!
//! In: an assembled [`Site`] and its [`Bodies`] (handed over by the page rebuild).
//! Out: every incident as an [`Analyzed`] document in site order, the typo
//! vocabulary (kept up to date by adding and removing only the changed documents'
//! words), and the tantivy index ([`DocCache::index`]).
//!
//! The index is made of chunks: runs of consecutive documents in site order, cut
//! after each document whose id hashes to a boundary, so that an edit, an insertion
//! or a removal changes only the chunk it falls in. Each chunk is a small tantivy
//! index of its own, kept while its documents stay the same; a new index is the
//! chunks merged in order (tantivy's segment merge copies postings, fieldnorms and
//! stored fields without indexing text again). The merged index has one segment with
//! doc ids in site order, so its scores, tie-breaks and static export are those of a
//! full build ([`super::index::build`]) of the same documents.
//!
//! A document is reused when its story's file text and its body's plain text are the
//! same as last time (usually the very same shared values, which the pipeline's
//! caches hand over again, so the check is a pointer comparison) and nothing
//! site-wide it reads changed: the symptoms (titles, synonyms, concepts) and the
//! pattern titles.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::analysis::Concepts;
use super::{index, SearchDoc};
use crate::markdown::RenderedMarkdown;
use crate::render::Bodies;
use crate::site::Site;

/// One incident ready for the index: its [`SearchDoc`], its text fields analysed, and
/// its distinct surface words (for the typo vocabulary).
#[derive(Debug)]
pub struct Analyzed {
    /// The document.
    pub doc: SearchDoc,
    /// [`index::analyzed_text`] of each of the five text fields.
    fields: [String; 5],
    /// Distinct surface words of the text fields.
    words: Vec<String>,
}

impl Analyzed {
    fn new(doc: SearchDoc) -> Self {
        let fields = doc.fields.each_ref().map(|f| index::analyzed_text(f));
        let words = super::document_words(&doc).into_iter().collect();
        Analyzed { doc, fields, words }
    }

    /// The document and its analysed text fields, as [`index::build_analyzed`] takes them.
    pub fn texts(&self) -> (&SearchDoc, [&str; 5]) {
        (&self.doc, self.fields.each_ref().map(String::as_str))
    }
}

/// What one story's document was made from.
#[derive(Debug)]
struct Entry {
    /// Hash of the site-wide inputs ([`site_salt`]).
    salt: u64,
    /// The story's file text (compared by identity, then by value).
    file_text: Arc<str>,
    /// Its rendered body (compared by identity, then by plain text).
    body: Arc<RenderedMarkdown>,
    analyzed: Arc<Analyzed>,
}

/// Analysed documents by incident path, the document frequency of every surface
/// word among them, and the chunk indexes of the last index.
#[derive(Debug)]
pub struct DocCache {
    entries: HashMap<String, Entry>,
    counts: HashMap<String, u32>,
    /// Where the chunk indexes live (created when needed, removed by the caller).
    dir: PathBuf,
    /// The chunks of the last index, in site order.
    chunks: Vec<Chunk>,
    /// Number of the next chunk directory.
    next: u64,
    /// On average one document in this many ends a chunk.
    chunk_docs: u64,
}

/// One chunk: its documents (kept so that their addresses, which identify them, are
/// not reused) and their tantivy index.
#[derive(Debug)]
struct Chunk {
    docs: Vec<Arc<Analyzed>>,
    dir: PathBuf,
    index: tantivy::Index,
}

/// What to do for one chunk of a new index.
enum Plan {
    /// Reuse an existing chunk index.
    Keep(Chunk),
    /// Index these documents into a new chunk directory.
    Make(Vec<Arc<Analyzed>>, PathBuf),
}

/// On average one document in this many ends a chunk: at 10k stories, 80 chunks of
/// which an edit re-indexes one.
const CHUNK_DOCS: u64 = 128;

/// What [`DocCache::update`] produced.
pub struct Update {
    /// Every incident's document, in site order.
    pub docs: Vec<Arc<Analyzed>>,
    /// The typo vocabulary (as [`super::typo_vocabulary`] computes it).
    pub vocabulary: BTreeMap<String, u32>,
    /// How many documents were analysed again (the rest were reused).
    pub analysed: usize,
}

impl DocCache {
    /// An empty cache whose chunk indexes go under `dir`.
    pub fn new(dir: PathBuf) -> Self {
        DocCache::with_chunk_docs(dir, CHUNK_DOCS)
    }

    /// [`DocCache::new`] with chunks of `n` documents on average (tests use small ones
    /// to have many chunks on a small site).
    pub fn with_chunk_docs(dir: PathBuf, n: u64) -> Self {
        DocCache {
            entries: HashMap::new(),
            counts: HashMap::new(),
            dir,
            chunks: Vec::new(),
            next: 0,
            chunk_docs: n.max(1),
        }
    }

    /// Number of chunks of the last index.
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// Build the tantivy index of `docs` (from [`DocCache::update`], in site order) in
    /// `out` (which must not exist), reusing the chunks whose documents did not
    /// change, indexing the others (in parallel), and removing the chunks no longer
    /// used. Returns the index and how many chunks were indexed.
    pub fn index(
        &mut self,
        out: &Path,
        docs: &[Arc<Analyzed>],
    ) -> anyhow::Result<(tantivy::Index, usize)> {
        let mut old: Vec<Option<Chunk>> = std::mem::take(&mut self.chunks)
            .into_iter()
            .map(Some)
            .collect();
        // A chunk is reused only with exactly the same documents (by identity).
        let mut by_first: HashMap<*const Analyzed, usize> = HashMap::new();
        for (i, c) in old.iter().enumerate() {
            if let Some(first) = c.as_ref().and_then(|c| c.docs.first()) {
                by_first.insert(Arc::as_ptr(first), i);
            }
        }
        let mut plan: Vec<Plan> = Vec::new();
        for run in chunks(docs, self.chunk_docs) {
            let same = by_first.get(&Arc::as_ptr(&run[0])).copied().filter(|&i| {
                old[i].as_ref().is_some_and(|c| {
                    c.docs.len() == run.len()
                        && c.docs.iter().zip(run).all(|(a, b)| Arc::ptr_eq(a, b))
                })
            });
            match same.and_then(|i| old[i].take()) {
                Some(chunk) => plan.push(Plan::Keep(chunk)),
                None => {
                    let dir = self.dir.join(format!("chunk-{}", self.next));
                    self.next += 1;
                    plan.push(Plan::Make(run.to_vec(), dir));
                }
            }
        }
        for gone in old.into_iter().flatten() {
            let _ = std::fs::remove_dir_all(&gone.dir);
        }
        let built = plan.iter().filter(|p| matches!(p, Plan::Make(..))).count();
        let made: Vec<anyhow::Result<Chunk>> = plan
            .into_par_iter()
            .map(|p| match p {
                Plan::Keep(chunk) => Ok(chunk),
                Plan::Make(docs, dir) => {
                    match index::build_analyzed(&dir, docs.iter().map(|a| a.texts())) {
                        Ok(index) => Ok(Chunk { docs, dir, index }),
                        Err(e) => {
                            let _ = std::fs::remove_dir_all(&dir);
                            Err(e.context(format!("cannot index {}", dir.display())))
                        }
                    }
                }
            })
            .collect();
        // Chunks that were made stay usable even if another failed.
        let mut failed = None;
        for chunk in made {
            match chunk {
                Ok(chunk) => self.chunks.push(chunk),
                Err(e) => failed = failed.or(Some(e)),
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        let index = if self.chunks.is_empty() {
            index::build_analyzed(out, std::iter::empty())?
        } else {
            let parts: Vec<tantivy::Index> = self.chunks.iter().map(|c| c.index.clone()).collect();
            index::merge(out, &parts)?
        };
        Ok((index, built))
    }

    /// The documents of `site` (reusing those whose inputs did not change) and the
    /// typo vocabulary; forgets the stories that are gone.
    pub fn update(&mut self, site: &Site, bodies: &Bodies, concepts: &Concepts) -> Update {
        let salt = site_salt(site);
        let matcher = concepts.matcher();
        let entries = &self.entries;
        let fresh: Vec<(Entry, bool)> = site
            .incidents
            .par_iter()
            .zip(&bodies.incidents)
            .map(|(inc, body)| {
                let file_text = &inc.body.file_text;
                if let Some(e) = entries.get(&inc.path) {
                    // Usually the very same values; a story added or removed changes
                    // the link targets, so every body is rendered again (equal).
                    if e.salt == salt
                        && (Arc::ptr_eq(&e.file_text, file_text) || e.file_text == *file_text)
                        && (Arc::ptr_eq(&e.body, body) || e.body.plain_text == body.plain_text)
                    {
                        let kept = Entry {
                            salt,
                            file_text: Arc::clone(file_text),
                            body: Arc::clone(body),
                            analyzed: Arc::clone(&e.analyzed),
                        };
                        return (kept, false);
                    }
                }
                let doc = super::document(site, inc, &body.plain_text, &matcher);
                let made = Entry {
                    salt,
                    file_text: Arc::clone(file_text),
                    body: Arc::clone(body),
                    analyzed: Arc::new(Analyzed::new(doc)),
                };
                (made, true)
            })
            .collect();
        let analysed = fresh.iter().filter(|(_, new)| *new).count();
        let docs: Vec<Arc<Analyzed>> = fresh.iter().map(|(e, _)| Arc::clone(&e.analyzed)).collect();
        let mut old = std::mem::take(&mut self.entries);
        for (inc, (entry, _)) in site.incidents.iter().zip(fresh) {
            if let Some(before) = old.remove(&inc.path) {
                if Arc::ptr_eq(&before.analyzed, &entry.analyzed) {
                    self.entries.insert(inc.path.clone(), entry);
                    continue;
                }
                self.count(&before.analyzed, false);
            }
            self.count(&entry.analyzed, true);
            self.entries.insert(inc.path.clone(), entry);
        }
        // Stories that are gone.
        for (_, before) in old {
            self.count(&before.analyzed, false);
        }
        let vocabulary = super::vocabulary_of_counts(
            self.counts.iter().map(|(w, n)| (w.clone(), *n)),
            docs.len(),
            concepts,
        );
        Update {
            docs,
            vocabulary,
            analysed,
        }
    }

    /// Add (or remove) a document's words to the document frequencies.
    fn count(&mut self, a: &Analyzed, add: bool) {
        for w in &a.words {
            if add {
                *self.counts.entry(w.clone()).or_default() += 1;
            } else if let Some(n) = self.counts.get_mut(w) {
                *n -= 1;
                if *n == 0 {
                    self.counts.remove(w);
                }
            }
        }
    }
}

/// `docs` cut into chunks: after each document whose id hashes to a boundary (one in
/// `n` on average).
fn chunks(docs: &[Arc<Analyzed>], n: u64) -> impl Iterator<Item = &[Arc<Analyzed>]> {
    docs.split_inclusive(move |a| {
        let mut h = crate::model::Fnv1a::default();
        h.write(a.doc.id.as_bytes());
        h.finish() % n == n - 1
    })
}

/// A hash of what every document reads besides its own story: the symptoms (titles,
/// synonyms; the concept table is made of them) and the patterns' titles.
fn site_salt(site: &Site) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{:?}", site.symptoms).hash(&mut h);
    for p in &site.patterns {
        p.slug.as_str().hash(&mut h);
        p.title.hash(&mut h);
    }
    h.finish()
}
