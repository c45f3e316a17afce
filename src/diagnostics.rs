//! Content problems as data: [`Diagnostic`], the [`LineIndex`] that turns byte
//! offsets into 1-based `line:col` of the original file, and the two report formats
//! (human and GitHub Actions annotations).
//!
//! Owns: every content problem's shape and its text rendering. Environment failures
//! (I/O on the output directory, a missing site root) never become diagnostics; they
//! are `anyhow` errors handled by the CLI. This module depends on nothing else in the
//! crate, so every stage can collect diagnostics without a cycle.

use std::fmt::{self, Write as _};

/// How serious a problem is. Errors fail `check` and `build`; warnings fail only
/// `check --deny-warnings`; notes never fail anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The site cannot be built as written.
    Error,
    /// The site builds, but something is probably wrong or incomplete.
    Warning,
    /// Information for the site's maintainers, not a problem in anyone's story: a
    /// vocabulary entry no story uses yet. `--deny-warnings` leaves notes alone, so a
    /// contributor's pull request is never failed by the state of the vocabulary.
    Note,
}

impl Level {
    /// The word used in reports: `error`, `warning` or `note`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }

    /// The GitHub Actions workflow command for this level.
    fn github_command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
        }
    }
}

/// One content problem at one place in one file.
///
/// `path` is relative to the site root with `/` separators (`content/incidents/a.md`);
/// `line` and `col` are 1-based positions in the original file (a UTF-8 BOM is not a
/// column; CRLF counts as one line break); `col` counts characters, not bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    /// File the problem is in, relative to the site root.
    pub path: String,
    /// 1-based line in the original file.
    pub line: usize,
    /// 1-based column (in characters) in the original file.
    pub col: usize,
    /// Error, warning or note.
    pub level: Level,
    /// What is wrong: lower-case, no trailing period, offending values in backticks.
    pub message: String,
    /// How to fix it, when that is known.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `line:col` of `path`.
    pub fn error(
        path: impl Into<String>,
        line: usize,
        col: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            path: path.into(),
            line: line.max(1),
            col: col.max(1),
            level: Level::Error,
            message: message.into(),
            help: None,
        }
    }

    /// A warning at `line:col` of `path`.
    pub fn warning(
        path: impl Into<String>,
        line: usize,
        col: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            level: Level::Warning,
            ..Diagnostic::error(path, line, col, message)
        }
    }

    /// A note at `line:col` of `path`: information, never a failure.
    pub fn note(
        path: impl Into<String>,
        line: usize,
        col: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            level: Level::Note,
            ..Diagnostic::error(path, line, col, message)
        }
    }

    /// Builder: attach a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Builder: attach a `help:` line only when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// Whether this is an error (as opposed to a warning).
    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `path:line:col: error: message`, then `  = help: ...` on its own line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            escape_controls(&self.path),
            self.line,
            self.col,
            self.level.as_str(),
            escape_controls(&self.message)
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {}", escape_controls(help))?;
        }
        Ok(())
    }
}

/// Maps byte offsets of one file's text to 1-based `(line, col)`.
///
/// Built once per file over the decoded text (BOM removed, CRLF already folded to LF
/// by the loader, which keeps lines and columns of the original file unchanged).
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset at which each line starts; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
    /// Whether each line is pure ASCII, so its columns are byte offsets: keeps
    /// `position` O(1) on the long one-line inputs hostile files are made of.
    ascii: Vec<bool>,
    len: usize,
}

impl LineIndex {
    /// Index the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let ascii = line_starts
            .iter()
            .enumerate()
            .map(|(n, &start)| {
                let end = line_starts.get(n + 1).copied().unwrap_or(text.len());
                text.as_bytes()[start..end].is_ascii()
            })
            .collect();
        LineIndex {
            line_starts,
            ascii,
            len: text.len(),
        }
    }

    /// 1-based `(line, col)` of byte `offset` in `text` (the same text the index was
    /// built from). Offsets past the end clamp to the end; an offset inside a UTF-8
    /// sequence counts as the character it belongs to.
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.len);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        if self.ascii[line] {
            return (line + 1, offset - start + 1);
        }
        let mut end = offset;
        while end > start && !text.is_char_boundary(end) {
            end -= 1;
        }
        let col = text[start..end].chars().count() + 1;
        (line + 1, col)
    }

    /// Byte offset where 1-based `line` starts (clamped to the text).
    pub fn line_start(&self, line: usize) -> usize {
        let i = line.saturating_sub(1);
        self.line_starts.get(i).copied().unwrap_or(self.len)
    }

    /// Number of lines (a text without a trailing newline still has its last line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// Replace C0/C1 control characters (but not tab) and bidi overrides with `\u{..}`
/// so that nothing a contributor writes can rewrite the terminal or reorder a line.
pub fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_dangerous_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Control characters (other than `\t` and `\n`) and Unicode bidi controls.
pub fn is_dangerous_char(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Sort diagnostics the way reports show them: by path, line, column, then level and
/// message, with exact duplicates removed.
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort();
    diags.dedup();
}

/// Counts of errors, warnings and notes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Number of errors.
    pub errors: usize,
    /// Number of warnings.
    pub warnings: usize,
    /// Number of notes.
    pub notes: usize,
}

/// Count errors, warnings and notes in `diags`.
pub fn counts(diags: &[Diagnostic]) -> Counts {
    let of = |level| diags.iter().filter(|d| d.level == level).count();
    Counts {
        errors: of(Level::Error),
        warnings: of(Level::Warning),
        notes: of(Level::Note),
    }
}

/// Make every warning an error (`check --deny-warnings`); notes stay notes.
pub fn deny_warnings(diags: &mut [Diagnostic]) {
    for d in diags {
        if d.level == Level::Warning {
            d.level = Level::Error;
        }
    }
}

/// The human report: one diagnostic per line (plus its help line), sorted.
pub fn render_human(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let _ = writeln!(out, "{d}");
    }
    out
}

/// GitHub Actions workflow commands, one per diagnostic:
/// `::error file=PATH,line=L,col=C,title=blameless::MESSAGE (help: HELP)`.
///
/// Property values escape `%`, CR, LF, `:` and `,`; the message escapes `%`, CR and LF,
/// as the Actions toolkit does.
pub fn render_github(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let mut message = escape_controls(&d.message);
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(&escape_controls(help));
        }
        let _ = writeln!(
            out,
            "::{} file={},line={},col={},title=blameless::{}",
            d.level.github_command(),
            escape_property(&escape_controls(&d.path)),
            d.line,
            d.col,
            escape_data(&message)
        );
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The closing summary line, e.g. `2 errors, 1 warning`, with `, 3 notes` when
/// there are any.
pub fn summary(c: Counts) -> String {
    fn plural(n: usize, word: &str) -> String {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    }
    let mut line = format!(
        "{}, {}",
        plural(c.errors, "error"),
        plural(c.warnings, "warning")
    );
    if c.notes > 0 {
        line.push_str(", ");
        line.push_str(&plural(c.notes, "note"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_chars() {
        let text = "ab\nçd\n\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, 0), (1, 1));
        assert_eq!(idx.position(text, 2), (1, 3));
        assert_eq!(idx.position(text, 3), (2, 1));
        // `d` is after the two-byte `ç`
        assert_eq!(idx.position(text, 5), (2, 2));
        assert_eq!(idx.position(text, 7), (3, 1));
        assert_eq!(idx.position(text, 8), (4, 1));
        assert_eq!(idx.position(text, 100), (4, 2));
        assert_eq!(idx.line_count(), 4);
        assert_eq!(idx.line_start(2), 3);
    }

    #[test]
    fn display_has_help_line() {
        let d = Diagnostic::error("content/a.md", 3, 1, "unknown field `titel`")
            .with_help("did you mean `title`?");
        assert_eq!(
            d.to_string(),
            "content/a.md:3:1: error: unknown field `titel`\n  = help: did you mean `title`?"
        );
    }

    #[test]
    fn controls_are_escaped() {
        assert_eq!(
            escape_controls("a\u{1b}[31m\u{202e}b\tc"),
            "a\\u{1b}[31m\\u{202e}b\tc"
        );
    }

    #[test]
    fn github_format_escapes() {
        let d = Diagnostic::error("content/a,b.md", 2, 5, "100% wrong").with_help("fix: it");
        assert_eq!(
            render_github(&[d]),
            "::error file=content/a%2Cb.md,line=2,col=5,title=blameless::100%25 wrong%0Ahelp: fix: it\n"
        );
    }

    #[test]
    fn sort_orders_by_path_then_position() {
        let mut v = vec![
            Diagnostic::error("b.md", 1, 1, "x"),
            Diagnostic::error("a.md", 10, 1, "y"),
            Diagnostic::error("a.md", 2, 3, "z"),
            Diagnostic::error("a.md", 2, 3, "z"),
        ];
        sort(&mut v);
        let got: Vec<_> = v.iter().map(|d| (d.path.as_str(), d.line)).collect();
        assert_eq!(got, vec![("a.md", 2), ("a.md", 10), ("b.md", 1)]);
    }

    #[test]
    fn summary_pluralises() {
        assert_eq!(
            summary(Counts {
                errors: 1,
                warnings: 2,
                notes: 0
            }),
            "1 error, 2 warnings"
        );
        assert_eq!(
            summary(Counts {
                errors: 0,
                warnings: 1,
                notes: 1
            }),
            "0 errors, 1 warning, 1 note"
        );
    }

    #[test]
    fn deny_warnings_leaves_notes_alone() {
        let mut v = vec![
            Diagnostic::warning("a.md", 1, 1, "w"),
            Diagnostic::note("b.md", 1, 1, "n"),
        ];
        deny_warnings(&mut v);
        assert_eq!(
            counts(&v),
            Counts {
                errors: 1,
                warnings: 0,
                notes: 1
            }
        );
        assert!(render_github(&v).contains("::notice file=b.md,line=1,col=1,"));
    }
}
