//! Watching the site root for `blameless serve` (the only module that uses notify):
//! `content/`, `templates/`, `static/` recursively and `site.yaml`, with changes
//! coalesced (editors save through a temporary file and a rename, several events
//! per save) into one batch per quiet period.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

/// The directories watched recursively, relative to the root.
const WATCHED_DIRS: [&str; 3] = ["content", "templates", "static"];
/// A batch ends after this long without a new event...
const QUIET: Duration = Duration::from_millis(60);
/// ...or this long after it started, whichever comes first.
const MAX_BATCH: Duration = Duration::from_millis(400);

/// A running watcher; dropping it stops watching.
pub struct Watcher {
    watcher: notify::RecommendedWatcher,
    rx: mpsc::Receiver<PathBuf>,
    root: PathBuf,
    watched: Vec<PathBuf>,
}

impl Watcher {
    /// Watch the site at `root`.
    pub fn new(root: &Path) -> anyhow::Result<Watcher> {
        let (tx, rx) = mpsc::channel();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            // Reading the files (the build does) is an event too: only changes count.
            let Ok(event) = event else { return };
            if !event.kind.is_access() && !event.kind.is_other() {
                for path in event.paths {
                    let _ = tx.send(path);
                }
            }
        })?;
        let mut w = Watcher {
            watcher,
            rx,
            root: root.to_path_buf(),
            watched: Vec::new(),
        };
        // The root itself, not recursively: site.yaml, and the watched directories
        // appearing after the server started.
        w.watcher.watch(root, RecursiveMode::NonRecursive)?;
        w.watch_dirs();
        Ok(w)
    }

    fn watch_dirs(&mut self) {
        for dir in WATCHED_DIRS {
            let path = self.root.join(dir);
            if !self.watched.contains(&path) && path.is_dir() {
                // Symlinked directories are refused by the build anyway.
                if self.watcher.watch(&path, RecursiveMode::Recursive).is_ok() {
                    self.watched.push(path);
                }
            }
        }
        self.watched.retain(|p| p.is_dir());
    }

    /// Block until something relevant changed, then wait for the burst to end;
    /// returns the changed paths relative to the root (sorted, deduplicated), or
    /// `None` when the watcher stopped or `stop` was set while waiting.
    pub fn next_batch(&mut self, stop: &dyn Fn() -> bool) -> Option<Vec<String>> {
        let mut batch: Vec<String> = Vec::new();
        let mut started: Option<Instant> = None;
        loop {
            let timeout = match started {
                None => Duration::from_millis(250),
                Some(t) => QUIET.min(MAX_BATCH.saturating_sub(t.elapsed())),
            };
            match self.rx.recv_timeout(timeout) {
                Ok(path) => {
                    if let Some(rel) = self.relevant(&path) {
                        started.get_or_insert_with(Instant::now);
                        batch.push(rel);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if started.is_some() {
                        break;
                    }
                    if stop() {
                        return None;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
            }
        }
        // A watched directory created or removed during the batch.
        self.watch_dirs();
        batch.sort();
        batch.dedup();
        Some(batch)
    }

    /// `path` relative to the root if a change there can change the site.
    fn relevant(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let rel = rel.to_string_lossy().replace('\\', "/");
        let first = rel.split('/').next().unwrap_or("");
        (rel == "site.yaml" || WATCHED_DIRS.contains(&first)).then_some(rel)
    }
}
