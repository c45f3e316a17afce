//! Writing the built site: the only module that writes to disk.
//!
//! Owns: the safety rules for the output directory ([`check_output_dir`]) and the
//! atomic replacement of it ([`write_site`]). In: the site root, the output path and the
//! rendered files as plain `(path, bytes)` pairs. Out: the new tree at `out`, or an error
//! with the previous tree left byte-for-byte intact and no staging directory behind.
//!
//! The algorithm (research notes, section 8): lock, build the whole tree in a sibling
//! staging directory that holds the [`MARKER`] first, then swap it in with two renames
//! and delete the old tree. Zola and mdBook delete first and render second, so a failed
//! build leaves nothing; and `--output-dir .` once wiped a project (zola#1378), hence the
//! refusals. Nothing here deletes a directory that lacks the marker.
//!
//! Depends on nothing else in the crate: the renderer decides what the files are, this
//! module only checks that their paths stay inside `out`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{self, File, TryLockError};
use std::io::{self, Write as _};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context as _};
use rayon::prelude::*;

/// One file of the built site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Path relative to the output directory, with `/` separators (`incidents/a/index.html`).
    pub path: String,
    /// The file's contents.
    pub bytes: Vec<u8>,
}

/// The directory of local caches under a site root (`.blameless/`: the search index,
/// the link-check cache): never content, never deployed, never committed.
pub const CACHE_DIR: &str = ".blameless";

/// Create the cache directory `dir` (normally `<root>/`[`CACHE_DIR`]) with a
/// `.gitignore` that ignores everything in it, itself included, so a site's
/// repository never sees the caches as changes.
pub fn create_cache_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(ignore, "# Local caches of blameless, not content.\n*\n")?;
    }
    Ok(())
}

/// Name of the empty file that marks a directory as written by blameless. Only marked
/// directories are ever replaced or deleted.
pub const MARKER: &str = ".blameless-output";

/// Test-only fault injection: when this environment variable holds a number `N`,
/// [`write_site`] fails after writing `N` files (the marker not counted), as a full disk
/// would. Used by the integration tests to check that a failed build leaves the previous
/// output intact; never set it otherwise.
pub const FAIL_AFTER_WRITES_VAR: &str = "BLAMELESS_FAIL_AFTER_WRITES";

/// Refuse an output directory that would destroy sources or foreign files: `out` equal to
/// the site root or an ancestor of it, equal to or inside `content/`, `templates/` or
/// `static/`, a symbolic link, an existing non-directory, or an existing non-empty
/// directory without the [`MARKER`].
///
/// Relative paths are taken from the current directory. Existing prefixes are
/// canonicalised (so links and `..` cannot sneak past) and the rest is normalised
/// lexically, because `out` need not exist yet.
pub fn check_output_dir(root: &Path, out: &Path) -> anyhow::Result<()> {
    let refuse = |why: &str| {
        anyhow!(
            "refusing to use `{}` as the output directory: {why}",
            out.display()
        )
    };
    let root_c = resolve(root)
        .with_context(|| format!("cannot resolve the site root `{}`", root.display()))?;
    let out_c = resolve(out)
        .with_context(|| format!("cannot resolve the output directory `{}`", out.display()))?;
    if out_c == root_c {
        return Err(refuse("it is the site root"));
    }
    if root_c.starts_with(&out_c) {
        return Err(refuse("it contains the site root"));
    }
    for dir in ["content", "templates", "static"] {
        let dir_c = resolve(&root_c.join(dir))
            .with_context(|| format!("cannot resolve `{}`", root_c.join(dir).display()))?;
        if out_c == dir_c {
            return Err(refuse(&format!("it is the site's {dir}/ directory")));
        }
        if out_c.starts_with(&dir_c) {
            return Err(refuse(&format!("it is inside the site's {dir}/ directory")));
        }
    }
    let meta = match fs::symlink_metadata(absolute(out)?) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read `{}`", out.display()));
        }
    };
    if meta.file_type().is_symlink() {
        return Err(refuse("it is a symbolic link"));
    }
    if !meta.is_dir() {
        return Err(refuse("it exists and is not a directory"));
    }
    let empty = fs::read_dir(&out_c)
        .with_context(|| format!("cannot read `{}`", out.display()))?
        .next()
        .is_none();
    if !empty && !has_marker(&out_c) {
        return Err(refuse(
            "it exists and was not created by blameless (no .blameless-output marker); \
             remove it or choose another --output",
        ));
    }
    Ok(())
}

/// Replace the directory `out` with exactly `files` (plus the [`MARKER`]), atomically:
/// either the new tree is in place, or the previous one is untouched and an error is
/// returned. [`Staging`] does the work; this is it for a list of files in memory.
///
/// An invalid file path (absolute, with `..`, a backslash, a duplicate…) is an
/// internal bug and an error. See [`FAIL_AFTER_WRITES_VAR`] for fault injection.
pub fn write_site(root: &Path, out: &Path, files: &[OutputFile]) -> anyhow::Result<()> {
    let fail_after = parse_fail_after(std::env::var_os(FAIL_AFTER_WRITES_VAR))?;
    write_site_with(root, out, files, fail_after)
}

/// [`write_site`] with the fault injection passed in.
fn write_site_with(
    root: &Path,
    out: &Path,
    files: &[OutputFile],
    fail_after: Option<usize>,
) -> anyhow::Result<()> {
    validate_paths(files)?;
    let staging = Staging::begin_with(root, out, fail_after)?;
    files.par_iter().try_for_each(|f| staging.write(f))?;
    staging.commit()
}

/// A new output tree being written beside `out`: files stream in (from several
/// threads) as they are rendered, so a 10,000-page site never sits in memory whole.
///
/// [`Staging::begin`] checks `out` with [`check_output_dir`], takes an exclusive lock
/// on `<parent>/.<name>.lock`, cleans up marked staging directories left by a crashed
/// build and creates `<parent>/.<name>.staging-<pid>-<nanos>` holding the [`MARKER`].
/// [`Staging::commit`] swaps it in; dropping an uncommitted staging removes it, so an
/// error anywhere leaves the previous output byte-for-byte intact.
#[derive(Debug)]
pub struct Staging {
    /// What the user asked for (for messages).
    out: PathBuf,
    /// `out`, resolved.
    out_c: PathBuf,
    parent: PathBuf,
    name: OsString,
    suffix: String,
    stage: PathBuf,
    /// Held until the staging is committed or dropped.
    _lock: File,
    fail_after: Option<usize>,
    written: AtomicUsize,
    committed: bool,
}

impl Staging {
    /// Check `out`, lock it and create the staging directory.
    pub fn begin(root: &Path, out: &Path) -> anyhow::Result<Staging> {
        let fail_after = parse_fail_after(std::env::var_os(FAIL_AFTER_WRITES_VAR))?;
        Staging::begin_with(root, out, fail_after)
    }

    /// [`Staging::begin`] with the fault injection passed in rather than read from
    /// the environment, so tests do not race on a process-wide variable.
    fn begin_with(root: &Path, out: &Path, fail_after: Option<usize>) -> anyhow::Result<Staging> {
        check_output_dir(root, out)?;
        let out_c = resolve(out)?;
        let (parent, name) = match (out_c.parent(), out_c.file_name()) {
            (Some(parent), Some(name)) => (parent.to_path_buf(), name.to_os_string()),
            _ => bail!(
                "refusing to use `{}` as the output directory: it has no parent",
                out.display()
            ),
        };
        fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;

        let lock_path = parent.join(sidecar(&name, ".lock"));
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open the lock file `{}`", lock_path.display()))?;
        match try_lock(&lock) {
            Ok(true) => {}
            Ok(false) => bail!(
                "another build is writing to `{}` (it holds `{}`)",
                out.display(),
                lock_path.display()
            ),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot lock `{}`", lock_path.display()));
            }
        }

        remove_stale(&parent, &name)?;

        let suffix = unique_suffix();
        let stage = parent.join(sidecar(&name, &format!(".staging-{suffix}")));
        fs::create_dir(&stage).with_context(|| {
            format!("cannot create the staging directory `{}`", stage.display())
        })?;
        let staging = Staging {
            out: out.to_path_buf(),
            out_c,
            parent,
            name,
            suffix,
            stage,
            _lock: lock,
            fail_after,
            written: AtomicUsize::new(0),
            committed: false,
        };
        let marker = staging.stage.join(MARKER);
        File::create_new(&marker)
            .with_context(|| format!("cannot write `{}`", marker.display()))?;
        Ok(staging)
    }

    /// Write one file into the staging directory (safe to call from several threads).
    /// A path that is invalid, or already written, is an error.
    pub fn write(&self, file: &OutputFile) -> anyhow::Result<()> {
        check_path(&file.path)?;
        self.check_injected_failure()?;
        let path = self.stage.join(&file.path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| {
                format!(
                    "cannot write the site to `{}`: cannot create `{}`",
                    self.out.display(),
                    dir.display()
                )
            })?;
        }
        File::create_new(&path)
            .and_then(|mut f| f.write_all(&file.bytes))
            .with_context(|| {
                format!(
                    "cannot write the site to `{}`: cannot write `{}`",
                    self.out.display(),
                    file.path
                )
            })?;
        self.written.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// The test-only failure of [`FAIL_AFTER_WRITES_VAR`], as a full disk would fail.
    fn check_injected_failure(&self) -> anyhow::Result<()> {
        match self.fail_after {
            Some(n) if self.written() >= n => Err(anyhow!(
                "injected failure after {n} writes ({FAIL_AFTER_WRITES_VAR})"
            )
            .context(format!("cannot write the site to `{}`", self.out.display()))),
            _ => Ok(()),
        }
    }

    /// How many files were written so far (the marker not counted).
    pub fn written(&self) -> usize {
        self.written.load(Ordering::SeqCst)
    }

    /// Swap the staging directory in place of `out` and delete the previous tree.
    pub fn commit(mut self) -> anyhow::Result<()> {
        self.check_injected_failure()?;
        let old = self
            .parent
            .join(sidecar(&self.name, &format!(".old-{}", self.suffix)));
        let had_old = match fs::symlink_metadata(&self.out_c) {
            Ok(_) => {
                fs::rename(&self.out_c, &old).with_context(|| {
                    format!(
                        "cannot move the previous output `{}` aside",
                        self.out.display()
                    )
                })?;
                true
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read `{}`", self.out.display()));
            }
        };
        if let Err(e) = fs::rename(&self.stage, &self.out_c) {
            if had_old {
                // Put the previous output back; it was only renamed.
                let _ = fs::rename(&old, &self.out_c);
            }
            return Err(e)
                .with_context(|| format!("cannot move the new site to `{}`", self.out.display()));
        }
        self.committed = true;
        if had_old {
            remove_old_tree(&old);
        }
        Ok(())
    }
}

impl Drop for Staging {
    /// An uncommitted staging directory is removed: the build failed.
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.stage);
        }
    }
}

/// Take an exclusive advisory lock (`flock` on Unix, `LockFileEx` on Windows) without
/// waiting: `Ok(false)` when another process holds it. Released when `file` is closed,
/// also when the process is killed, so a crash never leaves a stuck lock. (`File::try_lock`
/// needs Rust 1.89.)
fn try_lock(file: &File) -> io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Every path must be a plain relative path that stays inside the output directory.
/// The renderer builds them from validated slugs, so a bad one is a bug, not a content
/// problem.
fn validate_paths(files: &[OutputFile]) -> anyhow::Result<()> {
    let mut seen = BTreeSet::new();
    for file in files {
        let path = file.path.as_str();
        check_path(path)?;
        if !seen.insert(path) {
            return Err(anyhow!(
                "internal error: invalid output path `{}`: it appears twice",
                path.escape_debug()
            ));
        }
    }
    // `a` and `a/b` cannot both be files.
    for path in &seen {
        let mut prefix = *path;
        while let Some((dir, _)) = prefix.rsplit_once('/') {
            if seen.contains(dir) {
                return Err(anyhow!(
                    "internal error: invalid output path `{}`: `{}` is also a file",
                    path.escape_debug(),
                    dir.escape_debug()
                ));
            }
            prefix = dir;
        }
    }
    Ok(())
}

/// One path must be a plain relative path that stays inside the output directory.
fn check_path(path: &str) -> anyhow::Result<()> {
    let bad = |why: &str| {
        anyhow!(
            "internal error: invalid output path `{}`: {why}",
            path.escape_debug()
        )
    };
    if path.is_empty() {
        return Err(bad("it is empty"));
    }
    if path.starts_with('/') || Path::new(path).is_absolute() {
        return Err(bad("it is absolute"));
    }
    if path.contains('\\') {
        return Err(bad("it contains a backslash"));
    }
    if path.contains('\0') {
        return Err(bad("it contains a NUL byte"));
    }
    if path
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(bad("it has an empty, `.` or `..` component"));
    }
    if path == MARKER {
        return Err(bad("it is the marker file"));
    }
    Ok(())
}

/// Parse the fault-injection variable.
fn parse_fail_after(value: Option<OsString>) -> anyhow::Result<Option<usize>> {
    let Some(value) = value else { return Ok(None) };
    value
        .to_str()
        .and_then(|s| s.trim().parse().ok())
        .map(Some)
        .ok_or_else(|| {
            anyhow!(
                "{FAIL_AFTER_WRITES_VAR} must be a number of files, not `{}`",
                value.to_string_lossy()
            )
        })
}

/// Remove staging and old trees that a crashed build left next to `out`. Only
/// directories holding the marker are removed; the caller holds the lock, so no other
/// build is using them.
fn remove_stale(parent: &Path, name: &OsString) -> anyhow::Result<()> {
    let staging = sidecar(name, ".staging-");
    let old = sidecar(name, ".old-");
    let (staging, old) = (staging.to_string_lossy(), old.to_string_lossy());
    let entries =
        fs::read_dir(parent).with_context(|| format!("cannot read `{}`", parent.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read `{}`", parent.display()))?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if !(file_name.starts_with(&*staging) || file_name.starts_with(&*old)) {
            continue;
        }
        let path = entry.path();
        let is_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if is_dir && has_marker(&path) {
            fs::remove_dir_all(&path).with_context(|| {
                format!("cannot remove the stale directory `{}`", path.display())
            })?;
        }
    }
    Ok(())
}

/// Delete the previous output after the swap. It was checked for the marker before the
/// build; check again in case it changed. A failure here is not a failed build: the new
/// site is in place, and the next build removes the marked leftover.
fn remove_old_tree(old: &Path) {
    if has_marker(old) {
        let _ = fs::remove_dir_all(old);
    } else {
        // An existing but empty `out` has no marker; remove_dir only removes it if empty.
        let _ = fs::remove_dir(old);
    }
}

fn has_marker(dir: &Path) -> bool {
    fs::symlink_metadata(dir.join(MARKER)).is_ok_and(|m| m.is_file())
}

/// `.<name><suffix>`, a hidden sibling of the output directory.
fn sidecar(name: &OsString, suffix: &str) -> OsString {
    let mut s = OsString::from(".");
    s.push(name);
    s.push(suffix);
    s
}

/// `<pid>-<nanos>`, unique enough for sibling directories of one lock holder.
fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        Ok(cwd.join(path))
    }
}

/// An absolute path with its existing prefix canonicalised (links and `..` resolved by
/// the file system) and the rest normalised lexically.
fn resolve(path: &Path) -> anyhow::Result<PathBuf> {
    let path = absolute(path)?;
    let mut resolved = PathBuf::new();
    let mut existing = true;
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => resolved.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir if !existing => {
                resolved.pop();
            }
            Component::ParentDir | Component::Normal(_) => {
                let next = resolved.join(component.as_os_str());
                if existing {
                    match fs::canonicalize(&next) {
                        Ok(canonical) => resolved = canonical,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {
                            existing = false;
                            if component == Component::ParentDir {
                                resolved.pop();
                            } else {
                                resolved = next;
                            }
                        }
                        Err(e) => {
                            return Err(e)
                                .with_context(|| format!("cannot resolve `{}`", next.display()))
                        }
                    }
                } else {
                    resolved = next;
                }
            }
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    type TestResult = anyhow::Result<()>;

    /// A site root with the source directories, inside a temp dir (so that `out` can be
    /// a sibling of the root).
    fn setup() -> anyhow::Result<(tempfile::TempDir, PathBuf)> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().join("site");
        for sub in ["content/incidents", "templates", "static/css"] {
            fs::create_dir_all(root.join(sub))?;
        }
        fs::write(root.join("site.yaml"), "title: t\n")?;
        Ok((dir, root))
    }

    fn file(path: &str, bytes: &str) -> OutputFile {
        OutputFile {
            path: path.to_string(),
            bytes: bytes.as_bytes().to_vec(),
        }
    }

    /// Every file under `dir` with its bytes (the strongest "hash").
    fn snapshot(dir: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in fs::read_dir(&d)? {
                let path = entry?.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
                    out.insert(rel, fs::read(&path)?);
                }
            }
        }
        Ok(out)
    }

    /// Names of the hidden siblings (`.public.staging-…`, `.public.lock`…) in `parent`.
    fn siblings(parent: &Path) -> anyhow::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(parent)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    fn refusal(root: &Path, out: &Path) -> String {
        match check_output_dir(root, out) {
            Ok(()) => "accepted".to_string(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn refuses_dangerous_output_dirs() -> TestResult {
        let (dir, root) = setup()?;
        let prefix = |out: &Path| {
            format!(
                "refusing to use `{}` as the output directory: ",
                out.display()
            )
        };
        let cases: Vec<(PathBuf, &str)> = vec![
            (root.clone(), "it is the site root"),
            (root.join("."), "it is the site root"),
            (root.join("content/.."), "it is the site root"),
            (dir.path().to_path_buf(), "it contains the site root"),
            (PathBuf::from("/"), "it contains the site root"),
            (root.join("content"), "it is the site's content/ directory"),
            (
                root.join("content/public"),
                "it is inside the site's content/ directory",
            ),
            (
                root.join("static/css"),
                "it is inside the site's static/ directory",
            ),
            (
                root.join("static/new/deeper"),
                "it is inside the site's static/ directory",
            ),
            (
                root.join("templates"),
                "it is the site's templates/ directory",
            ),
            (
                root.join("x/../static/y"),
                "it is inside the site's static/ directory",
            ),
        ];
        for (out, why) in cases {
            assert_eq!(refusal(&root, &out), format!("{}{why}", prefix(&out)));
        }
        // A file, and a foreign non-empty directory.
        let not_dir = dir.path().join("file");
        fs::write(&not_dir, "")?;
        assert_eq!(
            refusal(&root, &not_dir),
            format!("{}it exists and is not a directory", prefix(&not_dir))
        );
        let foreign = dir.path().join("docs");
        fs::create_dir(&foreign)?;
        assert_eq!(refusal(&root, &foreign), "accepted", "empty is fine");
        fs::write(foreign.join("index.html"), "mine")?;
        assert_eq!(
            refusal(&root, &foreign),
            format!(
                "{}it exists and was not created by blameless (no .blameless-output marker); \
                 remove it or choose another --output",
                prefix(&foreign)
            )
        );
        // write_site refuses the same and touches nothing.
        let e = write_site(&root, &foreign, &[file("a.html", "x")]).expect_err("refused");
        assert!(e.to_string().contains("not created by blameless"));
        assert_eq!(fs::read(foreign.join("index.html"))?, b"mine");
        assert_eq!(siblings(dir.path())?, Vec::<String>::new());
        // Fine: a new sibling, and a relative path from the current directory.
        assert_eq!(refusal(&root, &dir.path().join("public")), "accepted");
        assert_eq!(refusal(&root, &root.join("public")), "accepted");
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn links_cannot_sneak_past_the_checks() -> TestResult {
        use std::os::unix::fs::symlink;
        let (dir, root) = setup()?;
        let via_link = dir.path().join("to-content");
        symlink(root.join("content"), &via_link)?;
        let out = via_link.join("public");
        assert_eq!(
            refusal(&root, &out),
            format!(
                "refusing to use `{}` as the output directory: it is inside the site's \
                 content/ directory",
                out.display()
            )
        );
        let link_out = dir.path().join("public");
        symlink(dir.path().join("elsewhere"), &link_out)?;
        assert_eq!(
            refusal(&root, &link_out),
            format!(
                "refusing to use `{}` as the output directory: it is a symbolic link",
                link_out.display()
            )
        );
        Ok(())
    }

    #[test]
    fn fresh_write_then_rebuild_replaces_everything() -> TestResult {
        let (dir, root) = setup()?;
        let out = dir.path().join("build/public");
        let files = [
            file("index.html", "home"),
            file("incidents/a/index.html", "a"),
            file("css/site.css", "body{}"),
        ];
        write_site(&root, &out, &files)?;
        let expected: BTreeMap<String, Vec<u8>> = [
            (MARKER, ""),
            ("css/site.css", "body{}"),
            ("incidents/a/index.html", "a"),
            ("index.html", "home"),
        ]
        .into_iter()
        .map(|(p, b)| (p.to_string(), b.as_bytes().to_vec()))
        .collect();
        assert_eq!(snapshot(&out)?, expected);

        write_site(&root, &out, &[file("index.html", "home 2")])?;
        let expected: BTreeMap<String, Vec<u8>> = [(MARKER, ""), ("index.html", "home 2")]
            .into_iter()
            .map(|(p, b)| (p.to_string(), b.as_bytes().to_vec()))
            .collect();
        assert_eq!(snapshot(&out)?, expected);
        assert!(!out.join("incidents").exists());
        // Only the lock file is left beside the output.
        assert_eq!(siblings(&dir.path().join("build"))?, [".public.lock"]);
        Ok(())
    }

    #[test]
    fn a_failed_build_leaves_the_old_output_intact() -> TestResult {
        let (dir, root) = setup()?;
        let out = dir.path().join("public");
        let old = [file("index.html", "old"), file("a/b.html", "old b")];
        write_site(&root, &out, &old)?;
        let before = snapshot(&out)?;
        let new: Vec<OutputFile> = (0..50)
            .map(|i| file(&format!("p{i}/index.html"), "new"))
            .collect();
        for n in [0, 1, 7, 50] {
            let e = write_site_with(&root, &out, &new, Some(n)).expect_err("injected");
            assert_eq!(
                format!("{e:#}"),
                format!(
                    "cannot write the site to `{}`: injected failure after {n} writes \
                     (BLAMELESS_FAIL_AFTER_WRITES)",
                    out.display()
                )
            );
            assert_eq!(snapshot(&out)?, before);
            assert_eq!(siblings(dir.path())?, [".public.lock"]);
        }
        // More files than N: no failure.
        write_site_with(&root, &out, &new[..3], Some(4))?;
        assert_eq!(snapshot(&out)?.len(), 4);
        Ok(())
    }

    #[test]
    fn relative_paths_start_at_the_current_directory() -> TestResult {
        let cwd = std::env::current_dir()?.canonicalize()?;
        assert_eq!(
            resolve(Path::new("no-such-dir/./x/../y"))?,
            cwd.join("no-such-dir/y")
        );
        assert_eq!(resolve(Path::new("."))?, cwd);
        Ok(())
    }

    #[test]
    fn parses_the_fault_injection_variable() -> TestResult {
        assert_eq!(parse_fail_after(None)?, None);
        assert_eq!(parse_fail_after(Some("3".into()))?, Some(3));
        let e = parse_fail_after(Some("x".into())).expect_err("not a number");
        assert_eq!(
            e.to_string(),
            "BLAMELESS_FAIL_AFTER_WRITES must be a number of files, not `x`"
        );
        Ok(())
    }

    #[test]
    fn stale_staging_dirs_are_cleaned() -> TestResult {
        let (dir, root) = setup()?;
        let out = dir.path().join("public");
        let stale = dir.path().join(".public.staging-1-2");
        fs::create_dir_all(stale.join("sub"))?;
        fs::write(stale.join(MARKER), "")?;
        fs::write(stale.join("sub/half.html"), "half")?;
        let stale_old = dir.path().join(".public.old-3-4");
        fs::create_dir(&stale_old)?;
        fs::write(stale_old.join(MARKER), "")?;
        // Not ours (no marker): left alone.
        let foreign = dir.path().join(".public.staging-mine");
        fs::create_dir(&foreign)?;
        fs::write(foreign.join("keep"), "")?;
        write_site(&root, &out, &[file("index.html", "x")])?;
        assert_eq!(
            siblings(dir.path())?,
            [".public.lock", ".public.staging-mine"]
        );
        assert!(foreign.join("keep").exists());
        Ok(())
    }

    #[test]
    fn a_held_lock_stops_a_second_build() -> TestResult {
        let (dir, root) = setup()?;
        let out = dir.path().join("public");
        write_site(&root, &out, &[file("index.html", "first")])?;
        let lock_path = dir.path().join(".public.lock");
        let held = File::options().write(true).open(&lock_path)?;
        assert!(try_lock(&held)?);
        let e = write_site(&root, &out, &[file("index.html", "second")]).expect_err("locked");
        assert_eq!(
            e.to_string(),
            format!(
                "another build is writing to `{}` (it holds `{}`)",
                out.display(),
                lock_path.display()
            )
        );
        assert_eq!(fs::read(out.join("index.html"))?, b"first");
        drop(held);
        write_site(&root, &out, &[file("index.html", "second")])?;
        assert_eq!(fs::read(out.join("index.html"))?, b"second");
        Ok(())
    }

    #[test]
    fn invalid_paths_are_internal_errors() -> TestResult {
        let (dir, root) = setup()?;
        let out = dir.path().join("public");
        let cases = [
            ("", "it is empty"),
            ("/etc/passwd", "it is absolute"),
            ("a\\b", "it contains a backslash"),
            ("a\0b", "it contains a NUL byte"),
            ("a//b", "it has an empty, `.` or `..` component"),
            ("a/./b", "it has an empty, `.` or `..` component"),
            ("../x", "it has an empty, `.` or `..` component"),
            ("a/", "it has an empty, `.` or `..` component"),
            (MARKER, "it is the marker file"),
        ];
        for (path, why) in cases {
            let e = write_site(&root, &out, &[file(path, "x")]).expect_err(path);
            assert_eq!(
                e.to_string(),
                format!(
                    "internal error: invalid output path `{}`: {why}",
                    path.escape_debug()
                )
            );
        }
        let e = write_site(&root, &out, &[file("a", "1"), file("a", "2")]).expect_err("dup");
        assert_eq!(
            e.to_string(),
            "internal error: invalid output path `a`: it appears twice"
        );
        let e =
            write_site(&root, &out, &[file("a/b/c", "1"), file("a/b", "2")]).expect_err("nested");
        assert_eq!(
            e.to_string(),
            "internal error: invalid output path `a/b/c`: `a/b` is also a file"
        );
        assert!(!out.exists());
        Ok(())
    }
}
