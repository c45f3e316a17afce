//! The chaining test harness, modelled on mdBook's `BookTest`: copy a fixture site from
//! `tests/fixtures/<name>/` into a temp dir, change it, build or check it (in-process
//! through `blameless::pipeline`, or through the real binary for exit codes and printed
//! output), then assert on the result with methods that return `&mut Self`.
//!
//! Also holds the small readers the tests share: a tree snapshot (every file's bytes, for
//! "byte-for-byte identical" checks), a minimal HTML tag scanner (links, ids, attributes)
//! and a line diff for report comparisons. No HTML parser dependency: the output is ours
//! and regular, and the scanner only has to be right about tags, quoted attribute values
//! and comments.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use blameless::diagnostics;
use blameless::pipeline::{self, Options, Outcome};

/// `tests/fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Files in a fixture directory that describe the test and are not part of the site.
const NOT_SITE_FILES: &[&str] = &["expected.txt"];

/// Set to `1` to rewrite `expected.txt` files from the actual output (then review the
/// diff before committing: every line is a claim about the product).
pub const BLESS_VAR: &str = "BLAMELESS_BLESS";

/// A site root in a temp dir and its output directory beside it.
pub struct SiteTest {
    /// Keeps the temp dir alive.
    tmp: tempfile::TempDir,
    /// The site root: `<tmp>/site`.
    pub root: PathBuf,
    /// The output directory: `<tmp>/public` (a sibling of the root, as CI uses it).
    pub out: PathBuf,
}

impl SiteTest {
    /// A copy of `tests/fixtures/<name>/`.
    pub fn fixture(name: &str) -> SiteTest {
        SiteTest::copy_of(&fixtures_dir().join(name), false)
    }

    /// A copy of `tests/fixtures/<name>/` whose directory entries are created in reverse
    /// order (so that anything depending on `read_dir` order shows up in a diff).
    pub fn fixture_reversed(name: &str) -> SiteTest {
        SiteTest::copy_of(&fixtures_dir().join(name), true)
    }

    /// A copy of this repository's own site: `site.yaml`, `content/`, `templates/` and
    /// `static/` from the crate root.
    pub fn repo() -> SiteTest {
        let crate_root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let tmp = tempfile::Builder::new()
            .prefix("blameless-it-")
            .tempdir()
            .expect("create a temp dir");
        let root = tmp.path().join("site");
        for dir in ["content", "templates", "static"] {
            if crate_root.join(dir).is_dir() {
                copy_tree(&crate_root.join(dir), &root.join(dir), false, false);
            }
        }
        fs::copy(crate_root.join("site.yaml"), root.join("site.yaml")).expect("copy site.yaml");
        let out = tmp.path().join("public");
        SiteTest { tmp, root, out }
    }

    fn copy_of(src: &Path, reversed: bool) -> SiteTest {
        let tmp = tempfile::Builder::new()
            .prefix("blameless-it-")
            .tempdir()
            .expect("create a temp dir");
        let root = tmp.path().join("site");
        copy_tree(src, &root, reversed, true);
        let out = tmp.path().join("public");
        SiteTest { tmp, root, out }
    }

    /// The temp dir holding the site root and the output.
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// `root/rel`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Write a file of the site (creating its directories).
    pub fn write(&mut self, rel: &str, bytes: impl AsRef<[u8]>) -> &mut Self {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent dirs");
        }
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        self
    }

    /// Read a file of the site as text.
    pub fn read(&self, rel: &str) -> String {
        let path = self.path(rel);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Replace the only occurrence of `from` in a site file by `to`.
    pub fn replace(&mut self, rel: &str, from: &str, to: &str) -> &mut Self {
        let text = self.read(rel);
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` must occur exactly once in {rel}"
        );
        let new = text.replacen(from, to, 1);
        self.write(rel, new)
    }

    /// Remove a file of the site.
    pub fn remove(&mut self, rel: &str) -> &mut Self {
        let path = self.path(rel);
        fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
        self
    }

    /// Create a symbolic link at `rel` pointing at `target` (not created in git: links
    /// cannot be committed portably).
    pub fn symlink(&mut self, rel: &str, target: &str) -> &mut Self {
        std::os::unix::fs::symlink(target, self.path(rel)).expect("create a symlink");
        self
    }

    /// Create a FIFO at `rel` with `mkfifo`.
    pub fn fifo(&mut self, rel: &str) -> &mut Self {
        let status = Command::new("mkfifo")
            .arg(self.path(rel))
            .status()
            .expect("run mkfifo");
        assert!(status.success(), "mkfifo failed");
        self
    }

    /// Run the whole pipeline in memory (what `check` does).
    pub fn run(&self) -> Outcome {
        pipeline::run(&self.root, &Options::default()).expect("no environment error")
    }

    /// [`SiteTest::run`] on another thread, failing the test if it takes longer than
    /// `limit` (a hang, e.g. on a FIFO, must fail instead of blocking the suite).
    pub fn run_within(&self, limit: Duration) -> Outcome {
        let root = self.root.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(pipeline::run(&root, &Options::default()));
        });
        rx.recv_timeout(limit)
            .unwrap_or_else(|_| panic!("check did not finish within {limit:?}"))
            .expect("no environment error")
    }

    /// Build in-process into [`SiteTest::out`]. Environment errors are returned as
    /// they are; content problems are in the outcome.
    pub fn try_build(&self) -> anyhow::Result<Outcome> {
        pipeline::build(&self.root, &self.out, &Options::default())
    }

    /// Build in-process and require success without a single diagnostic.
    pub fn build(&mut self) -> &mut Self {
        let outcome = self.try_build().expect("no environment error");
        assert!(
            outcome.diagnostics.is_empty(),
            "expected a clean build, got:\n{}",
            diagnostics::render_human(&outcome.diagnostics)
        );
        self
    }

    /// A file of the output directory, as text.
    pub fn out_text(&self, rel: &str) -> String {
        let path = self.out.join(rel);
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Assert that the output file `rel` contains every string of `needles`.
    pub fn check_file_contains(&self, rel: &str, needles: &[&str]) -> &Self {
        let text = self.out_text(rel);
        for needle in needles {
            assert!(
                text.contains(needle),
                "{rel} should contain `{needle}`; it is:\n{text}"
            );
        }
        self
    }

    /// Assert that the output file `rel` contains none of `needles`.
    pub fn check_file_not_contains(&self, rel: &str, needles: &[&str]) -> &Self {
        let text = self.out_text(rel);
        for needle in needles {
            assert!(
                !text.contains(needle),
                "{rel} should not contain `{needle}`"
            );
        }
        self
    }

    /// Assert that `needles` appear in the output file `rel` in this order.
    pub fn check_in_order(&self, rel: &str, needles: &[&str]) -> &Self {
        let text = self.out_text(rel);
        assert_in_order(&text, needles, rel);
        self
    }

    /// The binary, with `--root` set to this site and the temp dir as working directory.
    pub fn bin(&self) -> Bin {
        let mut bin = Bin::new();
        bin.cmd.current_dir(self.tmp());
        bin.arg("--root").arg(&self.root);
        bin
    }
}

/// Assert that `needles` appear in `text` in this order (each after the previous one).
pub fn assert_in_order(text: &str, needles: &[&str], what: &str) {
    let mut from = 0;
    for needle in needles {
        match text[from..].find(needle) {
            Some(i) => from += i + needle.len(),
            None => panic!(
                "in {what}, `{needle}` should come after the previous items {:?}",
                needles
            ),
        }
    }
}

/// The part of `text` from the first `start` to the next `end` after it (both included).
pub fn between<'t>(text: &'t str, start: &str, end: &str) -> &'t str {
    let i = text
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` not found"));
    let j = text[i..]
        .find(end)
        .unwrap_or_else(|| panic!("`{end}` not found after `{start}`"));
    &text[i..i + j + end.len()]
}

/// Copy a directory tree; `reversed` creates entries in reverse name order; `top` skips
/// the fixture's own description files.
fn copy_tree(src: &Path, dst: &Path, reversed: bool, top: bool) {
    fs::create_dir_all(dst).expect("create dir");
    let mut entries: Vec<_> = fs::read_dir(src)
        .unwrap_or_else(|e| panic!("read {}: {e}", src.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    if reversed {
        entries.reverse();
    }
    for path in entries {
        let name = path.file_name().expect("entry has a name");
        if top && NOT_SITE_FILES.iter().any(|n| name == *n) {
            continue;
        }
        let target = dst.join(name);
        if path.is_dir() {
            copy_tree(&path, &target, reversed, false);
        } else {
            fs::copy(&path, &target).expect("copy file");
        }
    }
}

/// One entry of a [`snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A directory.
    Dir,
    /// A regular file and its bytes.
    File(Vec<u8>),
    /// A symbolic link and its target (never followed).
    Link(PathBuf),
    /// A FIFO, socket or device (never opened).
    Special,
}

/// Every entry under `dir` (relative paths with `/`), without following links or
/// opening special files. An absent `dir` gives an empty map.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return out;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("dir entry").path();
            let rel = path
                .strip_prefix(dir)
                .expect("under dir")
                .to_string_lossy()
                .replace('\\', "/");
            let meta = fs::symlink_metadata(&path).expect("metadata");
            let ft = meta.file_type();
            let e = if ft.is_symlink() {
                Entry::Link(fs::read_link(&path).expect("read link"))
            } else if ft.is_dir() {
                stack.push(path.clone());
                Entry::Dir
            } else if ft.is_file() {
                Entry::File(fs::read(&path).expect("read file"))
            } else {
                Entry::Special
            };
            out.insert(rel, e);
        }
    }
    out
}

/// The regular files of a snapshot, as text (lossy), for content assertions.
pub fn files(snap: &BTreeMap<String, Entry>) -> BTreeMap<String, String> {
    snap.iter()
        .filter_map(|(k, e)| match e {
            Entry::File(b) => Some((k.clone(), String::from_utf8_lossy(b).into_owned())),
            _ => None,
        })
        .collect()
}

/// Names in `dir` that look like leftovers of a build: `.<name>.staging-*` or
/// `.<name>.old-*`.
pub fn leftovers(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && (n.contains(".staging-") || n.contains(".old-")))
        .collect();
    names.sort();
    names
}

/// The `blameless` binary, with a time limit.
pub struct Bin {
    cmd: Command,
    limit: Duration,
}

/// What a run of the binary printed and returned.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Standard error without its last line (the summary: counts and timings).
    pub fn stderr_report(&self) -> String {
        let mut lines: Vec<&str> = self.stderr.lines().collect();
        lines.pop();
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    /// The last line of standard error.
    pub fn stderr_last_line(&self) -> &str {
        self.stderr.lines().last().unwrap_or("")
    }

    /// Assert the exit code, showing the output otherwise.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

impl Bin {
    /// `blameless` with no arguments, without the variables that change what the
    /// product does or prints (fault injection, stage timings).
    pub fn new() -> Bin {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_blameless"));
        cmd.env_remove(blameless::output::FAIL_AFTER_WRITES_VAR)
            .env_remove("BLAMELESS_TIMINGS");
        Bin {
            cmd,
            limit: Duration::from_secs(60),
        }
    }

    /// Add an argument.
    pub fn arg(&mut self, arg: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        self.cmd.arg(arg);
        self
    }

    /// Add arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Set an environment variable.
    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.cmd.env(key, value);
        self
    }

    /// Run in `dir`.
    pub fn current_dir(&mut self, dir: &Path) -> &mut Self {
        self.cmd.current_dir(dir);
        self
    }

    /// Run, failing the test if it takes longer than the limit (the child is killed).
    pub fn run(&mut self) -> Run {
        self.cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("spawn blameless");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let out = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stdout.read_to_end(&mut s);
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = stderr.read_to_end(&mut s);
            s
        });
        let deadline = Instant::now() + self.limit;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for blameless") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "blameless {:?} did not finish within {:?}",
                    self.cmd, self.limit
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let text = |v: Vec<u8>| String::from_utf8(v).expect("output is UTF-8");
        Run {
            code: status.code(),
            stdout: text(out.join().expect("stdout reader")),
            stderr: text(err.join().expect("stderr reader")),
        }
    }
}

/// Compare `actual` with the file `expected` (relative to `tests/fixtures/`), showing a
/// line diff on mismatch; with `BLAMELESS_BLESS=1`, rewrite the file instead.
pub fn assert_matches_file(actual: &str, expected: &str) {
    let path = fixtures_dir().join(expected);
    if std::env::var(BLESS_VAR).as_deref() == Ok("1") {
        fs::write(&path, actual).expect("bless expected file");
        return;
    }
    let want = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e} (run with {BLESS_VAR}=1)", path.display()));
    if want != actual {
        panic!(
            "output differs from {expected} (- expected, + actual):\n{}",
            line_diff(&want, actual)
        );
    }
}

/// A minimal line diff (LCS), enough for reports of a few hundred lines.
pub fn line_diff(a: &str, b: &str) -> String {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push_str(&format!("+{}\n", b[j]));
            j += 1;
        } else {
            out.push_str(&format!("-{}\n", a[i]));
            i += 1;
        }
    }
    out
}

/// A start tag of an HTML or XML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// Lower-cased name.
    pub name: String,
    /// Attributes in order: lower-cased name, value with entities decoded (empty when
    /// the attribute has no value).
    pub attrs: Vec<(String, String)>,
}

impl Tag {
    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every start tag in `doc`, skipping comments, declarations, processing instructions
/// and end tags. Text `<` that does not start a tag name is skipped, as browsers do.
pub fn tags(doc: &str) -> Vec<Tag> {
    let b = doc.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = doc[i..].find('<') {
        i += off + 1;
        if doc[i..].starts_with("!--") {
            i = doc[i..].find("-->").map_or(b.len(), |j| i + j + 3);
            continue;
        }
        if i >= b.len() || !b[i].is_ascii_alphabetic() {
            // `</x>`, `<!doctype>`, `<?xml ?>`, or text.
            if i < b.len() && matches!(b[i], b'/' | b'!' | b'?') {
                i = doc[i..].find('>').map_or(b.len(), |j| i + j + 1);
            }
            continue;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' && b[i] != b'/' {
            i += 1;
        }
        let name = doc[start..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                i += 1;
                break;
            }
            let s = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/')
            {
                i += 1;
            }
            let attr = doc[s..i].to_ascii_lowercase();
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if i < b.len() && b[i] == b'=' {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                    let q = b[i];
                    let e = doc[i + 1..].find(q as char).map_or(b.len(), |j| i + 1 + j);
                    value = decode_entities(&doc[i + 1..e]);
                    i = (e + 1).min(b.len());
                } else {
                    let s = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = decode_entities(&doc[s..i]);
                }
            }
            attrs.push((attr, value));
        }
        out.push(Tag { name, attrs });
    }
    out
}

/// Decode the entities our escaper and pulldown-cmark write, plus numeric ones (what a
/// browser would see in an attribute).
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..end];
        let decoded = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix("#x")
                .or_else(|| ent.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// HTML-escape text the way the theme does (`& < > " '`), to find front-matter
/// strings in pages.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// Every `href`/`src` value of `doc`'s tags.
pub fn links(doc: &str) -> Vec<String> {
    tags(doc)
        .into_iter()
        .flat_map(|t| {
            t.attrs
                .into_iter()
                .filter(|(n, _)| n == "href" || n == "src")
                .map(|(_, v)| v)
        })
        .collect()
}

/// `doc` without the default theme's one script element, the search module
/// `<script type="module" src="{base_path}search.js?v=<8 hex digits>"></script>` that
/// `base.html` puts in every page's head, and how many such elements there were. Tests
/// that no content reaches a page as script scan what is left.
pub fn without_theme_script(doc: &str, base_path: &str) -> (String, usize) {
    let start = format!("<script type=\"module\" src=\"{base_path}search.js?v=");
    let end = "\"></script>";
    let mut out = String::with_capacity(doc.len());
    let mut rest = doc;
    let mut found = 0;
    while let Some(i) = rest.find(&start) {
        let after = &rest[i + start.len()..];
        let is_theme = after.len() >= 8 + end.len()
            && after.as_bytes()[..8]
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            && after[8..].starts_with(end);
        if !is_theme {
            out.push_str(&rest[..i + start.len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..i]);
        rest = &after[8 + end.len()..];
        found += 1;
    }
    out.push_str(rest);
    (out, found)
}

/// Every `id` value of `doc`'s tags.
pub fn ids(doc: &str) -> Vec<String> {
    tags(doc)
        .into_iter()
        .filter_map(|t| t.attr("id").map(str::to_string))
        .collect()
}

/// Check every link of a built site: root-relative links start with `base_path` and,
/// with it removed, name an existing file (`dir/` → `dir/index.html`); absolute links
/// into `base_url` likewise; `#fragment`s name an `id` of the target page; anything else
/// is an external `http(s)`/`mailto` link. Returns every problem, one per line.
pub fn broken_links(
    files: &BTreeMap<String, String>,
    base_url: &str,
    base_path: &str,
) -> Vec<String> {
    let page_ids: BTreeMap<&str, Vec<String>> = files
        .iter()
        .filter(|(p, _)| p.ends_with(".html"))
        .map(|(p, t)| (p.as_str(), ids(t)))
        .collect();
    let mut problems = Vec::new();
    for (page, text) in files
        .iter()
        .filter(|(p, _)| p.ends_with(".html") || p.ends_with(".xml"))
    {
        for link in links(text) {
            let (target, fragment) = if let Some(frag) = link.strip_prefix('#') {
                (Some(page.clone()), Some(frag.to_string()))
            } else {
                let rel = if let Some(rest) = link.strip_prefix(base_url) {
                    Some(rest)
                } else if link.starts_with('/') {
                    match link.strip_prefix(base_path) {
                        Some(rest) => Some(rest),
                        None => {
                            problems.push(format!("{page}: `{link}` ignores the base path"));
                            continue;
                        }
                    }
                } else if link.starts_with("https://")
                    || link.starts_with("http://")
                    || link.starts_with("mailto:")
                {
                    None
                } else {
                    problems.push(format!("{page}: `{link}` is neither internal nor external"));
                    continue;
                };
                let Some(rel) = rel else { continue };
                let (path, fragment) = match rel.split_once('#') {
                    Some((p, f)) => (p, Some(f.to_string())),
                    None => (rel, None),
                };
                let path = path.split('?').next().unwrap_or(path);
                let file = if path.is_empty() || path.ends_with('/') {
                    format!("{path}index.html")
                } else {
                    path.to_string()
                };
                if !files.contains_key(&file) {
                    problems.push(format!("{page}: `{link}` → missing `{file}`"));
                    continue;
                }
                (Some(file), fragment)
            };
            if let (Some(target), Some(fragment)) = (target, fragment) {
                let known = page_ids
                    .get(target.as_str())
                    .is_some_and(|ids| ids.contains(&fragment));
                if !known {
                    problems.push(format!("{page}: `{link}` → no id `{fragment}` in {target}"));
                }
            }
        }
    }
    problems
}
