//! Markdown body → safe HTML, table of contents, plain text and diagnostics.
//!
//! Owns: pulldown-cmark (the only module that uses it) and the policy that makes
//! untrusted Markdown (it arrives through pull requests) safe to publish:
//!
//! - raw HTML, block or inline, is shown as escaped text and warned about;
//! - link and image destinations are checked: `http`, `https`, `mailto`, `#fragment`
//!   and relative paths are allowed, any other scheme is an error and the link is
//!   rendered as plain text; links to `.md` files are resolved to site URLs through
//!   the caller's resolver; root-relative links get the site's base path;
//! - heading attributes (`{#id onclick=…}`) are not parsed, heading ids are derived
//!   from the heading text and deduplicated, and a body `# H1` renders as `<h2>`
//!   (the page template owns the one `<h1>`);
//! - fenced code is highlighted by [`crate::highlight`] or rendered escaped, and the
//!   fence info string never reaches the HTML unescaped;
//! - block nesting deeper than [`MAX_NESTING_DEPTH`] and output larger than
//!   8 × input + 1 MiB are errors (pulldown-cmark is linear, but output can still
//!   amplify about 27×).
//!
//! In: one file's decoded text, where its body starts, and its [`LineIndex`]; out:
//! [`RenderedMarkdown`]. Every diagnostic points at the 1-based line:col of the
//! original file. The event filter is a single loop with explicit state: nothing here
//! recurses over the event tree, so hostile nesting cannot overflow the stack.
//! Depends on [`crate::diagnostics`] and [`crate::highlight`] only; the content model
//! is reached through the `resolve_md` callback.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use serde::Serialize;

use crate::diagnostics::{Diagnostic, LineIndex};
use crate::highlight;

/// Block quotes and lists may nest this deep; deeper nesting is an error.
pub const MAX_NESTING_DEPTH: usize = 16;

/// Output may be at most this many bytes plus [`OUTPUT_SLACK_BYTES`] per byte of
/// Markdown body.
const OUTPUT_FACTOR: usize = 8;

/// Fixed allowance on top of `OUTPUT_FACTOR × input` for small files.
const OUTPUT_SLACK_BYTES: usize = 1024 * 1024;

const RAW_HTML_MESSAGE: &str = "raw HTML is not allowed and was escaped";
const RAW_HTML_HELP: &str = "use Markdown instead of HTML; raw HTML is shown as text";
const SCHEME_HELP: &str = "links may use https, http, mailto or a relative path";
const UNKNOWN_MD_HELP: &str =
    "link to another story by its file name, e.g. `2019-example-org-outage.md`";
const PROTOCOL_RELATIVE_HELP: &str = "write the full address, starting with https://";

/// `rel` of links that leave the site: contributors' links are not endorsed
/// (`nofollow`, `ugc`) and cannot reach back into the page (`noopener`).
const EXTERNAL_REL: &str = "nofollow noopener ugc";

/// What the renderer needs to know about one Markdown file.
#[derive(Debug, Clone, Copy)]
pub struct MarkdownInput<'a> {
    /// Display path for diagnostics, e.g. `content/incidents/a.md`.
    pub path: &'a str,
    /// The whole decoded file (BOM stripped, CRLF already folded to LF).
    pub file_text: &'a str,
    /// Byte offset in `file_text` where the Markdown body starts.
    pub body_offset: usize,
    /// Line index over `file_text`, for diagnostic positions.
    pub line_index: &'a LineIndex,
    /// `/` or `/sub/path/` (starts and ends with `/`): prefix for root-relative links.
    pub base_path: &'a str,
}

/// One heading in a page's table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TocEntry {
    /// Rendered heading level: 2 or 3.
    pub level: u8,
    /// The heading's `id` attribute (unique in the page), without `#`.
    pub id: String,
    /// The heading's text, plain and unescaped (templates escape it).
    pub title: String,
}

/// The result of rendering one Markdown body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RenderedMarkdown {
    /// Safe HTML for the page body; empty when the output was too large.
    pub html: String,
    /// The `h2` and `h3` headings, in document order.
    pub toc: Vec<TocEntry>,
    /// The visible text (prose and code), separated by spaces and newlines, for
    /// summaries and search.
    pub plain_text: String,
    /// Problems found while rendering, positioned in the original file.
    pub diagnostics: Vec<Diagnostic>,
    /// Links into a page of this site with a `#fragment`; whether the fragment names
    /// an element of the target can only be known once the pages are rendered, so the
    /// pipeline checks them then.
    pub fragment_links: Vec<FragmentLink>,
}

/// A link with a `#fragment` to this page or to another content file
/// (`#timeline`, `other-story.md#impact`), and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentLink {
    /// The `.md` path as written, or `None` for a link within the same page.
    pub target: Option<String>,
    /// The fragment, without `#`, percent-decoded.
    pub fragment: String,
    /// The link as written (for messages).
    pub written: String,
    /// 1-based line of the link in the original file.
    pub line: usize,
    /// 1-based column of the link in the original file.
    pub col: usize,
}

/// Render the Markdown body of `input` to safe HTML.
///
/// `resolve_md` maps a relative link to a Markdown file as written (path part only,
/// e.g. `other-story.md` or `../patterns/etcd-failure.md`) to the site URL of the
/// story/pattern/page it names, or `None` when no such file exists. The URL it
/// returns is used as the `href` as is (plus any `#fragment` of the link), so it must
/// already include the site's base path.
pub fn render(
    input: &MarkdownInput<'_>,
    resolve_md: &(dyn Fn(&str) -> Option<String> + Sync),
) -> RenderedMarkdown {
    let body_start = body_start(input.file_text, input.body_offset);
    let body = &input.file_text[body_start..];
    let mut renderer = Renderer::new(input, body_start, resolve_md);
    for (event, range) in Parser::new_ext(body, options()).into_offset_iter() {
        renderer.event(event, range.start);
    }
    let mut rendered = renderer.finish(body.len());
    rendered
        .diagnostics
        .extend(hidden_characters(input, body_start));
    rendered
}

/// Control characters and bidirectional overrides in the body: they can hide text or
/// make a line read differently from what it is ("Trojan source"), so each is an
/// error at its position (at most 20 per file, then a count).
fn hidden_characters(input: &MarkdownInput<'_>, body_start: usize) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut more = 0usize;
    for (i, c) in input.file_text[body_start..].char_indices() {
        if !crate::diagnostics::is_dangerous_char(c) || c == '\r' {
            continue;
        }
        if found.len() == 20 {
            more += 1;
            continue;
        }
        let (line, col) = input.line_index.position(input.file_text, body_start + i);
        let what = if c.is_control() {
            "control character"
        } else {
            "invisible bidirectional control"
        };
        found.push(
            Diagnostic::error(
                input.path,
                line,
                col,
                format!("{what} U+{:04X} is not allowed", c as u32),
            )
            .with_help("delete it; it can hide text or reorder how a line reads"),
        );
    }
    if more > 0 {
        let (line, col) = found.last().map_or((1, 1), |d| (d.line, d.col));
        found.push(Diagnostic::error(
            input.path,
            line,
            col,
            format!("{more} more hidden characters are not shown"),
        ));
    }
    found
}

/// The parser options: the GitHub-flavoured features postmortems use. Heading
/// attributes stay off: with them, `# T {#x onclick=alert(1)}` becomes an attribute.
fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
}

/// `body_offset` clamped to the text and moved forward to a character boundary, so a
/// caller's off-by-one cannot panic the slice.
fn body_start(text: &str, body_offset: usize) -> usize {
    let mut start = body_offset.min(text.len());
    while !text.is_char_boundary(start) {
        start += 1;
    }
    start
}

/// A heading whose start tag waits for its text (the id comes from the text).
struct OpenHeading {
    /// Index in the output of the placeholder event for the start tag.
    placeholder: usize,
    level: u8,
    title: String,
}

/// A code block whose text is being collected, to be highlighted as a whole.
struct OpenCode {
    /// The fence language (first word of the info string); `None` for indented code.
    lang: Option<String>,
    text: String,
}

/// An image whose alt text is being collected (pulldown-cmark gives it as events).
struct OpenImage {
    /// `src` and `title` when the image is rendered; `None` renders only the alt text.
    img: Option<(String, String)>,
    alt: String,
    /// Tags opened inside the image and not closed yet.
    nested: usize,
}

/// Where a link or image may point, once checked.
enum Destination {
    /// `http`/`https`: leaves the site.
    External(String),
    /// `mailto:`.
    Mail(String),
    /// A fragment, a relative or root-relative path, or a resolved `.md` link.
    Local(String),
}

/// Why a destination was refused.
enum Refusal {
    /// A scheme other than http, https or mailto (lower-cased).
    Scheme(String),
    /// A `.md` link the resolver does not know (path part as written).
    UnknownMarkdown(String),
    /// `//host/…`, which leaves the site without saying how.
    ProtocolRelative(String),
}

/// The event filter's state. Events go in one at a time; safe events come out into
/// `out`, which pulldown-cmark's HTML writer turns into text at the end.
struct Renderer<'a, 'i> {
    input: &'i MarkdownInput<'i>,
    body_start: usize,
    resolve_md: &'i (dyn Fn(&str) -> Option<String> + Sync),
    out: Vec<Event<'a>>,
    diagnostics: Vec<Diagnostic>,
    fragment_links: Vec<FragmentLink>,
    toc: Vec<TocEntry>,
    plain: String,
    /// Ids given out so far, and for each base id the next suffix to try.
    used_ids: BTreeSet<String>,
    next_suffix: BTreeMap<String, usize>,
    /// Open block quotes and lists.
    depth: usize,
    depth_reported: bool,
    /// For each open link: whether an `<a>` was written for it.
    links: Vec<bool>,
    heading: Option<OpenHeading>,
    code: Option<OpenCode>,
    image: Option<OpenImage>,
    in_html_block: bool,
}

impl<'a, 'i> Renderer<'a, 'i> {
    fn new(
        input: &'i MarkdownInput<'i>,
        body_start: usize,
        resolve_md: &'i (dyn Fn(&str) -> Option<String> + Sync),
    ) -> Self {
        Renderer {
            input,
            body_start,
            resolve_md,
            out: Vec::new(),
            diagnostics: Vec::new(),
            fragment_links: Vec::new(),
            toc: Vec::new(),
            plain: String::new(),
            used_ids: BTreeSet::new(),
            next_suffix: BTreeMap::new(),
            depth: 0,
            depth_reported: false,
            links: Vec::new(),
            heading: None,
            code: None,
            image: None,
            in_html_block: false,
        }
    }

    /// Filter one event; `offset` is its start, in bytes from the body start.
    fn event(&mut self, event: Event<'a>, offset: usize) {
        if self.image.is_some() {
            self.image_event(event, offset);
            return;
        }
        if let Some(code) = &mut self.code {
            match event {
                Event::Text(text) => code.text.push_str(&text),
                Event::End(TagEnd::CodeBlock) => self.close_code(),
                _ => {}
            }
            return;
        }
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                self.heading = Some(OpenHeading {
                    placeholder: self.out.len(),
                    level: rendered_level(level),
                    title: String::new(),
                });
                self.out.push(Event::Html(CowStr::Borrowed("")));
            }
            Event::End(TagEnd::Heading(_)) => self.close_heading(),
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => Some(fence_language(&info).to_owned()),
                    CodeBlockKind::Indented => None,
                };
                self.code = Some(OpenCode {
                    lang,
                    text: String::new(),
                });
            }
            Event::Start(Tag::HtmlBlock) => {
                self.raw_html_warning(offset);
                self.in_html_block = true;
                self.html(String::from(
                    "<pre class=\"raw-html\" tabindex=\"0\"><code>",
                ));
            }
            Event::End(TagEnd::HtmlBlock) => {
                self.in_html_block = false;
                self.html(String::from("</code></pre>\n"));
                self.plain_break();
            }
            Event::Html(html) => {
                if !self.in_html_block {
                    self.raw_html_warning(offset);
                }
                self.text(html);
            }
            Event::InlineHtml(html) => {
                self.raw_html_warning(offset);
                self.text(html);
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            }) => self.open_link(link_type, &dest_url, &title, offset),
            Event::End(TagEnd::Link) => {
                if self.links.pop() == Some(true) {
                    self.html(String::from("</a>"));
                }
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                ..
            }) => self.open_image(link_type, &dest_url, &title, offset),
            Event::Start(tag @ (Tag::BlockQuote(_) | Tag::List(_))) => {
                self.depth += 1;
                if self.depth > MAX_NESTING_DEPTH && !self.depth_reported {
                    self.depth_reported = true;
                    let diagnostic =
                        self.error(offset, format!("nesting depth exceeds {MAX_NESTING_DEPTH}"));
                    self.diagnostics.push(diagnostic);
                }
                self.out.push(Event::Start(tag));
            }
            Event::End(tag @ (TagEnd::BlockQuote(_) | TagEnd::List(_))) => {
                self.depth = self.depth.saturating_sub(1);
                self.plain_break();
                self.out.push(Event::End(tag));
            }
            Event::Text(text) => self.text(text),
            Event::Code(code) => {
                self.plain_push(&code);
                self.out.push(Event::Code(code));
            }
            Event::SoftBreak | Event::HardBreak => {
                self.plain_space();
                self.out.push(event);
            }
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::TableCell
                | TagEnd::TableHead
                | TagEnd::TableRow
                | TagEnd::FootnoteDefinition,
            ) => {
                if let Event::End(TagEnd::TableCell) = event {
                    self.plain_space();
                } else {
                    self.plain_break();
                }
                self.out.push(event);
            }
            other => self.out.push(other),
        }
    }

    /// Events inside an image: collected as alt text until the image closes.
    fn image_event(&mut self, event: Event<'a>, offset: usize) {
        let Some(image) = &mut self.image else {
            return;
        };
        match event {
            Event::Start(_) => image.nested += 1,
            Event::End(_) if image.nested == 0 => self.close_image(),
            Event::End(_) => image.nested -= 1,
            Event::Text(text) | Event::Code(text) => image.alt.push_str(&text),
            Event::InlineHtml(html) | Event::Html(html) => {
                image.alt.push_str(&html);
                self.raw_html_warning(offset);
            }
            Event::SoftBreak | Event::HardBreak => image.alt.push(' '),
            _ => {}
        }
    }

    fn open_link(&mut self, link_type: LinkType, dest: &str, title: &str, offset: usize) {
        let destination = self.destination(link_type, dest, offset);
        if matches!(destination, Some(Destination::Local(_))) {
            self.note_fragment(&clean_destination(dest), offset);
        }
        let start_tag = match destination {
            Some(Destination::External(href)) => Some(format!(
                "<a href=\"{}\"{} rel=\"{EXTERNAL_REL}\">",
                escape_href(&href),
                title_attribute(title)
            )),
            Some(Destination::Mail(href) | Destination::Local(href)) => Some(format!(
                "<a href=\"{}\"{}>",
                escape_href(&href),
                title_attribute(title)
            )),
            None => None,
        };
        self.links.push(start_tag.is_some());
        if let Some(tag) = start_tag {
            self.html(tag);
        }
    }

    fn open_image(&mut self, link_type: LinkType, dest: &str, title: &str, offset: usize) {
        let img = match self.destination(link_type, dest, offset) {
            Some(Destination::External(src) | Destination::Local(src)) => {
                Some((src, title.to_owned()))
            }
            // Not dangerous, but not an image either: show the alt text.
            Some(Destination::Mail(_)) | None => None,
        };
        self.image = Some(OpenImage {
            img,
            alt: String::new(),
            nested: 0,
        });
    }

    fn close_image(&mut self) {
        let Some(image) = self.image.take() else {
            return;
        };
        self.plain_push(&image.alt);
        match image.img {
            Some((src, title)) => self.html(format!(
                "<img src=\"{}\" alt=\"{}\"{} loading=\"lazy\">",
                escape_href(&src),
                escape_html(&image.alt),
                title_attribute(&title)
            )),
            None => self.out.push(Event::Text(CowStr::from(image.alt))),
        }
    }

    /// Check a link or image destination; a refused one is reported at `offset` (the
    /// start of the link) and gives `None`.
    fn destination(
        &mut self,
        link_type: LinkType,
        dest: &str,
        offset: usize,
    ) -> Option<Destination> {
        let checked = if link_type == LinkType::Email {
            // `<someone@example.org>`: pulldown-cmark gives the bare address.
            Ok(Destination::Mail(format!(
                "mailto:{}",
                clean_destination(dest)
            )))
        } else {
            classify(
                &clean_destination(dest),
                self.input.base_path,
                self.resolve_md,
            )
        };
        match checked {
            Ok(destination) => Some(destination),
            Err(refusal) => {
                let diagnostic = match refusal {
                    Refusal::Scheme(scheme) => self
                        .error(offset, format!("link scheme `{scheme}` is not allowed"))
                        .with_help(SCHEME_HELP),
                    Refusal::UnknownMarkdown(path) => self
                        .error(
                            offset,
                            format!("link to `{path}` does not match any story, pattern or page in content/"),
                        )
                        .with_help(UNKNOWN_MD_HELP),
                    Refusal::ProtocolRelative(link) => self
                        .error(offset, format!("protocol-relative link `{link}` is not allowed"))
                        .with_help(PROTOCOL_RELATIVE_HELP),
                };
                self.diagnostics.push(diagnostic);
                None
            }
        }
    }

    /// Remember a same-page `#fragment` link or a `.md#fragment` link for the
    /// pipeline's anchor check; other local links (root-relative paths, files) are not
    /// content pages and are left alone.
    fn note_fragment(&mut self, dest: &str, offset: usize) {
        let Some((path, fragment)) = dest.split_once('#') else {
            return;
        };
        if fragment.is_empty() {
            return; // `#` alone is the top of the page.
        }
        let target = if path.is_empty() {
            None
        } else if is_markdown_path(path) {
            Some(path.to_owned())
        } else {
            return;
        };
        let (line, col) = self.position(offset);
        self.fragment_links.push(FragmentLink {
            target,
            fragment: percent_decode(fragment),
            written: dest.to_owned(),
            line,
            col,
        });
    }

    fn close_heading(&mut self) {
        let Some(heading) = self.heading.take() else {
            return;
        };
        let title = heading.title.trim().to_owned();
        let id = self.unique_id(&heading_id(&title));
        let level = heading.level;
        // The `#` anchor is for mouse users who copy a section link: hidden from screen
        // readers (the heading reads as its title) and so out of the tab order too, since a
        // focusable element inside aria-hidden is announced as nothing.
        if let Some(slot) = self.out.get_mut(heading.placeholder) {
            *slot = Event::Html(CowStr::from(format!(
                "<h{level} id=\"{id}\"><a class=\"anchor\" href=\"#{id}\" aria-hidden=\"true\" tabindex=\"-1\">#</a>",
                id = escape_html(&id)
            )));
        }
        self.html(format!("</h{level}>\n"));
        self.plain_break();
        if level <= 3 {
            self.toc.push(TocEntry { level, id, title });
        }
    }

    /// `base`, or `base-1`, `base-2`, … : the first id not given out yet.
    fn unique_id(&mut self, base: &str) -> String {
        let mut id = base.to_owned();
        if self.used_ids.contains(&id) {
            let suffix = self.next_suffix.entry(base.to_owned()).or_insert(1);
            loop {
                id = format!("{base}-{suffix}");
                *suffix += 1;
                if !self.used_ids.contains(&id) {
                    break;
                }
            }
        }
        self.used_ids.insert(id.clone());
        id
    }

    fn close_code(&mut self) {
        let Some(code) = self.code.take() else {
            return;
        };
        let highlighted = code
            .lang
            .as_deref()
            .and_then(|lang| highlight::highlight(lang, &code.text).map(|html| (lang, html)));
        let html = match highlighted {
            Some((lang, html)) => {
                let class = sanitized_language(lang)
                    .map(|lang| format!(" class=\"language-{lang}\""))
                    .unwrap_or_default();
                format!("<pre class=\"hl\" tabindex=\"0\"><code{class}>{html}</code></pre>\n")
            }
            None => format!(
                "<pre tabindex=\"0\"><code>{}</code></pre>\n",
                escape_html(&code.text)
            ),
        };
        self.html(html);
        self.plain_push(&code.text);
        self.plain_break();
    }

    /// Visible text (also raw HTML, which is shown as text).
    fn text(&mut self, text: CowStr<'a>) {
        self.plain_push(&text);
        self.out.push(Event::Text(text));
    }

    /// Our own markup: every value in it is already escaped.
    fn html(&mut self, html: String) {
        self.out.push(Event::Html(CowStr::from(html)));
    }

    fn plain_push(&mut self, text: &str) {
        self.plain.push_str(text);
        if let Some(heading) = &mut self.heading {
            heading.title.push_str(text);
        }
    }

    fn plain_space(&mut self) {
        if let Some(heading) = &mut self.heading {
            heading.title.push(' ');
        }
        if !self.plain.is_empty() && !self.plain.ends_with(char::is_whitespace) {
            self.plain.push(' ');
        }
    }

    fn plain_break(&mut self) {
        if self.plain.ends_with(' ') {
            self.plain.pop();
        }
        if !self.plain.is_empty() && !self.plain.ends_with('\n') {
            self.plain.push('\n');
        }
    }

    fn raw_html_warning(&mut self, offset: usize) {
        let (line, col) = self.position(offset);
        self.diagnostics.push(
            Diagnostic::warning(self.input.path, line, col, RAW_HTML_MESSAGE)
                .with_help(RAW_HTML_HELP),
        );
    }

    fn error(&self, offset: usize, message: String) -> Diagnostic {
        let (line, col) = self.position(offset);
        Diagnostic::error(self.input.path, line, col, message)
    }

    /// 1-based line and column in the original file of `offset` (from the body start).
    fn position(&self, offset: usize) -> (usize, usize) {
        self.input
            .line_index
            .position(self.input.file_text, self.body_start + offset)
    }

    fn finish(mut self, body_len: usize) -> RenderedMarkdown {
        // A document cut short by the parser (it never is, but the filter must not
        // lose content if it were) still shows what was collected.
        if self.image.is_some() {
            self.close_image();
        }
        if self.code.is_some() {
            self.close_code();
        }
        let mut html = String::with_capacity(body_len + body_len / 2);
        pulldown_cmark::html::push_html(&mut html, self.out.into_iter());
        let limit = OUTPUT_FACTOR
            .saturating_mul(body_len)
            .saturating_add(OUTPUT_SLACK_BYTES);
        if html.len() > limit {
            let (line, col) = self
                .input
                .line_index
                .position(self.input.file_text, self.body_start);
            self.diagnostics.push(Diagnostic::error(
                self.input.path,
                line,
                col,
                format!(
                    "rendered HTML is too large ({} bytes from {body_len} bytes of Markdown)",
                    html.len()
                ),
            ));
            html = String::new();
        }
        RenderedMarkdown {
            html,
            toc: self.toc,
            plain_text: self.plain.trim_end().to_owned(),
            diagnostics: self.diagnostics,
            fragment_links: self.fragment_links,
        }
    }
}

/// Body headings start at `<h2>`: the page template owns the one `<h1>`.
fn rendered_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 | HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// The id a heading's text gives: lower-case ASCII letters and digits, every other
/// run of characters one `-`, no `-` at either end; `section` when nothing is left.
fn heading_id(title: &str) -> String {
    let mut id = String::with_capacity(title.len());
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    while id.ends_with('-') {
        id.pop();
    }
    if id.is_empty() {
        id.push_str("section");
    }
    id
}

/// The language of a fence info string: its first word (`rust,ignore` → `rust`).
fn fence_language(info: &str) -> &str {
    info.split(|c: char| c.is_whitespace() || c == ',')
        .next()
        .unwrap_or_default()
}

/// The fence language as a class name: lower-cased, and only when it consists of
/// `[a-z0-9+-]`.
fn sanitized_language(lang: &str) -> Option<String> {
    let lang = lang.to_ascii_lowercase();
    let valid = !lang.is_empty()
        && lang
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'+' || b == b'-');
    valid.then_some(lang)
}

/// A destination as a browser reads it: without leading and trailing spaces and
/// controls, and without any ASCII tab or newline (the WHATWG URL parser drops them,
/// so `java\tscript:` is `javascript:`).
fn clean_destination(dest: &str) -> String {
    dest.trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// Decide where a cleaned destination may point.
fn classify(
    dest: &str,
    base_path: &str,
    resolve_md: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Destination, Refusal> {
    // Anything with a `:` before the first `/`, `?` or `#` has (or may be read by a
    // browser as having) a scheme. pulldown-cmark has already decoded entities, so
    // `&#106;avascript:` arrives here as `javascript:`.
    let head_end = dest.find(['/', '?', '#']).unwrap_or(dest.len());
    if let Some(colon) = dest[..head_end].find(':') {
        let scheme = dest[..colon].to_ascii_lowercase();
        return match scheme.as_str() {
            "http" | "https" => Ok(Destination::External(dest.to_owned())),
            "mailto" => Ok(Destination::Mail(dest.to_owned())),
            _ => Err(Refusal::Scheme(scheme)),
        };
    }
    if dest.starts_with('#') {
        return Ok(Destination::Local(dest.to_owned()));
    }
    // Browsers read `\` as `/` in http(s) URLs, so `/\host` is `//host` too.
    if dest.len() >= 2
        && dest.as_bytes()[..2]
            .iter()
            .all(|b| matches!(b, b'/' | b'\\'))
    {
        return Err(Refusal::ProtocolRelative(dest.to_owned()));
    }
    if let Some(rest) = dest.strip_prefix('/') {
        return Ok(Destination::Local(format!("{base_path}{rest}")));
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (dest, None),
    };
    if is_markdown_path(path) {
        return match resolve_md(path) {
            Some(mut url) => {
                if let Some(fragment) = fragment {
                    url.push('#');
                    url.push_str(fragment);
                }
                Ok(Destination::Local(url))
            }
            None => Err(Refusal::UnknownMarkdown(path.to_owned())),
        };
    }
    Ok(Destination::Local(dest.to_owned()))
}

/// `other.md`, `../patterns/x.MD`: a link to a content file.
fn is_markdown_path(path: &str) -> bool {
    path.len() > 3 && path.as_bytes()[path.len() - 3..].eq_ignore_ascii_case(b".md")
}

/// `%XX` escapes decoded, as a browser does before matching a fragment to an `id`;
/// an invalid escape or non-UTF-8 result is kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push(((hex(h).unwrap_or(0) << 4) | hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// ` title="…"` for a non-empty link title.
fn title_attribute(title: &str) -> String {
    if title.is_empty() {
        String::new()
    } else {
        format!(" title=\"{}\"", escape_html(title))
    }
}

/// Escape text for HTML element content and double- or single-quoted attributes
/// (`& < > " '`). The one HTML escaper: the renderer gives it to tera too.
pub fn escape_html(text: &str) -> String {
    if !text
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\''))
    {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

/// A URL for an `href`/`src` attribute: characters that are not URL syntax are
/// percent-encoded (existing `%XX` escapes are kept), then the result is HTML-escaped.
/// `\` is encoded too, so no browser reads it as `/`.
fn escape_href(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for b in url.bytes() {
        match b {
            b'&' => out.push_str("&amp;"),
            b'\'' => out.push_str("&#x27;"),
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'!'
            | b'*'
            | b'('
            | b')'
            | b';'
            | b':'
            | b'@'
            | b'='
            | b'+'
            | b'$'
            | b','
            | b'/'
            | b'?'
            | b'#'
            | b'['
            | b']'
            | b'%' => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::diagnostics::Level;

    const PATH: &str = "content/incidents/a.md";
    /// Five lines of front matter: the body starts at line 6.
    const FRONT: &str = "---\ntitle: t\ndate: 2024-01-01\nseverity: sev2\n---\n";

    fn resolve(path: &str) -> Option<String> {
        match path {
            "other-story.md" => Some("/incidents/other-story/".to_owned()),
            "../patterns/etcd-failure.md" => Some("/patterns/etcd-failure/".to_owned()),
            _ => None,
        }
    }

    fn render_at(body: &str, base_path: &str) -> RenderedMarkdown {
        let file = format!("{FRONT}{body}");
        let line_index = LineIndex::new(&file);
        let input = MarkdownInput {
            path: PATH,
            file_text: &file,
            body_offset: FRONT.len(),
            line_index: &line_index,
            base_path,
        };
        render(&input, &resolve)
    }

    fn render_body(body: &str) -> RenderedMarkdown {
        render_at(body, "/")
    }

    /// `(line, col, level, message)` of every diagnostic.
    fn positions(rendered: &RenderedMarkdown) -> Vec<(usize, usize, Level, &str)> {
        rendered
            .diagnostics
            .iter()
            .map(|d| (d.line, d.col, d.level, d.message.as_str()))
            .collect()
    }

    /// Every tag (`<…>`) in `html`: text is escaped, so `<` only starts markup.
    fn tags(html: &str) -> Vec<&str> {
        html.split('<')
            .skip(1)
            .filter_map(|s| s.split('>').next())
            .collect()
    }

    #[test]
    fn script_block_is_escaped_and_warned_at_its_line() {
        let r = render_body("Intro.\n\n<script>alert(1)</script>\n\nAfter.\n");
        assert!(!r.html.contains("<script"), "{}", r.html);
        assert!(
            r.html
                .contains("<pre class=\"raw-html\" tabindex=\"0\"><code>&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{}",
            r.html
        );
        assert!(r.html.contains("<p>After.</p>"), "{}", r.html);
        assert_eq!(
            r.diagnostics,
            vec![
                Diagnostic::warning(PATH, 8, 1, "raw HTML is not allowed and was escaped")
                    .with_help("use Markdown instead of HTML; raw HTML is shown as text")
            ]
        );
    }

    #[test]
    fn inline_img_with_onerror_is_escaped() {
        let r = render_body("See <img src=x onerror=alert(1)> here.\n");
        assert_eq!(
            r.html,
            "<p>See &lt;img src=x onerror=alert(1)&gt; here.</p>\n"
        );
        assert_eq!(
            positions(&r),
            vec![(6, 5, Level::Warning, RAW_HTML_MESSAGE)]
        );
    }

    #[test]
    fn each_forbidden_scheme_form_is_an_error_and_not_a_link() {
        let cases = [
            ("Go [x](javascript:alert(1)) now", "javascript"),
            ("Go [x](JaVaScRiPt:alert(1)) now", "javascript"),
            ("Go [x](&#106;avascript:alert(1)) now", "javascript"),
            ("Go <javascript:alert(1)> now", "javascript"),
            ("Go ![x](javascript:alert(1)) now", "javascript"),
            ("Go [x](<java\tscript:alert(1)>) now", "javascript"),
            ("Go [x](data:text/html;base64,PHNjcmlwdD4=) now", "data"),
            ("Go [x](vbscript:msgbox(1)) now", "vbscript"),
            ("Go [x](file:///etc/passwd) now", "file"),
            ("Go [x][r] now\n\n[r]: javascript:alert(1)", "javascript"),
        ];
        for (body, scheme) in cases {
            let r = render_body(body);
            let message = format!("link scheme `{scheme}` is not allowed");
            assert_eq!(
                positions(&r),
                vec![(6, 4, Level::Error, message.as_str())],
                "{body}"
            );
            assert_eq!(r.diagnostics[0].help.as_deref(), Some(SCHEME_HELP));
            for tag in tags(&r.html) {
                assert!(
                    !tag.contains("href") && !tag.contains("src"),
                    "{body}: {}",
                    r.html
                );
            }
            assert!(
                r.html.starts_with("<p>Go ") && r.html.contains(" now"),
                "{body}: {}",
                r.html
            );
        }
        let r = render_body("[x](javascript:alert(1))");
        assert_eq!(r.html, "<p>x</p>\n");
        assert_eq!(r.plain_text, "x");
        let r = render_body("![alt <b>](data:image/png;base64,AAAA)");
        assert_eq!(r.html, "<p>alt &lt;b&gt;</p>\n");
    }

    #[test]
    fn allowed_links_and_images() {
        let r = render_body(
            "[a](https://example.org/a?b=1&c=2 \"T \\\"q\\\"\") [m](MAILTO:ops@example.org) <ops@example.org> \
             [f](#timeline) [r](notes/x.txt) ![i \"q\"](img/x.png \"t\") ![e](http://example.org/e.png)",
        );
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        assert_eq!(
            r.html,
            "<p><a href=\"https://example.org/a?b=1&amp;c=2\" title=\"T &quot;q&quot;\" rel=\"nofollow noopener ugc\">a</a> \
             <a href=\"MAILTO:ops@example.org\">m</a> \
             <a href=\"mailto:ops@example.org\">ops@example.org</a> \
             <a href=\"#timeline\">f</a> <a href=\"notes/x.txt\">r</a> \
             <img src=\"img/x.png\" alt=\"i &quot;q&quot;\" title=\"t\" loading=\"lazy\"> \
             <img src=\"http://example.org/e.png\" alt=\"e\" loading=\"lazy\"></p>\n"
        );
    }

    #[test]
    fn hrefs_are_percent_encoded() {
        let r = render_body("[a](<x y\"&lt;&gt;\\é.txt>)");
        assert_eq!(
            r.html,
            "<p><a href=\"x%20y%22%3C%3E%5C%C3%A9.txt\">a</a></p>\n"
        );
    }

    #[test]
    fn unclosed_comment_does_not_swallow_the_rest() {
        let r =
            render_body("Intro.\n\n<!-- never closed\n\n## Timeline\n\nThe rest of the story.\n");
        assert!(r.html.contains("&lt;!-- never closed"), "{}", r.html);
        assert!(r.html.contains("The rest of the story."), "{}", r.html);
        assert!(
            r.plain_text.contains("The rest of the story."),
            "{}",
            r.plain_text
        );
        assert_eq!(
            positions(&r),
            vec![(8, 1, Level::Warning, RAW_HTML_MESSAGE)]
        );
    }

    #[test]
    fn heading_attributes_stay_literal() {
        let r = render_body("# T {#x onclick=alert(1) .cls}\n");
        for tag in tags(&r.html) {
            assert!(
                !tag.contains(" onclick") && !tag.contains("class=\"cls"),
                "{}",
                r.html
            );
        }
        assert!(
            r.html.contains(">T {#x onclick=alert(1) .cls}</h2>"),
            "{}",
            r.html
        );
        assert_eq!(r.toc[0].id, "t-x-onclick-alert-1-cls");
    }

    #[test]
    fn duplicate_heading_ids_are_deterministic() {
        let r = render_body(
            "## Impact\n\n## Impact\n\n## Impact\n\n## Impact 1\n\n## <b>x</b>\n\n## 日本語\n",
        );
        let ids: Vec<&str> = r.toc.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "impact",
                "impact-1",
                "impact-2",
                "impact-1-1",
                "b-x-b",
                "section"
            ]
        );
        assert!(
            r.html.contains(
                "<h2 id=\"impact-1\"><a class=\"anchor\" href=\"#impact-1\" aria-hidden=\"true\" tabindex=\"-1\">#</a>Impact</h2>"
            ),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("#</a>&lt;b&gt;x&lt;/b&gt;</h2>"),
            "{}",
            r.html
        );
        assert_eq!(r.toc[4].title, "<b>x</b>");
    }

    #[test]
    fn toc_collects_h2_and_h3_and_h1_renders_as_h2() {
        let r = render_body("# Top\n\n## Impact *now*\n\ntext\n\n### Detail `code`\n\n#### Deep\n");
        assert_eq!(
            r.toc,
            vec![
                TocEntry {
                    level: 2,
                    id: "top".into(),
                    title: "Top".into()
                },
                TocEntry {
                    level: 2,
                    id: "impact-now".into(),
                    title: "Impact now".into()
                },
                TocEntry {
                    level: 3,
                    id: "detail-code".into(),
                    title: "Detail code".into()
                },
            ]
        );
        assert!(r.html.starts_with("<h2 id=\"top\">"), "{}", r.html);
        assert!(r.html.contains("<h2 id=\"impact-now\"><a class=\"anchor\" href=\"#impact-now\" aria-hidden=\"true\" tabindex=\"-1\">#</a>Impact <em>now</em></h2>"), "{}", r.html);
        assert!(r.html.contains("<h4 id=\"deep\">"), "{}", r.html);
        assert!(!r.html.contains("<h1"), "{}", r.html);
    }

    #[test]
    fn markdown_links_resolve_or_report_where_they_are() {
        let r = render_body(
            "See [other](other-story.md#timeline) and [p](../patterns/etcd-failure.md).\n",
        );
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        assert!(
            r.html
                .contains("<a href=\"/incidents/other-story/#timeline\">other</a>"),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("<a href=\"/patterns/etcd-failure/\">p</a>"),
            "{}",
            r.html
        );

        let r = render_body("Intro.\n\nSee [gone](../patterns/missing.md#x).\n");
        assert_eq!(
            r.diagnostics,
            vec![Diagnostic::error(
                PATH,
                8,
                5,
                "link to `../patterns/missing.md` does not match any story, pattern or page in content/"
            )
            .with_help("link to another story by its file name, e.g. `2019-example-org-outage.md`")]
        );
        assert_eq!(r.html, "<p>Intro.</p>\n<p>See gone.</p>\n");
    }

    #[test]
    fn root_relative_links_get_the_base_path() {
        let r = render_at("[a](/incidents/a/) ![i](/img/x.png) [b](../b/)", "/sub/");
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        assert_eq!(
            r.html,
            "<p><a href=\"/sub/incidents/a/\">a</a> <img src=\"/sub/img/x.png\" alt=\"i\" loading=\"lazy\"> \
             <a href=\"../b/\">b</a></p>\n"
        );
    }

    #[test]
    fn protocol_relative_links_are_refused() {
        // (as written in Markdown, as the browser gets it): `\\` is an escaped `\`.
        let cases = [
            ("//evil.example/x", "//evil.example/x"),
            ("/\\evil.example", "/\\evil.example"),
            ("\\\\\\\\evil.example", "\\\\evil.example"),
        ];
        for (written, dest) in cases {
            let r = render_body(&format!("[a](<{written}>)"));
            let message = format!("protocol-relative link `{dest}` is not allowed");
            assert_eq!(
                positions(&r),
                vec![(6, 1, Level::Error, message.as_str())],
                "{dest}"
            );
            assert_eq!(r.html, "<p>a</p>\n");
        }
    }

    #[test]
    fn hostile_fence_info_is_harmless() {
        for info in [
            "\"><script>alert(1)</script>",
            "yaml\"><script>",
            "makefile",
            "YAML!",
        ] {
            let r = render_body(&format!("```{info}\nx: <y>\n```\n"));
            assert_eq!(
                r.html, "<pre tabindex=\"0\"><code>x: &lt;y&gt;\n</code></pre>\n",
                "{info}"
            );
            assert!(r.diagnostics.is_empty());
        }
        let r = render_body("    indented <code>\n");
        assert_eq!(
            r.html,
            "<pre tabindex=\"0\"><code>indented &lt;code&gt;\n</code></pre>\n"
        );
    }

    #[test]
    fn yaml_fence_is_highlighted() {
        let r = render_body("```YAML title=\"x\"\nkey: <value>\n```\n");
        assert!(
            r.html.starts_with(
                "<pre class=\"hl\" tabindex=\"0\"><code class=\"language-yaml\"><span class=\"hl-"
            ),
            "{}",
            r.html
        );
        assert!(r.html.ends_with("</code></pre>\n"), "{}", r.html);
        assert!(r.html.contains("&lt;value&gt;"), "{}", r.html);
        assert_eq!(r.plain_text, "key: <value>");
    }

    #[test]
    fn deep_nesting_completes_quickly_and_is_reported_once() {
        for (unit, col) in [(">", 17), ("+ ", 33), ("1. ", 49)] {
            let started = Instant::now();
            let r = render_body(&unit.repeat(40_000));
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{unit}: {:?}",
                started.elapsed()
            );
            assert_eq!(
                positions(&r),
                vec![(6, col, Level::Error, "nesting depth exceeds 16")],
                "{unit}"
            );
        }
        let started = Instant::now();
        let r = render_body(&format!("{}x{}", "[".repeat(40_000), "]".repeat(40_000)));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(r.diagnostics.is_empty());
        let r = render_body(&">".repeat(16));
        assert!(r.diagnostics.is_empty());
    }

    #[test]
    fn oversized_output_is_an_error_and_dropped() {
        let body = ">".repeat(200_000);
        let r = render_body(&body);
        assert_eq!(r.html, "");
        let last = r.diagnostics.last().expect("a size error");
        assert_eq!((last.line, last.col), (6, 1));
        assert!(
            last.message.starts_with("rendered HTML is too large (")
                && last
                    .message
                    .ends_with(" bytes from 200000 bytes of Markdown)"),
            "{}",
            last.message
        );
    }

    #[test]
    fn positions_count_characters_in_the_original_file() {
        let r = render_body("ça và <b>x</b>\n\n- 日本 [x](vbscript:x)\n");
        assert_eq!(
            positions(&r),
            vec![
                (6, 7, Level::Warning, RAW_HTML_MESSAGE),
                (6, 11, Level::Warning, RAW_HTML_MESSAGE),
                (8, 6, Level::Error, "link scheme `vbscript` is not allowed"),
            ]
        );
    }

    #[test]
    fn plain_text_has_prose_and_code() {
        let r = render_body(
            "# Title\n\nSome *prose*\nwrapped `code`.\n\n- one\n- two\n\n```sh\necho hi\n```\n",
        );
        assert_eq!(
            r.plain_text,
            "Title\nSome prose wrapped code.\none\ntwo\necho hi"
        );
    }

    #[test]
    fn gfm_features_render() {
        let r = render_body(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ text[^1]\n\n[^1]: note\n\n- [x] done\n",
        );
        assert!(r.html.contains("<table>"), "{}", r.html);
        assert!(r.html.contains("<del>old</del>"), "{}", r.html);
        assert!(r.html.contains("footnote-reference"), "{}", r.html);
        assert!(r.html.contains("type=\"checkbox\""), "{}", r.html);
        assert!(r.diagnostics.is_empty());
    }

    #[test]
    fn body_offset_inside_a_character_does_not_panic() {
        let file = "é\nbody";
        let line_index = LineIndex::new(file);
        let input = MarkdownInput {
            path: PATH,
            file_text: file,
            body_offset: 1,
            line_index: &line_index,
            base_path: "/",
        };
        assert_eq!(render(&input, &resolve).html, "<p>body</p>\n");
    }
}
