//! Reading the site root: the only module that touches the site's files. Everything
//! after [`load`] is pure and works on the [`Sources`] it returns.
//!
//! Owns: discovery (which files exist and where), the file-system rules (no symbolic
//! links, regular files only, size caps checked before reading, UTF-8 file names, valid
//! ids) and decoding (UTF-8 only, one leading BOM removed, CRLF folded to LF, lone CR
//! rejected). In: a site root. Out: the decoded texts and bytes, plus diagnostics for
//! every content problem found on the way (the walk never stops at the first one).
//!
//! Links are never followed and special files are never opened, so a symlink to
//! `/etc/passwd`, a directory loop or a FIFO in a pull request cannot leak a file or hang
//! a build. A file that is replaced by a FIFO between the type check and the read could
//! still block; the input is a checkout that nothing modifies during a build, and std
//! offers no portable `O_NONBLOCK`/`O_NOFOLLOW` without `libc`.
//!
//! Depends only on [`crate::diagnostics`]; it must not parse YAML or Markdown.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context as _};
use rayon::prelude::*;

use crate::diagnostics::{self, Diagnostic, LineIndex};

/// Largest Markdown file read, in bytes (512 KiB).
pub const MAX_MARKDOWN_BYTES: u64 = 512 * 1024;
/// Largest `site.yaml` or `content/symptoms.yaml` read, in bytes (1 MiB).
pub const MAX_YAML_BYTES: u64 = 1024 * 1024;
/// Largest template read, in bytes (1 MiB).
pub const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;
/// Largest single file under `static/`, in bytes (5 MiB).
pub const MAX_STATIC_FILE_BYTES: u64 = 5 * 1024 * 1024;
/// Largest total size of all files under `static/`, in bytes (200 MiB).
pub const MAX_STATIC_TOTAL_BYTES: u64 = 200 * 1024 * 1024;
/// Deepest directory nesting walked below `content/`, `templates/` or `static/`.
pub const MAX_DEPTH: usize = 8;
/// Longest id (file stem) of a content file, in characters.
pub const MAX_ID_CHARS: usize = 100;

/// The content kinds that live in a directory of `.md` files under `content/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ContentKind {
    Incidents,
    Patterns,
    Pages,
}

impl ContentKind {
    const ALL: [ContentKind; 3] = [
        ContentKind::Incidents,
        ContentKind::Patterns,
        ContentKind::Pages,
    ];

    /// The directory name, also the `kind` of [`Sources::failed`].
    fn as_str(self) -> &'static str {
        match self {
            ContentKind::Incidents => "incidents",
            ContentKind::Patterns => "patterns",
            ContentKind::Pages => "pages",
        }
    }
}

/// One text file of the site, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the site root with `/` separators (`content/incidents/a.md`),
    /// except for templates, whose path is relative to `templates/` (`base.html`).
    pub rel_path: String,
    /// The text: valid UTF-8, one leading BOM removed, CRLF folded to LF. Lines and
    /// columns of this text are those of the original file.
    pub text: std::sync::Arc<str>,
}

/// One file of the site's `static/` directory, copied to the output as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticFile {
    /// Path relative to `static/`, with `/` separators (`css/site.css`).
    pub rel_path: String,
    /// The file's bytes, unchanged.
    pub bytes: Vec<u8>,
}

/// Everything read from the site root.
///
/// Lists are sorted by `rel_path`, so two loads of the same tree are equal whatever the
/// order of the directory entries or the number of threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// `site.yaml`. When it could not be loaded (a symlink, too big, not UTF-8…) its text
    /// is empty and a diagnostic says why; see [`Sources::site_config_failed`].
    pub site_config: SourceFile,
    /// `content/incidents/**/*.md` with valid, unique ids.
    pub incidents: Vec<SourceFile>,
    /// `content/patterns/**/*.md` with valid, unique ids.
    pub patterns: Vec<SourceFile>,
    /// `content/pages/**/*.md` with valid, unique ids.
    pub pages: Vec<SourceFile>,
    /// `content/symptoms.yaml`, when present and loadable.
    pub symptoms: Option<SourceFile>,
    /// The site's own `templates/**/*`, `rel_path` relative to `templates/`.
    pub templates: Vec<SourceFile>,
    /// The site's own `static/**/*`.
    pub static_files: Vec<StaticFile>,
    /// `(kind, file stem)` of content files that exist but could not be loaded (a link or
    /// special file named `*.md`, bad encoding, too big, invalid name…), so that
    /// references to their ids do not cascade into "unknown id" errors. `kind` is
    /// `incidents`, `patterns` or `pages`. Sorted and without duplicates.
    pub failed: Vec<(String, String)>,
    /// Every content problem found while reading, sorted.
    pub diagnostics: Vec<Diagnostic>,
}

impl Sources {
    /// Whether `site.yaml` exists but could not be loaded (its diagnostic is already in
    /// [`Sources::diagnostics`]), so that the config stage does not report an empty file.
    pub fn site_config_failed(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.path == SITE_CONFIG && d.is_error())
    }

    /// Whether `content/symptoms.yaml` exists but could not be loaded.
    pub fn symptoms_failed(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.path == SYMPTOMS && d.is_error())
    }

    /// Whether the content file `kind`/`id` exists but could not be loaded.
    pub fn is_failed(&self, kind: &str, id: &str) -> bool {
        self.failed
            .binary_search_by(|(k, i)| (k.as_str(), i.as_str()).cmp(&(kind, id)))
            .is_ok()
    }
}

const SITE_CONFIG: &str = "site.yaml";
const SYMPTOMS: &str = "content/symptoms.yaml";

/// The environment checks of [`load`], on their own: `root` is a directory holding
/// `site.yaml` and `content/`. `build` runs them before it creates anything beside the
/// output directory (which by default lies inside the root).
pub fn check_root(root: &Path) -> anyhow::Result<()> {
    let meta = fs::metadata(root)
        .with_context(|| format!("cannot read the site root `{}`", root.display()))?;
    if !meta.is_dir() {
        bail!("the site root `{}` is not a directory", root.display());
    }
    if matches!(fs::symlink_metadata(root.join(SITE_CONFIG)), Err(e) if e.kind() == io::ErrorKind::NotFound)
    {
        bail!("no site.yaml in {} (is --root right?)", root.display())
    }
    if matches!(fs::symlink_metadata(root.join("content")), Err(e) if e.kind() == io::ErrorKind::NotFound)
    {
        bail!(
            "no content/ directory in {} (is --root right?)",
            root.display()
        )
    }
    Ok(())
}

/// Read the site at `root`.
///
/// Environment problems (the root or its `site.yaml` or `content/` is missing) are
/// errors; every content problem becomes a diagnostic in the returned [`Sources`].
pub fn load(root: &Path) -> anyhow::Result<Sources> {
    load_with(root, None)
}

/// What a long-lived process keeps between loads: each file's decoded contents and
/// the metadata it was read under. A file whose size and modification time are
/// those of its last read is not read again, unless that time was too close to the
/// read for a later write to be sure to change it (file systems with coarse
/// timestamps). The walk and its checks run every time.
#[derive(Debug, Default)]
pub struct ReadCache {
    files: std::sync::Mutex<std::collections::HashMap<String, Cached>>,
}

/// One file in a [`ReadCache`].
#[derive(Debug, Clone)]
struct Cached {
    len: u64,
    modified: SystemTime,
    read_at: SystemTime,
    loaded: Loaded,
}

/// How long after a file's modification time a read may still miss a write in the
/// same timestamp tick (FAT has 2 s; most file systems have nanoseconds).
const TIMESTAMP_SLACK: Duration = Duration::from_secs(2);

/// The contents of `job`'s file from the last load, if it cannot have changed since.
fn reusable(old: &std::collections::HashMap<String, Cached>, job: &Job) -> Option<Loaded> {
    let hit = old.get(&job.rel)?;
    let modified = job.modified?;
    let settled = modified + TIMESTAMP_SLACK < hit.read_at;
    (settled && hit.len == job.len && hit.modified == modified).then(|| hit.loaded.clone())
}

/// [`load`], reusing and updating `cache` when given (see [`ReadCache`]); the result
/// is the same as without it.
pub fn load_with(root: &Path, cache: Option<&ReadCache>) -> anyhow::Result<Sources> {
    check_root(root)?;
    let mut walker = Walker { diags: Vec::new() };
    let mut jobs = Vec::new();
    let mut failed = Vec::new();

    // site.yaml
    let site_abs = root.join(SITE_CONFIG);
    match fs::symlink_metadata(&site_abs) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            bail!("no site.yaml in {} (is --root right?)", root.display())
        }
        _ => match walker.inspect(&site_abs, SITE_CONFIG, "") {
            Kind::File(len, modified) => {
                walker.accept(
                    &mut jobs,
                    Job::new(
                        site_abs,
                        SITE_CONFIG.into(),
                        Area::SiteConfig,
                        len,
                        modified,
                    ),
                );
            }
            Kind::Dir => {
                walker.error(SITE_CONFIG, "not a regular file");
            }
            Kind::Rejected => {}
        },
    }

    // content/
    let content_abs = root.join("content");
    match fs::symlink_metadata(&content_abs) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            bail!(
                "no content/ directory in {} (is --root right?)",
                root.display()
            )
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read `{}`", content_abs.display()))
        }
        Ok(m) if !m.file_type().is_symlink() && !m.is_dir() => {
            bail!("`{}` is not a directory", content_abs.display())
        }
        Ok(_) => {
            if let Kind::Dir = walker.inspect(&content_abs, "content", "content/") {
                walker.walk_content(&content_abs, &mut jobs, &mut failed);
            }
        }
    }

    // templates/ and static/, both optional.
    for (dir, area) in [("templates", Area::Template), ("static", Area::Static)] {
        let abs = root.join(dir);
        if matches!(fs::symlink_metadata(&abs), Err(ref e) if e.kind() == io::ErrorKind::NotFound) {
            continue;
        }
        let label = format!("{dir}/");
        match walker.inspect(&abs, dir, &label) {
            Kind::Dir => {
                for found in walker.walk_tree(&abs, dir, 0, &label, Junk::KnownOnly) {
                    if !found.rejected && walker.check_plain_name(&found.rel, &found.name) {
                        walker.accept(
                            &mut jobs,
                            Job::new(found.abs, found.rel, area, found.len, found.modified),
                        );
                    }
                }
            }
            Kind::File(..) => walker.diags.push(Diagnostic::error(
                dir,
                1,
                1,
                format!("`{dir}` must be a directory"),
            )),
            Kind::Rejected => {}
        }
    }

    jobs.sort_by(|a, b| a.rel.cmp(&b.rel));
    walker.limit_static_total(&mut jobs);

    // Read and decode in parallel; `collect` keeps the (sorted) order of the jobs.
    let old = cache
        .map(|c| std::mem::take(&mut *c.files.lock().unwrap_or_else(|e| e.into_inner())))
        .unwrap_or_default();
    let read_at = SystemTime::now();
    let results: Vec<(Job, Result<Loaded, Diagnostic>, Option<Cached>)> = jobs
        .into_par_iter()
        .map(|job| {
            if let Some(loaded) = cache.and_then(|_| reusable(&old, &job)) {
                let kept = old.get(&job.rel).cloned();
                return (job, Ok(loaded), kept);
            }
            let result = read_job(&job).and_then(|bytes| match job.area {
                Area::Static => Ok(Loaded::Bytes(bytes.into())),
                _ => decode(&job.rel, &bytes).map(|t| Loaded::Text(t.into())),
            });
            let entry = match (&result, job.modified) {
                (Ok(loaded), Some(modified)) if cache.is_some() => Some(Cached {
                    len: job.len,
                    modified,
                    read_at,
                    loaded: loaded.clone(),
                }),
                _ => None,
            };
            (job, result, entry)
        })
        .collect();
    drop(old);
    let mut next = std::collections::HashMap::new();

    let mut sources = Sources {
        site_config: SourceFile {
            rel_path: SITE_CONFIG.to_string(),
            text: std::sync::Arc::from(""),
        },
        incidents: Vec::new(),
        patterns: Vec::new(),
        pages: Vec::new(),
        symptoms: None,
        templates: Vec::new(),
        static_files: Vec::new(),
        failed,
        diagnostics: walker.diags,
    };
    for (job, result, entry) in results {
        if let Some(entry) = entry {
            next.insert(job.rel.clone(), entry);
        }
        let text = match result {
            Ok(Loaded::Text(text)) => text,
            Ok(Loaded::Bytes(bytes)) => {
                let rel_path = strip_dir(&job.rel, "static/");
                sources.static_files.push(StaticFile {
                    rel_path,
                    bytes: bytes.to_vec(),
                });
                continue;
            }
            Err(d) => {
                sources.diagnostics.push(d);
                job.mark_failed(&mut sources.failed);
                continue;
            }
        };
        let file = SourceFile {
            rel_path: job.rel,
            text,
        };
        match job.area {
            Area::SiteConfig => sources.site_config = file,
            Area::Symptoms => sources.symptoms = Some(file),
            Area::Content(ContentKind::Incidents) => sources.incidents.push(file),
            Area::Content(ContentKind::Patterns) => sources.patterns.push(file),
            Area::Content(ContentKind::Pages) => sources.pages.push(file),
            Area::Template => sources.templates.push(SourceFile {
                rel_path: strip_dir(&file.rel_path, "templates/"),
                text: file.text,
            }),
            // Static files are loaded as bytes, above.
            Area::Static => {}
        }
    }
    if let Some(cache) = cache {
        *cache.files.lock().unwrap_or_else(|e| e.into_inner()) = next;
    }
    sources.failed.sort();
    sources.failed.dedup();
    diagnostics::sort(&mut sources.diagnostics);
    Ok(sources)
}

/// Where a file belongs, which decides its cap, its decoding and its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    SiteConfig,
    Symptoms,
    Content(ContentKind),
    Template,
    Static,
}

/// A regular file to read, found by the (sequential) walk and read in parallel.
#[derive(Debug)]
struct Job {
    abs: PathBuf,
    /// Relative to the site root.
    rel: String,
    area: Area,
    /// Size from the walk's metadata.
    len: u64,
    /// Modification time from the walk's metadata.
    modified: Option<SystemTime>,
}

impl Job {
    fn new(abs: PathBuf, rel: String, area: Area, len: u64, modified: Option<SystemTime>) -> Self {
        Job {
            abs,
            rel,
            area,
            len,
            modified,
        }
    }

    fn cap(&self) -> u64 {
        match self.area {
            Area::SiteConfig | Area::Symptoms => MAX_YAML_BYTES,
            Area::Content(_) => MAX_MARKDOWN_BYTES,
            Area::Template => MAX_TEMPLATE_BYTES,
            Area::Static => MAX_STATIC_FILE_BYTES,
        }
    }

    /// Record a content file that exists but could not be loaded.
    fn mark_failed(&self, failed: &mut Vec<(String, String)>) {
        if let Area::Content(kind) = self.area {
            let name = self.rel.rsplit('/').next().unwrap_or(&self.rel);
            let stem = name.strip_suffix(".md").unwrap_or(name);
            failed.push((kind.as_str().to_string(), stem.to_string()));
        }
    }
}

/// Read at most `cap + 1` bytes, so a file that grew after the walk cannot exhaust memory.
fn read_job(job: &Job) -> Result<Vec<u8>, Diagnostic> {
    let cap = job.cap();
    let read = || -> io::Result<Vec<u8>> {
        let file = File::open(&job.abs)?;
        let mut bytes = Vec::new();
        file.take(cap + 1).read_to_end(&mut bytes)?;
        Ok(bytes)
    };
    match read() {
        Ok(bytes) if bytes.len() as u64 > cap => Err(size_error(&job.rel, bytes.len() as u64, cap)),
        Ok(bytes) => Ok(bytes),
        Err(e) => Err(Diagnostic::error(
            job.rel.clone(),
            1,
            1,
            format!("cannot read file: {}", io_message(&e)),
        )),
    }
}

/// Decode a text file: reject UTF-16 and invalid UTF-8, remove one leading UTF-8 BOM,
/// reject a carriage return without a line feed, fold CRLF to LF.
///
/// Positions are those of the original file: the BOM is not a column, and the first bad
/// byte or lone CR is located on the text before it, where no CR-only line break exists.
fn decode(rel: &str, bytes: &[u8]) -> Result<String, Diagnostic> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Diagnostic::error(
            rel,
            1,
            1,
            "file is UTF-16; save it as UTF-8",
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.valid_up_to();
            let prefix = std::str::from_utf8(&bytes[..valid])
                .expect("bytes before valid_up_to() are valid UTF-8");
            let (line, col) = LineIndex::new(prefix).position(prefix, valid);
            return Err(Diagnostic::error(
                rel,
                line,
                col,
                format!(
                    "invalid UTF-8 (byte 0x{:02X}); save the file as UTF-8",
                    bytes[valid]
                ),
            ));
        }
    };
    let lone_cr = text
        .match_indices('\r')
        .map(|(i, _)| i)
        .find(|&i| text.as_bytes().get(i + 1) != Some(&b'\n'));
    if let Some(offset) = lone_cr {
        let (line, col) = LineIndex::new(text).position(text, offset);
        return Err(Diagnostic::error(
            rel,
            line,
            col,
            "carriage return without line feed (old Mac line endings); \
             save the file with LF or CRLF line endings",
        ));
    }
    if text.contains('\r') {
        Ok(text.replace("\r\n", "\n"))
    } else {
        Ok(text.to_string())
    }
}

/// A file's contents after reading (and decoding, for text files).
#[derive(Debug, Clone)]
enum Loaded {
    Text(Arc<str>),
    Bytes(Arc<[u8]>),
}

/// What [`Walker::inspect`] found at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    /// A regular file, its length and modification time from the metadata.
    File(u64, Option<SystemTime>),
    /// A link, a special file or unreadable metadata, already reported.
    Rejected,
}

/// A regular file found by the walk, or a rejected non-directory entry (so that a
/// content file that exists but cannot be loaded is still a known id).
#[derive(Debug)]
struct Found {
    abs: PathBuf,
    rel: String,
    name: String,
    len: u64,
    modified: Option<SystemTime>,
    /// Already reported (a link, a special file…); must not be read.
    rejected: bool,
}

/// Which names a walk skips silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Junk {
    /// Editor and OS junk, and every dotfile (`content/`: only `.md` files matter).
    AllDotfiles,
    /// Only editor and OS junk (`static/` may hold `.well-known/`).
    KnownOnly,
}

impl Junk {
    fn skips(self, name: &str) -> bool {
        let known = matches!(
            name,
            ".DS_Store" | "Thumbs.db" | "desktop.ini" | ".gitkeep" | ".gitignore"
        ) || name.ends_with('~')
            || name.starts_with(".#")
            || name.ends_with(".swp")
            || name.ends_with(".swo");
        known || (self == Junk::AllDotfiles && name.starts_with('.'))
    }
}

/// The walk's state: the diagnostics collected so far.
struct Walker {
    diags: Vec<Diagnostic>,
}

impl Walker {
    fn error(&mut self, rel: &str, message: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(rel, 1, 1, message));
        self.diags.last_mut().expect("just pushed")
    }

    /// Look at `abs` without following a link. Report links, special files and
    /// unreadable metadata; return what may be used. `area` names the directory the
    /// rule is about (`content/`), or is empty for `site.yaml`.
    fn inspect(&mut self, abs: &Path, rel: &str, area: &str) -> Kind {
        let meta = match fs::symlink_metadata(abs) {
            Ok(meta) => meta,
            Err(e) => {
                self.error(rel, format!("cannot read file: {}", io_message(&e)));
                return Kind::Rejected;
            }
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            // read_link only for the message; the target is never opened.
            let target = fs::read_link(abs)
                .map(|t| t.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "?".to_string());
            let where_ = if area.is_empty() {
                String::new()
            } else {
                format!(" in {area}")
            };
            self.error(
                rel,
                format!("symbolic links are not allowed{where_} (points to `{target}`)"),
            )
            .help = Some("replace the link with the file itself".to_string());
            Kind::Rejected
        } else if ft.is_dir() {
            Kind::Dir
        } else if ft.is_file() {
            Kind::File(meta.len(), meta.modified().ok())
        } else {
            self.error(rel, "not a regular file");
            Kind::Rejected
        }
    }

    /// The entries of directory `abs`, sorted by file name: UTF-8 names only, junk
    /// skipped, links and special files reported (and returned as [`Kind::Rejected`]).
    fn list_dir(
        &mut self,
        abs: &Path,
        rel: &str,
        area: &str,
        junk: Junk,
    ) -> Vec<(String, PathBuf, String, Kind)> {
        let read = match fs::read_dir(abs) {
            Ok(read) => read,
            Err(e) => {
                self.error(rel, format!("cannot read directory: {}", io_message(&e)));
                return Vec::new();
            }
        };
        let mut names = Vec::new();
        for entry in read {
            match entry {
                Ok(entry) => names.push(entry.file_name()),
                Err(e) => {
                    self.error(rel, format!("cannot read directory: {}", io_message(&e)));
                }
            }
        }
        names.sort();
        let mut out = Vec::new();
        for os_name in names {
            let entry_abs = abs.join(&os_name);
            let Some(name) = os_name.to_str() else {
                let shown = join_rel(rel, &os_name.to_string_lossy());
                self.error(&shown, "file names must be UTF-8").help =
                    Some("rename it using UTF-8 (ASCII recommended)".to_string());
                continue;
            };
            if junk.skips(name) {
                continue;
            }
            let entry_rel = join_rel(rel, name);
            let kind = self.inspect(&entry_abs, &entry_rel, area);
            out.push((name.to_string(), entry_abs, entry_rel, kind));
        }
        out
    }

    /// Every regular file below directory `abs` (at `depth` below its top directory),
    /// plus the rejected entries, walked iteratively with an explicit stack and a depth
    /// cap.
    fn walk_tree(
        &mut self,
        abs: &Path,
        rel: &str,
        depth: usize,
        area: &str,
        junk: Junk,
    ) -> Vec<Found> {
        let mut files = Vec::new();
        let mut stack = vec![(abs.to_path_buf(), rel.to_string(), depth)];
        while let Some((dir_abs, dir_rel, depth)) = stack.pop() {
            for (name, entry_abs, entry_rel, kind) in self.list_dir(&dir_abs, &dir_rel, area, junk)
            {
                match kind {
                    Kind::Dir => {
                        if !self.check_plain_name(&entry_rel, &name) {
                            continue;
                        }
                        if depth + 1 > MAX_DEPTH {
                            self.error(
                                &entry_rel,
                                format!("directory nesting is deeper than {MAX_DEPTH} levels"),
                            );
                            continue;
                        }
                        stack.push((entry_abs, entry_rel, depth + 1));
                    }
                    Kind::File(len, modified) => files.push(Found {
                        abs: entry_abs,
                        rel: entry_rel,
                        name,
                        len,
                        modified,
                        rejected: false,
                    }),
                    Kind::Rejected => files.push(Found {
                        abs: entry_abs,
                        rel: entry_rel,
                        name,
                        len: 0,
                        modified: None,
                        rejected: true,
                    }),
                }
            }
        }
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        files
    }

    /// `content/`: the three kind directories and `symptoms.yaml`, nothing else.
    fn walk_content(
        &mut self,
        abs: &Path,
        jobs: &mut Vec<Job>,
        failed: &mut Vec<(String, String)>,
    ) {
        for (name, entry_abs, entry_rel, kind) in
            self.list_dir(abs, "content", "content/", Junk::AllDotfiles)
        {
            let kind_index = ContentKind::ALL.into_iter().find(|k| k.as_str() == name);
            match (kind_index, name.as_str(), kind) {
                (_, _, Kind::Rejected) => {}
                (Some(k), _, Kind::Dir) => {
                    self.walk_kind(k, &entry_abs, &entry_rel, jobs, failed);
                }
                (None, "symptoms.yaml", Kind::File(len, modified)) => {
                    self.accept(
                        jobs,
                        Job::new(entry_abs, entry_rel, Area::Symptoms, len, modified),
                    );
                }
                _ => {
                    self.error(&entry_rel, "unexpected entry in content/").help = Some(
                        "content/ may contain only the directories incidents/, patterns/ \
                         and pages/ and the file symptoms.yaml"
                            .to_string(),
                    );
                }
            }
        }
    }

    /// One kind directory (`content/incidents/`): `.md` files whose stems are valid,
    /// unique ids.
    fn walk_kind(
        &mut self,
        k: ContentKind,
        abs: &Path,
        rel: &str,
        jobs: &mut Vec<Job>,
        failed: &mut Vec<(String, String)>,
    ) {
        let kind = k.as_str();
        let area = "content/";
        // Every .md file of this kind with its stem, valid or not, for the case check.
        let mut stems: Vec<(String, String)> = Vec::new();
        let mut valid: Vec<(String, Found)> = Vec::new();
        for found in self.walk_tree(abs, rel, 1, area, Junk::AllDotfiles) {
            if found.rejected {
                if let Some(stem) = found.name.strip_suffix(".md") {
                    failed.push((kind.to_string(), stem.to_string()));
                }
                continue;
            }
            let Some(stem) = found.name.strip_suffix(".md") else {
                let d = self.error(
                    &found.rel,
                    format!("unexpected file in content/{kind}/: only .md files are read"),
                );
                let stem = found
                    .name
                    .rsplit_once('.')
                    .map_or(found.name.as_str(), |(s, _)| s);
                if [".markdown", ".MD", ".Md", ".mD", ".mdown", ".mkd"]
                    .iter()
                    .any(|ext| found.name.ends_with(ext))
                {
                    d.help = Some(format!("rename it to `{stem}.md`"));
                }
                continue;
            };
            let stem = stem.to_string();
            stems.push((stem.clone(), found.rel.clone()));
            if let Err(d) = check_id(&found.rel, &found.name, &stem) {
                self.diags.push(d);
                failed.push((kind.to_string(), stem));
                continue;
            }
            if !self.check_size(&found.rel, found.len, MAX_MARKDOWN_BYTES) {
                failed.push((kind.to_string(), stem));
                continue;
            }
            valid.push((stem, found));
        }

        // Ids that differ only in case collide on case-insensitive file systems.
        // Grouped by lower-case stem: a pairwise scan would be quadratic in the files.
        let mut by_lower: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (stem, rel) in stems {
            by_lower
                .entry(stem.to_lowercase())
                .or_default()
                .push((stem, rel));
        }
        for group in by_lower.values_mut().filter(|g| g.len() > 1) {
            group.sort_by(|a, b| a.1.cmp(&b.1));
            for (i, (a, a_rel)) in group.iter().enumerate() {
                for (b, b_rel) in group.iter().skip(i + 1).filter(|(b, _)| b != a) {
                    // Put it on the file that is not already the lower-case one.
                    let on = if *b == b.to_lowercase() { a_rel } else { b_rel };
                    self.error(
                        on,
                        format!("ids differ only in case: `{a_rel}` and `{b_rel}`"),
                    )
                    .help = Some(
                        "they collide on case-insensitive file systems; rename or merge them"
                            .to_string(),
                    );
                }
            }
        }

        // The same id in two subdirectories: the later one (by path) is an error.
        valid.sort_by(|a, b| a.1.rel.cmp(&b.1.rel));
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for (stem, found) in valid {
            if let Some(first) = seen.get(&stem) {
                self.error(
                    &found.rel,
                    format!("duplicate id `{stem}`: also defined by `{first}`"),
                )
                .help = Some(format!(
                    "ids are file names and must be unique within content/{kind}/"
                ));
                continue;
            }
            seen.insert(stem, found.rel.clone());
            jobs.push(Job::new(
                found.abs,
                found.rel,
                Area::Content(k),
                found.len,
                found.modified,
            ));
        }
    }

    /// Names that cannot exist on every file system (checked for directories and for
    /// `templates/` and `static/` files; content ids have stricter rules).
    fn check_plain_name(&mut self, rel: &str, name: &str) -> bool {
        if let Some(base) = windows_reserved(name) {
            self.error(
                rel,
                format!("reserved file name `{name}`: `{base}` is a device name on Windows"),
            )
            .help = Some("rename it".to_string());
            return false;
        }
        let bad_char = name
            .chars()
            .any(|c| c.is_control() || matches!(c, '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*'));
        if bad_char || name.ends_with('.') || name.ends_with(' ') {
            self.error(
                rel,
                format!(
                    "invalid file name `{name}`: names must not contain control characters \
                     or any of \\ < > : \" | ? *, nor end with a dot or a space"
                ),
            )
            .help = Some("rename it; such names cannot be checked out on Windows".to_string());
            return false;
        }
        true
    }

    /// Queue `job` for reading unless its size (from the walk) is over its cap.
    fn accept(&mut self, jobs: &mut Vec<Job>, job: Job) {
        if self.check_size(&job.rel, job.len, job.cap()) {
            jobs.push(job);
        }
    }

    /// Report a file over `cap` (from its metadata, before reading it).
    fn check_size(&mut self, rel: &str, len: u64, cap: u64) -> bool {
        if len > cap {
            self.diags.push(size_error(rel, len, cap));
            return false;
        }
        true
    }

    /// Drop static files past the total budget (counted in path order, from metadata),
    /// reporting the first one that exceeds it.
    fn limit_static_total(&mut self, jobs: &mut Vec<Job>) {
        let mut total: u64 = 0;
        let mut over: Option<String> = None;
        jobs.retain(|job| {
            if job.area != Area::Static {
                return true;
            }
            total = total.saturating_add(job.len);
            if total > MAX_STATIC_TOTAL_BYTES {
                over.get_or_insert_with(|| job.rel.clone());
                return false;
            }
            true
        });
        if let Some(rel) = over {
            self.error(
                &rel,
                format!(
                    "static files total {}; the limit is {}",
                    format_size(total),
                    format_limit(MAX_STATIC_TOTAL_BYTES)
                ),
            )
            .help =
                Some("this and the following files were not copied; shrink static/".to_string());
        }
    }
}

/// Check a content file's stem against the id rules.
fn check_id(rel: &str, name: &str, stem: &str) -> Result<(), Diagnostic> {
    if let Some(base) = windows_reserved(name) {
        return Err(Diagnostic::error(
            rel,
            1,
            1,
            format!("reserved file name `{name}`: `{base}` is a device name on Windows"),
        )
        .with_help("choose another id"));
    }
    if stem.chars().count() > MAX_ID_CHARS {
        return Err(Diagnostic::error(
            rel,
            1,
            1,
            format!("invalid file name `{name}`: ids are at most {MAX_ID_CHARS} characters"),
        )
        .with_help_opt(suggest_file_name(stem)));
    }
    if !is_id(stem) {
        return Err(Diagnostic::error(
            rel,
            1,
            1,
            format!(
                "invalid file name `{name}`: ids use lower-case letters, digits and single hyphens"
            ),
        )
        .with_help_opt(suggest_file_name(stem)));
    }
    Ok(())
}

/// `^[a-z0-9]+(-[a-z0-9]+)*$`
fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// `rename it to \`etcd-outage.md\`` for `Etcd_Outage`, when a valid id can be made.
fn suggest_file_name(stem: &str) -> Option<String> {
    let mut slug = String::new();
    let mut pending_hyphen = false;
    for c in stem.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if pending_hyphen && !slug.is_empty() {
                slug.push('-');
            }
            pending_hyphen = false;
            slug.push(c);
        } else {
            pending_hyphen = true;
        }
    }
    if slug.len() > MAX_ID_CHARS {
        slug.truncate(MAX_ID_CHARS);
        slug.truncate(slug.trim_end_matches('-').len());
    }
    if slug.is_empty() || windows_reserved(&slug).is_some() {
        None
    } else {
        Some(format!("rename it to `{slug}.md`"))
    }
}

/// The reserved device name a file name starts with on Windows (`con.md` → `con`).
fn windows_reserved(name: &str) -> Option<&str> {
    let base = name.split('.').next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    let reserved = matches!(lower.as_str(), "con" | "prn" | "aux" | "nul")
        || (lower.len() == 4
            && (lower.starts_with("com") || lower.starts_with("lpt"))
            && matches!(lower.as_bytes()[3], b'1'..=b'9'));
    reserved.then_some(base)
}

/// `css/a.css` from `static/css/a.css`.
fn strip_dir(rel: &str, dir: &str) -> String {
    rel.strip_prefix(dir).unwrap_or(rel).to_string()
}

fn join_rel(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn size_error(rel: &str, len: u64, cap: u64) -> Diagnostic {
    Diagnostic::error(
        rel,
        1,
        1,
        format!(
            "file is {}; the limit is {}",
            format_size(len),
            format_limit(cap)
        ),
    )
}

/// A size with one decimal, rounded up so that a file just over a limit never reads as
/// the limit itself (`3.0 MiB`, `512.1 KiB`, `12 bytes`).
fn format_size(len: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    let one_decimal = |unit: u64| {
        let tenths = (u128::from(len) * 10).div_ceil(u128::from(unit));
        format!("{}.{}", tenths / 10, tenths % 10)
    };
    if len >= MIB {
        format!("{} MiB", one_decimal(MIB))
    } else if len >= KIB {
        format!("{} KiB", one_decimal(KIB))
    } else {
        format!("{len} bytes")
    }
}

/// A limit, which is always a whole number of KiB or MiB (`512 KiB`, `5 MiB`).
fn format_limit(cap: u64) -> String {
    if cap.is_multiple_of(1024 * 1024) {
        format!("{} MiB", cap / (1024 * 1024))
    } else if cap.is_multiple_of(1024) {
        format!("{} KiB", cap / 1024)
    } else {
        format!("{cap} bytes")
    }
}

/// `permission denied` rather than `Permission denied (os error 13)`: messages are
/// lower-case and the errno helps nobody reviewing a pull request.
fn io_message(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;

    type TestResult = anyhow::Result<()>;

    /// A minimal valid site in a temp dir.
    fn site() -> anyhow::Result<tempfile::TempDir> {
        let dir = tempfile::tempdir()?;
        fs::write(dir.path().join("site.yaml"), "title: t\n")?;
        fs::create_dir_all(dir.path().join("content/incidents"))?;
        Ok(dir)
    }

    fn write(root: &Path, rel: &str, bytes: impl AsRef<[u8]>) -> TestResult {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, bytes)?;
        Ok(())
    }

    /// `path:line:col: message` of every diagnostic, for compact assertions.
    fn report(s: &Sources) -> Vec<String> {
        s.diagnostics
            .iter()
            .map(|d| format!("{}:{}:{}: {}", d.path, d.line, d.col, d.message))
            .collect()
    }

    fn rels(files: &[SourceFile]) -> Vec<&str> {
        files.iter().map(|f| f.rel_path.as_str()).collect()
    }

    /// Set a file's modification time `secs` seconds into the past.
    fn age(root: &Path, rel: &str, secs: u64) -> TestResult {
        let file = File::options().write(true).open(root.join(rel))?;
        file.set_modified(SystemTime::now() - Duration::from_secs(secs))?;
        Ok(())
    }

    #[test]
    fn a_read_cache_rereads_only_files_that_changed_and_loads_the_same() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        let (a, b) = ("content/incidents/a.md", "content/incidents/b.md");
        write(root, a, "---\ntitle: a\n---\n")?;
        write(root, b, "---\ntitle: b\n---\n")?;
        for rel in [a, b, "site.yaml"] {
            age(root, rel, 60)?;
        }
        let cache = ReadCache::default();
        let first = load_with(root, Some(&cache))?;
        let second = load_with(root, Some(&cache))?;
        // Settled files are not read again: the very same text comes back.
        assert!(Arc::ptr_eq(
            &first.incidents[0].text,
            &second.incidents[0].text
        ));
        assert!(Arc::ptr_eq(
            &first.incidents[1].text,
            &second.incidents[1].text
        ));

        // A changed file is read again (same size: the time tells), and one just
        // written is read again every time until its time has settled.
        write(root, b, "---\ntitle: c\n---\n")?;
        age(root, b, 30)?;
        let third = load_with(root, Some(&cache))?;
        assert_eq!(&*third.incidents[1].text, "---\ntitle: c\n---\n");
        assert!(Arc::ptr_eq(
            &first.incidents[0].text,
            &third.incidents[0].text
        ));
        write(root, b, "---\ntitle: e\n---\n")?;
        let fourth = load_with(root, Some(&cache))?;
        assert_eq!(&*fourth.incidents[1].text, "---\ntitle: e\n---\n");
        let again = load_with(root, Some(&cache))?;
        assert!(!Arc::ptr_eq(
            &fourth.incidents[1].text,
            &again.incidents[1].text
        ));

        // A removed file is gone, a new one appears; the result is a plain load's.
        fs::remove_file(root.join(a))?;
        write(root, "content/incidents/d.md", "---\ntitle: d\n---\n")?;
        let fifth = load_with(root, Some(&cache))?;
        let plain = load(root)?;
        assert_eq!(
            rels(&fifth.incidents),
            ["content/incidents/b.md", "content/incidents/d.md"]
        );
        assert_eq!(format!("{fifth:?}"), format!("{plain:?}"));
        Ok(())
    }

    #[test]
    fn loads_a_valid_site_sorted() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        write(root, "content/incidents/b.md", "b")?;
        write(root, "content/incidents/2019/a.md", "a")?;
        write(root, "content/patterns/p.md", "p")?;
        write(root, "content/pages/about.md", "about")?;
        write(root, "content/symptoms.yaml", "s: 1\n")?;
        write(root, "templates/base.html", "<html>")?;
        write(root, "templates/partials/nav.html", "<nav>")?;
        write(root, "static/css/site.css", "body{}")?;
        write(root, "static/.well-known/security.txt", "x")?;
        let s = load(root)?;
        assert_eq!(report(&s), Vec::<String>::new());
        assert_eq!(&*s.site_config.text, "title: t\n");
        assert!(!s.site_config_failed());
        assert_eq!(
            rels(&s.incidents),
            ["content/incidents/2019/a.md", "content/incidents/b.md"]
        );
        assert_eq!(rels(&s.patterns), ["content/patterns/p.md"]);
        assert_eq!(rels(&s.pages), ["content/pages/about.md"]);
        assert_eq!(
            s.symptoms.as_ref().map(|f| f.rel_path.as_str()),
            Some("content/symptoms.yaml")
        );
        assert_eq!(rels(&s.templates), ["base.html", "partials/nav.html"]);
        let statics: Vec<_> = s.static_files.iter().map(|f| f.rel_path.as_str()).collect();
        assert_eq!(statics, [".well-known/security.txt", "css/site.css"]);
        assert_eq!(s.static_files[1].bytes, b"body{}");
        assert!(s.failed.is_empty());
        // Deterministic: a second load is equal.
        assert_eq!(load(root)?, s);
        Ok(())
    }

    #[test]
    fn environment_errors() -> TestResult {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        let missing = root.join("nope");
        let e = load(&missing).expect_err("missing root");
        assert!(format!("{e:#}").starts_with(&format!(
            "cannot read the site root `{}`",
            missing.display()
        )));
        fs::write(root.join("file"), "")?;
        let e = load(&root.join("file")).expect_err("root is a file");
        assert!(e.to_string().ends_with("is not a directory"));
        let e = load(root).expect_err("no site.yaml");
        assert_eq!(
            e.to_string(),
            format!("no site.yaml in {} (is --root right?)", root.display())
        );
        fs::write(root.join("site.yaml"), "")?;
        let e = load(root).expect_err("no content/");
        assert_eq!(
            e.to_string(),
            format!(
                "no content/ directory in {} (is --root right?)",
                root.display()
            )
        );
        Ok(())
    }

    #[test]
    fn bom_and_crlf_are_folded() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        write(
            root,
            "content/incidents/a.md",
            b"\xEF\xBB\xBF---\r\ntitle: x\r\n---\r\nbody\r\n",
        )?;
        write(root, "content/incidents/b.md", "---\ntitle: x\n---\nbody\n")?;
        let s = load(root)?;
        assert_eq!(report(&s), Vec::<String>::new());
        assert_eq!(&*s.incidents[0].text, "---\ntitle: x\n---\nbody\n");
        assert_eq!(s.incidents[0].text, s.incidents[1].text);
        // Only one BOM is removed.
        assert_eq!(
            decode("a.md", b"\xEF\xBB\xBF\xEF\xBB\xBFx").ok(),
            Some("\u{feff}x".to_string())
        );
        Ok(())
    }

    #[test]
    fn invalid_utf8_is_located_in_the_original_file() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        for i in 1..=11 {
            bytes.extend_from_slice(format!("line {i}\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"ca\xC3\xA7a f\xE9e\r\n");
        write(root, "content/incidents/a.md", bytes)?;
        let s = load(root)?;
        assert_eq!(
            report(&s),
            ["content/incidents/a.md:12:7: invalid UTF-8 (byte 0xE9); save the file as UTF-8"]
        );
        assert!(s.incidents.is_empty());
        assert_eq!(s.failed, [("incidents".to_string(), "a".to_string())]);
        assert!(s.is_failed("incidents", "a"));
        Ok(())
    }

    #[test]
    fn utf16_and_lone_cr() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        write(root, "content/incidents/le.md", b"\xFF\xFE-\x00-\x00")?;
        write(root, "content/incidents/be.md", b"\xFE\xFF\x00-")?;
        write(
            root,
            "content/patterns/mac.md",
            "---\r\ntitle: x\r\nab\rcd\n",
        )?;
        let s = load(root)?;
        assert_eq!(
            report(&s),
            [
                "content/incidents/be.md:1:1: file is UTF-16; save it as UTF-8",
                "content/incidents/le.md:1:1: file is UTF-16; save it as UTF-8",
                "content/patterns/mac.md:3:3: carriage return without line feed (old Mac line \
                 endings); save the file with LF or CRLF line endings",
            ]
        );
        assert_eq!(s.failed.len(), 3);
        Ok(())
    }

    #[test]
    fn size_caps_are_checked_before_reading() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        // A sparse 3 MiB file: set_len does not write the bytes.
        let big = root.join("content/incidents/big.md");
        File::create(&big)?.set_len(3 * 1024 * 1024)?;
        File::create(root.join("content/symptoms.yaml"))?.set_len(MAX_YAML_BYTES + 1)?;
        fs::create_dir_all(root.join("static"))?;
        File::create(root.join("static/huge.bin"))?.set_len(6 * 1024 * 1024)?;
        write(
            root,
            "content/incidents/ok.md",
            vec![b'a'; MAX_MARKDOWN_BYTES as usize],
        )?;
        let s = load(root)?;
        assert_eq!(
            report(&s),
            [
                "content/incidents/big.md:1:1: file is 3.0 MiB; the limit is 512 KiB",
                "content/symptoms.yaml:1:1: file is 1.1 MiB; the limit is 1 MiB",
                "static/huge.bin:1:1: file is 6.0 MiB; the limit is 5 MiB",
            ]
        );
        assert_eq!(rels(&s.incidents), ["content/incidents/ok.md"]);
        assert!(s.symptoms.is_none());
        assert!(s.symptoms_failed());
        assert_eq!(s.failed, [("incidents".to_string(), "big".to_string())]);
        Ok(())
    }

    #[test]
    fn static_total_is_capped() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        fs::create_dir_all(root.join("static"))?;
        for i in 0..41 {
            File::create(root.join(format!("static/f{i:02}.bin")))?.set_len(5 * 1024 * 1024)?;
        }
        let s = load(root)?;
        assert_eq!(
            report(&s),
            ["static/f40.bin:1:1: static files total 205.0 MiB; the limit is 200 MiB"]
        );
        assert_eq!(s.static_files.len(), 40);
        Ok(())
    }

    #[test]
    fn sizes_are_formatted() {
        assert_eq!(format_size(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(format_size(5 * 1024 * 1024 + 1), "5.1 MiB");
        assert_eq!(format_size(600 * 1024), "600.0 KiB");
        assert_eq!(format_size(12), "12 bytes");
        assert_eq!(format_limit(MAX_MARKDOWN_BYTES), "512 KiB");
        assert_eq!(format_limit(MAX_STATIC_TOTAL_BYTES), "200 MiB");
    }

    #[test]
    fn file_names_become_ids() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        for name in [
            "Etcd-Outage.md",
            "etcd-outage.md",
            "Etcd_Quorum.md",
            "a--b.md",
            "con.md",
            "-.md",
        ] {
            write(root, &format!("content/incidents/{name}"), "x")?;
        }
        write(
            root,
            &format!("content/patterns/{}.md", "a".repeat(101)),
            "x",
        )?;
        let s = load(root)?;
        let diags: Vec<String> = s.diagnostics.iter().map(ToString::to_string).collect();
        let long = "a".repeat(101);
        assert_eq!(
            diags,
            [
                "content/incidents/-.md:1:1: error: invalid file name `-.md`: ids use \
                 lower-case letters, digits and single hyphens",
                "content/incidents/Etcd-Outage.md:1:1: error: ids differ only in case: \
                 `content/incidents/Etcd-Outage.md` and `content/incidents/etcd-outage.md`\n  \
                 = help: they collide on case-insensitive file systems; rename or merge them",
                "content/incidents/Etcd-Outage.md:1:1: error: invalid file name \
                 `Etcd-Outage.md`: ids use lower-case letters, digits and single hyphens\n  \
                 = help: rename it to `etcd-outage.md`",
                "content/incidents/Etcd_Quorum.md:1:1: error: invalid file name \
                 `Etcd_Quorum.md`: ids use lower-case letters, digits and single hyphens\n  \
                 = help: rename it to `etcd-quorum.md`",
                "content/incidents/a--b.md:1:1: error: invalid file name `a--b.md`: ids use \
                 lower-case letters, digits and single hyphens\n  = help: rename it to `a-b.md`",
                "content/incidents/con.md:1:1: error: reserved file name `con.md`: `con` is a \
                 device name on Windows\n  = help: choose another id",
                &format!(
                    "content/patterns/{long}.md:1:1: error: invalid file name `{long}.md`: ids \
                     are at most 100 characters\n  = help: rename it to `{}.md`",
                    "a".repeat(100)
                ),
            ]
        );
        assert_eq!(rels(&s.incidents), ["content/incidents/etcd-outage.md"]);
        let failed: Vec<_> = s.failed.iter().map(|(k, i)| format!("{k}/{i}")).collect();
        assert_eq!(
            failed,
            [
                "incidents/-",
                "incidents/Etcd-Outage",
                "incidents/Etcd_Quorum",
                "incidents/a--b",
                "incidents/con",
                &format!("patterns/{long}"),
            ]
        );
        Ok(())
    }

    #[test]
    fn duplicate_ids_across_subdirectories() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        write(root, "content/incidents/x.md", "top")?;
        write(root, "content/incidents/2019/x.md", "nested")?;
        write(root, "content/patterns/x.md", "another kind: fine")?;
        let s = load(root)?;
        assert_eq!(
            report(&s),
            [
                "content/incidents/x.md:1:1: duplicate id `x`: also defined by \
              `content/incidents/2019/x.md`"
            ]
        );
        assert_eq!(rels(&s.incidents), ["content/incidents/2019/x.md"]);
        assert_eq!(rels(&s.patterns), ["content/patterns/x.md"]);
        Ok(())
    }

    #[test]
    fn unexpected_files_and_junk() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        for rel in [
            "content/incidents/notes.txt",
            "content/incidents/a.markdown",
            "content/incidents/.DS_Store",
            "content/incidents/a.md~",
            "content/incidents/.#a.md",
            "content/incidents/.a.md.swp",
            "content/incidents/Thumbs.db",
            "content/.hidden",
            "content/README.md",
            "content/drafts/x.md",
            "content/incidents/ok.md",
            "static/.DS_Store",
        ] {
            write(root, rel, "x")?;
        }
        let s = load(root)?;
        let diags: Vec<String> = s.diagnostics.iter().map(ToString::to_string).collect();
        let help = "content/ may contain only the directories incidents/, patterns/ and \
                    pages/ and the file symptoms.yaml";
        assert_eq!(
            diags,
            [
                format!(
                    "content/README.md:1:1: error: unexpected entry in content/\n  = help: {help}"
                ),
                format!(
                    "content/drafts:1:1: error: unexpected entry in content/\n  = help: {help}"
                ),
                "content/incidents/a.markdown:1:1: error: unexpected file in content/incidents/: \
                 only .md files are read\n  = help: rename it to `a.md`"
                    .to_string(),
                "content/incidents/notes.txt:1:1: error: unexpected file in content/incidents/: \
                 only .md files are read"
                    .to_string(),
            ]
        );
        assert_eq!(rels(&s.incidents), ["content/incidents/ok.md"]);
        assert!(s.static_files.is_empty());
        Ok(())
    }

    #[test]
    fn nesting_is_capped() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        // content/incidents is level 1; d1..d7 reach level 8, which is allowed.
        let ok: String = (1..=7).map(|i| format!("/d{i}")).collect();
        write(root, &format!("content/incidents{ok}/deep.md"), "x")?;
        let deep: String = (1..=40).map(|i| format!("/e{i}")).collect();
        write(root, &format!("content/incidents{deep}/x.md"), "x")?;
        let s = load(root)?;
        let too_deep: String = (1..=8).map(|i| format!("/e{i}")).collect();
        assert_eq!(
            report(&s),
            [format!(
                "content/incidents{too_deep}:1:1: directory nesting is deeper than 8 levels"
            )]
        );
        assert_eq!(
            rels(&s.incidents),
            [format!("content/incidents{ok}/deep.md")]
        );
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_never_followed() -> TestResult {
        use std::os::unix::fs::symlink;
        let dir = site()?;
        let root = dir.path();
        let fifo = root.join("fifo");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status()?;
        assert!(status.success());
        symlink("/etc/passwd", root.join("content/incidents/passwd.md"))?;
        symlink(&fifo, root.join("content/incidents/fifo.md"))?;
        symlink("..", root.join("content/incidents/loop"))?;
        fs::create_dir_all(root.join("templates"))?;
        symlink("/etc/hostname", root.join("templates/base.html"))?;
        symlink("/etc", root.join("static"))?;
        let s = load(root)?;
        assert_eq!(
            report(&s),
            [
                format!(
                    "content/incidents/fifo.md:1:1: symbolic links are not allowed in content/ \
                     (points to `{}`)",
                    fifo.display()
                ),
                "content/incidents/loop:1:1: symbolic links are not allowed in content/ \
                 (points to `..`)"
                    .to_string(),
                "content/incidents/passwd.md:1:1: symbolic links are not allowed in content/ \
                 (points to `/etc/passwd`)"
                    .to_string(),
                "static:1:1: symbolic links are not allowed in static/ (points to `/etc`)"
                    .to_string(),
                "templates/base.html:1:1: symbolic links are not allowed in templates/ \
                 (points to `/etc/hostname`)"
                    .to_string(),
            ]
        );
        assert!(s.incidents.is_empty() && s.templates.is_empty() && s.static_files.is_empty());
        // They exist, so references to them must not cascade into "unknown id".
        let failed: Vec<_> = s.failed.iter().map(|(k, i)| format!("{k}/{i}")).collect();
        assert_eq!(failed, ["incidents/fifo", "incidents/passwd"]);
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn site_yaml_symlink_is_a_diagnostic() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        fs::remove_file(root.join("site.yaml"))?;
        std::os::unix::fs::symlink("/etc/passwd", root.join("site.yaml"))?;
        let s = load(root)?;
        assert_eq!(
            report(&s),
            ["site.yaml:1:1: symbolic links are not allowed (points to `/etc/passwd`)"]
        );
        assert!(s.site_config_failed());
        assert_eq!(&*s.site_config.text, "");
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_never_opened() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        let status = std::process::Command::new("mkfifo")
            .arg(root.join("content/incidents/p.md"))
            .arg(root.join("content/symptoms.yaml"))
            .status()?;
        assert!(status.success());
        let _socket = std::os::unix::net::UnixListener::bind(root.join("content/incidents/s.md"))?;
        write(root, "content/incidents/ok.md", "x")?;
        let s = load(root)?;
        assert_eq!(
            report(&s),
            [
                "content/incidents/p.md:1:1: not a regular file",
                "content/incidents/s.md:1:1: not a regular file",
                "content/symptoms.yaml:1:1: not a regular file",
            ]
        );
        assert_eq!(rels(&s.incidents), ["content/incidents/ok.md"]);
        let failed: Vec<_> = s.failed.iter().map(|(k, i)| format!("{k}/{i}")).collect();
        assert_eq!(failed, ["incidents/p", "incidents/s"]);
        assert!(s.symptoms_failed());
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_file_names() -> TestResult {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let dir = site()?;
        let root = dir.path();
        let name = OsStr::from_bytes(b"caf\xFF.md");
        fs::write(root.join("content/incidents").join(name), "x")?;
        fs::create_dir_all(root.join("static"))?;
        fs::write(
            root.join("static").join(OsStr::from_bytes(b"\xFE.css")),
            "x",
        )?;
        let s = load(root)?;
        assert_eq!(
            report(&s),
            [
                "content/incidents/caf\u{FFFD}.md:1:1: file names must be UTF-8",
                "static/\u{FFFD}.css:1:1: file names must be UTF-8",
            ]
        );
        Ok(())
    }

    #[test]
    fn odd_names_in_static_and_templates() -> TestResult {
        let dir = site()?;
        let root = dir.path();
        write(root, "static/a\\b.css", "x")?;
        write(root, "static/aux.png", "x")?;
        write(root, "templates/a:b.html", "x")?;
        write(root, "templates/ok.html", "x")?;
        let s = load(root)?;
        let msgs = report(&s);
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(msgs[0].starts_with("static/a\\b.css:1:1: invalid file name `a\\b.css`"));
        assert_eq!(
            msgs[1],
            "static/aux.png:1:1: reserved file name `aux.png`: `aux` is a device name on Windows"
        );
        assert!(msgs[2].starts_with("templates/a:b.html:1:1: invalid file name"));
        assert_eq!(rels(&s.templates), ["ok.html"]);
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_file_is_reported_and_the_walk_continues() -> TestResult {
        use std::os::unix::fs::PermissionsExt;
        let dir = site()?;
        let root = dir.path();
        write(root, "content/incidents/locked.md", "x")?;
        write(root, "content/incidents/zz_bad.md", "x")?;
        let locked = root.join("content/incidents/locked.md");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000))?;
        if File::open(&locked).is_ok() {
            // Running as root: permissions do not apply, nothing to test.
            return Ok(());
        }
        let s = load(root)?;
        assert_eq!(
            report(&s),
            [
                "content/incidents/locked.md:1:1: cannot read file: permission denied",
                "content/incidents/zz_bad.md:1:1: invalid file name `zz_bad.md`: ids use \
                 lower-case letters, digits and single hyphens",
            ]
        );
        assert!(s.is_failed("incidents", "locked"));
        Ok(())
    }

    #[test]
    fn io_messages_are_lower_case() {
        let e = io::Error::from_raw_os_error(13);
        assert_eq!(io_message(&e), "permission denied");
    }
}
