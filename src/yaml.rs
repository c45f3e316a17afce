//! Positioned YAML: the one module that uses `serde_yaml`.
//!
//! Owns: turning YAML text (a front-matter block, or a whole file such as `site.yaml`)
//! into a [`Node`] tree in which every key and every value carries its 1-based
//! `line:col` in the original file, and turning every YAML problem into a
//! [`Diagnostic`]. In: the decoded file text, the byte range of the YAML and the file's
//! [`LineIndex`]. Out: the root [`Node`], or every problem found. No `serde_yaml` type
//! leaves this module, so replacing the deprecated crate touches this file only. It
//! depends on nothing in the crate but `diagnostics`.
//!
//! Contributors' files are untrusted, so three passes run in this order:
//!
//! 1. A character loop rejects control and invisible characters and a second document
//!    (a `---` or `...` line).
//! 2. A *locator* walks the YAML structure once, in linear time and without deep
//!    recursion: it records the position of every key and value, and rejects anchors
//!    and aliases (so nothing is ever expanded), tags, complex `? ` keys, nesting deeper
//!    than [`MAX_DEPTH`] (libyaml's scanner is quadratic on deep flow nesting:
//!    yaml/libyaml#286), tabs used for indentation, and duplicate keys. All of these
//!    are reported together; `serde_yaml` never sees such input.
//! 3. `serde_yaml` parses the values (and reports syntax errors, converted to file
//!    positions); the values are then paired with the locator's positions. Where the
//!    locator did not understand a construct, a node gets its parent's position.

use std::collections::HashMap;

use crate::diagnostics::{self, Diagnostic, LineIndex};

/// Deepest allowed nesting of collections; the root collection is level 1.
pub const MAX_DEPTH: usize = 8;

/// Largest YAML file [`parse_document`] accepts, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// At most this many problems are reported for one piece of YAML.
const MAX_PROBLEMS: usize = 100;

/// A YAML value with the position of its first character in the original file.
///
/// For a block mapping or block sequence the position is that of its first key or
/// first `-`; for a flow collection its `[` or `{`; for a quoted scalar its opening
/// quote; for a block scalar its `|` or `>`. A value left empty (`key:` with nothing
/// after it) is [`Value::Null`] at the position of its key (or of its `-`).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// 1-based line in the original file.
    pub line: usize,
    /// 1-based column (in characters) in the original file.
    pub col: usize,
    /// Source text of a plain (unquoted) scalar.
    raw: Option<String>,
}

/// A YAML value; mapping keys are always strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null`, or nothing at all.
    Null,
    /// `true` or `false` (YAML 1.2: `yes`/`on` are strings).
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// Any other number, including `.inf` and `.nan`.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence, in source order.
    Seq(Vec<Node>),
    /// A mapping, in source order, without duplicate keys.
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key; a plain scalar key such as `2019:` is kept as written (`"2019"`).
    pub key: String,
    /// 1-based line of the key's first character.
    pub key_line: usize,
    /// 1-based column (in characters) of the key's first character.
    pub key_col: usize,
    /// The value.
    pub value: Node,
}

impl Node {
    /// A node without source text, e.g. for tests or defaults.
    pub fn new(value: Value, line: usize, col: usize) -> Self {
        Node {
            value,
            line,
            col,
            raw: None,
        }
    }

    /// The scalar as written in the source, for plain (unquoted) scalars only: `"1.30"`
    /// for `kubernetes_version: 1.30` (whose value is `Float(1.3)`), `"2019"` for
    /// `date: 2019`, `"~"` for `~`. A plain scalar written over several lines is given
    /// folded, as YAML reads it. `None` for quoted and block scalars, collections and
    /// empty values: their text is the value.
    pub fn raw(&self) -> Option<&str> {
        self.raw.as_deref()
    }

    /// How the value reads in a message: `"a string"`, `"a number"`, `"a list"`,
    /// `"a mapping"`, `"a boolean"` or `"null"`.
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The value of `key` when this node is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    /// The string when this node is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Parse the YAML in `text[start..end]` (a front-matter block; `start` should be the
/// start of a line). Positions in the result and in diagnostics refer to `text`, i.e.
/// to the original file.
///
/// Errors: every pre-scan, locator and duplicate-key problem, sorted; or else the one
/// syntax error `serde_yaml` found; or else every non-string mapping key.
pub fn parse(
    path: &str,
    text: &str,
    start: usize,
    end: usize,
    index: &LineIndex,
) -> Result<Node, Vec<Diagnostic>> {
    let end = floor_char_boundary(text, end.min(text.len()));
    let start = floor_char_boundary(text, start.min(end));
    if end - start > MAX_DOCUMENT_BYTES {
        return Err(vec![too_big(path, "front matter", end - start)]);
    }
    parse_region(path, text, start, end, index, Mode::FrontMatter)
}

/// Parse a whole YAML file (`site.yaml`, `content/symptoms.yaml`), at most
/// [`MAX_DOCUMENT_BYTES`]. Leading `%` directives and one leading `---` line are
/// allowed; any other `---` or `...` line is a second document, which is an error.
pub fn parse_document(path: &str, text: &str, index: &LineIndex) -> Result<Node, Vec<Diagnostic>> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(vec![too_big(path, "YAML file", text.len())]);
    }
    parse_region(path, text, 0, text.len(), index, Mode::Document)
}

fn too_big(path: &str, what: &str, len: usize) -> Diagnostic {
    Diagnostic::error(
        path,
        1,
        1,
        format!("{what} is {} KiB; the limit is 1 MiB", len.div_ceil(1024)),
    )
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Front matter and whole files differ only in what may precede the content and in
/// the wording of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    FrontMatter,
    Document,
}

impl Mode {
    fn where_(self) -> &'static str {
        match self {
            Mode::FrontMatter => "in front matter",
            Mode::Document => "in a YAML file",
        }
    }
}

/// A problem at a byte offset, before it becomes a [`Diagnostic`].
#[derive(Debug)]
struct Problem {
    at: usize,
    message: String,
    help: Option<String>,
}

/// Problems from one source, found in (roughly) increasing position. Past the cap they
/// are only counted, so hostile input cannot make the list huge.
#[derive(Debug, Default)]
struct Problems {
    list: Vec<Problem>,
    dropped: usize,
}

impl Problems {
    fn is_full(&self) -> bool {
        self.list.len() > MAX_PROBLEMS
    }

    fn push(&mut self, at: usize, message: impl Into<String>, help: Option<&str>) {
        if self.is_full() {
            self.dropped += 1;
            return;
        }
        self.list.push(Problem {
            at,
            message: message.into(),
            help: help.map(str::to_string),
        });
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn append(&mut self, other: &mut Problems) {
        self.list.append(&mut other.list);
        self.dropped += std::mem::take(&mut other.dropped);
    }
}

/// 1-based line of byte `offset`, in O(log lines) (`LineIndex::position` also counts
/// the column, which is linear in the line's length).
fn line_of(index: &LineIndex, offset: usize) -> usize {
    let (mut lo, mut hi) = (1, index.line_count());
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if index.line_start(mid) <= offset {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

fn parse_region(
    path: &str,
    text: &str,
    start: usize,
    end: usize,
    index: &LineIndex,
    mode: Mode,
) -> Result<Node, Vec<Diagnostic>> {
    let mut problems = Problems::default();
    lexical_checks(text, start, end, mode, &mut problems);

    let mut locator = Locator::new(text, index, start, end, mode);
    let root = locator.document();
    problems.append(&mut locator.problems);
    // Duplicates found in structure the locator could not follow may be artefacts of
    // the misreading; serde_yaml's syntax error is the better report then.
    let duplicates = std::mem::take(&mut locator.duplicates);
    if !problems.is_empty() || (!locator.uncertain && !duplicates.is_empty()) {
        if !locator.uncertain {
            let mut duplicates = duplicates;
            problems.append(&mut duplicates);
        }
        return Err(to_diagnostics(path, text, index, problems));
    }

    let input = serde_input(text, start, end, index);
    let value = match serde_yaml::from_str::<serde_yaml::Value>(&input) {
        Ok(value) => value,
        Err(error) => {
            if error.to_string().starts_with("duplicate entry") && !duplicates.is_empty() {
                return Err(to_diagnostics(path, text, index, duplicates));
            }
            return Err(vec![convert_error(path, text, start, end, index, &error)]);
        }
    };

    let mut builder = Builder {
        text,
        index,
        cursor: None,
        problems: Problems::default(),
    };
    let node = builder.node(value, Some(&root), start);
    if builder.problems.is_empty() {
        Ok(node)
    } else {
        Err(to_diagnostics(path, text, index, builder.problems))
    }
}

fn to_diagnostics(
    path: &str,
    text: &str,
    index: &LineIndex,
    problems: Problems,
) -> Vec<Diagnostic> {
    let Problems { mut list, dropped } = problems;
    list.sort_by_key(|p| p.at);
    let extra = list.len().saturating_sub(MAX_PROBLEMS) + dropped;
    let mut out: Vec<Diagnostic> = list
        .iter()
        .take(MAX_PROBLEMS)
        .map(|p| {
            let (line, col) = index.position(text, p.at);
            Diagnostic::error(path, line, col, p.message.clone()).with_help_opt(p.help.clone())
        })
        .collect();
    if extra > 0 {
        if let Some(p) = list.get(MAX_PROBLEMS) {
            let (line, col) = index.position(text, p.at);
            out.push(Diagnostic::error(
                path,
                line,
                col,
                format!("too many problems in this YAML; {extra} more are not shown"),
            ));
        }
    }
    diagnostics::sort(&mut out);
    out
}

// ---------------------------------------------------------------------------------
// Pass 1: characters and document markers.

/// Format characters that render as nothing but change what a reader or a terminal
/// sees. Zero-width joiners (U+200C, U+200D) are left alone: emoji and some scripts
/// need them.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{061C}'
            | '\u{FEFF}'
    )
}

/// Whether the line starting at `ls` is a `---` or `...` document marker.
fn is_doc_marker(b: &[u8], ls: usize, end: usize) -> bool {
    let at = |i: usize| if i < end { b[i] } else { b'\n' };
    let (c0, c1, c2) = (at(ls), at(ls + 1), at(ls + 2));
    ((c0, c1, c2) == (b'-', b'-', b'-') || (c0, c1, c2) == (b'.', b'.', b'.'))
        && matches!(at(ls + 3), b' ' | b'\t' | b'\n')
}

fn lexical_checks(text: &str, start: usize, end: usize, mode: Mode, out: &mut Problems) {
    let b = text.as_bytes();
    let region = &text[start..end];
    // In a whole file, one `---` may open the document before any content.
    let mut may_open = mode == Mode::Document;
    let mut ls = start;
    for line in region.split_inclusive('\n') {
        if is_doc_marker(b, ls, end) {
            if may_open && b[ls] == b'-' {
                may_open = false;
            } else {
                let help = match mode {
                    Mode::FrontMatter => Some(
                        "the front matter ends at the first line that is exactly `---`; indent or quote \
                         this text if it belongs to a value",
                    ),
                    Mode::Document => None,
                };
                out.push(
                    ls,
                    format!("only one YAML document is allowed {}", mode.where_()),
                    help,
                );
            }
        } else if may_open {
            let t = line.trim_start_matches([' ', '\t']);
            if !(t.is_empty() || t.starts_with('\n') || t.starts_with('#') || line.starts_with('%'))
            {
                may_open = false;
            }
        }
        for (i, c) in line.char_indices() {
            if c == '\t' || c == '\n' || !(c.is_control() || is_invisible(c)) {
                continue;
            }
            if out.is_full() {
                out.dropped += 1;
                continue;
            }
            let message = if c.is_control() {
                format!("control character U+{:04X} is not allowed", c as u32)
            } else if is_invisible(c) {
                format!("invisible character U+{:04X} is not allowed", c as u32)
            } else {
                continue;
            };
            out.push(ls + i, message, None);
        }
        ls += line.len();
    }
}

// ---------------------------------------------------------------------------------
// Pass 2: the locator.

/// What the locator learned about one node.
#[derive(Debug)]
struct Loc {
    /// Byte offset of the node's first character (or of its key / `-` when empty).
    pos: usize,
    shape: Shape,
}

#[derive(Debug)]
enum Shape {
    /// Nothing written: an implicit null.
    Empty,
    /// A plain scalar ending at byte `end` (on its first line unless `multiline`).
    Plain {
        end: usize,
        multiline: bool,
    },
    /// A quoted or block scalar.
    Text,
    Seq(Vec<Loc>),
    Map(Vec<LocEntry>),
    /// Not followed (too deep, or a construct the locator rejects).
    Unknown,
}

#[derive(Debug)]
struct LocEntry {
    /// The key's text when it is a scalar (plain as written, quoted unescaped).
    key: Option<String>,
    key_pos: usize,
    value: Loc,
}

impl Loc {
    fn new(pos: usize, shape: Shape) -> Self {
        Loc { pos, shape }
    }
}

/// A mapping key found on a line.
struct Key {
    text: Option<String>,
    /// Offset of the `:` that ends the key.
    colon: usize,
}

/// Where a node starts: right after `key: ` on the key's line (only scalars and flow
/// collections may follow), or at the start of a line or after `- ` (anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    AfterKey,
    Line,
}

struct Locator<'a> {
    text: &'a str,
    index: &'a LineIndex,
    b: &'a [u8],
    start: usize,
    end: usize,
    mode: Mode,
    /// Start of the next unconsumed line (block context).
    pos: usize,
    problems: Problems,
    duplicates: Problems,
    /// Set when the input did not read as valid YAML somewhere.
    uncertain: bool,
    last_tab: Option<usize>,
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n')
}

fn is_flow_indicator(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

impl<'a> Locator<'a> {
    fn new(text: &'a str, index: &'a LineIndex, start: usize, end: usize, mode: Mode) -> Self {
        Locator {
            text,
            index,
            b: text.as_bytes(),
            start,
            end,
            mode,
            pos: start,
            problems: Problems::default(),
            duplicates: Problems::default(),
            uncertain: false,
            last_tab: None,
        }
    }

    /// The byte at `i`, with everything past the region reading as a line break.
    fn at(&self, i: usize) -> u8 {
        if i < self.end {
            self.b[i]
        } else {
            b'\n'
        }
    }

    fn line_end(&self, mut i: usize) -> usize {
        while i < self.end && self.b[i] != b'\n' {
            i += 1;
        }
        i.min(self.end)
    }

    fn next_line(&self, i: usize) -> usize {
        (self.line_end(i) + 1).min(self.end)
    }

    fn skip_inline_space(&self, mut i: usize) -> usize {
        while matches!(self.at(i), b' ' | b'\t') && i < self.end {
            i += 1;
        }
        i
    }

    fn eol_or_comment(&self, i: usize) -> bool {
        matches!(self.at(i), b'\n' | b'#')
    }

    fn is_dash_entry(&self, i: usize) -> bool {
        self.at(i) == b'-' && is_blank(self.at(i + 1))
    }

    fn problem(&mut self, at: usize, message: impl Into<String>, help: Option<&str>) {
        self.problems.push(at, message, help);
    }

    fn too_deep(&mut self, at: usize) {
        self.problem(
            at,
            format!("nesting deeper than {MAX_DEPTH} levels"),
            Some("flatten this part of the structure"),
        );
    }

    fn explicit_key(&mut self, at: usize) {
        self.uncertain = true;
        self.problem(
            at,
            "complex mapping keys (`? `) are not allowed",
            Some("write `key: value`"),
        );
    }

    /// The whole document: the root node, then anything the root did not take (which
    /// is invalid YAML, but is still scanned for anchors and the like).
    fn document(&mut self) -> Loc {
        let mut root = None;
        if self.mode == Mode::Document {
            root = self.document_start();
        }
        let root = match root {
            Some(root) => root,
            None => match self.peek_content() {
                Some((ls, _, at)) => self.node(at, ls, -1, 1, at, Place::Line),
                None => Loc::new(self.start, Shape::Empty),
            },
        };
        while let Some((ls, _, at)) = self.peek_content() {
            self.uncertain = true;
            let before = self.pos;
            let _ = self.node(at, ls, -1, 1, at, Place::Line);
            if self.pos <= before {
                self.pos = self.next_line(at);
            }
        }
        root
    }

    /// In a whole file: skip directives and blank lines, and a `---` line. Returns the
    /// root when content follows `--- ` on the same line.
    fn document_start(&mut self) -> Option<Loc> {
        while self.pos < self.end {
            let ls = self.pos;
            let first = self.skip_inline_space(ls);
            if self.at(first) == b'\n' || self.at(first) == b'#' || self.at(ls) == b'%' {
                self.pos = self.next_line(ls);
                continue;
            }
            if is_doc_marker(self.b, ls, self.end) && self.at(ls) == b'-' {
                let after = self.skip_inline_space(ls + 3);
                if self.eol_or_comment(after) {
                    self.pos = self.next_line(ls);
                    return None;
                }
                return Some(self.node(after, ls, -1, 1, after, Place::Line));
            }
            return None;
        }
        None
    }

    /// Skip blank, comment, directive and document-marker lines; return the next line
    /// with content as `(line start, indentation in spaces, first content byte)`,
    /// leaving `self.pos` at its start. Reports a tab in its indentation.
    fn peek_content(&mut self) -> Option<(usize, usize, usize)> {
        while self.pos < self.end {
            let ls = self.pos;
            let mut i = ls;
            let mut spaces = 0;
            let mut tab = None;
            while i < self.end && matches!(self.b[i], b' ' | b'\t') {
                if self.b[i] == b'\t' {
                    tab.get_or_insert(i);
                } else if tab.is_none() {
                    spaces += 1;
                }
                i += 1;
            }
            let c = self.at(i);
            if c == b'\n'
                || c == b'#'
                || (i == ls && (c == b'%' || is_doc_marker(self.b, ls, self.end)))
            {
                self.pos = self.next_line(i);
                continue;
            }
            if let Some(t) = tab {
                if self.last_tab != Some(t) {
                    self.last_tab = Some(t);
                    self.uncertain = true;
                    self.problem(
                        t,
                        "tabs are not allowed for indentation in YAML; use spaces",
                        None,
                    );
                }
            }
            return Some((ls, spaces, i));
        }
        None
    }

    /// Report anchors, aliases and tags at a node start; return where the node itself
    /// starts (an alias is left in place: it is the node).
    fn properties(&mut self, mut p: usize, flow: bool) -> usize {
        loop {
            let c = self.at(p);
            if p >= self.end || !matches!(c, b'&' | b'*' | b'!') {
                return p;
            }
            if c == b'!' {
                self.problem(
                    p,
                    format!("YAML tags are not allowed {}", self.mode.where_()),
                    Some("remove the tag, or quote a value that starts with `!`"),
                );
            } else {
                self.problem(
                    p,
                    format!("YAML anchors and aliases are not allowed {}", self.mode.where_()),
                    Some("write each value out in full, or quote a value that starts with `&` or `*`"),
                );
            }
            if c == b'*' {
                return p;
            }
            while p < self.end && !is_blank(self.b[p]) && !(flow && is_flow_indicator(self.b[p])) {
                p += 1;
            }
            p = self.skip_inline_space(p);
        }
    }

    /// One node starting at `at` on the line that starts at `ls`, inside a block
    /// collection indented `n` (-1 at the root); a collection made here is at nesting
    /// level `depth`. An empty node is placed at `owner`. Leaves `self.pos` at a line
    /// start after the node.
    fn node(
        &mut self,
        at: usize,
        ls: usize,
        n: isize,
        depth: usize,
        owner: usize,
        place: Place,
    ) -> Loc {
        let (mut at, mut ls, mut place) = (at, ls, place);
        // A value of `key:` may be a sequence at the key's own indentation.
        let seq_at_n = place == Place::AfterKey;
        loop {
            at = self.properties(at, false);
            if !self.eol_or_comment(at) {
                break;
            }
            self.pos = self.next_line(at);
            match self.peek_content() {
                Some((ls2, ind, c2))
                    if ind as isize > n
                        || (seq_at_n && ind as isize == n && self.is_dash_entry(c2)) =>
                {
                    (at, ls, place) = (c2, ls2, Place::Line);
                }
                _ => return Loc::new(owner, Shape::Empty),
            }
        }
        let c = self.at(at);
        if c == b'?' && is_blank(self.at(at + 1)) {
            self.explicit_key(at);
            self.pos = self.next_line(at);
            return Loc::new(at, Shape::Unknown);
        }
        if place == Place::Line {
            if self.is_dash_entry(at) {
                return self.block_seq(ls, at, depth);
            }
            if !matches!(c, b'|' | b'>') {
                if let Some(key) = self.map_key_at(at) {
                    return self.block_map(ls, at, key, depth);
                }
            }
        }
        match c {
            b'|' | b'>' => self.block_scalar(at, n),
            b'[' | b'{' => {
                let mut p = at;
                let loc = self.flow_collection(&mut p, depth);
                self.pos = self.next_line(p.saturating_sub(1).max(at));
                loc
            }
            b'"' | b'\'' => {
                let e = self.quoted_end(at);
                self.pos = self.next_line(e.saturating_sub(1).max(at));
                Loc::new(at, Shape::Text)
            }
            _ => self.plain_block(at, n),
        }
    }

    /// A mapping key at `at`: `key:`, `"key":`, `'key':` or a one-line flow collection
    /// followed by `:`, then a blank or the end of the line.
    fn map_key_at(&self, at: usize) -> Option<Key> {
        let eol = self.line_end(at);
        let colon_after = |p: usize| {
            let p = self.skip_inline_space(p);
            (p < eol && self.b[p] == b':' && is_blank(self.at(p + 1))).then_some(p)
        };
        match self.at(at) {
            b'"' | b'\'' => {
                let close = self.quoted_end(at);
                if close > eol || self.b[close - 1] != self.b[at] || close == at + 1 {
                    return None;
                }
                let colon = colon_after(close)?;
                Some(Key {
                    text: Some(unquote(&self.text[at..close])),
                    colon,
                })
            }
            b'[' | b'{' => {
                let mut depth = 0usize;
                let mut i = at;
                while i < eol {
                    match self.b[i] {
                        b'[' | b'{' => depth += 1,
                        b']' | b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                return colon_after(i + 1).map(|colon| Key { text: None, colon });
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                None
            }
            _ => {
                let mut i = at;
                while i < eol {
                    let c = self.b[i];
                    if c == b':' && is_blank(self.at(i + 1)) {
                        let key = self.text[at..i].trim_end_matches([' ', '\t']);
                        return Some(Key {
                            text: Some(key.to_string()),
                            colon: i,
                        });
                    }
                    if c == b'#' && i > at && matches!(self.b[i - 1], b' ' | b'\t') {
                        return None;
                    }
                    i += 1;
                }
                None
            }
        }
    }

    fn block_map(&mut self, ls: usize, at: usize, first: Key, depth: usize) -> Loc {
        let indent = at - ls;
        if depth > MAX_DEPTH {
            self.too_deep(at);
            self.skip_block(at, indent, false);
            return Loc::new(at, Shape::Unknown);
        }
        let map_pos = at;
        let mut entries = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let (mut key_at, mut key) = (at, first);
        let mut line_start = ls;
        loop {
            if let Some(text) = &key.text {
                self.check_duplicate(&mut seen, text, key_at);
            }
            let p = self.skip_inline_space(key.colon + 1);
            let value = self.node(
                p,
                line_start,
                indent as isize,
                depth + 1,
                key_at,
                Place::AfterKey,
            );
            entries.push(LocEntry {
                key: key.text,
                key_pos: key_at,
                value,
            });
            let Some((ls2, ind, c2)) = self.peek_content() else {
                break;
            };
            if ind != indent {
                break;
            }
            let c3 = self.properties(c2, false);
            match self.map_key_at(c3) {
                Some(k) if !self.is_dash_entry(c3) => {
                    (line_start, key_at, key) = (ls2, c3, k);
                }
                _ => {
                    self.uncertain = true;
                    break;
                }
            }
        }
        Loc::new(map_pos, Shape::Map(entries))
    }

    fn check_duplicate(&mut self, seen: &mut HashMap<String, usize>, key: &str, at: usize) {
        match seen.get(key) {
            Some(_) if self.duplicates.is_full() => self.duplicates.dropped += 1,
            Some(&first) => {
                let first_line = line_of(self.index, first);
                self.duplicates.push(
                    at,
                    format!("duplicate key `{key}` (first defined at line {first_line})"),
                    None,
                );
            }
            None => {
                seen.insert(key.to_string(), at);
            }
        }
    }

    fn block_seq(&mut self, ls: usize, at: usize, depth: usize) -> Loc {
        let indent = at - ls;
        if depth > MAX_DEPTH {
            self.too_deep(at);
            self.skip_block(at, indent, true);
            return Loc::new(at, Shape::Unknown);
        }
        let mut items = Vec::new();
        let (mut line_start, mut dash) = (ls, at);
        loop {
            let p = self.skip_inline_space(dash + 1);
            items.push(self.node(p, line_start, indent as isize, depth + 1, dash, Place::Line));
            match self.peek_content() {
                Some((ls2, ind, c2)) if ind == indent && self.is_dash_entry(c2) => {
                    (line_start, dash) = (ls2, c2);
                }
                _ => break,
            }
        }
        Loc::new(at, Shape::Seq(items))
    }

    /// Skip a collection that is too deep, in linear time: the rest of its first line
    /// and every following line that belongs to it.
    fn skip_block(&mut self, at: usize, indent: usize, is_seq: bool) {
        self.pos = self.next_line(at);
        while let Some((_, ind, c)) = self.peek_content() {
            if ind > indent || (ind == indent && (!is_seq || self.is_dash_entry(c))) {
                self.pos = self.next_line(c);
            } else {
                break;
            }
        }
    }

    /// A `|` or `>` scalar whose parent collection is indented `n`: its content is
    /// every following line indented more than `n` (auto-detected from the first
    /// non-blank line, as libyaml does), and blank lines.
    fn block_scalar(&mut self, at: usize, n: isize) -> Loc {
        let eol = self.line_end(at);
        let mut explicit = None;
        let mut i = at + 1;
        while i < eol && i < at + 3 {
            match self.b[i] {
                d @ b'1'..=b'9' => explicit = Some(usize::from(d - b'0')),
                b'+' | b'-' => {}
                _ => break,
            }
            i += 1;
        }
        let min = (n + 1).max(1) as usize;
        let mut content_indent = explicit.map(|k| if n >= 0 { n as usize + k } else { k });
        self.pos = self.next_line(at);
        while self.pos < self.end {
            let ls = self.pos;
            let mut j = ls;
            while j < self.end && self.b[j] == b' ' {
                j += 1;
            }
            let ind = j - ls;
            let rest = self.skip_inline_space(j);
            if self.at(rest) == b'\n' {
                self.pos = self.next_line(ls);
                continue;
            }
            match content_indent {
                None if ind < min => break,
                None => content_indent = Some(ind),
                Some(m) if ind < m => break,
                Some(_) => {}
            }
            self.pos = self.next_line(ls);
        }
        Loc::new(at, Shape::Text)
    }

    /// Where a plain scalar's text on one line ends (trailing blanks trimmed), and
    /// whether a comment follows it.
    fn plain_line_end(&self, at: usize) -> (usize, bool) {
        let mut i = at;
        let mut end = at;
        while i < self.end && self.b[i] != b'\n' {
            let c = self.b[i];
            if c == b'#' && i > at && matches!(self.b[i - 1], b' ' | b'\t') {
                return (end, true);
            }
            i += 1;
            if !matches!(c, b' ' | b'\t') {
                end = i;
            }
        }
        (end, false)
    }

    /// A plain scalar in block context: its first line, and continuation lines
    /// indented more than `n` (as libyaml's scanner does).
    fn plain_block(&mut self, at: usize, n: isize) -> Loc {
        let (end, comment) = self.plain_line_end(at);
        self.pos = self.next_line(at);
        let mut multiline = false;
        if !comment {
            let mut q = self.pos;
            while q < self.end {
                let mut j = q;
                while j < self.end && self.b[j] == b' ' {
                    j += 1;
                }
                let ind = j - q;
                let c = self.skip_inline_space(j);
                match self.at(c) {
                    b'\n' => {
                        q = self.next_line(c);
                        continue;
                    }
                    b'#' => break,
                    _ if ind as isize <= n || is_doc_marker(self.b, q, self.end) => break,
                    _ => {}
                }
                multiline = true;
                let (_, comment) = self.plain_line_end(c);
                self.pos = self.next_line(c);
                q = self.pos;
                if comment {
                    break;
                }
            }
        }
        Loc::new(at, Shape::Plain { end, multiline })
    }

    /// Offset just past the closing quote of the quoted scalar at `at` (which may span
    /// lines), or the end of the region when it is not closed.
    fn quoted_end(&self, at: usize) -> usize {
        let q = self.at(at);
        let mut i = at + 1;
        while i < self.end {
            let c = self.b[i];
            if q == b'"' && c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                if q == b'\'' && self.at(i + 1) == b'\'' && i + 1 < self.end {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i += 1;
        }
        self.end
    }

    /// Skip blanks, line breaks and comments inside a flow collection.
    fn skip_flow_space(&self, p: &mut usize) {
        while *p < self.end {
            match self.b[*p] {
                b' ' | b'\t' | b'\n' => *p += 1,
                b'#' if *p == self.start || is_blank(self.b[*p - 1]) => *p = self.line_end(*p),
                _ => return,
            }
        }
    }

    /// A `[...]` or `{...}` collection at `*p`, possibly over several lines; leaves
    /// `*p` after its closing bracket. Recursion is bounded by [`MAX_DEPTH`].
    fn flow_collection(&mut self, p: &mut usize, depth: usize) -> Loc {
        let open = *p;
        if depth > MAX_DEPTH {
            self.too_deep(open);
            self.skip_flow(p);
            return Loc::new(open, Shape::Unknown);
        }
        let is_map = self.at(open) == b'{';
        let close = if is_map { b'}' } else { b']' };
        *p += 1;
        let mut items = Vec::new();
        let mut entries = Vec::new();
        let mut seen = HashMap::new();
        loop {
            self.skip_flow_space(p);
            if *p >= self.end {
                self.uncertain = true;
                break;
            }
            let c = self.b[*p];
            if c == close {
                *p += 1;
                break;
            }
            if c == b']' || c == b'}' {
                self.uncertain = true;
                *p += 1;
                break;
            }
            if c == b',' {
                *p += 1;
                continue;
            }
            let start = *p;
            if c == b'?' && is_blank(self.at(start + 1)) {
                self.explicit_key(start);
                *p += 1;
                continue;
            }
            let (key_loc, key_text) = self.flow_node(p, depth + 1);
            self.skip_flow_space(p);
            if self.at(*p) == b':' && *p < self.end {
                *p += 1;
                self.skip_flow_space(p);
                let value = if *p >= self.end || matches!(self.b[*p], b',' | b']' | b'}') {
                    Loc::new(start, Shape::Empty)
                } else {
                    self.flow_node(p, depth + 1).0
                };
                let key_pos = key_loc.pos;
                if let Some(text) = &key_text {
                    self.check_duplicate(&mut seen, text, key_pos);
                }
                let entry = LocEntry {
                    key: key_text,
                    key_pos,
                    value,
                };
                if is_map {
                    entries.push(entry);
                } else {
                    items.push(Loc::new(start, Shape::Map(vec![entry])));
                }
            } else if is_map {
                if let Some(text) = &key_text {
                    self.check_duplicate(&mut seen, text, key_loc.pos);
                }
                entries.push(LocEntry {
                    key: key_text,
                    key_pos: key_loc.pos,
                    value: Loc::new(key_loc.pos, Shape::Empty),
                });
            } else {
                items.push(key_loc);
            }
            if *p == start {
                // Nothing was consumed (a stray character): step over it.
                self.uncertain = true;
                *p += 1;
                while *p < self.end && !self.text.is_char_boundary(*p) {
                    *p += 1;
                }
            }
        }
        let shape = if is_map {
            Shape::Map(entries)
        } else {
            Shape::Seq(items)
        };
        Loc::new(open, shape)
    }

    /// Skip a too-deep flow collection in linear time, without looking inside.
    fn skip_flow(&self, p: &mut usize) {
        let mut depth = 0usize;
        while *p < self.end {
            let c = self.b[*p];
            match c {
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        *p += 1;
                        return;
                    }
                }
                b'"' | b'\''
                    if *p > 0
                        && matches!(
                            self.b[*p - 1],
                            b'[' | b'{' | b',' | b':' | b' ' | b'\t' | b'\n'
                        ) =>
                {
                    *p = self.quoted_end(*p);
                    continue;
                }
                b'#' if *p > 0 && is_blank(self.b[*p - 1]) => {
                    *p = self.line_end(*p);
                    continue;
                }
                _ => {}
            }
            *p += 1;
        }
    }

    /// One node inside a flow collection; returns it and, for a scalar, its text as a
    /// key.
    fn flow_node(&mut self, p: &mut usize, depth: usize) -> (Loc, Option<String>) {
        *p = self.properties(*p, true);
        let start = *p;
        match self.at(start) {
            b'[' | b'{' if start < self.end => (self.flow_collection(p, depth), None),
            b'"' | b'\'' if start < self.end => {
                let e = self.quoted_end(start);
                *p = e;
                let key = self.text.get(start..e).map(unquote);
                (Loc::new(start, Shape::Text), key)
            }
            _ => {
                let (end, multiline) = self.plain_flow(p);
                let key = if multiline {
                    None
                } else {
                    self.text.get(start..end).map(str::to_string)
                };
                (Loc::new(start, Shape::Plain { end, multiline }), key)
            }
        }
    }

    /// A plain scalar inside a flow collection, possibly continued on later lines.
    fn plain_flow(&self, p: &mut usize) -> (usize, bool) {
        let start = *p;
        let mut i = start;
        let mut end = start;
        let mut multiline = false;
        while i < self.end {
            let c = self.b[i];
            match c {
                b',' | b'[' | b']' | b'{' | b'}' => break,
                b':' if is_blank(self.at(i + 1)) || is_flow_indicator(self.at(i + 1)) => break,
                b'#' if i > start && is_blank(self.b[i - 1]) => break,
                b' ' | b'\t' => {
                    i += 1;
                    continue;
                }
                b'\n' => {
                    let mut j = i;
                    while j < self.end && is_blank(self.b[j]) {
                        j += 1;
                    }
                    if j >= self.end || matches!(self.b[j], b',' | b']' | b'}' | b'#' | b':') {
                        break;
                    }
                    multiline = true;
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
            end = i;
        }
        *p = i;
        (end, multiline)
    }
}

/// The text of a one-line quoted scalar, quotes removed and escapes resolved.
fn unquote(quoted: &str) -> String {
    let Some(first) = quoted.chars().next() else {
        return String::new();
    };
    let inner = quoted
        .strip_prefix(first)
        .and_then(|s| s.strip_suffix(first))
        .unwrap_or(&quoted[first.len_utf8()..]);
    if first == '\'' {
        return inner.replace("''", "'");
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else { break };
        let hex = |n: usize, chars: &mut std::str::Chars<'_>| {
            let digits: String = chars.by_ref().take(n).collect();
            u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32)
        };
        let decoded = match e {
            '0' => Some('\0'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            't' | '\t' => Some('\t'),
            'n' => Some('\n'),
            'v' => Some('\u{b}'),
            'f' => Some('\u{c}'),
            'r' => Some('\r'),
            'e' => Some('\u{1b}'),
            ' ' => Some(' '),
            '"' => Some('"'),
            '/' => Some('/'),
            '\\' => Some('\\'),
            'N' => Some('\u{85}'),
            '_' => Some('\u{a0}'),
            'L' => Some('\u{2028}'),
            'P' => Some('\u{2029}'),
            'x' => hex(2, &mut chars),
            'u' => hex(4, &mut chars),
            'U' => hex(8, &mut chars),
            _ => None,
        };
        match decoded {
            Some(d) => out.push(d),
            None => {
                out.push('\\');
                out.push(e);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Pass 3: serde_yaml, and pairing its values with the locator's positions.

/// The YAML as serde_yaml should see it: preceded by as many line breaks (and spaces)
/// as precede it in the file, so that serde_yaml's line:col are file positions.
fn serde_input(text: &str, start: usize, end: usize, index: &LineIndex) -> String {
    let (line, col) = index.position(text, start);
    let mut s = String::with_capacity(line + col + end - start);
    s.push_str(&"\n".repeat(line - 1));
    s.push_str(&" ".repeat(col - 1));
    s.push_str(&text[start..end]);
    s
}

/// Split `... at line L column C` off a serde_yaml message part.
fn strip_mark(s: &str) -> (&str, Option<(usize, usize)>) {
    if let Some(i) = s.rfind(" at line ") {
        let rest = &s[i + " at line ".len()..];
        if let Some((l, c)) = rest.split_once(" column ") {
            if let (Ok(l), Ok(c)) = (l.trim().parse(), c.trim().parse()) {
                return (&s[..i], Some((l, c)));
            }
        }
    }
    (s, None)
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn char_at(text: &str, index: &LineIndex, line: usize, col: usize) -> Option<char> {
    let ls = index.line_start(line);
    text.get(ls..)?
        .chars()
        .take_while(|&c| c != '\n')
        .nth(col.checked_sub(1)?)
}

fn convert_error(
    path: &str,
    text: &str,
    start: usize,
    end: usize,
    index: &LineIndex,
    error: &serde_yaml::Error,
) -> Diagnostic {
    let full = error.to_string();
    let (problem_part, context_part) = match full.split_once(", while ") {
        Some((p, c)) => (p, Some(c)),
        None => (full.as_str(), None),
    };
    let (problem, pmark) = strip_mark(problem_part);
    let (context, cmark) = match context_part.map(strip_mark) {
        Some((c, m)) => (Some(c), m),
        None => (None, None),
    };
    let first = index.position(text, start);
    let last_line = index.position(text, end).0;
    let clamp = |(l, c): (usize, usize)| (l.clamp(1, index.line_count()), c.max(1));
    let at = pmark.map(clamp).unwrap_or(first);

    let tab = problem.contains("tab character")
        || (problem.starts_with("found character that cannot start any token")
            && char_at(text, index, at.0, at.1) == Some('\t'));
    let (pos, message, help) = if tab {
        (
            at,
            "tabs are not allowed for indentation in YAML; use spaces".to_string(),
            None,
        )
    } else if problem.starts_with("could not find expected ':'") && cmark.is_some() {
        (
            cmark.map(clamp).unwrap_or(at),
            "expected `:` after key".to_string(),
            Some("each line is `key: value`; quote a value that continues on the next line"),
        )
    } else {
        // At the end of the input the construct left open is the useful place.
        let pos = match cmark {
            Some(m) if !matches!(pmark, Some((l, _)) if l < last_line) => clamp(m),
            _ => at,
        };
        let mut message = lowercase_first(problem);
        if let Some(c) = context {
            message.push_str(" while ");
            message.push_str(c);
        }
        if let Some(rest) = message.strip_prefix("invalid type: integer `") {
            if let Some((digits, _)) = rest.split_once('`') {
                message = format!("integer `{digits}` is too large");
            }
        } else if let Some((_, rest)) = message.split_once(": invalid type: integer `") {
            if let Some((digits, _)) = rest.split_once('`') {
                message = format!("integer `{digits}` is too large");
            }
        }
        let help = if message.starts_with("mapping values are not allowed") {
            Some("quote a value that contains `: `")
        } else if message.starts_with("integer `") {
            Some("quote it to keep it as text")
        } else {
            None
        };
        (pos, message, help)
    };
    Diagnostic::error(path, pos.0, pos.1, message).with_help_opt(help.map(str::to_string))
}

struct Builder<'a> {
    text: &'a str,
    index: &'a LineIndex,
    /// The last position computed, as `(offset, line, col)`.
    cursor: Option<(usize, usize, usize)>,
    problems: Problems,
}

impl Builder<'_> {
    /// `line:col` of `offset`. Nodes come mostly in source order, so counting on from
    /// the previous position keeps a long one-line flow collection linear.
    fn position(&mut self, offset: usize) -> (usize, usize) {
        let from_cursor = self.cursor.and_then(|(o, line, col)| {
            let between = self.text.get(o..offset)?;
            (!between.contains('\n')).then(|| (line, col + between.chars().count()))
        });
        let (line, col) = from_cursor.unwrap_or_else(|| self.index.position(self.text, offset));
        if self.text.is_char_boundary(offset) {
            self.cursor = Some((offset, line, col));
        }
        (line, col)
    }

    /// Pair serde_yaml's `value` with the locator's `loc`; without one, the node sits
    /// at `fallback` (its parent's position).
    fn node(&mut self, value: serde_yaml::Value, loc: Option<&Loc>, fallback: usize) -> Node {
        use serde_yaml::Value as Y;
        let pos = loc.map_or(fallback, |l| l.pos);
        let (line, col) = self.position(pos);
        let plain = match loc.map(|l| &l.shape) {
            Some(&Shape::Plain { end, multiline }) => Some((end, multiline)),
            _ => None,
        };
        let value = match value {
            Y::Tagged(tagged) => return self.node(tagged.value, loc, fallback),
            Y::Null => Value::Null,
            Y::Bool(b) => Value::Bool(b),
            Y::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Y::String(s) => Value::Str(s),
            Y::Sequence(items) => {
                let locs = match loc.map(|l| &l.shape) {
                    Some(Shape::Seq(locs)) => Some(locs),
                    _ => None,
                };
                let nodes = items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| self.node(v, locs.and_then(|l| l.get(i)), pos))
                    .collect();
                return Node::new(Value::Seq(nodes), line, col);
            }
            Y::Mapping(mapping) => {
                let locs = match loc.map(|l| &l.shape) {
                    Some(Shape::Map(locs)) => Some(locs.as_slice()),
                    _ => None,
                };
                return Node::new(Value::Map(self.entries(mapping, locs, pos)), line, col);
            }
        };
        let raw = plain.and_then(|(end, multiline)| match (&value, multiline) {
            (Value::Str(s), true) => Some(s.clone()),
            (_, true) => None,
            (_, false) => self.text.get(pos..end).map(str::to_string),
        });
        Node {
            value,
            line,
            col,
            raw,
        }
    }

    fn entries(
        &mut self,
        mapping: serde_yaml::Mapping,
        locs: Option<&[LocEntry]>,
        pos: usize,
    ) -> Vec<Entry> {
        use serde_yaml::Value as Y;
        let mut by_key: Option<HashMap<&str, usize>> = None;
        let mut out = Vec::with_capacity(mapping.len());
        for (i, (key, value)) in mapping.into_iter().enumerate() {
            let mut key = key;
            while let Y::Tagged(tagged) = key {
                key = tagged.value;
            }
            let le = locs.and_then(|locs| match (&key, locs.get(i)) {
                (Y::String(s), Some(e)) if e.key.as_deref() == Some(s.as_str()) => Some(e),
                (Y::String(s), _) => {
                    let map = by_key.get_or_insert_with(|| {
                        locs.iter()
                            .enumerate()
                            .filter_map(|(j, e)| e.key.as_deref().map(|k| (k, j)))
                            .collect()
                    });
                    map.get(s.as_str()).and_then(|&j| locs.get(j))
                }
                (_, e) => e,
            });
            let key_pos = le.map_or(pos, |e| e.key_pos);
            let key = match key {
                Y::String(s) => s,
                Y::Bool(_) | Y::Number(_) | Y::Null => le
                    .and_then(|e| e.key.clone())
                    .unwrap_or_else(|| scalar_text(&key)),
                Y::Sequence(_) | Y::Mapping(_) | Y::Tagged(_) => {
                    let kind = if matches!(key, Y::Sequence(_)) {
                        "a list"
                    } else {
                        "a mapping"
                    };
                    self.problems.push(
                        key_pos,
                        format!("mapping keys must be strings, found {kind}"),
                        None,
                    );
                    String::new()
                }
            };
            let (key_line, key_col) = self.position(key_pos);
            let value = self.node(value, le.map(|e| &e.value), key_pos);
            out.push(Entry {
                key,
                key_line,
                key_col,
                value,
            });
        }
        out
    }
}

fn scalar_text(value: &serde_yaml::Value) -> String {
    match value {
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        _ => "null".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flatten a tree to `path kind-or-value line:col [raw]` lines.
    fn flat(node: &Node) -> Vec<String> {
        fn walk(n: &Node, path: &str, out: &mut Vec<String>) {
            match &n.value {
                Value::Map(entries) => {
                    out.push(format!("{path} {{}} {}:{}", n.line, n.col));
                    for e in entries {
                        let p = format!("{path}.{}", e.key);
                        out.push(format!("{p} key {}:{}", e.key_line, e.key_col));
                        walk(&e.value, &p, out);
                    }
                }
                Value::Seq(items) => {
                    out.push(format!("{path} [] {}:{}", n.line, n.col));
                    for (i, item) in items.iter().enumerate() {
                        walk(item, &format!("{path}[{i}]"), out);
                    }
                }
                v => {
                    let raw = n.raw().map(|r| format!(" raw={r:?}")).unwrap_or_default();
                    out.push(format!("{path} {v:?} {}:{}{raw}", n.line, n.col));
                }
            }
        }
        let mut out = Vec::new();
        walk(node, "", &mut out);
        out
    }

    /// A content file around `yaml`: `---`, the YAML, `---`, a body.
    fn file(yaml: &str) -> (String, usize, usize) {
        let text = format!("---\n{yaml}---\n# Body\n");
        (text, 4, 4 + yaml.len())
    }

    fn fm(yaml: &str) -> Result<Node, Vec<Diagnostic>> {
        let (text, start, end) = file(yaml);
        parse("content/a.md", &text, start, end, &LineIndex::new(&text))
    }

    fn ok(yaml: &str) -> Node {
        match fm(yaml) {
            Ok(n) => n,
            Err(d) => panic!("unexpected errors: {}", diagnostics::render_human(&d)),
        }
    }

    fn errs(yaml: &str) -> Vec<String> {
        match fm(yaml) {
            Ok(n) => panic!("expected errors, got {:#?}", flat(&n)),
            Err(d) => d
                .iter()
                .map(|d| match &d.help {
                    Some(h) => format!("{}:{}: {} (help: {h})", d.line, d.col, d.message),
                    None => format!("{}:{}: {}", d.line, d.col, d.message),
                })
                .collect(),
        }
    }

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    const TYPICAL: &str = "\
# Etcd postmortem
title: \"Etcd: quorum # lost\"   # a comment
date: 2019
kubernetes_version: 1.30
tags: [etcd, 'a, b', \"c\"]
sources:
  - url: https://example.com/a#frag
    title: 'Don''t panic: part 1'
  # a comment between items
  - url: https://example.com/b

    kind: talk
trigger:
  kind: config-change
  detail: >
    folded
    text
summary: |
  line one
    indented

  after a blank
impact: this is long
  and continues here
empty:
last: ok
";

    #[test]
    fn typical_front_matter_has_exact_positions() {
        let n = ok(TYPICAL);
        assert_eq!(
            flat(&n),
            lines(&[
                " {} 3:1",
                ".title key 3:1",
                ".title Str(\"Etcd: quorum # lost\") 3:8",
                ".date key 4:1",
                ".date Int(2019) 4:7 raw=\"2019\"",
                ".kubernetes_version key 5:1",
                ".kubernetes_version Float(1.3) 5:21 raw=\"1.30\"",
                ".tags key 6:1",
                ".tags [] 6:7",
                ".tags[0] Str(\"etcd\") 6:8 raw=\"etcd\"",
                ".tags[1] Str(\"a, b\") 6:14",
                ".tags[2] Str(\"c\") 6:22",
                ".sources key 7:1",
                ".sources [] 8:3",
                ".sources[0] {} 8:5",
                ".sources[0].url key 8:5",
                ".sources[0].url Str(\"https://example.com/a#frag\") 8:10 raw=\"https://example.com/a#frag\"",
                ".sources[0].title key 9:5",
                ".sources[0].title Str(\"Don't panic: part 1\") 9:12",
                ".sources[1] {} 11:5",
                ".sources[1].url key 11:5",
                ".sources[1].url Str(\"https://example.com/b\") 11:10 raw=\"https://example.com/b\"",
                ".sources[1].kind key 13:5",
                ".sources[1].kind Str(\"talk\") 13:11 raw=\"talk\"",
                ".trigger key 14:1",
                ".trigger {} 15:3",
                ".trigger.kind key 15:3",
                ".trigger.kind Str(\"config-change\") 15:9 raw=\"config-change\"",
                ".trigger.detail key 16:3",
                ".trigger.detail Str(\"folded text\\n\") 16:11",
                ".summary key 19:1",
                ".summary Str(\"line one\\n  indented\\n\\nafter a blank\\n\") 19:10",
                ".impact key 24:1",
                ".impact Str(\"this is long and continues here\") 24:9 raw=\"this is long and continues here\"",
                ".empty key 26:1",
                ".empty Null 26:1",
                ".last key 27:1",
                ".last Str(\"ok\") 27:7 raw=\"ok\"",
            ])
        );
        assert_eq!(n.get("date").map(Node::kind_name), Some("a number"));
        assert_eq!(
            n.get("title").and_then(Node::as_str),
            Some("Etcd: quorum # lost")
        );
        assert_eq!(n.get("nope"), None);
    }

    #[test]
    fn crlf_folded_and_bom_stripped_files_keep_their_positions() {
        // The loader strips one BOM and folds CRLF; positions then equal the original's.
        let original = format!(
            "\u{FEFF}---\r\n{}---\r\nbody\r\n",
            TYPICAL.replace('\n', "\r\n")
        );
        let decoded = original
            .trim_start_matches('\u{FEFF}')
            .replace("\r\n", "\n");
        let index = LineIndex::new(&decoded);
        let end = decoded.rfind("---\n").expect("closing line");
        let n = parse("content/a.md", &decoded, 4, end, &index).expect("valid YAML");
        assert_eq!(flat(&n), flat(&ok(TYPICAL)));
        // The first key is at 2:1 of the original file even though a BOM preceded line 1.
        assert_eq!(n.get("title").map(|t| (t.line, t.col)), Some((3, 8)));
    }

    #[test]
    fn block_sequences_in_every_shape() {
        let n = ok("a:\n- x\n- y\nb:\n  -\n    k: v\n  - - n1\n    - n2\n  - [f, g]\n  -\nc: 1\n");
        assert_eq!(
            flat(&n),
            lines(&[
                " {} 2:1",
                ".a key 2:1",
                ".a [] 3:1",
                ".a[0] Str(\"x\") 3:3 raw=\"x\"",
                ".a[1] Str(\"y\") 4:3 raw=\"y\"",
                ".b key 5:1",
                ".b [] 6:3",
                ".b[0] {} 7:5",
                ".b[0].k key 7:5",
                ".b[0].k Str(\"v\") 7:8 raw=\"v\"",
                ".b[1] [] 8:5",
                ".b[1][0] Str(\"n1\") 8:7 raw=\"n1\"",
                ".b[1][1] Str(\"n2\") 9:7 raw=\"n2\"",
                ".b[2] [] 10:5",
                ".b[2][0] Str(\"f\") 10:6 raw=\"f\"",
                ".b[2][1] Str(\"g\") 10:9 raw=\"g\"",
                ".b[3] Null 11:3",
                ".c key 12:1",
                ".c Int(1) 12:4 raw=\"1\"",
            ])
        );
    }

    #[test]
    fn flow_collections_over_several_lines() {
        let n = ok("tags: [\n  etcd,   # the store\n  \"quo, rum\",\n  {k: v, 'q': [1, 2]},\n  multi\n    word,\n]\nm: {a: 1,\n  b: }\n");
        assert_eq!(
            flat(&n),
            lines(&[
                " {} 2:1",
                ".tags key 2:1",
                ".tags [] 2:7",
                ".tags[0] Str(\"etcd\") 3:3 raw=\"etcd\"",
                ".tags[1] Str(\"quo, rum\") 4:3",
                ".tags[2] {} 5:3",
                ".tags[2].k key 5:4",
                ".tags[2].k Str(\"v\") 5:7 raw=\"v\"",
                ".tags[2].q key 5:10",
                ".tags[2].q [] 5:15",
                ".tags[2].q[0] Int(1) 5:16 raw=\"1\"",
                ".tags[2].q[1] Int(2) 5:19 raw=\"2\"",
                ".tags[3] Str(\"multi word\") 6:3 raw=\"multi word\"",
                ".m key 9:1",
                ".m {} 9:4",
                ".m.a key 9:5",
                ".m.a Int(1) 9:8 raw=\"1\"",
                ".m.b key 10:3",
                ".m.b Null 10:3",
            ])
        );
        // A single pair inside a flow sequence is a one-entry mapping.
        let n = ok("a: [b: c, d]\n");
        assert_eq!(
            flat(&n)[2..],
            lines(&[
                ".a [] 2:4",
                ".a[0] {} 2:5",
                ".a[0].b key 2:5",
                ".a[0].b Str(\"c\") 2:8 raw=\"c\"",
                ".a[1] Str(\"d\") 2:11 raw=\"d\"",
            ])[..]
        );
    }

    #[test]
    fn quoted_keys_and_values_with_indicators() {
        let n = ok("\"a: b\": 1\n'it''s': \"x # y\"\n\"\\u0074itle\": 'multi\n  line'\nplain: a:b#c it's [x] {y}, z\n");
        assert_eq!(
            flat(&n),
            lines(&[
                " {} 2:1",
                ".a: b key 2:1",
                ".a: b Int(1) 2:9 raw=\"1\"",
                ".it's key 3:1",
                ".it's Str(\"x # y\") 3:10",
                ".title key 4:1",
                ".title Str(\"multi line\") 4:15",
                ".plain key 6:1",
                ".plain Str(\"a:b#c it's [x] {y}, z\") 6:8 raw=\"a:b#c it's [x] {y}, z\"",
            ])
        );
    }

    #[test]
    fn raw_keeps_plain_scalars_as_written() {
        // S11, Y09
        let n = ok("v: 1.30\nd: 2019\nt: 1.10\nday: 2024-01-01\nhex: 0x1F\nnil: ~\nyes: yes\nq: \"1.30\"\nneg: -1\n");
        let raw = |k: &str| n.get(k).and_then(Node::raw);
        assert_eq!(raw("v"), Some("1.30"));
        assert_eq!(n.get("v").map(|v| &v.value), Some(&Value::Float(1.3)));
        assert_eq!(raw("d"), Some("2019"));
        assert_eq!(raw("t"), Some("1.10"));
        assert_eq!(raw("day"), Some("2024-01-01"));
        assert_eq!(n.get("day").and_then(Node::as_str), Some("2024-01-01"));
        assert_eq!(raw("hex"), Some("0x1F"));
        assert_eq!(n.get("hex").map(|v| &v.value), Some(&Value::Int(31)));
        assert_eq!(raw("nil"), Some("~"));
        assert_eq!(n.get("nil").map(Node::kind_name), Some("null"));
        assert_eq!(
            n.get("yes").map(|v| &v.value),
            Some(&Value::Str("yes".into()))
        );
        assert_eq!(raw("q"), None);
        assert_eq!(raw("neg"), Some("-1"));
        assert_eq!(Node::new(Value::Bool(true), 1, 1).raw(), None);
    }

    #[test]
    fn kind_names() {
        let n = ok("a: x\nb: 1\nc: 1.5\nd: true\ne: [1]\nf: {g: 1}\nh:\n");
        let kinds: Vec<_> = ["a", "b", "c", "d", "e", "f", "h"]
            .iter()
            .map(|k| n.get(k).map(Node::kind_name).unwrap_or("missing"))
            .collect();
        assert_eq!(
            kinds,
            [
                "a string",
                "a number",
                "a number",
                "a boolean",
                "a list",
                "a mapping",
                "null"
            ]
        );
    }

    #[test]
    fn numeric_and_boolean_keys_are_stringified_as_written() {
        let n = ok("2019: a\n1.10: b\ntrue: c\n~: d\n");
        let keys: Vec<_> = match &n.value {
            Value::Map(es) => es.iter().map(|e| (e.key.as_str(), e.key_line)).collect(),
            _ => Vec::new(),
        };
        assert_eq!(keys, [("2019", 2), ("1.10", 3), ("true", 4), ("~", 5)]);
    }

    #[test]
    fn roots_that_are_not_mappings() {
        // Y10, Y11: the schema decides; the position is the root's first character.
        assert_eq!(flat(&ok("")), lines(&[" Null 2:1"]));
        assert_eq!(flat(&ok("# only a comment\n\n")), lines(&[" Null 2:1"]));
        assert_eq!(
            flat(&ok("\n- a\n- b\n")),
            lines(&[
                " [] 3:1",
                "[0] Str(\"a\") 3:3 raw=\"a\"",
                "[1] Str(\"b\") 4:3 raw=\"b\""
            ])
        );
        assert_eq!(
            flat(&ok("just text\n")),
            lines(&[" Str(\"just text\") 2:1 raw=\"just text\""])
        );
    }

    #[test]
    fn mid_file_start_maps_to_file_lines() {
        // Hugo's reference point: front-matter line 2 is file line 8 when it starts at 7.
        let text = "intro\n\n\n\n\n---\ntitle: a\nfoo bar\n---\n";
        let index = LineIndex::new(text);
        let start = text.find("title").expect("title");
        let end = text.rfind("---").expect("closing");
        let d = parse("a.md", text, start, end, &index).expect_err("syntax error");
        assert_eq!((d[0].line, d[0].col), (8, 1));
        assert_eq!(d[0].message, "expected `:` after key");
    }

    #[test]
    fn missing_colon() {
        // Y01: `foo bar` on block line 2, which is file line 3.
        assert_eq!(
            errs("title: a\nfoo bar\ndate: 2019\n"),
            [
                "3:1: expected `:` after key (help: each line is `key: value`; quote a value that \
                 continues on the next line)"
            ]
        );
    }

    #[test]
    fn tabs_in_indentation() {
        // Y02
        let msg = "tabs are not allowed for indentation in YAML; use spaces";
        assert_eq!(
            errs("title: a\ntrigger:\n\tkind: x\n"),
            [format!("4:1: {msg}")]
        );
        assert_eq!(errs("a: 1\n  \tb: 2\nc:\n\t- x\n"), [format!("5:1: {msg}")]);
        // A tab-indented line after a plain scalar is not a continuation.
        assert_eq!(errs("- foo\n\tbar\n"), [format!("3:1: {msg}")]);
        // Cases only serde_yaml notices get the same message at the tab.
        assert_eq!(errs("a: 1\n\t\nb: 2\n"), [format!("3:1: {msg}")]);
        assert_eq!(errs("-\ta\n"), [format!("2:2: {msg}")]);
        // Tabs after the indentation are fine.
        assert_eq!(
            ok("a:\tb\nc: [1,\t2]\n").get("a").and_then(Node::as_str),
            Some("b")
        );
    }

    #[test]
    fn other_syntax_errors_are_cleaned_and_positioned() {
        assert_eq!(
            errs("title: a: b\n"),
            ["2:9: mapping values are not allowed in this context (help: quote a value that contains `: `)"]
        );
        // An unclosed flow sequence points at its `[`.
        assert_eq!(
            errs("title: a\ntags: [a, b\n"),
            ["3:7: did not find expected ',' or ']' while parsing a flow sequence"]
        );
        // An unclosed quote points at the quote.
        assert_eq!(
            errs("title: 'a\n"),
            ["2:8: found unexpected end of stream while scanning a quoted scalar"]
        );
        assert_eq!(
            errs("a: -\n"),
            ["2:4: block sequence entries are not allowed in this context"]
        );
    }

    #[test]
    fn integers_too_large() {
        assert_eq!(
            errs("id: 99999999999999999999\n"),
            ["2:5: integer `99999999999999999999` is too large (help: quote it to keep it as text)"]
        );
    }

    const ALIAS: &str =
        "YAML anchors and aliases are not allowed in front matter (help: write each value out \
                         in full, or quote a value that starts with `&` or `*`)";
    const TAG: &str =
        "YAML tags are not allowed in front matter (help: remove the tag, or quote a value that \
                       starts with `!`)";

    #[test]
    fn anchors_and_aliases_are_rejected_everywhere() {
        assert_eq!(
            errs("base: &b x\nother: *b\nlist:\n  - &i y\n  - *i\nflow: [&f z, *f]\n&k key: v\n"),
            [
                format!("2:7: {ALIAS}"),
                format!("3:8: {ALIAS}"),
                format!("5:5: {ALIAS}"),
                format!("6:5: {ALIAS}"),
                format!("7:8: {ALIAS}"),
                format!("7:14: {ALIAS}"),
                format!("8:1: {ALIAS}"),
            ]
        );
        // Y03: a billion laughs never reaches serde_yaml.
        let lol =
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n\
                   b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n\
                   d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n";
        let started = std::time::Instant::now();
        let found = errs(lol);
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
        assert_eq!(found.len(), 41);
        assert!(found.iter().all(|d| d.ends_with(ALIAS)));
    }

    #[test]
    fn ampersands_stars_and_bangs_inside_text_are_fine() {
        let n = ok("title: R&D outage *really*!\nq: \"&x *y !z\"\ns: '&x'\nc: x # &y *z !w\nb: |\n  &a *b !c\nf: [a&b, c*]\n");
        assert_eq!(
            n.get("title").and_then(Node::as_str),
            Some("R&D outage *really*!")
        );
        assert_eq!(n.get("q").and_then(Node::as_str), Some("&x *y !z"));
        assert_eq!(n.get("b").and_then(Node::as_str), Some("&a *b !c\n"));
    }

    #[test]
    fn tags_are_rejected() {
        // Y07
        assert_eq!(
            errs("a: !!binary aGVsbG8=\nb: !include x\nc: !!python/object:os.system\nd:\n  - !x [1]\n"),
            [format!("2:4: {TAG}"), format!("3:4: {TAG}"), format!("4:4: {TAG}"), format!("6:5: {TAG}")]
        );
    }

    #[test]
    fn deep_flow_nesting_is_rejected_fast() {
        // Y04: 40,000 `[` would take serde_yaml seconds.
        let yaml = format!("title: a\nextra: {}\n", "[".repeat(40_000));
        let started = std::time::Instant::now();
        let found = errs(&yaml);
        let elapsed = started.elapsed();
        assert_eq!(
            found,
            ["3:15: nesting deeper than 8 levels (help: flatten this part of the structure)"]
        );
        assert!(
            elapsed < std::time::Duration::from_millis(500),
            "took {elapsed:?}"
        );
        // The same at the size cap of a whole file.
        let text = "[".repeat(MAX_DOCUMENT_BYTES);
        let started = std::time::Instant::now();
        let d = parse_document("site.yaml", &text, &LineIndex::new(&text)).expect_err("too deep");
        assert_eq!((d[0].line, d[0].col, d.len()), (1, 9, 1));
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
    }

    #[test]
    fn a_long_one_line_flow_list_stays_linear() {
        // Positions are counted on from the previous node; recounting each column from
        // the start of the line made this take seconds.
        let text = format!("[{}]\n", "a, ".repeat(MAX_DOCUMENT_BYTES / 3 - 1));
        let started = std::time::Instant::now();
        let n = parse_document("a.yaml", &text, &LineIndex::new(&text)).expect("valid");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
        match &n.value {
            Value::Seq(items) => {
                let last = items.last().map(|i| (i.line, i.col));
                assert_eq!(last, Some((1, 2 + 3 * (items.len() - 1))));
            }
            _ => panic!("expected a list"),
        }
    }

    #[test]
    fn hostile_repetition_is_counted_not_stored() {
        let text = "\u{1b}".repeat(MAX_DOCUMENT_BYTES / 2);
        let d = parse_document("a.yaml", &text, &LineIndex::new(&text)).expect_err("controls");
        assert_eq!(d.len(), MAX_PROBLEMS + 1);
        assert_eq!(
            d[MAX_PROBLEMS].message,
            format!(
                "too many problems in this YAML; {} more are not shown",
                MAX_DOCUMENT_BYTES / 2 - MAX_PROBLEMS
            )
        );
    }

    #[test]
    fn nesting_limit_is_eight_levels_including_the_root() {
        // root map (1) + 7 brackets = 8 levels: fine.
        let n = ok("a: [[[[[[[x]]]]]]]\n");
        assert_eq!(n.get("a").map(Node::kind_name), Some("a list"));
        assert_eq!(
            errs("a: [[[[[[[[x]]]]]]]]\nb: {c: {d: {e: {f: {g: {h: {i: {j: 1}}}}}}}}\n"),
            [
                "2:11: nesting deeper than 8 levels (help: flatten this part of the structure)",
                "3:32: nesting deeper than 8 levels (help: flatten this part of the structure)",
            ]
        );
    }

    #[test]
    fn deep_block_nesting_is_rejected() {
        let mut yaml = String::new();
        for level in 0..9 {
            yaml.push_str(&format!("{}k{level}:\n", "  ".repeat(level)));
        }
        yaml.push_str(&format!("{}leaf: 1\nafter: &a x\n", "  ".repeat(9)));
        // The ninth mapping starts at `k8`; the rest of the file is still checked.
        assert_eq!(
            errs(&yaml),
            [
                "10:17: nesting deeper than 8 levels (help: flatten this part of the structure)"
                    .to_string(),
                format!("12:8: {ALIAS}"),
            ]
        );
        let eight: String = (0..7)
            .map(|l| format!("{}k{l}:\n", "  ".repeat(l)))
            .collect();
        assert!(fm(&format!("{eight}{}leaf: 1\n", "  ".repeat(7))).is_ok());
        // Compact sequences: `- - - …` on one line, 30,000 deep.
        let started = std::time::Instant::now();
        let found = errs(&format!("a:\n{}x\n", "- ".repeat(30_000)));
        assert_eq!(
            found,
            ["3:15: nesting deeper than 8 levels (help: flatten this part of the structure)"]
        );
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
    }

    #[test]
    fn a_second_document_is_rejected() {
        // Y06
        let help =
            "the front matter ends at the first line that is exactly `---`; indent or quote this \
                    text if it belongs to a value";
        assert_eq!(
            errs("title: a\n...\ndate: 2019\n--- x\n"),
            [
                format!("3:1: only one YAML document is allowed in front matter (help: {help})"),
                format!("5:1: only one YAML document is allowed in front matter (help: {help})"),
            ]
        );
        // Not a marker: more dashes or dots, or indented.
        let n = ok("a: |\n  ---\nb: ....\nc: x\n");
        assert_eq!(n.get("a").and_then(Node::as_str), Some("---\n"));
    }

    #[test]
    fn duplicate_keys() {
        // Y05
        assert_eq!(
            errs("title: a\ndate: 2019\ntitle: b\n"),
            ["4:1: duplicate key `title` (first defined at line 2)"]
        );
        // Nested, in flow mappings, quoted versus plain, numbers versus strings: all at once.
        assert_eq!(
            errs("trigger:\n  kind: a\n  kind: b\nm: {x: 1, 'x': 2}\n2019: a\n\"2019\": b\nlist:\n  - k: 1\n    k: 2\n  - k: 3\n"),
            [
                "4:3: duplicate key `kind` (first defined at line 3)",
                "5:11: duplicate key `x` (first defined at line 5)",
                "7:1: duplicate key `2019` (first defined at line 6)",
                "10:5: duplicate key `k` (first defined at line 9)",
            ]
        );
        // Together with pre-scan problems.
        assert_eq!(
            errs("a: 1\na: &x 2\n"),
            [
                "3:1: duplicate key `a` (first defined at line 2)".to_string(),
                format!("3:4: {ALIAS}")
            ]
        );
        // The same key in different mappings is fine.
        assert!(fm("a:\n  k: 1\nb:\n  k: 2\n").is_ok());
    }

    #[test]
    fn control_and_invisible_characters() {
        // F04, F07, Y12
        assert_eq!(
            errs("ti\u{200B}tle: a\ndate: \u{1b}[31mred\u{202E}x\nnul: \"\0\"\n"),
            [
                "2:3: invisible character U+200B is not allowed",
                "3:7: control character U+001B is not allowed",
                "3:15: invisible character U+202E is not allowed",
                "4:7: control character U+0000 is not allowed",
            ]
        );
        // Inside comments too; a lone CR is a control character.
        assert_eq!(
            errs("a: b # \u{7f}\nc: d\re\n"),
            [
                "2:8: control character U+007F is not allowed",
                "3:5: control character U+000D is not allowed",
            ]
        );
        // Emoji with zero-width joiners are text.
        assert!(fm("title: \"👩\u{200D}💻 ok\"\n").is_ok());
    }

    #[test]
    fn non_string_keys_are_rejected() {
        assert_eq!(
            errs("title: a\n[a, b]: c\n"),
            ["3:1: mapping keys must be strings, found a list"]
        );
        assert_eq!(
            errs("? a\n: b\n"),
            ["2:1: complex mapping keys (`? `) are not allowed (help: write `key: value`)"]
        );
    }

    #[test]
    fn too_many_problems_are_capped() {
        let yaml: String = (0..150).map(|i| format!("k{i}: *a\n")).collect();
        let found = errs(&yaml);
        assert_eq!(found.len(), MAX_PROBLEMS + 1);
        assert_eq!(
            found[MAX_PROBLEMS],
            "102:7: too many problems in this YAML; 50 more are not shown"
        );
    }

    #[test]
    fn whole_documents() {
        let text = "%YAML 1.2\n---\n# site\ntitle: KB\nnav:\n  - a\n";
        let n = parse_document("site.yaml", text, &LineIndex::new(text)).expect("valid");
        assert_eq!(
            flat(&n),
            lines(&[
                " {} 4:1",
                ".title key 4:1",
                ".title Str(\"KB\") 4:8 raw=\"KB\"",
                ".nav key 5:1",
                ".nav [] 6:3",
                ".nav[0] Str(\"a\") 6:5 raw=\"a\"",
            ])
        );
        let text = "a: 1\n";
        let n = parse_document("site.yaml", text, &LineIndex::new(text)).expect("valid");
        assert_eq!(flat(&n)[2], ".a Int(1) 1:4 raw=\"1\"");
        let text = "--- {a: 1}\n";
        let n = parse_document("site.yaml", text, &LineIndex::new(text)).expect("valid");
        assert_eq!(flat(&n)[2], ".a Int(1) 1:9 raw=\"1\"");
        let text = "---\na: 1\n---\nb: 2\n";
        let d =
            parse_document("site.yaml", text, &LineIndex::new(text)).expect_err("two documents");
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].line, d[0].col), (3, 1));
        assert_eq!(
            d[0].message,
            "only one YAML document is allowed in a YAML file"
        );
        let text = "a: &x 1\n";
        let d = parse_document("site.yaml", text, &LineIndex::new(text)).expect_err("anchor");
        assert_eq!(
            d[0].message,
            "YAML anchors and aliases are not allowed in a YAML file"
        );
    }

    #[test]
    fn whole_document_size_cap() {
        let text = format!("a: {}\n", "x".repeat(MAX_DOCUMENT_BYTES));
        let d = parse_document("site.yaml", &text, &LineIndex::new(&text)).expect_err("too big");
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].line, d[0].col), (1, 1));
        assert_eq!(d[0].message, "YAML file is 1025 KiB; the limit is 1 MiB");
    }

    /// A small deterministic generator, so the robustness test needs no crate.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Check the invariants any result must hold: positions inside the file, and each
    /// single-line raw scalar found in the source at its own position.
    fn check_invariants(text: &str, index: &LineIndex, result: &Result<Node, Vec<Diagnostic>>) {
        fn walk(n: &Node, text: &str, index: &LineIndex) {
            assert!(
                n.line >= 1 && n.line <= index.line_count(),
                "line {} in {text:?}",
                n.line
            );
            if let Some(raw) = n.raw() {
                // Multi-line plain scalars are given folded; check the others.
                if !raw.contains([' ', '\n']) || n.as_str().is_none() {
                    let ls = index.line_start(n.line);
                    let at: String = text[ls..]
                        .chars()
                        .skip(n.col - 1)
                        .take(raw.chars().count())
                        .collect();
                    assert_eq!(at, raw, "raw at {}:{} in {text:?}", n.line, n.col);
                }
            }
            match &n.value {
                Value::Seq(items) => items.iter().for_each(|i| walk(i, text, index)),
                Value::Map(es) => es.iter().for_each(|e| {
                    assert!(e.key_line >= 1 && e.key_line <= index.line_count());
                    walk(&e.value, text, index)
                }),
                _ => {}
            }
        }
        match result {
            Ok(n) => walk(n, text, index),
            Err(ds) => {
                assert!(!ds.is_empty());
                for d in ds {
                    assert!(
                        d.line >= 1 && d.line <= index.line_count(),
                        "{d} in {text:?}"
                    );
                }
            }
        }
    }

    /// Replace `&`, `*` and `!` with `x` in every string of a tree.
    fn defang(n: &Node) -> Value {
        let fix = |s: &str| s.replace(['&', '*', '!'], "x");
        match &n.value {
            Value::Str(s) => Value::Str(fix(s)),
            Value::Seq(items) => {
                Value::Seq(items.iter().map(|i| Node::new(defang(i), 0, 0)).collect())
            }
            Value::Map(es) => Value::Map(
                es.iter()
                    .map(|e| Entry {
                        key: fix(&e.key),
                        key_line: 0,
                        key_col: 0,
                        value: Node::new(defang(&e.value), 0, 0),
                    })
                    .collect(),
            ),
            v => v.clone(),
        }
    }

    /// When `yaml` is accepted, none of its `&`, `*` or `!` was a YAML indicator:
    /// writing `x` instead must give the same tree.
    fn check_no_indicator_slipped_through(yaml: &str) {
        let Ok(n) = parse_document("a.yaml", yaml, &LineIndex::new(yaml)) else {
            return;
        };
        let plain = yaml.replace(['&', '*', '!'], "x");
        if let Ok(m) = parse_document("a.yaml", &plain, &LineIndex::new(&plain)) {
            assert_eq!(defang(&n), defang(&m), "in {yaml:?}");
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let pieces = [
            "a", "b: ", "- ", "  ", "\n", "\t", "#", " #", "[", "]", "{", "}", ",", ":", "'", "\"",
            "\\", "&a", "*a", "!t", "|", ">", "? ", "---", "...", "é", "1.30", "~", "%", "-",
            "\n  ", "\n- ", "x: |\n  ", "&x ", "*x", "!x ", " &", " *", "R&D", "k: ", "\n    ",
            "- - ", ": ", "'&a'", "\"*\"",
        ];

        let env = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        let mut rng = XorShift(env("YAML_FUZZ_SEED", 0x9E37_79B9_7F4A_7C15));
        let max_len = env("YAML_FUZZ_LEN", 24);
        for _ in 0..env("YAML_FUZZ_ROUNDS", 3000) {
            let len = (rng.next() % max_len) as usize;
            let yaml: String = (0..len)
                .map(|_| pieces[(rng.next() % pieces.len() as u64) as usize])
                .collect();
            let (text, start, end) = file(&yaml);
            let index = LineIndex::new(&text);
            let result = parse("a.md", &text, start, end, &index);
            check_invariants(&text, &index, &result);
            let result = parse_document("a.yaml", &yaml, &LineIndex::new(&yaml));
            check_invariants(&yaml, &LineIndex::new(&yaml), &result);
            check_no_indicator_slipped_through(&yaml);
        }
        // Every prefix of a realistic file, cut anywhere (on character boundaries).
        for (cut, _) in TYPICAL.char_indices() {
            let yaml = &TYPICAL[..cut];
            let (text, start, end) = file(yaml);
            let index = LineIndex::new(&text);
            check_invariants(&text, &index, &parse("a.md", &text, start, end, &index));
        }
        // Out-of-range and mid-character offsets are clamped, not a panic.
        let text = "é: 1\n";
        let index = LineIndex::new(text);
        assert!(
            parse("a.md", text, 1, 999, &index).is_err()
                || parse("a.md", text, 1, 999, &index).is_ok()
        );
        assert!(parse("a.md", text, 9, 3, &index).is_ok());
    }
}
