//! `blameless check --links`: are the stories' external sources still there?
//!
//! The only module that talks to the network (and the only user of ureq). In: the
//! site root and [`Settings`]. Out: diagnostics at each source URL's `path:line:col`.
//! A dead link is a content problem, never a crash: network failures become
//! diagnostics too.
//!
//! - Each distinct URL is checked once, by a bounded pool of threads, with a timeout,
//!   a `HEAD` first and a `GET` when the server refuses `HEAD` (many do), redirects
//!   followed, and retries with exponential backoff for what may be transient
//!   (timeouts, connection errors, 429, 5xx).
//! - `404` and `410` mean gone: an error, unless the source has an `archive_url`, in
//!   which case readers still have the archived copy and it is a warning. Anything
//!   else that fails (other 4xx, 5xx after retries, timeouts, DNS) is a warning: the
//!   link may be back tomorrow.
//! - Successes are cached in `.blameless/links.json` under the root (with the time
//!   of the check) for [`Settings::max_age`], so repeated runs are cheap; failures are
//!   always checked again. The cache is a convenience: a missing or corrupt one is
//!   ignored, and failing to write it only costs the next run some time.
//!
//! Internal links (`related`, Markdown links between stories and their anchors) are
//! checked offline by every `check`, in [`crate::schema`] and [`crate::markdown`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::diagnostics::Diagnostic;
use crate::schema::{self, UrlAt};
use crate::source;

/// How links are checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Timeout of one request (connect and read).
    pub timeout: Duration,
    /// Retries after a transient failure (so `1 + retries` attempts at most).
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// How long a successful check is trusted.
    pub max_age: Duration,
    /// The cache file; `None` to neither read nor write one.
    pub cache: Option<PathBuf>,
}

impl Settings {
    /// The defaults of `check --links` for the site at `root`.
    pub fn for_root(root: &Path) -> Settings {
        Settings {
            timeout: Duration::from_secs(15),
            retries: 2,
            backoff: Duration::from_millis(500),
            concurrency: 8,
            max_age: Duration::from_secs(7 * 24 * 3600),
            cache: Some(root.join(CACHE_FILE)),
        }
    }
}

/// The cache file, relative to the site root.
pub const CACHE_FILE: &str = ".blameless/links.json";

/// What one URL check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The final response was a success (2xx after redirects).
    Ok,
    /// The server answered with this status.
    Http(u16),
    /// No answer: timeout, refused connection, DNS, TLS...
    Unreachable(String),
}

/// What a run did, for the summary line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Distinct URLs.
    pub urls: usize,
    /// Of which answered from the cache.
    pub cached: usize,
    /// Of which found broken.
    pub broken: usize,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    version: u32,
    /// URL → when it last answered successfully (seconds since the epoch).
    ok: BTreeMap<String, u64>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn read_cache(path: Option<&Path>) -> Cache {
    path.and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<Cache>(&b).ok())
        .filter(|c| c.version == 1)
        .unwrap_or_default()
}

fn write_cache(path: &Path, cache: &Cache) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        crate::output::create_cache_dir(dir)?;
    }
    let mut bytes = serde_json::to_vec_pretty(cache).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    // Write beside and rename, so an interrupted run never leaves half a file.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Check every source URL of the site at `root`.
pub fn check(root: &Path, settings: &Settings) -> anyhow::Result<(Vec<Diagnostic>, Stats)> {
    let sources = source::load(root)?;
    let urls: Vec<UrlAt> = sources
        .incidents
        .iter()
        .flat_map(schema::source_urls)
        .collect();
    Ok(check_urls(&urls, settings))
}

/// Check `urls` (each distinct URL once) and turn the failures into diagnostics at
/// every place the URL is written.
pub fn check_urls(urls: &[UrlAt], settings: &Settings) -> (Vec<Diagnostic>, Stats) {
    let mut cache = read_cache(settings.cache.as_deref());
    let now = now_secs();
    let fresh = |url: &str| {
        cache
            .ok
            .get(url)
            .is_some_and(|&t| now.saturating_sub(t) < settings.max_age.as_secs())
    };
    let mut distinct: Vec<&str> = urls.iter().map(|u| u.url.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut stats = Stats {
        urls: distinct.len(),
        ..Stats::default()
    };
    let to_check: Vec<&str> = distinct.iter().copied().filter(|u| !fresh(u)).collect();
    stats.cached = distinct.len() - to_check.len();

    let results = fetch_all(&to_check, settings);
    for (url, status) in &results {
        if *status == Status::Ok {
            cache.ok.insert((*url).to_string(), now);
        } else {
            cache.ok.remove(*url);
        }
    }
    if let Some(path) = &settings.cache {
        cache.version = 1;
        // Best effort: the cache only saves time.
        let _ = write_cache(path, &cache);
    }

    let by_url: BTreeMap<&str, &Status> = results.iter().map(|(u, s)| (*u, s)).collect();
    let mut diags = Vec::new();
    for at in urls {
        let Some(status) = by_url.get(at.url.as_str()) else {
            continue;
        };
        if let Some(d) = diagnostic(at, status) {
            diags.push(d);
        }
    }
    stats.broken = by_url.values().filter(|s| ***s != Status::Ok).count();
    crate::diagnostics::sort(&mut diags);
    (diags, stats)
}

fn diagnostic(at: &UrlAt, status: &Status) -> Option<Diagnostic> {
    let what = if at.is_archive {
        "archived copy"
    } else {
        "source"
    };
    let gone = matches!(status, Status::Http(404 | 410));
    let message = match status {
        Status::Ok => return None,
        Status::Http(code) if gone => {
            format!("dead link: the {what} `{}` answers HTTP {code}", at.url)
        }
        Status::Http(code) => format!("the {what} `{}` answers HTTP {code}", at.url),
        Status::Unreachable(why) => format!("could not reach the {what} `{}`: {why}", at.url),
    };
    let help = match (&at.archive_url, at.is_archive) {
        (_, true) => "find another archived copy, or remove `archive_url`".to_string(),
        (Some(_), false) => "readers are sent to the `archive_url`; if the write-up moved, update `url`".to_string(),
        (None, false) => format!(
            "if the write-up moved, update `url`; otherwise add an `archive_url`, e.g. from https://web.archive.org/web/*/{}",
            at.url
        ),
    };
    let d = if gone && at.archive_url.is_none() {
        Diagnostic::error(&at.path, at.line, at.col, message)
    } else {
        Diagnostic::warning(&at.path, at.line, at.col, message)
    };
    Some(d.with_help(help))
}

/// Check `urls` with at most `settings.concurrency` requests in flight; results in
/// the order of `urls`.
fn fetch_all<'u>(urls: &[&'u str], settings: &Settings) -> Vec<(&'u str, Status)> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(settings.timeout)
        .timeout(settings.timeout)
        .redirects(8)
        .user_agent(concat!(
            "blameless-link-check/",
            env!("CARGO_PKG_VERSION"),
            " (+https://github.com/blameless-kb/blameless)"
        ))
        .build();
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Status>>> = Mutex::new(vec![None; urls.len()]);
    let workers = settings.concurrency.clamp(1, 64).min(urls.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().expect("no worker panics holding the lock");
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(url) = urls.get(i) else {
                    break;
                };
                let status = fetch_with_retries(&agent, url, settings);
                results.lock().expect("no worker panics holding the lock")[i] = Some(status);
            });
        }
    });
    let results = results.into_inner().expect("workers have finished");
    urls.iter()
        .zip(results)
        .map(|(u, s)| (*u, s.expect("every URL was checked")))
        .collect()
}

fn transient(status: &Status) -> bool {
    match status {
        Status::Ok => false,
        Status::Http(code) => *code == 429 || *code >= 500,
        Status::Unreachable(_) => true,
    }
}

fn fetch_with_retries(agent: &ureq::Agent, url: &str, settings: &Settings) -> Status {
    let mut wait = settings.backoff;
    let mut status = fetch(agent, url);
    for _ in 0..settings.retries {
        if !transient(&status) {
            break;
        }
        std::thread::sleep(wait);
        wait *= 2;
        status = fetch(agent, url);
    }
    status
}

/// `HEAD`, then `GET` when the server does not answer `HEAD` properly.
fn fetch(agent: &ureq::Agent, url: &str) -> Status {
    match request(agent, "HEAD", url) {
        // Servers that refuse or mishandle HEAD: ask again with GET.
        Status::Http(400 | 403 | 404 | 405 | 406 | 429 | 500 | 501 | 503)
        | Status::Unreachable(_) => request(agent, "GET", url),
        other => other,
    }
}

fn request(agent: &ureq::Agent, method: &str, url: &str) -> Status {
    match agent.request(method, url).call() {
        Ok(_) => Status::Ok,
        Err(ureq::Error::Status(code, _)) => Status::Http(code),
        Err(ureq::Error::Transport(t)) => Status::Unreachable(transport_reason(&t)),
    }
}

/// A short, stable reason for a transport failure.
fn transport_reason(t: &ureq::Transport) -> String {
    let text = t.to_string().to_lowercase();
    if text.contains("timed out") || text.contains("timeout") {
        "timed out".into()
    } else {
        match t.kind() {
            ureq::ErrorKind::Dns => "the host name does not resolve".into(),
            ureq::ErrorKind::ConnectionFailed => "connection failed".into(),
            ureq::ErrorKind::TooManyRedirects => "too many redirects".into(),
            ureq::ErrorKind::BadStatus | ureq::ErrorKind::BadHeader => {
                "invalid HTTP response".into()
            }
            ureq::ErrorKind::InvalidUrl | ureq::ErrorKind::UnknownScheme => "invalid URL".into(),
            _ => crate::diagnostics::escape_controls(&t.to_string()),
        }
    }
}
