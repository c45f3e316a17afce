//! Views and pages: builds the [`crate::views`] structs from the [`Site`] and renders
//! every page with tera (the only module that uses tera). Pages are rendered in
//! parallel; the result is a sorted list of [`OutputFile`]s held in memory, so
//! `check` can run the whole pipeline and write nothing.
//!
//! Template problems (a syntax error in a site's override, a missing variable) are
//! content problems: they become diagnostics pointing at the template, naming the
//! page being rendered.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use crate::diagnostics::Diagnostic;
use crate::markdown::RenderedMarkdown;
use crate::model::{slugify, Incident, Platform, Slug};
use crate::output::OutputFile;
use crate::site::Site;
use crate::theme::{Origin, Theme};
use crate::views::*;

/// Rendered Markdown bodies, aligned with the site's vectors.
///
/// Shared (`Arc`), so a long-lived process's cache hands the same body to every run.
#[derive(Debug, Clone, Default)]
pub struct Bodies {
    /// One per [`Site::incidents`].
    pub incidents: Vec<Arc<RenderedMarkdown>>,
    /// One per [`Site::patterns`].
    pub patterns: Vec<Arc<RenderedMarkdown>>,
    /// One per [`Site::pages`].
    pub pages: Vec<Arc<RenderedMarkdown>>,
}

/// Everything `render` needs beyond the site.
pub struct Assets<'a> {
    /// The merged theme.
    pub theme: &'a Theme,
    /// Generated syntax-highlighting CSS.
    pub syntax_css: &'a str,
}

/// A page waiting to be rendered: output path, template, context, source (for
/// error messages).
struct Job {
    path: String,
    template: &'static str,
    context: tera::Context,
    source: String,
}

/// A page to render, built inside the parallel render loop so views and contexts
/// never all sit in memory at once and view building uses every core.
type Work<'a> = Box<dyn FnOnce() -> Job + Send + 'a>;

/// URL builder bound to the site's base path and base URL.
struct Urls<'a> {
    base_path: &'a str,
    base_url: &'a str,
}

impl Urls<'_> {
    fn rel(&self, path: &str) -> String {
        format!("{}{}", self.base_path, path)
    }
    fn abs(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
    fn incident(&self, id: &str) -> String {
        self.rel(&format!("incidents/{id}/"))
    }
    fn term(&self, kind: &str, slug: &str) -> String {
        self.rel(&format!("{kind}/{slug}/"))
    }
}

/// Stable short hash for cache-busting query strings (FNV-1a, 32 bits).
fn short_hash(bytes: &[u8]) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

/// Render the whole site: HTML pages, feed, sitemap, robots.txt, the theme's static
/// files and the syntax stylesheet. Output paths are sorted.
pub fn render(
    site: &Site,
    bodies: &Bodies,
    assets: &Assets<'_>,
    sink: &Sink<'_>,
) -> anyhow::Result<(usize, Vec<Diagnostic>)> {
    render_with(site, bodies, assets, sink, None, None)
}

/// Pages to render before the others, and what to do once they are in the sink: a
/// long-lived process shows the pages open in a browser before the rest of a large
/// rebuild is done (as Hugo's fast render mode does). Only pages a run renders
/// anyway are moved; what is rendered does not change.
pub struct First<'a> {
    /// Output paths (`patterns/dns/index.html`).
    pub pages: &'a std::collections::BTreeSet<String>,
    /// Called once those of them that were rendered have gone to the sink.
    pub then: &'a (dyn Fn() + Sync),
}

/// What a long-lived process (`serve`) remembers between renders: the fingerprint
/// of each page's inputs (template set, template name and the page's whole tera
/// context), so a page whose inputs did not change is not rendered again.
///
/// A page's bytes are a pure function of the templates and its context, so skipping
/// it is exact: an incremental render leaves the same bytes as a full one. Skipped
/// pages are not handed to the sink; they are listed in [`RenderCache::kept`] and the
/// caller keeps the bytes it has.
#[derive(Debug, Default)]
pub struct RenderCache {
    /// Fingerprint of the templates the fingerprints below were taken with.
    theme: std::sync::Mutex<u64>,
    /// Output path → fingerprint of the inputs it was last rendered from.
    pages: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    /// Pages of the last render whose inputs had not changed (not sent to the sink).
    kept: std::sync::Mutex<Vec<String>>,
    /// Output path → the id hashes of the incidents it showed, for the pages that
    /// show only some incidents.
    deps: std::sync::Mutex<std::collections::HashMap<String, Vec<u64>>>,
    /// Fingerprint of everything but the incidents (configuration, patterns,
    /// symptoms, pages, the set of incident ids, the site view).
    global: std::sync::Mutex<u64>,
    /// Fingerprint of each pattern (and its body), in site order.
    patterns: std::sync::Mutex<Vec<u64>>,
    /// Incident id hash → fingerprints of the incident (see [`Print`]).
    incidents: std::sync::Mutex<std::collections::HashMap<u64, Print>>,
    /// Incident id hash → its data-file record, serialised, with the file text and
    /// base URL it was made from.
    records: std::sync::Mutex<std::collections::HashMap<u64, Record>>,
}

/// A data-file record and what it was made from.
#[derive(Debug, Clone)]
struct Record {
    file_text: Arc<str>,
    base_url: Arc<str>,
    text: Arc<crate::data::RecordText>,
}

/// What a [`RenderCache`] remembers of one incident.
#[derive(Debug, Clone)]
struct Print {
    /// Its file's text, to tell at once (same pointer) that it was not read again.
    file_text: Arc<str>,
    /// Its file (path and text): its own page is a function of this and the site.
    text: u64,
    /// Every field but the body: all that other pages show of it (cards, related
    /// lists, pattern pages, feeds).
    shown: u64,
    /// What the related-incident ranking and the site order read: its date and its
    /// patterns.
    rank: u64,
}

impl Print {
    fn of(inc: &Incident) -> Print {
        use std::hash::Hasher as _;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        h.write(inc.path.as_bytes());
        h.write(inc.body.file_text.as_bytes());
        let text = h.finish();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let fields = Incident {
            body: crate::model::Body {
                file_text: Arc::from(""),
                offset: 0,
            },
            ..inc.clone()
        };
        debug_hash(&mut h, &fields);
        let shown = h.finish();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        debug_hash(&mut h, &(inc.date, inc.patterns()));
        Print {
            file_text: Arc::clone(&inc.body.file_text),
            text,
            shown,
            rank: h.finish(),
        }
    }
}

/// What changed since the last render, when only incidents changed.
struct Dirty {
    /// Incidents whose file changed (id hashes): their own pages.
    text: std::collections::HashSet<u64>,
    /// Incidents whose fields changed: the pages that show them.
    shown: std::collections::HashSet<u64>,
    /// `shown`, and the incidents that name a changed pattern: their cards (and
    /// pattern pages' resolution lists) show its title, their references in
    /// other stories' related sections do not.
    cards: std::collections::HashSet<u64>,
    /// Whether a changed incident's date or patterns changed, so which incidents a
    /// story's related sections hold may have changed anywhere they share a pattern.
    ranking: bool,
    /// The patterns (indexes) whose file changed. The incidents that name one
    /// show it (chips, chain, related sections) and are in `text` and `shown`.
    patterns: std::collections::BTreeSet<usize>,
}

/// Whether story `i`'s page may show a changed incident now: it changed, it
/// names one in `related`, or it shares a pattern with one (the only way into its
/// related sections). `false` is a proof; `true` only means "look".
fn story_may_change(
    site: &Site,
    i: usize,
    id_hashes: &[u64],
    dirty: &std::collections::HashSet<u64>,
    dirty_patterns: &std::collections::BTreeSet<&Slug>,
) -> bool {
    let inc = &site.incidents[i];
    dirty.contains(&id_hash_of(id_hashes, i))
        || inc
            .related
            .iter()
            .any(|id| dirty.contains(&id_hash(id.as_str())))
        || inc.patterns().iter().any(|p| dirty_patterns.contains(p))
}

/// The hash of an incident id, as the dependency lists hold it.
fn id_hash(id: &str) -> u64 {
    use std::hash::Hasher as _;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write(id.as_bytes());
    h.finish()
}

fn id_hash_of(hashes: &[u64], i: usize) -> u64 {
    hashes.get(i).copied().unwrap_or_default()
}

/// The id hashes of the incidents `list` names (indexes in site order).
fn ids_of(hashes: &[u64], list: &[usize]) -> Vec<u64> {
    list.iter().map(|&i| id_hash_of(hashes, i)).collect()
}

fn debug_hash(h: &mut std::collections::hash_map::DefaultHasher, value: &impl std::fmt::Debug) {
    use std::hash::Hasher as _;
    h.write(format!("{value:?}").as_bytes());
    h.write_u8(0xff);
}

impl RenderCache {
    /// The pages the last render skipped because their inputs had not changed, sorted.
    pub fn kept(&self) -> Vec<String> {
        let mut kept = lock(&self.kept).clone();
        kept.sort();
        kept
    }

    /// Forget every fingerprint (the next render renders every page).
    pub fn clear(&self) {
        lock(&self.pages).clear();
        lock(&self.kept).clear();
        lock(&self.deps).clear();
        lock(&self.incidents).clear();
        lock(&self.patterns).clear();
        lock(&self.records).clear();
    }

    /// What changed since the last render when only incidents did (their fields
    /// or their files), or `None` when something else changed and every page must
    /// be looked at. Records the new state.
    fn changed_incidents(
        &self,
        site: &Site,
        bodies: &Bodies,
        site_view: &SiteView,
    ) -> anyhow::Result<Option<Dirty>> {
        use std::hash::Hasher as _;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        debug_hash(&mut h, &site.config);
        // The patterns themselves are compared one by one (below); which exist is
        // site-wide.
        let slugs: Vec<&Slug> = site.patterns.iter().map(|p| &p.slug).collect();
        debug_hash(&mut h, &slugs);
        debug_hash(&mut h, &site.symptoms);
        debug_hash(&mut h, &site.pages);
        debug_hash(&mut h, &bodies.pages);
        // Story pages say how many other stories share each pattern.
        let sizes: Vec<(&Slug, usize)> =
            site.by_pattern.iter().map(|(p, l)| (p, l.len())).collect();
        debug_hash(&mut h, &sizes);
        let mut ids: Vec<&str> = site.incidents.iter().map(|i| i.id.as_str()).collect();
        ids.sort_unstable();
        debug_hash(&mut h, &ids);
        h.write(&serde_json::to_vec(site_view)?);
        let global = h.finish();
        let pattern_prints: Vec<u64> = site
            .patterns
            .iter()
            .zip(&bodies.patterns)
            .map(|(p, body)| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                debug_hash(&mut h, &(p, body));
                h.finish()
            })
            .collect();
        let mut last_patterns = lock(&self.patterns);
        let mut last_global = lock(&self.global);
        let mut last = lock(&self.incidents);
        let fresh = *last_global != global || last.is_empty();
        let now: std::collections::HashMap<u64, Print> = site
            .incidents
            .par_iter()
            .map(|inc| {
                // A validated incident and its rendered body are functions of its
                // file's text and of what the global fingerprint covers (the
                // vocabularies, the set of ids, the base URL), so the text stands
                // for both. An unchanged file keeps the text it was read into, so
                // only the incidents read again are fingerprinted again.
                let id = id_hash(inc.id.as_str());
                let print = match last.get(&id) {
                    Some(before)
                        if !fresh && Arc::ptr_eq(&before.file_text, &inc.body.file_text) =>
                    {
                        before.clone()
                    }
                    _ => Print::of(inc),
                };
                (id, print)
            })
            .collect();
        let changed = if fresh {
            None
        } else {
            let mut dirty = Dirty {
                text: Default::default(),
                shown: Default::default(),
                cards: Default::default(),
                ranking: false,
                patterns: (0..pattern_prints.len())
                    .filter(|&k| last_patterns.get(k) != pattern_prints.get(k))
                    .collect(),
            };
            if !dirty.patterns.is_empty() {
                let slugs: std::collections::BTreeSet<&Slug> = dirty
                    .patterns
                    .iter()
                    .map(|&k| &site.patterns[k].slug)
                    .collect();
                for inc in &site.incidents {
                    let names = inc.patterns().into_iter().any(|p| slugs.contains(p))
                        || inc
                            .resolutions
                            .iter()
                            .flat_map(|r| &r.patterns)
                            .any(|p| slugs.contains(p));
                    if names {
                        let id = id_hash(inc.id.as_str());
                        dirty.text.insert(id);
                        dirty.cards.insert(id);
                    }
                }
            }
            for (id, print) in &now {
                match last.get(id) {
                    Some(before) if before.text == print.text => {}
                    Some(before) => {
                        dirty.text.insert(*id);
                        if before.shown != print.shown {
                            dirty.shown.insert(*id);
                        }
                        dirty.ranking |= before.rank != print.rank;
                    }
                    None => {
                        dirty.text.insert(*id);
                        dirty.shown.insert(*id);
                        dirty.ranking = true;
                    }
                }
            }
            for id in last.keys().filter(|id| !now.contains_key(id)) {
                dirty.text.insert(*id);
                dirty.shown.insert(*id);
                dirty.ranking = true;
            }
            dirty.cards.extend(dirty.shown.iter().copied());
            Some(dirty)
        };
        *last_global = global;
        *last = now;
        *last_patterns = pattern_prints;
        Ok(changed)
    }

    /// `incidents.json` and `incidents.ndjson`, serialising only the records of the
    /// incidents whose file (or the base URL) changed since the last render.
    fn data_files(&self, site: &Site, generator: &str) -> anyhow::Result<Vec<OutputFile>> {
        let base_url: Arc<str> = Arc::from(site.config.base_url.as_str());
        let last = std::mem::take(&mut *lock(&self.records));
        let now: Vec<(u64, Record)> = site
            .incidents
            .par_iter()
            .map(|inc| {
                let id = id_hash(inc.id.as_str());
                let record = match last.get(&id) {
                    Some(r)
                        if r.base_url == base_url
                            && Arc::ptr_eq(&r.file_text, &inc.body.file_text) =>
                    {
                        r.clone()
                    }
                    _ => Record {
                        file_text: Arc::clone(&inc.body.file_text),
                        base_url: Arc::clone(&base_url),
                        text: Arc::new(crate::data::record_text(inc, &base_url)?),
                    },
                };
                Ok((id, record))
            })
            .collect::<anyhow::Result<_>>()?;
        let texts: Vec<&crate::data::RecordText> = now.iter().map(|(_, r)| &*r.text).collect();
        let files = crate::data::files_from(site, generator, &texts)?;
        *lock(&self.records) = now.into_iter().collect();
        Ok(files)
    }

    /// Whether the page at `path`, which shows the incidents `deps`, can be kept
    /// without even building its view: it was rendered last time, and neither the
    /// incidents it showed then nor those it shows now changed (`dirty`; `None`:
    /// anything may have changed). Records `deps` otherwise.
    /// With `exact`, the recorded dependencies must also be `deps` exactly.
    fn still_valid(
        &self,
        path: &str,
        deps: Vec<u64>,
        dirty: Option<&std::collections::HashSet<u64>>,
        exact: bool,
    ) -> bool {
        if let Some(dirty) = dirty {
            let rendered = lock(&self.pages).contains_key(path);
            let unchanged = rendered
                && lock(&self.deps).get(path).is_some_and(|before| {
                    (!exact || *before == deps)
                        && !before.iter().chain(&deps).any(|id| dirty.contains(id))
                });
            if unchanged {
                lock(&self.kept).push(path.to_string());
                return true;
            }
        }
        lock(&self.deps).insert(path.to_string(), deps);
        false
    }

    /// Whether the page at `path` was rendered last time and none of the incidents
    /// it showed then changed; if so it is kept (its recorded dependencies stay
    /// true: what it shows now has no changed incident either).
    fn kept_as_before(&self, path: &str, dirty: &std::collections::HashSet<u64>) -> bool {
        let keep = lock(&self.pages).contains_key(path)
            && lock(&self.deps)
                .get(path)
                .is_some_and(|before| !before.iter().any(|id| dirty.contains(id)));
        if keep {
            lock(&self.kept).push(path.to_string());
        }
        keep
    }

    /// Whether `path` rendered from `fingerprint` last time; records it otherwise.
    fn unchanged(&self, path: &str, fingerprint: u64) -> bool {
        let mut pages = lock(&self.pages);
        if pages.get(path) == Some(&fingerprint) {
            drop(pages);
            lock(&self.kept).push(path.to_string());
            return true;
        }
        pages.insert(path.to_string(), fingerprint);
        false
    }

    /// The fingerprints as they are now, to [`RenderCache::restore`] if the pages
    /// about to be rendered are thrown away (a run with errors: the server keeps
    /// the last good site, so the next run must compare against that).
    pub fn snapshot(&self) -> RenderSnapshot {
        RenderSnapshot {
            theme: *lock(&self.theme),
            pages: lock(&self.pages).clone(),
            deps: lock(&self.deps).clone(),
            global: *lock(&self.global),
            patterns: lock(&self.patterns).clone(),
            incidents: lock(&self.incidents).clone(),
        }
    }

    /// Go back to a [`RenderCache::snapshot`].
    pub fn restore(&self, snapshot: RenderSnapshot) {
        *lock(&self.theme) = snapshot.theme;
        *lock(&self.pages) = snapshot.pages;
        *lock(&self.deps) = snapshot.deps;
        *lock(&self.global) = snapshot.global;
        *lock(&self.patterns) = snapshot.patterns;
        *lock(&self.incidents) = snapshot.incidents;
        lock(&self.kept).clear();
    }

    fn forget(&self, path: &str) {
        lock(&self.pages).remove(path);
        lock(&self.deps).remove(path);
    }
}

/// The page fingerprints of a [`RenderCache`] at one moment.
#[derive(Debug)]
pub struct RenderSnapshot {
    theme: u64,
    pages: std::collections::HashMap<String, u64>,
    deps: std::collections::HashMap<String, Vec<u64>>,
    global: u64,
    patterns: Vec<u64>,
    incidents: std::collections::HashMap<u64, Print>,
}

/// A poisoned lock only means another render thread panicked; the map is still a
/// valid cache (at worst a page renders again).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A `std::io::Write` that only hashes what is written (SipHash with fixed keys:
/// stable within a process, which is all a [`RenderCache`] needs).
struct HashWriter(std::collections::hash_map::DefaultHasher);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::hash::Hasher::write(&mut self.0, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Fingerprint of a page's template and context. The context is taken apart and put
/// back (tera's `Context` has no borrowed view of its values), which moves, never
/// copies, the values.
fn fingerprint(
    theme: u64,
    template: &str,
    context: tera::Context,
) -> anyhow::Result<(u64, tera::Context)> {
    use std::hash::Hasher as _;
    let json = context.into_json();
    let mut h = HashWriter(std::collections::hash_map::DefaultHasher::new());
    h.0.write_u64(theme);
    h.0.write(template.as_bytes());
    serde_json::to_writer(&mut h, &json)?;
    Ok((h.0.finish(), tera::Context::from_value(json)?))
}

/// Fingerprint of the templates (the page fingerprints are only valid for one set).
fn theme_fingerprint(theme: &Theme) -> u64 {
    use std::hash::Hasher as _;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for (name, (text, _)) in &theme.templates {
        h.write(name.as_bytes());
        h.write_u8(0);
        h.write(text.as_bytes());
        h.write_u8(0);
    }
    h.finish()
}

/// [`render`], skipping the pages whose inputs have not changed since `cache` last
/// saw them (see [`RenderCache`]). Files that are not pages (feeds' data, static
/// files, the stylesheet) always go to the sink.
pub fn render_with(
    site: &Site,
    bodies: &Bodies,
    assets: &Assets<'_>,
    sink: &Sink<'_>,
    cache: Option<&RenderCache>,
    first: Option<&First<'_>>,
) -> anyhow::Result<(usize, Vec<Diagnostic>)> {
    let mut diags = Vec::new();
    let tera = match compile(assets.theme) {
        Ok(t) => t,
        Err(mut d) => {
            diags.append(&mut d);
            return Ok((0, diags));
        }
    };
    let urls = Urls {
        base_path: &site.config.base_path,
        base_url: &site.config.base_url,
    };
    let static_file = |name: &str| {
        assets
            .theme
            .static_files
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    // `search.js` imports `search-core.js` with its own query string, so one hash
    // over both busts both caches.
    let search_script = [static_file("search.js"), static_file("search-core.js")].concat();
    let site_view = site_view(
        site,
        &urls,
        &Hashes {
            style: short_hash(static_file("style.css")),
            syntax: short_hash(assets.syntax_css.as_bytes()),
            search: short_hash(&search_script),
        },
    );
    let ctx = Ctx {
        site,
        urls: &urls,
        bodies,
        cards: (0..site.incidents.len())
            .map(|_| std::sync::OnceLock::new())
            .collect(),
        id_hashes: site
            .incidents
            .par_iter()
            .map(|inc| id_hash(inc.id.as_str()))
            .collect(),
    };
    let (work, plans) = jobs(&ctx, &site_view, cache.is_some());
    let mut dirty: Option<Dirty> = None;
    let theme_fp = match cache {
        Some(cache) => {
            let fp = theme_fingerprint(assets.theme);
            let mut theme = lock(&cache.theme);
            if *theme != fp {
                cache.clear();
                *theme = fp;
            }
            lock(&cache.kept).clear();
            dirty = cache.changed_incidents(site, bodies, &site_view)?;
            fp
        }
        None => 0,
    };
    let id_hashes = &ctx.id_hashes;
    // When the ranking may have changed, the patterns of the changed incidents: a
    // story sharing none of them cannot have a changed incident in its related
    // sections.
    let dirty_patterns: std::collections::BTreeSet<&Slug> = match &dirty {
        Some(dirty) if dirty.ranking => site
            .incidents
            .iter()
            .zip(id_hashes)
            .filter(|(_, h)| dirty.text.contains(h))
            .flat_map(|(inc, _)| inc.patterns())
            .collect(),
        _ => Default::default(),
    };

    // Each page goes to the sink as soon as it is rendered; only its path is kept.
    let page = |(k, w): (usize, Work<'_>)| -> anyhow::Result<_> {
        if let (Some(cache), Some((path, shows))) = (cache, plans.get(&k)) {
            // What the page shows, as id hashes, and which changes count for it:
            // lists show incidents' fields, a story page also its own body.
            let no_change = std::collections::HashSet::new();
            let (deps, changed, exact) = match shows {
                Shows::Pattern(pi, list) => {
                    let changed = dirty.as_ref().filter(|d| !d.patterns.contains(pi));
                    (ids_of(id_hashes, list), changed.map(|d| &d.cards), false)
                }
                Shows::Page { items, key } => {
                    let mut deps = vec![*key];
                    deps.extend(ids_of(id_hashes, items));
                    (deps, dirty.as_ref().map(|d| &d.cards), true)
                }
                Shows::Everything | Shows::Nothing => {
                    let unaffected = dirty.as_ref().is_some_and(|d| {
                        d.patterns.is_empty()
                            && (matches!(shows, Shows::Nothing) || d.cards.is_empty())
                    });
                    if unaffected && cache.kept_as_before(path, &no_change) {
                        return Ok(None);
                    }
                    (Vec::new(), None, false)
                }
                Shows::Story(i) => {
                    if let Some(dirty) = &dirty {
                        let may_change = if dirty.ranking {
                            story_may_change(site, *i, id_hashes, &dirty.text, &dirty_patterns)
                        } else {
                            // Every related section holds what it held: only
                            // the story itself or what it shows of others.
                            dirty.text.contains(&id_hash_of(id_hashes, *i))
                        };
                        let others = if dirty.ranking {
                            &dirty.text
                        } else {
                            &dirty.shown
                        };
                        if !may_change && cache.kept_as_before(path, others) {
                            return Ok(None);
                        }
                    }
                    let deps = ids_of(id_hashes, &story_deps(site, *i));
                    (deps, dirty.as_ref().map(|d| &d.text), false)
                }
            };
            if cache.still_valid(path, deps, changed, exact) {
                return Ok(None);
            }
        }
        let mut job = w();
        if let Some(cache) = cache {
            let (fp, context) = fingerprint(theme_fp, job.template, job.context)?;
            job.context = context;
            if cache.unchanged(&job.path, fp) {
                return Ok(None);
            }
        }
        let result = tera.render(job.template, &job.context);
        if result.is_err() {
            if let Some(cache) = cache {
                cache.forget(&job.path);
            }
        }
        Ok(Some((job.path, job.template, job.source, result)))
    };
    let render_all = |work: Vec<(usize, Work<'_>)>| -> anyhow::Result<Vec<_>> {
        work.into_par_iter()
            .map(page)
            .filter_map(Result::transpose)
            .map(|job| match job? {
                (path, _, _, Ok(html)) => sink(OutputFile {
                    path: path.clone(),
                    bytes: html.into_bytes(),
                })
                .map(|()| Ok(path)),
                (_, template, source, Err(e)) => {
                    Ok(Err((template.to_string(), source, error_chain(&e))))
                }
            })
            .collect::<anyhow::Result<Vec<Result<String, (String, String, String)>>>>()
    };
    // The pages asked for first (those open in a browser), then the rest.
    let (early, late): (Vec<_>, Vec<_>) = work.into_iter().enumerate().partition(|(k, _)| {
        first.is_some_and(|f| plans.get(k).is_some_and(|(path, _)| f.pages.contains(path)))
    });
    let mut results = render_all(early)?;
    if let Some(first) = first {
        (first.then)();
    }
    results.append(&mut render_all(late)?);

    let mut files: Vec<String> = Vec::with_capacity(results.len() + 1);
    let mut failed_templates: BTreeMap<String, (String, String, usize)> = BTreeMap::new();
    for r in results {
        match r {
            Ok(f) => files.push(f),
            Err((template, source, message)) => {
                let e = failed_templates
                    .entry(template)
                    .or_insert((source, message, 0));
                e.2 += 1;
            }
        }
    }
    for (template, (source, message, n)) in failed_templates {
        let origin = assets.theme.templates.get(&template).map(|t| &t.1);
        let others = if n > 1 {
            format!(" (and {} other pages)", n - 1)
        } else {
            String::new()
        };
        let help = match origin {
            Some(Origin::Site) => {
                "fix the site's template, or delete it to use the built-in one".to_string()
            }
            _ => "this is a bug in blameless's built-in theme; please report it".to_string(),
        };
        diags.push(
            Diagnostic::error(
                format!("templates/{template}"),
                1,
                1,
                format!("template failed while rendering `{source}`{others}: {message}"),
            )
            .with_help(help),
        );
    }

    sink(OutputFile {
        path: "syntax.css".into(),
        bytes: assets.syntax_css.as_bytes().to_vec(),
    })?;
    files.push("syntax.css".into());
    let schema_vocab = crate::jsonschema::Vocab {
        base_url: site.config.base_url.clone(),
        patterns: site.patterns.iter().map(|p| p.slug.to_string()).collect(),
        symptoms: site.symptoms.iter().map(|s| s.slug.to_string()).collect(),
    };
    let schema = OutputFile {
        path: crate::jsonschema::PATH.into(),
        bytes: crate::jsonschema::incident_text(&schema_vocab).into_bytes(),
    };
    let data_files = match cache {
        // The records show every field but the body (and the base URL, which the
        // site-wide fingerprint covers).
        Some(cache)
            if dirty.as_ref().is_some_and(|d| d.shown.is_empty())
                && !lock(&cache.records).is_empty() =>
        {
            for path in crate::data::PATHS {
                files.push(path.to_string());
                lock(&cache.kept).push(path.to_string());
            }
            Vec::new()
        }
        Some(cache) => cache.data_files(site, &site_view.generator)?,
        None => crate::data::files(site, &site_view.generator)?,
    };
    for file in data_files.into_iter().chain([schema]) {
        files.push(file.path.clone());
        sink(file)?;
    }
    let static_files = static_outputs(&files, assets.theme, &mut diags);
    let written = files.len() + static_files.len();
    static_files.into_par_iter().try_for_each(sink)?;
    Ok((written, diags))
}

/// Where rendered files go: the staging directory for `build`, nowhere for `check`.
/// An error (a failed write) stops the render and is an environment error.
pub type Sink<'a> = dyn Fn(OutputFile) -> anyhow::Result<()> + Sync + 'a;

/// The theme's static files that can be copied beside the generated files. A static
/// path that would overwrite a generated file, sit where a generated directory is,
/// need a directory where a generated file is, or take the output marker's name is
/// a content problem (so `check` finds it, and `build` never hits it as an I/O error).
fn static_outputs(
    generated: &[String],
    theme: &Theme,
    diags: &mut Vec<Diagnostic>,
) -> Vec<OutputFile> {
    let files: std::collections::BTreeSet<&str> = generated.iter().map(String::as_str).collect();
    let dirs: std::collections::BTreeSet<&str> = generated
        .iter()
        .flat_map(|f| f.match_indices('/').map(|(i, _)| &f[..i]))
        .collect();
    let mut out = Vec::new();
    for (path, bytes) in &theme.static_files {
        let parents = || path.match_indices('/').map(|(i, _)| &path[..i]);
        let problem = if path == crate::output::MARKER
            || path.starts_with(&format!("{}/", crate::output::MARKER))
        {
            Some(format!("`{path}` is the name of blameless's output marker"))
        } else if files.contains(path.as_str()) {
            Some(format!(
                "`{path}` is also generated by blameless; the static file would overwrite it"
            ))
        } else if dirs.contains(path.as_str()) {
            Some(format!(
                "`{path}` is a directory of generated pages; a static file cannot take its place"
            ))
        } else {
            parents()
                .find(|p| files.contains(p))
                .map(|p| format!("`{p}` is a file generated by blameless; it cannot be a directory of static files"))
        };
        match problem {
            Some(message) => diags.push(
                Diagnostic::error(format!("static/{path}"), 1, 1, message)
                    .with_help("rename or remove the static file"),
            ),
            None => out.push(OutputFile {
                path: path.clone(),
                bytes: bytes.clone(),
            }),
        }
    }
    out
}

/// Compile every template. Syntax errors point at the template's line and column.
fn compile(theme: &Theme) -> Result<tera::Tera, Vec<Diagnostic>> {
    let mut tera = tera::Tera::default();
    // `.html` and `.xml` names are autoescaped by tera; `.txt` (robots) holds no
    // content strings.
    let mut diags = Vec::new();
    for (name, (text, _)) in &theme.templates {
        // Parse one by one first, to point syntax errors at their template.
        if let Err(e) = tera::Template::new(name, None, text) {
            let msg = error_chain(&e);
            let (line, col) = parse_tera_position(&msg).unwrap_or((1, 1));
            diags.push(
                Diagnostic::error(
                    format!("templates/{name}"),
                    line,
                    col,
                    format!("template syntax error: {}", first_line_of_cause(&msg)),
                )
                .with_help("see https://keats.github.io/tera/docs/ for the template syntax"),
            );
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let all: Vec<(&str, &str)> = theme
        .templates
        .iter()
        .map(|(n, (t, _))| (n.as_str(), t.as_str()))
        .collect();
    // tera's default escaper also writes `/` as `&#x2F;`, which bloats every URL
    // and helps nothing inside quoted attributes; escape the five that matter.
    tera.set_escape_fn(crate::markdown::escape_html);
    if let Err(e) = tera.add_raw_templates(all) {
        // Cross-template problems: a missing parent or macro file.
        diags.push(Diagnostic::error(
            "templates/",
            1,
            1,
            format!("templates do not fit together: {}", error_chain(&e)),
        ));
        return Err(diags);
    }
    Ok(tera)
}

/// A tera error with its causes, joined, whitespace-folded.
fn error_chain(e: &tera::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    parts.join(": ")
}

/// Tera syntax errors carry ` --> LINE:COL`.
fn parse_tera_position(msg: &str) -> Option<(usize, usize)> {
    let rest = &msg[msg.find("--> ")? + 4..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':'))
        .unwrap_or(rest.len());
    let (l, c) = rest[..end].split_once(':')?;
    Some((l.parse().ok()?, c.parse().ok()?))
}

fn first_line_of_cause(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .rfind(|l| {
            !l.is_empty()
                && !l.starts_with("-->")
                && !l.starts_with('|')
                && !l.chars().next().is_some_and(|c| c.is_ascii_digit())
        })
        .unwrap_or(msg)
        .trim_start_matches("= ")
        .to_string()
}

struct Ctx<'a> {
    site: &'a Site,
    urls: &'a Urls<'a>,
    bodies: &'a Bodies,
    /// Every incident's card, built once when first needed: a card shows up on a
    /// dozen list pages, and a rebuild in `serve` needs only a few.
    cards: Vec<std::sync::OnceLock<IncidentCard>>,
    /// The hash of every incident's id, in site order (a [`RenderCache`] names
    /// incidents by them).
    id_hashes: Vec<u64>,
}

/// Cache-busting content hashes of the theme's assets.
struct Hashes {
    style: String,
    syntax: String,
    search: String,
}

fn site_view(site: &Site, urls: &Urls<'_>, hashes: &Hashes) -> SiteView {
    let c = &site.config;
    let contributing = site
        .pages
        .iter()
        .find(|p| p.slug.as_str() == "contributing");
    let nav = [
        ("Stories", "", "home"),
        ("Patterns", "patterns/", "patterns"),
        ("Symptoms", "symptoms/", "symptoms"),
        ("Components", "components/", "components"),
        ("Organizations", "organizations/", "organizations"),
    ]
    .iter()
    .map(|(t, p, k)| NavLink {
        title: (*t).into(),
        url: urls.rel(p),
        key: (*k).into(),
    })
    .collect();
    let mut pages: Vec<NavLink> = site
        .pages
        .iter()
        .map(|p| NavLink {
            title: p.title.clone(),
            url: urls.rel(&format!("{}/", p.slug)),
            key: p.slug.to_string(),
        })
        .collect();
    pages.sort_by(|a, b| a.title.cmp(&b.title));
    SiteView {
        title: c.title.clone(),
        description: c.description.clone(),
        base_url: c.base_url.clone(),
        base_path: c.base_path.clone(),
        language: c.language.clone(),
        repository: c.repository.clone(),
        contribute_url: contributing
            .map(|p| urls.rel(&format!("{}/", p.slug)))
            .or_else(|| c.repository.clone()),
        nav,
        pages,
        counts: SiteCounts {
            incidents: site.incidents.len(),
            patterns: site.patterns.len(),
            symptoms: site.symptoms.len(),
            components: site.components.len(),
            organizations: site.organizations.len(),
        },
        stylesheet_url: format!("{}?v={}", urls.rel("style.css"), hashes.style),
        syntax_stylesheet_url: format!("{}?v={}", urls.rel("syntax.css"), hashes.syntax),
        feed_url: urls.rel("feed.xml"),
        search_url: urls.rel(SEARCH_PATH),
        search_index_url: urls.rel(SEARCH_PATH),
        search_script_url: format!("{}?v={}", urls.rel("search.js"), hashes.search),
        generator: concat!("blameless ", env!("CARGO_PKG_VERSION")).into(),
    }
}

fn label(slug: &str, label: &str) -> Label {
    Label {
        slug: slug.into(),
        label: label.into(),
    }
}

impl Ctx<'_> {
    fn pattern_chip(&self, slug: &Slug) -> Chip {
        let title = self
            .site
            .pattern(slug)
            .map_or_else(|| slug.to_string(), |p| p.title.clone());
        Chip {
            slug: slug.to_string(),
            title,
            url: self.urls.term("patterns", slug.as_str()),
        }
    }

    fn symptom_chip(&self, slug: &Slug) -> Chip {
        let title = self
            .site
            .symptom(slug)
            .map_or_else(|| slug.to_string(), |s| s.title.clone());
        Chip {
            slug: slug.to_string(),
            title,
            url: self.urls.term("symptoms", slug.as_str()),
        }
    }

    fn platform_chip(&self, p: Platform) -> Chip {
        Chip {
            slug: p.slug().into(),
            title: p.label().into(),
            url: self.urls.term("platforms", p.slug()),
        }
    }

    fn free_chip(&self, kind: &str, text: &str) -> Chip {
        let slug = slugify(text);
        Chip {
            url: self.urls.term(kind, &slug),
            slug,
            title: text.into(),
        }
    }

    fn card(&self, inc: &Incident) -> IncidentCard {
        IncidentCard {
            id: inc.id.to_string(),
            url: self.urls.incident(inc.id.as_str()),
            permalink: self.urls.abs(&format!("incidents/{}/", inc.id)),
            title: inc.title.clone(),
            organization: self.free_chip("organizations", &inc.organization),
            date: inc.date.iso(),
            date_human: inc.date.human(),
            date_rfc3339: inc.date.rfc3339(),
            year: inc.date.year,
            summary: inc.summary.clone(),
            impact: inc.impact.clone(),
            impact_level: inc.impact_level.map(|l| label(l.slug(), l.label())),
            symptoms: inc.symptoms.iter().map(|s| self.symptom_chip(s)).collect(),
            patterns: inc
                .patterns()
                .into_iter()
                .map(|p| self.pattern_chip(p))
                .collect(),
            platforms: inc
                .platforms
                .iter()
                .map(|p| self.platform_chip(*p))
                .collect(),
        }
    }

    fn card_of(&self, i: usize) -> IncidentCard {
        self.cards[i]
            .get_or_init(|| self.card(&self.site.incidents[i]))
            .clone()
    }

    fn cards(&self, list: &[usize]) -> Vec<IncidentCard> {
        list.iter().map(|&i| self.card_of(i)).collect()
    }

    fn incident_ref(&self, i: usize, shared: usize) -> IncidentRef {
        let inc = &self.site.incidents[i];
        IncidentRef {
            id: inc.id.to_string(),
            url: self.urls.incident(inc.id.as_str()),
            title: inc.title.clone(),
            organization: inc.organization.clone(),
            date_human: inc.date.human(),
            date: inc.date.iso(),
            shared,
        }
    }

    fn edit_url(&self, path: &str) -> Option<String> {
        let c = &self.site.config;
        c.repository
            .as_ref()
            .map(|r| format!("{r}/edit/{}/{path}", c.branch))
    }

    fn meta(
        &self,
        title: &str,
        description: &str,
        path: &str,
        section: &str,
        kind: &str,
    ) -> PageMeta {
        PageMeta {
            title: title.into(),
            description: description.into(),
            permalink: self.urls.abs(path),
            url: self.urls.rel(path),
            section: section.into(),
            kind: kind.into(),
        }
    }

    /// Pagination of a list of `total` items under `base` (`symptoms/oom/`).
    fn pagination(&self, base: &str, current: usize, total: usize) -> Pagination {
        let per_page = self.site.config.paginate_by;
        let total_pages = total.div_ceil(per_page).max(1);
        let url = |n: usize| self.urls.rel(&page_path(base, n));
        Pagination {
            current,
            total_pages,
            total_items: total,
            per_page,
            prev_url: (current > 1).then(|| url(current - 1)),
            next_url: (current < total_pages).then(|| url(current + 1)),
            pages: (1..=total_pages)
                .map(|n| PageLink {
                    number: n,
                    url: url(n),
                    current: n == current,
                })
                .collect(),
        }
    }

    fn incident_view(&self, i: usize) -> IncidentView {
        let inc = &self.site.incidents[i];
        let body = &self.bodies.incidents[i];
        let chain = inc
            .contributing_failures
            .iter()
            .enumerate()
            .map(|(n, cf)| ChainLink {
                step: n + 1,
                pattern: self.pattern_chip(&cf.pattern),
                pattern_summary: self
                    .site
                    .pattern(&cf.pattern)
                    .map(|p| p.summary.clone())
                    .unwrap_or_default(),
                description: cf.description.clone(),
            })
            .collect();
        let related_groups = self
            .site
            .related_by_pattern(i, RELATED_PER_GROUP)
            .into_iter()
            .map(|r| RelatedGroup {
                pattern: self.pattern_chip(&r.pattern),
                more: r.total - r.incidents.len(),
                incidents: r
                    .incidents
                    .iter()
                    .map(|&(j, shared)| self.incident_ref(j, shared))
                    .collect(),
            })
            .collect();
        let related = inc
            .related
            .iter()
            .filter_map(|id| self.site.incident_index(id))
            .map(|j| self.incident_ref(j, 0))
            .collect();
        IncidentView {
            card: self.card_of(i),
            kubernetes_version: inc.kubernetes_version.clone(),
            environment: inc.environment.map(|e| label(e.slug(), e.label())),
            duration_minutes: inc.duration_minutes,
            duration_human: inc.duration_minutes.map(duration_human),
            detection: inc.detection.map(|d| label(d.slug(), d.label())),
            trigger: TriggerView {
                kind: label(inc.trigger.kind.slug(), inc.trigger.kind.label()),
                description: inc.trigger.description.clone(),
            },
            chain,
            resolutions: inc
                .resolutions
                .iter()
                .map(|r| ResolutionView {
                    action: r.action.clone(),
                    status: label(r.status.slug(), r.status.label()),
                    patterns: r.patterns.iter().map(|p| self.pattern_chip(p)).collect(),
                })
                .collect(),
            components: inc
                .components
                .iter()
                .map(|c| self.free_chip("components", c))
                .collect(),
            tags: inc.tags.clone(),
            lessons: inc.lessons.clone(),
            sources: inc
                .sources
                .iter()
                .map(|s| SourceView {
                    url: s.url.clone(),
                    title: s.title.clone().unwrap_or_else(|| host_of(&s.url)),
                    kind: s.kind.map(|k| label(k.slug(), k.label())),
                    venue: s.venue.clone(),
                    published: s.published.map(|d| d.human()),
                    published_iso: s.published.map(|d| d.iso()),
                    language: s.language.clone(),
                    archive_url: s.archive_url.clone(),
                })
                .collect(),
            body_html: body.html.clone(),
            toc: body.toc.clone(),
            edit_url: self.edit_url(&inc.path),
            source_path: inc.path.clone(),
            related_groups,
            related,
        }
    }

    fn incident_job(&self, i: usize, sv: &SiteView) -> Job {
        let inc = &self.site.incidents[i];
        let path = format!("incidents/{}/", inc.id);
        let description = format!(
            "{} ({}): {}",
            inc.organization,
            inc.date.human(),
            inc.summary
        );
        Job {
            path: format!("{path}index.html"),
            template: "incident.html",
            context: context(
                sv,
                &self.meta(&inc.title, &description, &path, "home", "incident"),
                "incident",
                &self.incident_view(i),
            ),
            source: inc.path.clone(),
        }
    }

    fn pattern_job(&self, pi: usize, page: usize, sv: &SiteView) -> Job {
        let p = &self.site.patterns[pi];
        let path = page_path(&format!("patterns/{}/", p.slug), page);
        let title = if page > 1 {
            format!("{} (page {page})", p.title)
        } else {
            p.title.clone()
        };
        Job {
            path: format!("{path}index.html"),
            template: "pattern.html",
            context: context(
                sv,
                &self.meta(&title, &p.summary, &path, "patterns", "pattern"),
                "pattern",
                &self.pattern_view(pi, page),
            ),
            source: p.path.clone(),
        }
    }

    /// What a pattern page says about the pattern as a whole: the resolutions its
    /// incidents aimed at it (done first, capped), their number, and the patterns it
    /// occurs with.
    fn pattern_overview(
        &self,
        slug: &Slug,
        list: &[usize],
    ) -> (Vec<PatternResolution>, usize, Vec<CoPattern>) {
        let p_slug = slug;
        let mut resolutions: Vec<PatternResolution> = Vec::new();
        for &i in list {
            for r in &self.site.incidents[i].resolutions {
                if r.patterns.contains(p_slug) {
                    resolutions.push(PatternResolution {
                        action: r.action.clone(),
                        status: label(r.status.slug(), r.status.label()),
                        incident: self.incident_ref(i, 0),
                    });
                }
            }
        }
        // Done first, then planned, then considered; stable within a status.
        resolutions.sort_by_key(|r| match r.status.slug.as_str() {
            "done" => 0,
            "planned" => 1,
            _ => 2,
        });
        let resolution_count = resolutions.len();
        resolutions.truncate(MAX_PATTERN_RESOLUTIONS);
        let co_occurring: Vec<CoPattern> = self
            .site
            .co_occurring(p_slug)
            .into_iter()
            .take(8)
            .map(|(s, count)| CoPattern {
                pattern: self.pattern_chip(&s),
                count,
            })
            .collect();
        (resolutions, resolution_count, co_occurring)
    }

    fn pattern_view(&self, pi: usize, page: usize) -> PatternView {
        let p = &self.site.patterns[pi];
        let body = &self.bodies.patterns[pi];
        let empty = Vec::new();
        let list = self.site.by_pattern.get(&p.slug).unwrap_or(&empty);
        let per_page = self.site.config.paginate_by;
        let pagination = self.pagination(&format!("patterns/{}/", p.slug), page, list.len());
        let incidents = list
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|&i| {
                let inc = &self.site.incidents[i];
                PatternIncident {
                    incident: self.card_of(i),
                    descriptions: inc
                        .contributing_failures
                        .iter()
                        .filter(|cf| cf.pattern == p.slug)
                        .map(|cf| cf.description.clone())
                        .collect(),
                }
            })
            .collect();
        // Resolutions and co-occurring patterns are about the whole pattern: page 1.
        let (resolutions, resolution_count, co_occurring) = if page == 1 {
            self.pattern_overview(&p.slug, list)
        } else {
            (Vec::new(), 0, Vec::new())
        };
        PatternView {
            slug: p.slug.to_string(),
            title: p.title.clone(),
            summary: p.summary.clone(),
            category: label(p.category.slug(), p.category.label()),
            category_url: format!("{}#{}", self.urls.rel("patterns/"), p.category.slug()),
            // Later pages list more incidents; the explanation stays on page 1.
            body_html: if page == 1 {
                body.html.clone()
            } else {
                String::new()
            },
            toc: if page == 1 {
                body.toc.clone()
            } else {
                Vec::new()
            },
            edit_url: self.edit_url(&p.path),
            incidents,
            pagination,
            resolutions,
            resolution_count,
            co_occurring,
            feed_url: self.urls.rel(&format!("patterns/{}/feed.xml", p.slug)),
        }
    }

    /// An Atom feed of `list` (incident indexes, newest first): the 50 newest.
    fn feed_view(&self, title: String, subtitle: String, page: &str, list: &[usize]) -> FeedView {
        let updated = list
            .iter()
            .map(|&i| self.site.incidents[i].date)
            .max()
            .map_or_else(|| "1970-01-01T00:00:00Z".to_string(), |d| d.rfc3339());
        FeedView {
            title,
            subtitle,
            id: self.urls.abs(page),
            alternate_url: self.urls.abs(page),
            self_url: self.urls.abs(&format!("{page}feed.xml")),
            updated,
            entries: list
                .iter()
                .take(FEED_ENTRIES)
                .map(|&i| self.card_of(i))
                .collect(),
        }
    }
}

/// How many entries a feed carries, newest first.
const FEED_ENTRIES: usize = 50;

/// How many resolutions a pattern page lists (done first).
const MAX_PATTERN_RESOLUTIONS: usize = 60;

/// Path of page `n` of a paginated list at `base`: `base` for page 1, then
/// `base/page/n/`.
fn page_path(base: &str, n: usize) -> String {
    if n <= 1 {
        base.to_string()
    } else {
        format!("{base}page/{n}/")
    }
}

/// How many related incidents each pattern group shows before "and N more".
const RELATED_PER_GROUP: usize = 6;

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .to_string()
}

/// `45 min`, `2 h 30 min`, `3 days 4 h`.
pub fn duration_human(minutes: u32) -> String {
    let (d, h, m) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    match (d, h, m) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} day{}", if d == 1 { "" } else { "s" }),
        (d, h, _) => format!("{d} day{} {h} h", if d == 1 { "" } else { "s" }),
    }
}

/// The context of one page: `site`, `meta` and, under `key`, the page's view.
fn context<T: Serialize>(site: &SiteView, meta: &PageMeta, key: &str, view: &T) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("site", site);
    ctx.insert("meta", meta);
    if !key.is_empty() {
        ctx.insert(key, view);
    }
    ctx
}

struct TaxonomyInfo {
    kind: &'static str,
    title: &'static str,
    singular: &'static str,
    description: &'static str,
}

const SYMPTOMS: TaxonomyInfo = TaxonomyInfo {
    kind: "symptoms",
    title: "Symptoms",
    singular: "symptom",
    description: "What people saw while it was happening: start from the symptom in front of you.",
};
const COMPONENTS: TaxonomyInfo = TaxonomyInfo {
    kind: "components",
    title: "Components",
    singular: "component",
    description: "The software and infrastructure involved in each story.",
};
const ORGANIZATIONS: TaxonomyInfo = TaxonomyInfo {
    kind: "organizations",
    title: "Organizations",
    singular: "organization",
    description: "The teams who shared what went wrong.",
};
const PLATFORMS: TaxonomyInfo = TaxonomyInfo {
    kind: "platforms",
    title: "Platforms",
    singular: "platform",
    description: "Where the clusters ran: managed Kubernetes, clouds and on-premises.",
};
const YEARS: TaxonomyInfo = TaxonomyInfo {
    kind: "years",
    title: "Years",
    singular: "year",
    description: "Stories by the year the incident happened (or was published).",
};

/// A taxonomy term: slug, title, description, synonyms, incidents.
struct TermData {
    slug: String,
    title: String,
    description: Option<String>,
    synonyms: Vec<String>,
    incidents: Vec<usize>,
}

/// For the pages that show only some incidents (story, term and pattern pages,
/// pattern feeds), by job index: the output path and which incidents. Every other
/// page depends on the whole site. Only made for a [`RenderCache`].
type Plans = std::collections::HashMap<usize, (String, Shows)>;

/// The incidents a page shows.
enum Shows {
    /// A pattern's first page or its feed: the pattern and all its incidents (the
    /// page sums up their resolutions and co-occurring patterns; the feed's date is
    /// the newest of them).
    Pattern(usize, Vec<usize>),
    /// A story page: the story, its related sections and its `related` stories,
    /// worked out only when needed (see [`RenderCache::story_may_change`]).
    Story(usize),
    /// One page of a paginated list that shows its own incidents' cards and
    /// nothing else of any incident: a function of its items (compared exactly)
    /// and `key`, which stands for the rest (the list's length, for the
    /// pagination, and the list's own title and description). A pattern's later
    /// pages are such pages too: every item names the pattern, so a change to the
    /// pattern marks them all.
    Page { items: Vec<usize>, key: u64 },
    /// A page that shows something of every incident (counts, the sitemap, the
    /// site feed): looked at whenever an incident's fields changed.
    Everything,
    /// A page that shows nothing of any incident beyond what the site-wide
    /// fingerprint covers (the number of incidents, of stories per pattern).
    Nothing,
}

/// The `key` of a [`Shows::Page`]: a list's length and whatever else its pages show.
fn page_key(len: usize, extra: &impl std::fmt::Debug) -> u64 {
    use std::hash::Hasher as _;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write_usize(len);
    debug_hash(&mut h, extra);
    h.finish()
}

/// The incidents a story page shows: itself, its related sections, its `related`.
fn story_deps(site: &Site, i: usize) -> Vec<usize> {
    let mut shown = vec![i];
    for group in site.related_by_pattern(i, RELATED_PER_GROUP) {
        shown.extend(group.incidents.iter().map(|&(j, _)| j));
    }
    shown.extend(
        site.incidents[i]
            .related
            .iter()
            .filter_map(|id| site.incident_index(id)),
    );
    shown
}

fn jobs<'a>(ctx: &'a Ctx<'a>, sv: &'a SiteView, plan: bool) -> (Vec<Work<'a>>, Plans) {
    let mut plans = Plans::new();
    let mut plan_page = |k: usize, path: String, shows: Shows| {
        if plan {
            plans.insert(k, (path, shows));
        }
    };
    let site = ctx.site;
    let per_page = site.config.paginate_by;
    let pages_of = |n: usize| n.div_ceil(per_page).max(1);
    let mut jobs: Vec<Work<'a>> = Vec::new();
    let mut sitemap: Vec<SitemapUrl> = Vec::new();
    let mut add_sitemap = |path: &str, lastmod: Option<String>| {
        sitemap.push(SitemapUrl {
            loc: ctx.urls.abs(path),
            lastmod,
        })
    };

    // Taxonomies.
    let taxonomies: Vec<(&'static TaxonomyInfo, Vec<TermData>)> = vec![
        (
            &SYMPTOMS,
            site.symptoms
                .iter()
                .map(|s| TermData {
                    slug: s.slug.to_string(),
                    title: s.title.clone(),
                    description: s.description.clone(),
                    synonyms: s.synonyms.clone(),
                    incidents: site.by_symptom.get(&s.slug).cloned().unwrap_or_default(),
                })
                .collect(),
        ),
        (&COMPONENTS, free_terms(&site.components)),
        (&ORGANIZATIONS, free_terms(&site.organizations)),
        (
            &PLATFORMS,
            site.platforms
                .iter()
                .map(|(p, list)| TermData {
                    slug: p.slug().into(),
                    title: p.label().into(),
                    description: None,
                    synonyms: Vec::new(),
                    incidents: list.clone(),
                })
                .collect(),
        ),
        (
            &YEARS,
            site.years
                .iter()
                .rev()
                .map(|(y, list)| TermData {
                    slug: y.to_string(),
                    title: y.to_string(),
                    description: None,
                    synonyms: Vec::new(),
                    incidents: list.clone(),
                })
                .collect(),
        ),
    ];

    let term_link = |kind: &str, t: &TermData| TermLink {
        slug: t.slug.clone(),
        title: t.title.clone(),
        url: ctx.urls.term(kind, &t.slug),
        count: t.incidents.len(),
        description: t.description.clone(),
    };

    let mut browse = vec![TermLink {
        slug: "patterns".into(),
        title: "Failure patterns".into(),
        url: ctx.urls.rel("patterns/"),
        count: site.patterns.len(),
        description: Some(
            "The recurring ways clusters fail, and the stories where each contributed.".into(),
        ),
    }];
    let top = |list: Vec<TermLink>| -> Vec<TermLink> {
        let mut v: Vec<TermLink> = list.into_iter().filter(|t| t.count > 0).collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.title.cmp(&b.title)));
        v.truncate(12);
        v
    };
    let top_symptoms = top(taxonomies[0]
        .1
        .iter()
        .map(|t| term_link("symptoms", t))
        .collect());
    let years: Vec<TermLink> = taxonomies[4]
        .1
        .iter()
        .map(|t| term_link("years", t))
        .collect();

    for (info, terms) in taxonomies {
        let mut links: Vec<TermLink> = terms.iter().map(|t| term_link(info.kind, t)).collect();
        if info.kind != "years" {
            links.sort_by(|a, b| {
                b.count
                    .cmp(&a.count)
                    .then_with(|| a.title.to_lowercase().cmp(&b.title.to_lowercase()))
            });
        }
        browse.push(TermLink {
            slug: info.kind.into(),
            title: info.title.into(),
            url: ctx.urls.rel(&format!("{}/", info.kind)),
            count: terms.len(),
            description: Some(info.description.into()),
        });
        let index_path = format!("{}/", info.kind);
        add_sitemap(&index_path, None);
        plan_page(
            jobs.len(),
            format!("{index_path}index.html"),
            Shows::Everything,
        );
        jobs.push(Box::new(move || Job {
            path: format!("{index_path}index.html"),
            template: "taxonomy.html",
            context: context(
                sv,
                &ctx.meta(
                    info.title,
                    info.description,
                    &index_path,
                    info.kind,
                    "taxonomy",
                ),
                "taxonomy",
                &TaxonomyView {
                    kind: info.kind.into(),
                    title: info.title.into(),
                    description: info.description.into(),
                    terms: links,
                },
            ),
            source: index_path.clone(),
        }));
        for t in terms {
            let t = std::sync::Arc::new(t);
            let base = format!("{}/{}/", info.kind, t.slug);
            let key = page_key(
                t.incidents.len(),
                &(&t.slug, &t.title, &t.description, &t.synonyms),
            );
            for page in 1..=pages_of(t.incidents.len()) {
                let path = page_path(&base, page);
                add_sitemap(&path, None);
                plan_page(
                    jobs.len(),
                    format!("{path}index.html"),
                    Shows::Page {
                        items: t
                            .incidents
                            .iter()
                            .copied()
                            .skip((page - 1) * per_page)
                            .take(per_page)
                            .collect(),
                        key,
                    },
                );
                let (t, base) = (t.clone(), base.clone());
                jobs.push(Box::new(move || {
                    let description = t.description.clone().unwrap_or_else(|| {
                        format!(
                            "Kubernetes failure stories involving the {} {}.",
                            info.singular, t.title
                        )
                    });
                    let title = if page > 1 {
                        format!("{} (page {page})", t.title)
                    } else {
                        t.title.clone()
                    };
                    let shown: Vec<usize> = t
                        .incidents
                        .iter()
                        .copied()
                        .skip((page - 1) * per_page)
                        .take(per_page)
                        .collect();
                    Job {
                        path: format!("{path}index.html"),
                        template: "term.html",
                        context: context(
                            sv,
                            &ctx.meta(&title, &description, &path, info.kind, "term"),
                            "term",
                            &TermView {
                                kind: info.kind.into(),
                                kind_title: info.title.into(),
                                kind_url: ctx.urls.rel(&format!("{}/", info.kind)),
                                singular: info.singular.into(),
                                slug: t.slug.clone(),
                                title: t.title.clone(),
                                description: t.description.clone(),
                                synonyms: t.synonyms.clone(),
                                incidents: ctx.cards(&shown),
                                pagination: ctx.pagination(&base, page, t.incidents.len()),
                            },
                        ),
                        source: path,
                    }
                }));
            }
        }
    }

    // Home: every incident, newest first, paginated.
    let top_patterns = top(site
        .patterns
        .iter()
        .map(|p| TermLink {
            slug: p.slug.to_string(),
            title: p.title.clone(),
            url: ctx.urls.term("patterns", p.slug.as_str()),
            count: site.by_pattern.get(&p.slug).map_or(0, Vec::len),
            description: Some(p.summary.clone()),
        })
        .collect());
    let search_view = SearchView {
        examples: search_examples(site, &top_symptoms, ctx.urls),
        symptoms: top_symptoms.clone(),
        patterns: top_patterns.clone(),
    };
    let home_parts = std::sync::Arc::new((browse, top_patterns, top_symptoms, years));
    let home_key = if plan {
        page_key(site.incidents.len(), &home_parts)
    } else {
        0
    };
    for page in 1..=pages_of(site.incidents.len()) {
        let path = page_path("", page);
        add_sitemap(&path, None);
        plan_page(
            jobs.len(),
            format!("{path}index.html"),
            Shows::Page {
                items: ((page - 1) * per_page..site.incidents.len())
                    .take(per_page)
                    .collect(),
                key: home_key,
            },
        );
        let parts = home_parts.clone();
        jobs.push(Box::new(move || {
            let shown: Vec<usize> = (0..site.incidents.len())
                .skip((page - 1) * per_page)
                .take(per_page)
                .collect();
            let title = if page > 1 {
                format!("{} (page {page})", site.config.title)
            } else {
                site.config.title.clone()
            };
            Job {
                path: format!("{path}index.html"),
                template: "index.html",
                context: context(
                    sv,
                    &ctx.meta(&title, &site.config.description, &path, "home", "home"),
                    "home",
                    &HomeView {
                        incidents: ctx.cards(&shown),
                        pagination: ctx.pagination("", page, site.incidents.len()),
                        browse: parts.0.clone(),
                        top_patterns: parts.1.clone(),
                        top_symptoms: parts.2.clone(),
                        years: parts.3.clone(),
                    },
                ),
                source: "content/incidents/".into(),
            }
        }));
    }

    // Incidents.
    for (i, inc) in site.incidents.iter().enumerate() {
        add_sitemap(
            &format!("incidents/{}/", inc.id),
            inc.date.day.map(|_| inc.date.iso()),
        );
        plan_page(
            jobs.len(),
            format!("incidents/{}/index.html", inc.id),
            Shows::Story(i),
        );
        jobs.push(Box::new(move || ctx.incident_job(i, sv)));
    }

    // Patterns: the index, then each pattern's pages.
    let mut categories: BTreeMap<_, Vec<PatternSummary>> = BTreeMap::new();
    for p in &site.patterns {
        categories
            .entry(p.category)
            .or_default()
            .push(PatternSummary {
                slug: p.slug.to_string(),
                title: p.title.clone(),
                url: ctx.urls.term("patterns", p.slug.as_str()),
                summary: p.summary.clone(),
                count: site.by_pattern.get(&p.slug).map_or(0, Vec::len),
            });
    }
    let categories: Vec<CategoryView> = categories
        .into_iter()
        .map(|(c, mut patterns)| {
            patterns.sort_by_key(|p| p.title.to_lowercase());
            CategoryView {
                slug: c.slug().into(),
                title: c.label().into(),
                patterns,
            }
        })
        .collect();
    add_sitemap("patterns/", None);
    plan_page(jobs.len(), "patterns/index.html".into(), Shows::Nothing);
    jobs.push(Box::new(move || Job {
        path: "patterns/index.html".into(),
        template: "patterns.html",
        context: context(
            sv,
            &ctx.meta(
                "Failure patterns",
                PATTERNS_DESCRIPTION,
                "patterns/",
                "patterns",
                "patterns",
            ),
            "patterns",
            &PatternsView {
                categories,
                count: site.patterns.len(),
            },
        ),
        source: "content/patterns/".into(),
    }));
    for (pi, p) in site.patterns.iter().enumerate() {
        let n = site.by_pattern.get(&p.slug).map_or(0, Vec::len);
        let key = page_key(n, &());
        for page in 1..=pages_of(n) {
            add_sitemap(&page_path(&format!("patterns/{}/", p.slug), page), None);
            let path = page_path(&format!("patterns/{}/", p.slug), page);
            let list = site.by_pattern.get(&p.slug).cloned().unwrap_or_default();
            // Page 1 sums up the whole list; later pages show their own items.
            let shows = if page == 1 {
                Shows::Pattern(pi, list)
            } else {
                Shows::Page {
                    key,
                    items: list
                        .into_iter()
                        .skip((page - 1) * per_page)
                        .take(per_page)
                        .collect(),
                }
            };
            plan_page(jobs.len(), format!("{path}index.html"), shows);
            jobs.push(Box::new(move || ctx.pattern_job(pi, page, sv)));
        }
        // One feed per pattern, so readers can follow "new stories about DNS".
        let list = site.by_pattern.get(&p.slug).cloned().unwrap_or_default();
        plan_page(
            jobs.len(),
            format!("patterns/{}/feed.xml", p.slug),
            Shows::Pattern(pi, list),
        );
        jobs.push(Box::new(move || {
            let path = format!("patterns/{}/", p.slug);
            let empty = Vec::new();
            let list = site.by_pattern.get(&p.slug).unwrap_or(&empty);
            let title = format!("{} · {}", p.title, site.config.title);
            Job {
                path: format!("{path}feed.xml"),
                template: "feed.xml",
                context: context(
                    sv,
                    &ctx.meta(
                        &title,
                        &p.summary,
                        &format!("{path}feed.xml"),
                        "feed",
                        "feed",
                    ),
                    "feed",
                    &ctx.feed_view(title.clone(), p.summary.clone(), &path, list),
                ),
                source: p.path.clone(),
            }
        }));
    }

    // Free pages.
    for (pi, page) in site.pages.iter().enumerate() {
        let path = format!("{}/", page.slug);
        add_sitemap(&path, None);
        plan_page(jobs.len(), format!("{path}index.html"), Shows::Nothing);
        jobs.push(Box::new(move || {
            let body = &ctx.bodies.pages[pi];
            let description = page
                .description
                .clone()
                .unwrap_or_else(|| site.config.description.clone());
            Job {
                path: format!("{path}index.html"),
                template: "page.html",
                context: context(
                    sv,
                    &ctx.meta(&page.title, &description, &path, page.slug.as_str(), "page"),
                    "content",
                    &PageView {
                        title: page.title.clone(),
                        body_html: body.html.clone(),
                        toc: body.toc.clone(),
                        edit_url: ctx.edit_url(&page.path),
                    },
                ),
                source: page.path.clone(),
            }
        }));
    }

    // The search page: not in the sitemap (it is `noindex`: its content is whatever
    // the query finds).
    plan_page(
        jobs.len(),
        format!("{SEARCH_PATH}index.html"),
        Shows::Everything,
    );
    jobs.push(Box::new(move || Job {
        path: format!("{SEARCH_PATH}index.html"),
        template: "search.html",
        context: context(
            sv,
            &ctx.meta(
                "Search",
                SEARCH_DESCRIPTION,
                SEARCH_PATH,
                "search",
                "search",
            ),
            "search",
            &search_view,
        ),
        source: SEARCH_PATH.into(),
    }));

    // 404, feed, sitemap, robots.
    plan_page(jobs.len(), "404.html".into(), Shows::Nothing);
    jobs.push(Box::new(move || Job {
        path: "404.html".into(),
        template: "404.html",
        context: context(
            sv,
            &ctx.meta(
                "Page not found",
                &site.config.description,
                "404.html",
                "404",
                "404",
            ),
            "",
            &(),
        ),
        source: "404.html".into(),
    }));
    plan_page(jobs.len(), "feed.xml".into(), Shows::Everything);
    jobs.push(Box::new(move || {
        let all: Vec<usize> = (0..site.incidents.len()).collect();
        Job {
            path: "feed.xml".into(),
            template: "feed.xml",
            context: context(
                sv,
                &ctx.meta(
                    &site.config.title,
                    &site.config.description,
                    "feed.xml",
                    "feed",
                    "feed",
                ),
                "feed",
                &ctx.feed_view(
                    site.config.title.clone(),
                    site.config.description.clone(),
                    "",
                    &all,
                ),
            ),
            source: "feed.xml".into(),
        }
    }));
    sitemap.sort_by(|a, b| a.loc.cmp(&b.loc));
    plan_page(jobs.len(), "sitemap.xml".into(), Shows::Everything);
    jobs.push(Box::new(move || Job {
        path: "sitemap.xml".into(),
        template: "sitemap.xml",
        context: context(
            sv,
            &ctx.meta("Sitemap", "", "sitemap.xml", "sitemap", "sitemap"),
            "sitemap",
            &SitemapView { urls: sitemap },
        ),
        source: "sitemap.xml".into(),
    }));
    plan_page(jobs.len(), "robots.txt".into(), Shows::Nothing);
    jobs.push(Box::new(move || Job {
        path: "robots.txt".into(),
        template: "robots.txt",
        context: context(
            sv,
            &ctx.meta("robots", "", "robots.txt", "robots", "robots"),
            "",
            &(),
        ),
        source: "robots.txt".into(),
    }));
    (jobs, plans)
}

/// Where the search page lives; the static index the exporter writes sits beside it
/// (`search/meta.json`...).
const SEARCH_PATH: &str = "search/";

/// Meta description of the search page.
const SEARCH_DESCRIPTION: &str =
    "Search every story by symptom, error message, component or failure pattern.";

/// Example queries for the search page's empty state: for each of the most frequent
/// symptoms, the first synonym (what people type: `502`, `NotReady`), else its title.
fn search_examples(site: &Site, top_symptoms: &[TermLink], urls: &Urls<'_>) -> Vec<SearchExample> {
    let mut examples: Vec<SearchExample> = Vec::new();
    for t in top_symptoms {
        let Some(s) = site.symptoms.iter().find(|s| s.slug.as_str() == t.slug) else {
            continue;
        };
        let query = s.synonyms.first().unwrap_or(&s.title).clone();
        if examples
            .iter()
            .any(|e| e.query.eq_ignore_ascii_case(&query))
        {
            continue;
        }
        examples.push(SearchExample {
            url: format!("{}?q={}", urls.rel(SEARCH_PATH), query_component(&query)),
            query,
        });
        if examples.len() == 6 {
            break;
        }
    }
    examples
}

/// Percent-encode `s` for a URL query value (`application/x-www-form-urlencoded`, as a
/// `GET` form sends it: space is `+`).
fn query_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Meta description of the patterns index.
const PATTERNS_DESCRIPTION: &str = "The recurring ways Kubernetes clusters fail, grouped by category, each with the stories where it contributed.";

fn free_terms(map: &BTreeMap<String, crate::site::Term>) -> Vec<TermData> {
    map.iter()
        .map(|(slug, t)| TermData {
            slug: slug.clone(),
            title: t.title.clone(),
            description: None,
            synonyms: Vec::new(),
            incidents: t.incidents.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_human(45), "45 min");
        assert_eq!(duration_human(120), "2 h");
        assert_eq!(duration_human(150), "2 h 30 min");
        assert_eq!(duration_human(1440), "1 day");
        assert_eq!(duration_human(3000), "2 days 2 h");
    }

    #[test]
    fn query_values_are_form_encoded() {
        assert_eq!(query_component("502"), "502");
        assert_eq!(query_component("exit code 137"), "exit+code+137");
        assert_eq!(query_component("a&b=c/é"), "a%26b%3Dc%2F%C3%A9");
    }

    #[test]
    fn tera_positions() {
        assert_eq!(
            parse_tera_position("Failed to parse 'x'\n --> 3:7\n  |"),
            Some((3, 7))
        );
        assert_eq!(parse_tera_position("nothing"), None);
    }
}
