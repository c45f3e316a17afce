//! Front-matter delimiters: where the YAML block of a content file starts and ends.
//!
//! Owns: the `---` lines that open and close the front matter, and the front-matter
//! size cap. In: a content file's decoded text (BOM stripped, CRLF folded to LF) and its
//! [`LineIndex`]. Out: a [`Split`] of byte offsets, or one [`Diagnostic`] at `1:1`.
//! Parsing the YAML between the delimiters belongs to [`crate::yaml`]; this module reads
//! lines only and depends on nothing but `diagnostics`.
//!
//! The shape is `---`, YAML lines, `---`, then the Markdown body. Each delimiter is a
//! line that is exactly `---` (trailing spaces and tabs allowed); `...` does not close.
//! The first closing line wins, so a later `---` (a thematic break) is body.

use crate::diagnostics::{Diagnostic, LineIndex};

/// Largest front matter accepted, in bytes; larger blocks are never parsed.
pub const MAX_FRONT_MATTER_BYTES: usize = 64 * 1024;

/// Where the parts of a content file are, as byte offsets into its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// Start of the line after the opening `---`.
    pub yaml_start: usize,
    /// Start of the closing `---` line (the YAML is `text[yaml_start..yaml_end]`).
    pub yaml_end: usize,
    /// Just after the closing line's line break, or the end of the text.
    pub body_start: usize,
}

impl Split {
    /// The YAML between the delimiters; `text` is the text given to [`split`].
    pub fn yaml<'t>(&self, text: &'t str) -> &'t str {
        &text[self.yaml_start..self.yaml_end]
    }

    /// The Markdown body after the closing delimiter; `text` is the text given to
    /// [`split`].
    pub fn body<'t>(&self, text: &'t str) -> &'t str {
        &text[self.body_start..]
    }
}

const SHAPE_HELP: &str =
    "a content file starts with a line `---`, then `key: value` lines such as `title: ...`, \
     then a line `---`, then the Markdown body";

/// A line without its line break and trailing spaces and tabs.
fn trimmed(line: &str) -> &str {
    line.trim_end_matches('\n').trim_end_matches([' ', '\t'])
}

/// Find the front matter of `text` (the file at `path`).
///
/// Every error is reported at `1:1`, where the front matter opens (or should).
pub fn split(path: &str, text: &str, index: &LineIndex) -> Result<Split, Diagnostic> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().map(trimmed).unwrap_or("");
    if first != "---" {
        return Err(missing(path, text));
    }
    let yaml_start = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut offset = yaml_start;
    let mut near_miss: Option<(usize, &str)> = None;
    for line in text[yaml_start..].split_inclusive('\n') {
        let t = trimmed(line);
        if t == "---" {
            let yaml_end = offset;
            let body_start = offset + line.len();
            let size = yaml_end - yaml_start;
            if size > MAX_FRONT_MATTER_BYTES {
                return Err(Diagnostic::error(
                    path,
                    1,
                    1,
                    format!(
                        "front matter is {} KiB; the limit is {} KiB",
                        size.div_ceil(1024),
                        MAX_FRONT_MATTER_BYTES / 1024
                    ),
                ));
            }
            return Ok(Split {
                yaml_start,
                yaml_end,
                body_start,
            });
        }
        if near_miss.is_none() && t.trim_start_matches([' ', '\t']).starts_with("---") {
            near_miss = Some((offset, t));
        }
        offset += line.len();
    }
    let help = near_miss.map(|(at, t)| {
        let shown: String = if t.chars().count() > 40 {
            t.chars().take(40).chain(['…']).collect()
        } else {
            t.to_string()
        };
        format!(
            "line {} looks like a closing delimiter but is `{shown}`; write exactly `---`",
            index.position(text, at).0
        )
    });
    Err(Diagnostic::error(
        path,
        1,
        1,
        "front matter opened here is not closed (expected a line `---`)",
    )
    .with_help_opt(help))
}

/// The error for a file that does not start with `---`.
fn missing(path: &str, text: &str) -> Diagnostic {
    let first_content = text
        .split_inclusive('\n')
        .map(trimmed)
        .find(|t| !t.trim_start_matches([' ', '\t']).is_empty());
    let starts_blank = text
        .split_inclusive('\n')
        .next()
        .is_some_and(|l| trimmed(l).trim_start_matches([' ', '\t']).is_empty());
    match first_content.map(|t| t.trim_start_matches([' ', '\t'])) {
        Some("+++") => Diagnostic::error(
            path,
            1,
            1,
            "TOML front matter is not supported; use YAML between `---` lines",
        ),
        Some("---") if starts_blank => {
            Diagnostic::error(path, 1, 1, "front matter must start on the first line")
                .with_help("remove the blank lines before the opening `---`")
        }
        _ => Diagnostic::error(
            path,
            1,
            1,
            "missing front matter: the file must start with a line `---`",
        )
        .with_help(SHAPE_HELP),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Result<Split, Diagnostic> {
        split("content/a.md", text, &LineIndex::new(text))
    }

    fn err(text: &str) -> (usize, usize, String, Option<String>) {
        match run(text) {
            Ok(s) => panic!("expected an error, got {s:?}"),
            Err(d) => (d.line, d.col, d.message, d.help),
        }
    }

    #[test]
    fn splits_yaml_and_body() {
        let text = "---\ntitle: a\ndate: 2019\n---\n# Body\n";
        let s = run(text).expect("valid front matter");
        assert_eq!(s.yaml(text), "title: a\ndate: 2019\n");
        assert_eq!(s.body(text), "# Body\n");
        assert_eq!(
            s,
            Split {
                yaml_start: 4,
                yaml_end: 24,
                body_start: 28
            }
        );
    }

    #[test]
    fn trailing_whitespace_on_delimiters_is_allowed() {
        let text = "--- \t\ntitle: a\n---  \nbody";
        let s = run(text).expect("valid front matter");
        assert_eq!(s.yaml(text), "title: a\n");
        assert_eq!(s.body(text), "body");
    }

    #[test]
    fn empty_front_matter_and_no_body() {
        let text = "---\n---";
        let s = run(text).expect("valid front matter");
        assert_eq!((s.yaml_start, s.yaml_end, s.body_start), (4, 4, 7));
        assert_eq!(s.body(text), "");
        let text = "---\n---\n";
        let s = run(text).expect("valid front matter");
        assert_eq!((s.yaml_start, s.yaml_end, s.body_start), (4, 4, 8));
    }

    #[test]
    fn later_thematic_breaks_and_fences_are_body() {
        // M06
        let text = "---\ntitle: a\n---\nintro\n\n---\n\n```yaml\n---\nx: 1\n---\n```\n";
        let s = run(text).expect("valid front matter");
        assert_eq!(s.yaml(text), "title: a\n");
        assert_eq!(
            s.body(text),
            "intro\n\n---\n\n```yaml\n---\nx: 1\n---\n```\n"
        );
    }

    #[test]
    fn dots_do_not_close() {
        let text = "---\ntitle: a\n...\nmore: b\n---\nbody\n";
        let s = run(text).expect("valid front matter");
        assert_eq!(s.yaml(text), "title: a\n...\nmore: b\n");
    }

    #[test]
    fn empty_file_is_missing_front_matter() {
        // F08
        let (line, col, message, help) = err("");
        assert_eq!((line, col), (1, 1));
        assert_eq!(
            message,
            "missing front matter: the file must start with a line `---`"
        );
        assert_eq!(help.as_deref(), Some(SHAPE_HELP));
    }

    #[test]
    fn markdown_without_front_matter() {
        // M01
        let (line, col, message, _) = err("# Title\n\ntext\n");
        assert_eq!((line, col), (1, 1));
        assert_eq!(
            message,
            "missing front matter: the file must start with a line `---`"
        );
        // A near-miss opener is not an opener.
        assert_eq!(err("----\ntitle: a\n---\n").2, message);
        assert_eq!(err("--- title: a\n---\n").2, message);
        assert_eq!(err(" ---\ntitle: a\n---\n").2, message);
    }

    #[test]
    fn toml_front_matter() {
        // M05
        let (line, col, message, help) = err("+++\ntitle = \"a\"\n+++\nbody\n");
        assert_eq!((line, col), (1, 1));
        assert_eq!(
            message,
            "TOML front matter is not supported; use YAML between `---` lines"
        );
        assert_eq!(help, None);
    }

    #[test]
    fn blank_lines_before_the_opener() {
        // M04: rejected, so YAML positions never need shifting.
        let (line, col, message, help) = err("\n\n\n---\ntitle: a\n---\n");
        assert_eq!((line, col), (1, 1));
        assert_eq!(message, "front matter must start on the first line");
        assert_eq!(
            help.as_deref(),
            Some("remove the blank lines before the opening `---`")
        );
        assert_eq!(err("  \n---\ntitle: a\n---\n").2, message);
        // Blank lines and then no front matter at all.
        assert_eq!(
            err("\n\n# Title\n").2,
            "missing front matter: the file must start with a line `---`"
        );
    }

    #[test]
    fn unclosed() {
        // M02
        let (line, col, message, help) = err("---\ntitle: a\n\n# Body\n");
        assert_eq!((line, col), (1, 1));
        assert_eq!(
            message,
            "front matter opened here is not closed (expected a line `---`)"
        );
        assert_eq!(help, None);
        assert_eq!(err("---").2, message);
        assert_eq!(err("---\n").2, message);
    }

    #[test]
    fn unclosed_with_a_near_miss() {
        // M03
        let (_, _, _, help) = err("---\ntitle: a\n----\nbody\n");
        assert_eq!(
            help.as_deref(),
            Some("line 3 looks like a closing delimiter but is `----`; write exactly `---`")
        );
        let (_, _, _, help) = err("---\ntitle: a\ndate: 2019\n--- x\nbody\n");
        assert_eq!(
            help.as_deref(),
            Some("line 4 looks like a closing delimiter but is `--- x`; write exactly `---`")
        );
        let (_, _, _, help) = err("---\ntitle: a\n ---  \nbody\n");
        assert_eq!(
            help.as_deref(),
            Some("line 3 looks like a closing delimiter but is ` ---`; write exactly `---`")
        );
    }

    #[test]
    fn size_cap() {
        // M07: 100 KiB of front matter, never parsed.
        let yaml = format!("title: {}\n", "x".repeat(100 * 1024 - 8));
        assert_eq!(yaml.len(), 100 * 1024);
        let text = format!("---\n{yaml}---\nbody\n");
        let (line, col, message, _) = err(&text);
        assert_eq!((line, col), (1, 1));
        assert_eq!(message, "front matter is 100 KiB; the limit is 64 KiB");
        // One byte over the limit rounds up.
        let text = format!("---\n{}\n---\n", "x".repeat(64 * 1024));
        assert_eq!(err(&text).2, "front matter is 65 KiB; the limit is 64 KiB");
        // Exactly at the limit is fine.
        let text = format!("---\n{}\n---\n", "x".repeat(64 * 1024 - 1));
        assert!(run(&text).is_ok());
    }
}
