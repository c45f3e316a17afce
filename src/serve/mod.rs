//! `blameless serve`: build the site into memory, serve it over HTTP on loopback,
//! watch the site root and rebuild on change, and reload open pages.
//!
//! ```text
//! watch::Watcher ─ batch of changed paths ─▶ rebuild (pipeline::run_cached: only the
//!   │                                         pages whose inputs changed are rendered)
//!   │                  ok ─▶ new Files generation, live reload event (changed URLs)
//!   │              errors ─▶ last good Files kept, overlay on every page, terminal report
//!   └─▶ index job (its own thread, after each good rebuild, on the site that rebuild
//!       assembled; only changed stories are analysed again): tantivy index under
//!       .blameless/serve/<pid>/ + the static export, swapped in when complete
//! http::Server ─ Host check ─▶ site files (HTML gets the live script and overlay),
//!                              /api/search, /__blameless/live (server-sent events)
//! ```
//!
//! Owns: the served site in memory (nothing is written to the output directory, so
//! `public/` never holds localhost URLs), the live-reload protocol and its script,
//! the error overlay, the search API. HTTP parsing is in [`http`], watching in
//! [`watch`].

pub mod http;
pub mod watch;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::diagnostics;
use crate::markdown::escape_html;
use crate::output::OutputFile;
use crate::pipeline::{self, Cache, Options};
use crate::search::cache::DocCache;
use crate::search::{Request as SearchRequest, Searcher};

use http::{Body, Request, Response};

/// Where the server's own files live (never a path of a built site, whose files
/// cannot start with `__`... and if one did, the server's win).
const PREFIX: &str = "/__blameless/";
const LIVE_JS: &str = include_str!("live.js");
const LIVE_CSS: &str = include_str!("live.css");
/// How often an idle live-reload stream sends a comment (keeps proxies and the
/// browser from timing it out, and notices closed connections).
const KEEPALIVE: Duration = Duration::from_secs(15);
/// Above this many changed files a reload event says "everything".
const MAX_LISTED_CHANGES: usize = 200;

/// How to serve.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to bind (default loopback).
    pub bind: IpAddr,
    /// Port (0: any free port).
    pub port: u16,
    /// Print rebuilds and diagnostics on stderr.
    pub verbose: bool,
}

/// The files of one good build, by output path.
type Files = BTreeMap<String, Arc<[u8]>>;

/// A running `serve`: stops on [`Serve::stop`].
pub struct Serve {
    server: Option<http::Server>,
    state: Arc<State>,
    threads: Vec<std::thread::JoinHandle<()>>,
    url: String,
}

struct State {
    root: PathBuf,
    options: Options,
    bind: IpAddr,
    port: u16,
    verbose: bool,
    /// The last good site.
    files: RwLock<Arc<Files>>,
    /// Whether a build ever succeeded (until then every page is the overlay).
    built: AtomicBool,
    /// The error overlay (escaped HTML) while the content has errors.
    overlay: RwLock<Option<Arc<str>>>,
    /// The search index of the last good site, once built.
    searcher: RwLock<Option<Arc<Searcher>>>,
    /// The static search export's paths (carried over by page rebuilds).
    index_paths: Mutex<Vec<String>>,
    /// Serialises changes of `files`.
    update: Mutex<()>,
    cache: Cache,
    live: Live,
    /// The last diagnostics report printed after a good build.
    last_report: Mutex<String>,
    /// Output paths of the pages open in a browser (their live-reload streams
    /// say which), with how many streams each.
    open: Mutex<BTreeMap<String, usize>>,
    stop: AtomicBool,
}

impl Serve {
    /// Bind, build the site, start watching and serving. Returns once the server
    /// answers (the first build may still be running: pages say so until it ends).
    pub fn start(root: &Path, settings: &Settings) -> anyhow::Result<Serve> {
        crate::source::check_root(root)?;
        let root = std::fs::canonicalize(root)?;
        let cache_dir = root.join(crate::output::CACHE_DIR);
        crate::output::create_cache_dir(&cache_dir)?;
        remove_stale_index_dirs(&root);
        // Bind first: the base URL needs the port.
        let addr = SocketAddr::new(settings.bind, settings.port);
        let probe = std::net::TcpListener::bind(addr)
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let port = probe.local_addr()?.port();
        drop(probe);
        let host = if settings.bind.is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            match settings.bind {
                IpAddr::V4(a) => a.to_string(),
                IpAddr::V6(a) => format!("[{a}]"),
            }
        };
        let url = format!("http://{host}:{port}/");
        let state = Arc::new(State {
            root: root.clone(),
            options: Options {
                base_url: Some(url.clone()),
            },
            bind: settings.bind,
            port,
            verbose: settings.verbose,
            files: RwLock::new(Arc::new(Files::new())),
            built: AtomicBool::new(false),
            overlay: RwLock::new(None),
            searcher: RwLock::new(None),
            index_paths: Mutex::new(Vec::new()),
            update: Mutex::new(()),
            cache: Cache::default(),
            live: Live::default(),
            last_report: Mutex::new(String::new()),
            open: Mutex::new(BTreeMap::new()),
            stop: AtomicBool::new(false),
        });
        let server = http::Server::start(
            SocketAddr::new(settings.bind, port),
            Arc::new(Site(Arc::clone(&state))),
        )
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let mut watcher = watch::Watcher::new(&root)?;

        let (index_tx, index_rx) = mpsc::channel::<()>();
        let mut threads = Vec::new();
        let st = Arc::clone(&state);
        threads.push(std::thread::spawn(move || index_loop(&st, &index_rx)));
        let st = Arc::clone(&state);
        threads.push(std::thread::spawn(move || {
            st.rebuild("start", &index_tx);
            while let Some(batch) = watcher.next_batch(&|| st.stop.load(Ordering::SeqCst)) {
                if st.stop.load(Ordering::SeqCst) {
                    break;
                }
                let reason = match batch.as_slice() {
                    [one] => one.clone(),
                    many => format!("{} files", many.len()),
                };
                st.rebuild(&reason, &index_tx);
            }
        }));
        Ok(Serve {
            server: Some(server),
            state,
            threads,
            url,
        })
    }

    /// The site's URL (`http://127.0.0.1:1111/`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.state.bind, self.state.port)
    }

    /// The files being served, as built (pages without the live-reload script or
    /// the overlay), sorted by path: for tests comparing them with a full build.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        read(&self.state.files)
            .iter()
            .map(|(p, b)| (p.clone(), b.to_vec()))
            .collect()
    }

    /// Block until the process is stopped (the command's foreground).
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    /// Stop serving and watching; joins every thread but open live-reload streams,
    /// which end at their next event or keep-alive.
    pub fn stop(mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        self.state.live.wake();
        if let Some(server) = self.server.take() {
            server.stop();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(own_index_dir(&self.state.root));
    }
}

/// `.blameless/serve/<pid>`: this process's search indexes.
fn own_index_dir(root: &Path) -> PathBuf {
    root.join(crate::output::CACHE_DIR)
        .join("serve")
        .join(std::process::id().to_string())
}

/// Remove the index directories of `serve` processes that are gone (killed by
/// Ctrl-C, which leaves no time to clean up). Only where `/proc` tells.
fn remove_stale_index_dirs(root: &Path) {
    let dir = root.join(crate::output::CACHE_DIR).join("serve");
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.parse::<u32>().is_ok() && !Path::new("/proc").join(&name).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

fn write<T>(lock: &RwLock<T>, value: T) {
    *lock
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = value;
}

fn guard<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl State {
    fn say(&self, text: &str) {
        if self.verbose {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        }
    }

    /// Rebuild after `reason` changed: swap in the new site if it has no error,
    /// otherwise keep the last good one and show the overlay.
    fn rebuild(&self, reason: &str, index: &mpsc::Sender<()>) {
        let start = Instant::now();
        let (result, produced) = self.run();
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(e) => {
                let text = format!(
                    "error: {}\n",
                    diagnostics::escape_controls(&format!("{e:#}"))
                );
                self.say(&text);
                self.show_overlay(&overlay_html(&text, 1));
                return;
            }
        };
        let report = diagnostics::render_human(&outcome.diagnostics);
        if outcome.has_errors() {
            guard(&self.last_report).clear();
            let counts = diagnostics::counts(&outcome.diagnostics);
            self.say(&format!(
                "{report}error: {reason}: {}; still serving the last good build\n",
                diagnostics::summary(counts)
            ));
            self.show_overlay(&overlay_html(&report, counts.errors));
            return;
        }
        let changed = self.swap_in(produced);
        let had_overlay = read(&self.overlay).is_some();
        write(&self.overlay, None);
        self.built.store(true, Ordering::SeqCst);
        // Warnings are printed when they change, not after every save.
        let report = {
            let mut last = guard(&self.last_report);
            if *last == report {
                String::new()
            } else {
                last.clone_from(&report);
                report
            }
        };
        self.say(&format!(
            "{report}rebuilt ({reason}) in {} ms: {} files changed\n",
            start.elapsed().as_millis(),
            changed.len()
        ));
        if had_overlay {
            self.live.publish(None);
        } else if !changed.is_empty() {
            self.live.publish(changed_urls(&changed));
        }
        let _ = index.send(());
    }

    /// Run the pipeline with the cache; the files it rendered. A run with errors
    /// leaves the render cache as it was, since its pages are not served.
    fn run(&self) -> (anyhow::Result<pipeline::Outcome>, Vec<OutputFile>) {
        let snapshot = self.cache.render.snapshot();
        let produced = Mutex::new(Vec::new());
        // The pages open in a browser are rendered first and shown at once; a large
        // rebuild (a pattern's title is on thousands of pages) finishes after.
        let open: std::collections::BTreeSet<String> = guard(&self.open).keys().cloned().collect();
        let show_open = || {
            if self.built.load(Ordering::SeqCst) {
                self.show_early(&guard(&produced));
            }
        };
        let first = crate::render::First {
            pages: &open,
            then: &show_open,
        };
        let result = pipeline::run_cached_first(
            &self.root,
            &self.options,
            &|file| {
                guard(&produced).push(file);
                Ok(())
            },
            &self.cache,
            Some(&first),
        );
        let good = matches!(&result, Ok(o) if !o.has_errors());
        if !good {
            self.cache.render.restore(snapshot);
        }
        let produced = produced
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (result, produced)
    }

    /// Make the produced files (plus the pages the render kept, plus the search
    /// export) the served site; returns the paths whose bytes changed.
    fn swap_in(&self, produced: Vec<OutputFile>) -> Vec<String> {
        let _update = guard(&self.update);
        let old = read(&self.files);
        let mut files = Files::new();
        let mut missing = false;
        for path in self.cache.render.kept() {
            match old.get(&path) {
                Some(bytes) => {
                    files.insert(path, Arc::clone(bytes));
                }
                None => missing = true,
            }
        }
        if missing {
            // Cannot happen while the cache follows the served site; if it ever
            // does, the next rebuild renders every page rather than lose one.
            self.cache.render.clear();
        }
        for path in guard(&self.index_paths).iter() {
            if let Some(bytes) = old.get(path) {
                files.insert(path.clone(), Arc::clone(bytes));
            }
        }
        let mut changed = Vec::new();
        for file in produced {
            if old.get(&file.path).is_none_or(|b| **b != file.bytes[..]) {
                changed.push(file.path.clone());
            }
            files.insert(file.path, file.bytes.into());
        }
        changed.extend(old.keys().filter(|p| !files.contains_key(*p)).cloned());
        changed.sort();
        write(&self.files, Arc::new(files));
        changed
    }

    /// Serve the pages a rebuild has produced so far on top of the current site and
    /// reload the open ones among them that changed; the rebuild's own swap follows.
    fn show_early(&self, produced: &[OutputFile]) {
        let _update = guard(&self.update);
        let old = read(&self.files);
        let changed: Vec<&OutputFile> = produced
            .iter()
            .filter(|f| old.get(&f.path).is_none_or(|b| **b != f.bytes[..]))
            .collect();
        if changed.is_empty() {
            return;
        }
        let mut files = (*old).clone();
        for f in &changed {
            files.insert(f.path.clone(), Arc::from(&f.bytes[..]));
        }
        write(&self.files, Arc::new(files));
        let paths: Vec<String> = changed.iter().map(|f| f.path.clone()).collect();
        self.live.publish(changed_urls(&paths));
    }

    fn show_overlay(&self, html: &str) {
        write(&self.overlay, Some(Arc::from(html)));
        self.live.publish(None);
    }

    /// Build the search index and the static export of the last good site into
    /// `dir`, reusing the analysed stories in `docs`, and serve them. `Ok(false)` when
    /// there is no new good site to index (it was taken by an earlier run).
    fn reindex(&self, dir: &Path, docs: &mut DocCache) -> anyhow::Result<bool> {
        let start = Instant::now();
        let Some((site, bodies)) = self.cache.take_site() else {
            return Ok(false);
        };
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(own_index_dir(&self.root))?;
        let made = pipeline::index_site(&site, &bodies, dir, docs)?;
        drop((site, bodies));
        let produced = made.files;
        let searcher = crate::search::open_dir(dir)?;
        {
            let _update = guard(&self.update);
            let mut files: Files = (*read(&self.files)).clone();
            let mut paths = guard(&self.index_paths);
            for p in paths.iter() {
                files.remove(p);
            }
            *paths = produced.iter().map(|f| f.path.clone()).collect();
            for file in produced {
                files.insert(file.path, file.bytes.into());
            }
            write(&self.files, Arc::new(files));
        }
        write(&self.searcher, Some(Arc::new(searcher)));
        self.say(&format!(
            "search index updated in {} ms ({} stories analysed, {} of {} chunks indexed)\n",
            start.elapsed().as_millis(),
            made.analysed,
            made.chunks_indexed,
            made.chunks
        ));
        Ok(true)
    }

    fn host_allowed(&self, host: &str) -> bool {
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) if !port.contains(']') => (name, port.parse::<u16>().ok()),
            _ => (host, Some(80)),
        };
        if port != Some(self.port) {
            return false;
        }
        if name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        let ip = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name);
        // An IP literal cannot be rebound by DNS; a name other than localhost can.
        match ip.parse::<IpAddr>() {
            Ok(ip) if self.bind.is_loopback() => ip.is_loopback(),
            Ok(_) => true,
            Err(_) => false,
        }
    }

    /// A request's `Origin`, if any, must be this server (pages of other sites may
    /// not read the live stream or the search API).
    fn origin_allowed(&self, req: &Request) -> bool {
        match req.header("origin") {
            None => true,
            Some(origin) => origin
                .strip_prefix("http://")
                .is_some_and(|host| !host.contains('/') && self.host_allowed(host)),
        }
    }

    fn page(&self, req: &Request) -> Response {
        let Some(path) = http::decode_path(&req.path) else {
            return Response::text(400, "malformed path");
        };
        let rel = &path[1..];
        // Files are looked up in memory, so nothing outside the build can be named;
        // such paths are still refused outright rather than normalised.
        if rel.contains('\\') || rel.contains("//") || rel.split('/').any(|s| s == ".." || s == ".")
        {
            return Response::text(400, "the path may not contain `.`, `..`, `//` or `\\`");
        }
        if !self.built.load(Ordering::SeqCst) {
            return self.unbuilt();
        }
        let files = read(&self.files);
        let key = if rel.is_empty() || rel.ends_with('/') {
            format!("{rel}index.html")
        } else {
            rel.to_string()
        };
        if let Some(bytes) = files.get(&key) {
            return self.file(200, &key, bytes);
        }
        if files.contains_key(&format!("{rel}/index.html")) {
            let mut location = format!("{}/", req.path);
            if !req.query.is_empty() {
                location.push('?');
                location.push_str(&req.query);
            }
            return Response::text(301, "moved").with("Location", location);
        }
        match files.get("404.html") {
            Some(bytes) => self.file(404, "404.html", bytes),
            None => Response::text(404, "no such page"),
        }
    }

    fn file(&self, status: u16, path: &str, bytes: &Arc<[u8]>) -> Response {
        let content_type = content_type(path);
        let body: Arc<[u8]> = if content_type.starts_with("text/html") {
            inject(
                bytes,
                self.live.generation(),
                read(&self.overlay).as_deref(),
            )
            .into()
        } else {
            Arc::clone(bytes)
        };
        Response {
            status,
            headers: vec![
                ("Content-Type", content_type.to_string()),
                // Always revalidate: the point of serve is seeing edits at once.
                ("Cache-Control", "no-cache".to_string()),
            ],
            body: Body::Bytes(body),
        }
    }

    /// Every page before the first good build: the overlay, or "building".
    fn unbuilt(&self) -> Response {
        let overlay = read(&self.overlay);
        let body = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>blameless serve</title></head><body><main><h1>{}</h1></main></body></html>",
            if overlay.is_some() {
                "The site has errors"
            } else {
                "Building the site…"
            }
        );
        let html = inject(body.as_bytes(), self.live.generation(), overlay.as_deref());
        Response::bytes(503, "text/html; charset=utf-8", html).with("Cache-Control", "no-store")
    }

    fn search(&self, req: &Request) -> Response {
        let error = |status: u16, message: &str| {
            Response::json(status, serde_json::json!({ "error": message }).to_string())
                .with("Cache-Control", "no-store")
        };
        let Some(pairs) = http::parse_query(&req.query) else {
            return error(400, "malformed query string");
        };
        let mut request = SearchRequest {
            limit: 10,
            ..SearchRequest::default()
        };
        let mut has_query = false;
        for (key, value) in pairs {
            let number = || value.parse::<usize>().ok();
            match key.as_str() {
                "q" => {
                    request.query = value.clone();
                    has_query = true;
                }
                "limit" => match number() {
                    Some(n) => request.limit = n,
                    None => return error(400, "`limit` must be a number"),
                },
                "offset" => match number() {
                    Some(n) => request.offset = n,
                    None => return error(400, "`offset` must be a number"),
                },
                facet if crate::search::FACETS.contains(&facet) => {
                    let values = request.filters.entry(facet.to_string()).or_default();
                    if !value.is_empty() && !values.contains(&value) {
                        values.push(value.clone());
                    }
                }
                other => {
                    return error(
                        400,
                        &format!(
                            "unknown parameter `{other}`; expected q, limit, offset, {}",
                            crate::search::FACETS.join(", ")
                        ),
                    )
                }
            }
        }
        if !has_query {
            return error(400, "missing the query parameter `q`");
        }
        let Some(searcher) = read(&self.searcher) else {
            return error(
                503,
                "the search index is being built; try again in a moment",
            );
        };
        match searcher.search(&request) {
            Ok(results) => Response::json(200, results.to_json()).with("Cache-Control", "no-store"),
            Err(e) => error(400, &e.to_string()),
        }
    }

    fn live_stream(self: &Arc<Self>, req: &Request) -> Response {
        let state = Arc::clone(self);
        // `?page=/incidents/x/&g=7`: the page this stream reloads (rendered first
        // after a change) and the generation it was served in.
        let params = http::parse_query(&req.query).unwrap_or_default();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let url = param("page");
        let page = url.as_deref().and_then(output_path);
        let loaded = param("g").and_then(|g| g.parse::<u64>().ok());
        Response {
            status: 200,
            headers: vec![
                ("Content-Type", "text/event-stream".to_string()),
                ("Cache-Control", "no-store".to_string()),
            ],
            body: Body::Stream(Box::new(move |w| {
                let _open = page.map(|p| OpenPage::new(&state, p));
                let mut seen = state.live.generation();
                // Whether the page changed between its load and this (re)connection.
                let stale = match (&url, loaded) {
                    (Some(url), Some(g)) => state.live.changed_since(url, g),
                    _ => false,
                };
                let hello = format!(
                    "retry: 1000\nevent: hello\ndata: {}\n\n",
                    if stale { "stale" } else { "current" }
                );
                if w.write_all(hello.as_bytes()).is_err() {
                    return;
                }
                while !state.stop.load(Ordering::SeqCst) {
                    let msg = match state.live.wait(seen, KEEPALIVE) {
                        Some((generation, changed)) => {
                            seen = generation;
                            format!("event: reload\ndata: {changed}\n\n")
                        }
                        None => ": keep-alive\n\n".to_string(),
                    };
                    if w.write_all(msg.as_bytes())
                        .and_then(|()| w.flush())
                        .is_err()
                    {
                        return;
                    }
                }
            })),
        }
    }
}

/// A page open in a browser for as long as its live-reload stream lasts.
struct OpenPage<'a> {
    state: &'a State,
    path: String,
}

impl<'a> OpenPage<'a> {
    fn new(state: &'a State, path: String) -> Self {
        *guard(&state.open).entry(path.clone()).or_default() += 1;
        OpenPage { state, path }
    }
}

impl Drop for OpenPage<'_> {
    fn drop(&mut self) {
        let mut open = guard(&self.state.open);
        if let Some(n) = open.get_mut(&self.path) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.path);
            }
        }
    }
}

/// The output file of a page's URL path (`/incidents/x/` → `incidents/x/index.html`),
/// if it names one (an absolute path without `..`).
fn output_path(url_path: &str) -> Option<String> {
    let rel = url_path.strip_prefix('/')?;
    if rel.split('/').any(|seg| seg == ".." || seg == ".") || rel.len() > 1024 {
        return None;
    }
    Some(if rel.is_empty() || rel.ends_with('/') {
        format!("{rel}index.html")
    } else {
        rel.to_string()
    })
}

/// The HTTP face of the state (the live stream's thread needs an owned handle).
struct Site(Arc<State>);

impl http::Handler for Site {
    fn handle(&self, req: &Request) -> Response {
        self.0.handle(&self.0, req)
    }
}

impl State {
    fn handle(&self, me: &Arc<State>, req: &Request) -> Response {
        // DNS rebinding: a page of evil.example resolved to 127.0.0.1 still says
        // `Host: evil.example`.
        if !req.header("host").is_some_and(|h| self.host_allowed(h)) {
            return Response::text(403, "unknown Host; use the address blameless serve printed");
        }
        match req.path.as_str() {
            "/api/search" => {
                if !self.origin_allowed(req) {
                    return Response::text(403, "cross-origin requests are not served");
                }
                self.search(req)
            }
            p if p.starts_with(PREFIX) => match &p[PREFIX.len()..] {
                "live" => {
                    if !self.origin_allowed(req) {
                        return Response::text(403, "cross-origin requests are not served");
                    }
                    me.live_stream(req)
                }
                "live.js" => {
                    Response::bytes(200, "text/javascript; charset=utf-8", LIVE_JS.as_bytes())
                        .with("Cache-Control", "no-cache")
                }
                "live.css" => Response::bytes(200, "text/css; charset=utf-8", LIVE_CSS.as_bytes())
                    .with("Cache-Control", "no-cache"),
                _ => Response::text(404, "no such file"),
            },
            _ => self.page(req),
        }
    }
}

/// The index thread: after each good rebuild (several pending ones coalesce), build
/// the search index and export of the site it made. Each index gets a new directory
/// (searches may still be reading the one served); the one it replaces, or a failed
/// one, is removed at once, so at most two exist.
fn index_loop(state: &State, rx: &mpsc::Receiver<()>) {
    // Its own pool: on rayon's global pool a long re-index (every story after a
    // pattern or symptom edit) would hold every worker, and the next page rebuild,
    // which the browser waits for, would queue behind it for seconds. With two
    // pools the OS shares the cores between them.
    let pool = rayon::ThreadPoolBuilder::new()
        .thread_name(|_| "blameless-index".into())
        .build();
    let mut docs = DocCache::new(own_index_dir(&state.root).join("chunks"));
    let mut served: Option<PathBuf> = None;
    let mut n = 0u64;
    while rx.recv().is_ok() {
        while rx.try_recv().is_ok() {}
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let dir = own_index_dir(&state.root).join(format!("index-{n}"));
        n += 1;
        let result = match &pool {
            Ok(pool) => pool.install(|| state.reindex(&dir, &mut docs)),
            Err(_) => state.reindex(&dir, &mut docs),
        };
        match result {
            Ok(true) => {
                if let Some(old) = served.replace(dir) {
                    let _ = std::fs::remove_dir_all(old);
                }
            }
            Ok(false) => {}
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                state.say(&format!(
                    "error: the search index could not be built: {}\n",
                    diagnostics::escape_controls(&format!("{e:#}"))
                ));
            }
        }
    }
}

/// Live-reload generations: each published change bumps the number and records
/// what changed, waking every stream.
#[derive(Default)]
struct Live {
    state: Mutex<(u64, Option<Vec<String>>)>,
    cond: Condvar,
    generation: AtomicU64,
    /// The last generation that reloaded every page, and the last that changed
    /// each URL path.
    changed_at: Mutex<(u64, std::collections::HashMap<String, u64>)>,
}

impl Live {
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// A new generation; `changed` lists the URL paths that changed, `None` for
    /// "reload every page".
    fn publish(&self, changed: Option<Vec<String>>) {
        let mut st = guard(&self.state);
        st.0 += 1;
        {
            let mut at = guard(&self.changed_at);
            match &changed {
                Some(urls) => {
                    for url in urls {
                        at.1.insert(url.clone(), st.0);
                    }
                }
                None => at.0 = st.0,
            }
        }
        st.1 = changed;
        self.generation.store(st.0, Ordering::SeqCst);
        self.cond.notify_all();
    }

    /// Whether the page at `url` changed after generation `loaded`.
    fn changed_since(&self, url: &str, loaded: u64) -> bool {
        let at = guard(&self.changed_at);
        at.0 > loaded || at.1.get(url).is_some_and(|&g| g > loaded)
    }

    fn wake(&self) {
        let _guard = guard(&self.state);
        self.cond.notify_all();
    }

    /// Wait up to `timeout` for a generation after `seen`: the new generation and
    /// the event data (a JSON array of changed URL paths, or `"*"` when every page
    /// should reload, including when more than one generation was missed).
    fn wait(&self, seen: u64, timeout: Duration) -> Option<(u64, String)> {
        let st = guard(&self.state);
        let (st, _) = self
            .cond
            .wait_timeout_while(st, timeout, |st| st.0 == seen)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if st.0 == seen {
            return None;
        }
        let data = match &st.1 {
            Some(changed) if st.0 == seen + 1 => {
                serde_json::to_string(changed).unwrap_or_else(|_| "\"*\"".into())
            }
            _ => "\"*\"".to_string(),
        };
        Some((st.0, data))
    }
}

/// The URL paths of changed pages, or `None` ("reload everything") when what pages
/// load changed (a stylesheet, a script, an image) or there are many. Data files
/// (feeds, JSON, the search export) reload nothing.
fn changed_urls(changed: &[String]) -> Option<Vec<String>> {
    if changed.len() > MAX_LISTED_CHANGES {
        return None;
    }
    let data = |p: &str| {
        p.starts_with("search/")
            || [".json", ".ndjson", ".xml", ".txt"]
                .iter()
                .any(|ext| p.ends_with(ext))
    };
    changed
        .iter()
        .filter(|p| p.ends_with(".html") || !data(p))
        .map(|p| {
            if p == "index.html" {
                Some("/".to_string())
            } else if let Some(dir) = p.strip_suffix("/index.html") {
                Some(format!("/{dir}/"))
            } else if p.ends_with(".html") {
                Some(format!("/{p}"))
            } else {
                None
            }
        })
        .collect()
}

/// The overlay shown on every page while the content has errors: the report as
/// the terminal shows it, escaped (a message quoting `<script>` stays text).
fn overlay_html(report: &str, errors: usize) -> String {
    format!(
        "<div id=\"blameless-overlay\" role=\"alert\"><div class=\"blameless-overlay-box\">\
         <p class=\"blameless-overlay-title\">{} in the content: still showing the last good build</p>\
         <pre>{}</pre><p>Fix the file and this page reloads by itself.</p></div></div>",
        if errors == 1 {
            "1 error".to_string()
        } else {
            format!("{errors} errors")
        },
        escape_html(report.trim_end())
    )
}

/// Add the live-reload script and stylesheet to a page (before `</head>`) and the
/// overlay, if any, at the start of `<body>`. Only in serve's answers: the built
/// site never contains them. Scripts are files (the theme's CSP allows no inline
/// script). The `blameless-serve` meta tells `search.js` to ask `/api/search`; it is
/// in `<head>`, where no content can put one.
fn inject(page: &[u8], generation: u64, overlay: Option<&str>) -> Vec<u8> {
    let head = format!(
        "<meta name=\"blameless-serve\" content=\"/api/search\"><link rel=\"stylesheet\" href=\"{PREFIX}live.css\"><script src=\"{PREFIX}live.js?g={generation}\"></script>"
    );
    let mut out = Vec::with_capacity(page.len() + head.len() + overlay.map_or(0, str::len));
    let head_at = find(page, b"</head>").unwrap_or(0);
    out.extend_from_slice(&page[..head_at]);
    out.extend_from_slice(head.as_bytes());
    let rest = &page[head_at..];
    match (overlay, find(rest, b"<body")) {
        (Some(overlay), Some(body)) => {
            let open_end = rest[body..]
                .iter()
                .position(|&b| b == b'>')
                .map_or(rest.len(), |i| body + i + 1);
            out.extend_from_slice(&rest[..open_end]);
            out.extend_from_slice(overlay.as_bytes());
            out.extend_from_slice(&rest[open_end..]);
        }
        (Some(overlay), None) => {
            out.extend_from_slice(overlay.as_bytes());
            out.extend_from_slice(rest);
        }
        (None, _) => out.extend_from_slice(rest),
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The media type of a built file, by extension.
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "ndjson" => "application/x-ndjson",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_is_escaped_and_injected_after_body() {
        let overlay = overlay_html("a.md:1:2: error: `<script>alert(1)</script>`\n", 1);
        assert!(overlay.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!overlay.contains("<script>"));
        let page = b"<html><head><title>t</title></head><body class=\"x\"><p>hi</p></body></html>";
        let out = String::from_utf8(inject(page, 7, Some(&overlay))).expect("UTF-8");
        assert!(out.contains("<script src=\"/__blameless/live.js?g=7\"></script></head>"));
        assert!(out.contains("<head><title>t</title><meta name=\"blameless-serve\""));
        assert!(out.contains("<body class=\"x\"><div id=\"blameless-overlay\""));
        let out = String::from_utf8(inject(page, 7, None)).expect("UTF-8");
        assert!(!out.contains("blameless-overlay"));
    }

    #[test]
    fn a_page_is_stale_only_if_it_changed_after_it_was_served() {
        let live = Live::default();
        live.publish(Some(vec!["/a/".into()])); // generation 1
        live.publish(Some(vec!["/b/".into()])); // 2: a page loaded at 1 must not reload for it
        assert!(live.changed_since("/a/", 0));
        assert!(!live.changed_since("/a/", 1));
        assert!(live.changed_since("/b/", 1));
        assert!(!live.changed_since("/c/", 0));
        live.publish(None); // 3: every page
        assert!(live.changed_since("/c/", 2));
        assert!(!live.changed_since("/c/", 3));
    }

    #[test]
    fn open_pages_name_output_files() {
        assert_eq!(output_path("/").as_deref(), Some("index.html"));
        assert_eq!(
            output_path("/incidents/a/").as_deref(),
            Some("incidents/a/index.html")
        );
        assert_eq!(output_path("/404.html").as_deref(), Some("404.html"));
        assert_eq!(output_path("/a/../b/"), None);
        assert_eq!(output_path("incidents/a/"), None);
    }

    #[test]
    fn changed_pages_become_urls() {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            changed_urls(&list(&[
                "incidents/a/index.html",
                "index.html",
                "search/x.bin",
                "feed.xml"
            ])),
            Some(list(&["/incidents/a/", "/"]))
        );
        assert_eq!(changed_urls(&list(&["style.css"])), None);
    }
}
