//! The pipeline, in order. Reads like the architecture diagram in `lib.rs`:
//!
//! ```text
//! source::load → schema (site.yaml, symptoms, patterns, pages, incidents)
//!   → site::assemble → markdown (bodies) → render (pages) → [output::write_site]
//! ```
//!
//! [`run`] does everything but writing, in memory, so `check` and `build` share it
//! and a story that passes `check` builds. Only [`build`] touches the output directory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::anchors::Anchors;
use crate::diagnostics::{self, Diagnostic, LineIndex};
use crate::highlight;
use crate::markdown::{self, MarkdownInput, RenderedMarkdown};
use crate::model::Body;
use crate::output::{self, OutputFile};
use crate::render::{self, Assets, Bodies, Sink};
use crate::schema::{self, Vocabulary};
use crate::search;
use crate::site::{self, Site};
use crate::source::{self, SourceFile, Sources};
use crate::theme;

/// Settings that do not come from the site root.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Replace `site.yaml`'s `base_url` (e.g. to preview on `http://127.0.0.1:8000/`).
    pub base_url: Option<String>,
}

/// What a run produced: how many files were rendered (0 when the site could not be
/// rendered) and every diagnostic, sorted.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Number of output files rendered.
    pub files: usize,
    /// All content problems, sorted by path and position.
    pub diagnostics: Vec<Diagnostic>,
    /// Number of incidents, patterns and pages that validated.
    pub counts: (usize, usize, usize),
}

impl Outcome {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Prints how long each stage took when `BLAMELESS_TIMINGS` is set (for
/// benchmarks; never part of normal output).
struct StageTimer {
    last: Option<std::time::Instant>,
}

impl StageTimer {
    fn from_env() -> Self {
        StageTimer {
            last: std::env::var_os("BLAMELESS_TIMINGS").map(|_| std::time::Instant::now()),
        }
    }

    fn stage(&mut self, name: &str) {
        if let Some(last) = self.last {
            eprintln!(
                "timing: {name:<10} {:>8.1} ms",
                last.elapsed().as_secs_f64() * 1000.0
            );
            self.last = Some(std::time::Instant::now());
        }
    }
}

/// Load, validate and render the site, writing nothing (`check`). Environment
/// problems (no site root, no `site.yaml`) are errors; content problems are
/// diagnostics in the outcome.
pub fn run(root: &Path, options: &Options) -> anyhow::Result<Outcome> {
    run_into(root, options, &|_file| Ok(()))
}

/// [`run`], handing every rendered file to `sink` as soon as it exists.
pub fn run_into(root: &Path, options: &Options, sink: &Sink<'_>) -> anyhow::Result<Outcome> {
    run_stages(
        root,
        options,
        sink,
        &Work {
            render: true,
            index: None,
            cache: None,
            first: None,
        },
    )
}

/// What a long-lived process (`serve`) keeps between runs so that a run after a
/// one-file edit redoes only what the edit touched: each content file's validation
/// and rendered Markdown, keyed by a hash of everything they depend on, and each
/// page's input fingerprint ([`render::RenderCache`]). The stages stay pure: a run
/// with a cache produces exactly the files and diagnostics of a run without one
/// (pages whose inputs did not change are listed in [`render::RenderCache::kept`]
/// instead of being sent to the sink again).
#[derive(Debug, Default)]
pub struct Cache {
    /// The files as last read.
    read: source::ReadCache,
    incidents: Memo<Arc<crate::model::Incident>>,
    patterns: Memo<crate::model::Pattern>,
    pages: Memo<crate::model::Page>,
    markdown: MarkdownMemo,
    /// Fingerprints of the rendered pages.
    pub render: render::RenderCache,
    /// The element ids of each content page as last rendered (see `anchors`).
    ids: std::sync::Mutex<std::collections::HashMap<String, BTreeSet<String>>>,
    /// The site and bodies of the last run without errors, for the search index.
    good: std::sync::Mutex<Option<(Arc<Site>, Bodies)>>,
}

impl Cache {
    /// The site and bodies of the last run without errors, if not taken yet (for
    /// [`index_site`], so the search index does not load and assemble again).
    pub fn take_site(&self) -> Option<(Arc<Site>, Bodies)> {
        lock(&self.good).take()
    }
}

/// Rendered Markdown by content path.
type MarkdownMemo =
    std::sync::Mutex<std::collections::HashMap<String, Memoized<Arc<RenderedMarkdown>>>>;

/// Validation results by content path.
type Memo<T> = std::sync::Mutex<std::collections::HashMap<String, Memoized<Validated<T>>>>;
type Validated<T> = (Option<T>, Vec<Diagnostic>);

/// A result and what it was computed from: a file's text (compared by pointer
/// first: an unchanged file keeps the text it was read into) and a salt standing
/// for everything else it depends on.
#[derive(Debug)]
struct Memoized<T> {
    salt: u64,
    text: Arc<str>,
    value: T,
}

impl<T: Clone> Memoized<T> {
    fn get(&self, salt: u64, text: &Arc<str>) -> Option<T> {
        let same = self.salt == salt && (Arc::ptr_eq(&self.text, text) || self.text == *text);
        same.then(|| self.value.clone())
    }
}

/// A hash of `parts`, stable within the process (the caches never leave it).
fn memo_key(parts: &[&[u8]]) -> u64 {
    use std::hash::Hasher as _;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        h.write(p);
        h.write_u8(0xff);
    }
    h.finish()
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned cache is still a valid cache: entries are replaced whole.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// [`run_into`] for a long-lived process: reuses and updates `cache`, and builds
/// nothing for search. Pages whose inputs did not change are not sent to `sink`;
/// they are in `cache.render.kept()`. When the content has errors no page is
/// rendered (the caller keeps its last good site; the report comes sooner).
pub fn run_cached(
    root: &Path,
    options: &Options,
    sink: &Sink<'_>,
    cache: &Cache,
) -> anyhow::Result<Outcome> {
    run_cached_first(root, options, sink, cache, None)
}

/// [`run_cached`], rendering the pages `first` names before the others.
pub fn run_cached_first(
    root: &Path,
    options: &Options,
    sink: &Sink<'_>,
    cache: &Cache,
    first: Option<&render::First<'_>>,
) -> anyhow::Result<Outcome> {
    run_stages(
        root,
        options,
        sink,
        &Work {
            render: true,
            index: None,
            cache: Some(cache),
            first,
        },
    )
}

/// Build the search index of the site at `root` into `dir` (which must not exist)
/// from scratch (every story analysed and indexed; `cache` is reused only for
/// validation and Markdown), with result URLs under `options.base_url`; the static
/// export goes to `sink`. Nothing is built when the content has errors (see the
/// outcome). `serve` indexes incrementally with [`index_site`]; this is the full index
/// its results are tested against.
pub fn index_cached(
    root: &Path,
    options: &Options,
    dir: &Path,
    sink: &Sink<'_>,
    cache: &Cache,
) -> anyhow::Result<Outcome> {
    let stamp = search::content_stamp(root)?;
    run_stages(
        root,
        options,
        sink,
        &Work {
            render: false,
            index: Some(IndexJob {
                dir,
                stamp: &stamp,
                export: true,
                preview_urls: true,
            }),
            cache: Some(cache),
            first: None,
        },
    )
}

/// What a run produces besides diagnostics.
struct Work<'a> {
    /// Render the pages (not needed to rebuild the search index alone).
    render: bool,
    /// Build the tantivy index (skipped when there are errors).
    index: Option<IndexJob<'a>>,
    /// Reuse and update a long-lived process's cache.
    cache: Option<&'a Cache>,
    /// Pages to render before the others.
    first: Option<&'a render::First<'a>>,
}

/// Where and how to build the search index.
struct IndexJob<'a> {
    /// The directory to build the tantivy index in.
    dir: &'a Path,
    /// The content stamp to record in it.
    stamp: &'a str,
    /// Export the static index into the sink.
    export: bool,
    /// Result URLs under `Options::base_url` (a preview server's) instead of the
    /// site's own base URL.
    preview_urls: bool,
}

fn run_stages(
    root: &Path,
    options: &Options,
    sink: &Sink<'_>,
    work: &Work<'_>,
) -> anyhow::Result<Outcome> {
    if let Some(url) = &options.base_url {
        if !schema::is_http_url(url) {
            anyhow::bail!("--base-url must be an http(s) URL, found `{url}`");
        }
    }
    let mut timer = StageTimer::from_env();
    let sources = source::load_with(root, work.cache.map(|c| &c.read))?;
    timer.stage("load");
    let mut diags = sources.diagnostics.clone();

    // A site.yaml that could not be read is already reported; do not add "missing
    // title" and friends on top.
    let (config, mut d) = if sources.site_config_failed() {
        (None, Vec::new())
    } else {
        schema::site_config(&sources.site_config)
    };
    diags.append(&mut d);
    // Result URLs of `blameless search` use the site's own base URL, not a preview's.
    let site_base_url = config.as_ref().map(|c| c.base_url.clone());
    let config = config.map(|mut c| {
        if let Some(url) = &options.base_url {
            let (base_url, base_path) = schema::normalize_base_url(url);
            c.base_url = base_url;
            c.base_path = base_path;
        }
        c
    });

    let mut vocab = Vocabulary::default();
    let symptoms = match &sources.symptoms {
        Some(file) => {
            let (symptoms, names, mut d) = schema::symptoms(file);
            vocab.symptoms_known = !names.is_empty() || !d.iter().any(Diagnostic::is_error);
            diags.append(&mut d);
            vocab.symptoms = names;
            for sym in &symptoms {
                for name in sym.synonyms.iter().chain(std::iter::once(&sym.title)) {
                    vocab
                        .symptom_synonyms
                        .entry(name.to_lowercase())
                        .or_insert_with(|| sym.slug.to_string());
                }
            }
            symptoms
        }
        None if sources.symptoms_failed() => Vec::new(),
        None => {
            diags.push(
                Diagnostic::error(
                    "content/symptoms.yaml",
                    1,
                    1,
                    "missing the symptom vocabulary `content/symptoms.yaml`",
                )
                .with_help(
                    "create it as a list of `- slug: ..., title: ..., synonyms: [...]` entries",
                ),
            );
            Vec::new()
        }
    };
    let failed = |kind: &'static str| {
        sources
            .failed
            .iter()
            .filter(move |(k, _)| k == kind)
            .map(|(_, s)| s.clone())
    };
    vocab.patterns = sources
        .patterns
        .iter()
        .map(|f| schema::stem(&f.rel_path).to_string())
        .chain(failed("patterns"))
        .collect();
    vocab.incidents = sources
        .incidents
        .iter()
        .map(|f| schema::stem(&f.rel_path).to_string())
        .chain(failed("incidents"))
        .collect();

    let cache = work.cache;
    let (patterns, mut d) = validate_all(
        &sources.patterns,
        cache.map(|c| (&c.patterns, 0)),
        schema::pattern,
    );
    diags.append(&mut d);
    let (pages, mut d) = validate_all(&sources.pages, cache.map(|c| (&c.pages, 0)), schema::page);
    diags.append(&mut d);
    // An incident's validation depends on its text and on every id it may name.
    let vocab_key = memo_key(&[format!("{vocab:?}").as_bytes()]);
    let (incidents, mut d) = validate_all(
        &sources.incidents,
        cache.map(|c| (&c.incidents, vocab_key)),
        |f| {
            let (incident, d) = schema::incident(f, &vocab);
            (incident.map(Arc::new), d)
        },
    );
    timer.stage("validate");
    diags.append(&mut d);

    if sources.incidents.is_empty() && !sources.failed.iter().any(|(k, _)| k == "incidents") {
        diags.push(
            Diagnostic::warning("content/incidents", 1, 1, "no incidents yet")
                .with_help("add one with `blameless new \"Title\" --org NAME`"),
        );
    }

    // Every content file that exists is a valid link target, even one with errors of
    // its own (reported once, in that file).
    let base_path = config
        .as_ref()
        .map_or_else(|| "/".to_string(), |c| c.base_path.clone());
    let mut urls: BTreeMap<String, String> = BTreeMap::new();
    for (files, prefix) in [
        (&sources.incidents, "incidents/"),
        (&sources.patterns, "patterns/"),
        (&sources.pages, ""),
    ] {
        for f in files {
            urls.insert(
                f.rel_path.clone(),
                format!("{base_path}{prefix}{}/", schema::stem(&f.rel_path)),
            );
        }
    }
    let counts = (incidents.len(), patterns.len(), pages.len());
    let Some(config) = config else {
        // Without a configuration nothing can be rendered, but every body is still
        // checked so all problems show up in one run.
        for (_, r) in check_bodies(&sources, &BTreeSet::new(), &base_path, &urls) {
            diags.extend(r.diagnostics);
        }
        diagnostics::sort(&mut diags);
        return Ok(Outcome {
            diagnostics: diags,
            counts,
            ..Outcome::default()
        });
    };
    // Files that failed validation are not rendered, but their Markdown is checked.
    let valid: BTreeSet<&str> = incidents
        .iter()
        .map(|i| i.path.as_str())
        .chain(patterns.iter().map(|p| p.path.as_str()))
        .chain(pages.iter().map(|p| p.path.as_str()))
        .collect();
    let unrendered = check_bodies(&sources, &valid, &base_path, &urls);
    for (_, r) in &unrendered {
        diags.extend(r.diagnostics.iter().cloned());
    }
    let (site, mut d) = site::assemble(config, incidents, patterns, symptoms, pages);
    let site = Arc::new(site);
    timer.stage("assemble");
    diags.append(&mut d);

    let (bodies, mut d) = render_bodies(&site, &urls, cache.map(|c| &c.markdown));
    timer.stage("markdown");
    diags.append(&mut d);
    // `#fragment` links are checked against the pages as they are rendered.
    let rendered_bodies = (site.incidents.iter().map(|i| i.path.as_str()))
        .zip(bodies.incidents.iter().map(|b| &**b))
        .chain(
            site.patterns
                .iter()
                .map(|p| p.path.as_str())
                .zip(bodies.patterns.iter().map(|b| &**b)),
        )
        .chain(
            site.pages
                .iter()
                .map(|p| p.path.as_str())
                .zip(bodies.pages.iter().map(|b| &**b)),
        );
    let anchors = Anchors::new(
        rendered_bodies
            .chain(unrendered.iter().map(|(path, r)| (path.as_str(), r)))
            .map(|(path, r)| (path, r.fragment_links.as_slice())),
        &urls,
        &site.config.base_path,
    );
    // A long-lived process renders only what changed, so it remembers the ids of
    // every content page it rendered, for links into the pages it keeps.
    let content_pages: BTreeSet<String> = match cache {
        Some(_) => urls
            .values()
            .filter_map(|url| url.strip_prefix(site.config.base_path.as_str()))
            .map(|dir| format!("{dir}index.html"))
            .collect(),
        None => BTreeSet::new(),
    };
    let sink = &|file: OutputFile| {
        anchors.record(&file);
        if let Some(cache) = cache {
            if content_pages.contains(&file.path) {
                let ids = crate::anchors::element_ids(&String::from_utf8_lossy(&file.bytes));
                lock(&cache.ids).insert(file.path.clone(), ids);
            }
        }
        sink(file)
    };

    // The search index is built on one thread while the pages render on the others.
    let index_job = || -> anyhow::Result<usize> {
        match &work.index {
            Some(job) if !diags.iter().any(Diagnostic::is_error) => {
                let base_url = match &site_base_url {
                    Some(url) if !job.preview_urls => url,
                    _ => &site.config.base_url,
                };
                let files = build_search(&site, &bodies, job.dir, job.stamp, base_url)?;
                let n = files.len();
                if work.render || job.export {
                    for file in files {
                        sink(file)?;
                    }
                }
                Ok(n)
            }
            _ => Ok(0),
        }
    };
    // A long-lived process keeps its last good site when the content has errors,
    // so rendering pages it would throw away only delays the report.
    let discard = cache.is_some() && diags.iter().any(Diagnostic::is_error);
    let render_job = || -> anyhow::Result<(usize, Vec<Diagnostic>)> {
        if !work.render || discard {
            return Ok((0, Vec::new()));
        }
        let theme = theme::merge(&sources.templates, &sources.static_files);
        let syntax_css = highlight::stylesheet();
        render::render_with(
            &site,
            &bodies,
            &Assets {
                theme: &theme,
                syntax_css: &syntax_css,
            },
            sink,
            cache.map(|c| &c.render),
            work.first,
        )
    };
    let (rendered, indexed) = rayon::join(render_job, index_job);
    let (files, mut d) = rendered?;
    let search_files = indexed?;
    diags.append(&mut d);
    if let (Some(cache), false) = (cache, discard) {
        let mut ids = lock(&cache.ids);
        ids.retain(|path, _| content_pages.contains(path));
        anchors.fill(|path| ids.get(path).cloned());
    }
    diags.append(&mut anchors.check());
    timer.stage("render");
    if let Some(cache) = cache.filter(|_| !diags.iter().any(Diagnostic::is_error)) {
        *lock(&cache.good) = Some((Arc::clone(&site), bodies.clone()));
    }
    diagnostics::sort(&mut diags);
    Ok(Outcome {
        files: files + search_files,
        diagnostics: diags,
        counts,
    })
}

/// Build the tantivy index of `site` into `dir` and export the static index.
fn build_search(
    site: &Site,
    bodies: &Bodies,
    dir: &Path,
    stamp: &str,
    base_url: &str,
) -> anyhow::Result<Vec<output::OutputFile>> {
    let mut timer = StageTimer::from_env();
    let concepts = search::concepts(site);
    let docs = search::documents(site, bodies, &concepts);
    let vocabulary = search::typo_vocabulary(&docs, &concepts);
    timer.stage("s-docs");
    let index = search::write_index(
        dir,
        &docs,
        &search::IndexInput {
            concepts: &concepts,
            vocabulary: &vocabulary,
            base_url,
            stamp,
            labels: &search::facet_labels(site),
        },
    )?;
    timer.stage("s-index");
    let input = search::export::ExportInput {
        site,
        docs: &docs.iter().collect::<Vec<_>>(),
        concepts: &concepts,
        vocabulary: &vocabulary,
    };
    let files = search::export::export(&index, &input)?;
    timer.stage("s-export");
    Ok(files)
}

/// What [`index_site`] made.
#[derive(Debug)]
pub struct SiteIndex {
    /// The static export (`search/…`).
    pub files: Vec<output::OutputFile>,
    /// Stories analysed again (the others were reused).
    pub analysed: usize,
    /// Chunks indexed again, of [`SiteIndex::chunks`].
    pub chunks_indexed: usize,
    /// Chunks the index is made of.
    pub chunks: usize,
}

/// `serve`'s search index: what [`build`] indexes, for a site a good [`run_cached`] assembled
/// (see [`Cache::take_site`]), with result URLs under its (preview) base URL, reusing
/// from `docs` the analysed stories and the chunk indexes that did not change. The
/// index in `dir` and the static export are those a full build of the same content
/// makes.
pub fn index_site(
    site: &Site,
    bodies: &Bodies,
    dir: &Path,
    docs: &mut search::cache::DocCache,
) -> anyhow::Result<SiteIndex> {
    let mut timer = StageTimer::from_env();
    let concepts = search::concepts(site);
    let update = docs.update(site, bodies, &concepts);
    timer.stage("s-docs");
    let (index, chunks_indexed) = search::write_analyzed_index(
        dir,
        docs,
        &update.docs,
        &search::IndexInput {
            concepts: &concepts,
            vocabulary: &update.vocabulary,
            base_url: &site.config.base_url,
            // Never checked: a server opens the index it just built.
            stamp: "serve",
            labels: &search::facet_labels(site),
        },
    )?;
    timer.stage("s-index");
    let input = search::export::ExportInput {
        site,
        docs: &update.docs.iter().map(|a| &a.doc).collect::<Vec<_>>(),
        concepts: &concepts,
        vocabulary: &update.vocabulary,
    };
    let files = search::export::export(&index, &input)?;
    timer.stage("s-export");
    Ok(SiteIndex {
        files,
        analysed: update.analysed,
        chunks_indexed,
        chunks: docs.chunk_count(),
    })
}

/// Validate files in parallel; results keep file order. With a memo (and a salt
/// standing for everything else the result depends on), a file whose text did not
/// change is not validated again.
fn validate_all<T: Send + Clone>(
    files: &[SourceFile],
    memo: Option<(&Memo<T>, u64)>,
    f: impl Fn(&SourceFile) -> Validated<T> + Sync + Send,
) -> (Vec<T>, Vec<Diagnostic>) {
    let results: Vec<Validated<T>> = files
        .par_iter()
        .map(|file| {
            let Some((memo, salt)) = memo else {
                return f(file);
            };
            if let Some(v) = lock(memo)
                .get(&file.rel_path)
                .and_then(|m| m.get(salt, &file.text))
            {
                return v;
            }
            let v = f(file);
            let entry = Memoized {
                salt,
                text: Arc::clone(&file.text),
                value: v.clone(),
            };
            lock(memo).insert(file.rel_path.clone(), entry);
            v
        })
        .collect();
    let mut items = Vec::with_capacity(results.len());
    let mut diags = Vec::new();
    for (item, mut d) in results {
        items.extend(item);
        diags.append(&mut d);
    }
    (items, diags)
}

/// Render every Markdown body in parallel. Links to other content files
/// (`other-story.md`, `../patterns/x.md`) resolve to their pages.
fn render_bodies(
    site: &Site,
    urls: &BTreeMap<String, String>,
    memo: Option<&MarkdownMemo>,
) -> (Bodies, Vec<Diagnostic>) {
    let config = &site.config;
    // A body's HTML depends on its text, where it starts, the base path and the URL
    // of every content file it may link to.
    let salt =
        memo.map(|_| memo_key(&[config.base_path.as_bytes(), format!("{urls:?}").as_bytes()]));
    let render_one = |path: &str, body: &Body| {
        let (Some(memo), Some(salt)) = (memo, salt) else {
            return Arc::new(render_markdown(path, body, &config.base_path, urls));
        };
        // The body's offset is a function of the text.
        if let Some(v) = lock(memo)
            .get(path)
            .and_then(|m| m.get(salt, &body.file_text))
        {
            return v;
        }
        let v = Arc::new(render_markdown(path, body, &config.base_path, urls));
        let entry = Memoized {
            salt,
            text: Arc::clone(&body.file_text),
            value: Arc::clone(&v),
        };
        lock(memo).insert(path.to_string(), entry);
        v
    };
    let incidents: Vec<Arc<RenderedMarkdown>> = site
        .incidents
        .par_iter()
        .map(|i| render_one(&i.path, &i.body))
        .collect();
    let patterns: Vec<Arc<RenderedMarkdown>> = site
        .patterns
        .par_iter()
        .map(|p| render_one(&p.path, &p.body))
        .collect();
    let pages: Vec<Arc<RenderedMarkdown>> = site
        .pages
        .par_iter()
        .map(|p| render_one(&p.path, &p.body))
        .collect();
    let mut diags = Vec::new();
    for r in incidents.iter().chain(&patterns).chain(&pages) {
        diags.extend(r.diagnostics.iter().cloned());
    }
    (
        Bodies {
            incidents,
            patterns,
            pages,
        },
        diags,
    )
}

/// The Markdown diagnostics of every content file not in `rendered` (files that
/// failed validation, or all of them when `site.yaml` is broken): their pages are not
/// built, but their bodies' problems belong in the same report.
fn check_bodies(
    sources: &Sources,
    rendered: &BTreeSet<&str>,
    base_path: &str,
    urls: &BTreeMap<String, String>,
) -> Vec<(String, RenderedMarkdown)> {
    let files: Vec<&SourceFile> = sources
        .incidents
        .iter()
        .chain(&sources.patterns)
        .chain(&sources.pages)
        .filter(|f| !rendered.contains(f.rel_path.as_str()))
        .collect();
    files
        .par_iter()
        .filter_map(|f| {
            let body = schema::body(f)?;
            let rendered = render_markdown(&f.rel_path, &body, base_path, urls);
            Some((f.rel_path.clone(), rendered))
        })
        .collect()
}

/// Render one Markdown body; links to other content files resolve through `urls`
/// (content path → site URL).
fn render_markdown(
    path: &str,
    body: &Body,
    base_path: &str,
    urls: &BTreeMap<String, String>,
) -> RenderedMarkdown {
    let index = LineIndex::new(&body.file_text);
    let input = MarkdownInput {
        path,
        file_text: &body.file_text,
        body_offset: body.offset,
        line_index: &index,
        base_path,
    };
    let resolve =
        |link: &str| resolve_link(path, link).and_then(|target| urls.get(&target).cloned());
    markdown::render(&input, &resolve)
}

/// The content path a relative link from `from` names: `content/incidents/a.md` +
/// `../patterns/x.md` → `content/patterns/x.md`. `None` if it climbs out of the root.
pub fn resolve_link(from: &str, link: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for seg in link.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// `blameless build`: run the pipeline and, only if there is no error, write the
/// output atomically. Returns the outcome (its diagnostics tell why nothing was
/// written). The output directory is checked before any work.
pub fn build(root: &Path, out: &Path, options: &Options) -> anyhow::Result<Outcome> {
    // Files stream into a staging directory beside `out` as they are rendered; it
    // replaces `out` only if the whole run found no error, and is removed otherwise.
    // The search index is staged the same way under `.blameless/`.
    source::check_root(root)?;
    let stamp = search::content_stamp(root)?;
    let staging = output::Staging::begin(root, out)?;
    let index_dir = search::StagedIndex::new(root);
    let outcome = run_stages(
        root,
        options,
        &|file| staging.write(&file),
        &Work {
            render: true,
            index: Some(IndexJob {
                dir: index_dir.path(),
                stamp: &stamp,
                export: true,
                preview_urls: false,
            }),
            cache: None,
            first: None,
        },
    )?;
    if !outcome.has_errors() {
        staging.commit()?;
        index_dir.install()?;
    }
    Ok(outcome)
}

/// The search index of the site at `root`, rebuilt first if the content changed since
/// it was built (or it does not exist). `Err(outcome)` when the content has errors:
/// the outcome's diagnostics say why, and no index is used.
pub fn open_search(root: &Path) -> anyhow::Result<Result<search::Searcher, Outcome>> {
    source::check_root(root)?;
    let stamp = search::content_stamp(root)?;
    if let Some(searcher) = search::open_if_fresh(root, &stamp) {
        return Ok(Ok(searcher));
    }
    let index_dir = search::StagedIndex::new(root);
    let outcome = run_stages(
        root,
        &Options::default(),
        &|_file| Ok(()),
        &Work {
            render: false,
            index: Some(IndexJob {
                dir: index_dir.path(),
                stamp: &stamp,
                export: false,
                preview_urls: false,
            }),
            cache: None,
            first: None,
        },
    )?;
    if outcome.has_errors() {
        return Ok(Err(outcome));
    }
    index_dir.install()?;
    Ok(Ok(search::open_dir(&root.join(search::INDEX_DIR))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_relative_to_the_file() {
        assert_eq!(
            resolve_link("content/incidents/a.md", "b.md").as_deref(),
            Some("content/incidents/b.md")
        );
        assert_eq!(
            resolve_link("content/incidents/a.md", "../patterns/x.md").as_deref(),
            Some("content/patterns/x.md")
        );
        assert_eq!(resolve_link("content/a.md", "../../../x.md"), None);
    }
}
