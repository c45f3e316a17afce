//! Front matter → content model: the only place that constructs [`Incident`],
//! [`Pattern`], [`Page`], [`Symptom`]s and [`SiteConfig`].
//!
//! Parse, don't validate: each file's YAML arrives as a positioned [`yaml::Node`]
//! tree; this module walks it once, converting every field into domain types and
//! collecting a [`Diagnostic`] for every problem (unknown field with the nearest known
//! one, missing field, wrong type, bad date, bad URL, unknown enum value with the
//! allowed ones, unknown pattern, symptom or incident id with the nearest one). A file
//! with any error yields `None`, never a half-valid value.
//!
//! References are checked here against the [`Vocabulary`] (every pattern, symptom and
//! incident id that exists, including files that failed to parse, so one broken file
//! does not cascade into "unknown id" errors elsewhere).

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::diagnostics::{Diagnostic, LineIndex};
use crate::frontmatter;
use crate::model::{
    is_valid_slug, Body, Category, ContributingFailure, Detection, Environment, ImpactLevel,
    Incident, Page, PartialDate, Pattern, Platform, Resolution, ResolutionStatus, SiteConfig, Slug,
    Source, SourceType, Symptom, Trigger, TriggerType,
};
use crate::source::SourceFile;
use crate::suggest;
use crate::yaml::{self, Entry, Node, Value};

/// Every id a reference may name.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    /// Pattern slugs (file stems under `content/patterns/`).
    pub patterns: BTreeSet<String>,
    /// Symptom slugs from `content/symptoms.yaml`.
    pub symptoms: BTreeSet<String>,
    /// Incident ids (file stems under `content/incidents/`).
    pub incidents: BTreeSet<String>,
    /// Whether `symptoms` can be trusted: false when `content/symptoms.yaml` itself
    /// failed to load or parse (already reported), so incidents are not flooded with
    /// "unknown symptom" errors.
    pub symptoms_known: bool,
    /// Lower-cased symptom synonyms and titles → slug, so `oom` can be answered with
    /// "use `oomkilled`".
    pub symptom_synonyms: std::collections::BTreeMap<String, String>,
}

/// Incidents per list page when `site.yaml` does not say: a collection the size of
/// k8s.af (about 60 stories) stays on one page, which readers search with Ctrl-F.
pub const DEFAULT_PAGINATE_BY: usize = 100;

/// Longest title, in characters.
const MAX_TITLE: usize = 200;
/// Longest one-line field (impact, pattern summary), in characters.
const MAX_LINE: usize = 400;
/// Longest summary, in characters.
const MAX_SUMMARY: usize = 1200;

/// What a front-matter value must be. The incident's fields are described once, in
/// [`INCIDENT`], with these shapes: the validator takes its field names from there,
/// the JSON Schema ([`crate::jsonschema`]) and the field reference in CONTRIBUTING.md
/// ([`crate::docs`]) are generated from it, and a test checks that the validator
/// requires exactly the fields the table marks as required.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A string of at most `max` characters.
    Text {
        /// Longest accepted value, in characters.
        max: usize,
    },
    /// A string or a number, kept as written (`1.30` stays `1.30`).
    Version,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    Date,
    /// An absolute http(s) URL.
    Url,
    /// A whole number from `min` to `max`.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// One value of a closed vocabulary (a `vocabulary!` enum of the model).
    OneOf(&'static [&'static str]),
    /// A reference to a content file or vocabulary entry of the site.
    Ref(RefKind),
    /// A list of distinct values.
    List {
        /// The shape of each item.
        item: &'static Shape,
        /// Whether an empty list is an error.
        non_empty: bool,
        /// Most items accepted, when limited.
        max_items: Option<usize>,
    },
    /// A mapping with these fields (and no others).
    Object(&'static [Field]),
}

/// What a [`Shape::Ref`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// A pattern slug: a file stem under `content/patterns/`.
    Pattern,
    /// A symptom slug from `content/symptoms.yaml`.
    Symptom,
    /// An incident id: a file stem under `content/incidents/`.
    Incident,
}

/// One front-matter field: its name, shape, whether it is required, and what it means
/// (one or two sentences, shown in editors and in the field reference).
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// YAML key.
    pub name: &'static str,
    /// What the value must be.
    pub shape: Shape,
    /// Whether leaving it out (or empty) is an error.
    pub required: bool,
    /// What it means and how to fill it.
    pub doc: &'static str,
}

const fn field(name: &'static str, shape: Shape, required: bool, doc: &'static str) -> Field {
    Field {
        name,
        shape,
        required,
        doc,
    }
}

const TEXT_LINE: Shape = Shape::Text { max: MAX_LINE };
const TEXT_LONG: Shape = Shape::Text { max: MAX_SUMMARY };
const TEXT_TITLE: Shape = Shape::Text { max: MAX_TITLE };

/// The fields of a source.
pub const SOURCE: &[Field] = &[
    field("url", Shape::Url, true, "Link to the write-up, talk or thread (`http` or `https`)."),
    field("title", TEXT_TITLE, false, "Title of the write-up as published."),
    field("type", Shape::OneOf(SourceType::SLUGS), false, "What kind of write-up it is."),
    field("venue", TEXT_TITLE, false, "Where it was published: company blog, Medium, KubeCon..."),
    field("published", Shape::Date, false, "Publication date."),
    field("language", Shape::Text { max: 20 }, false, "Language of the write-up when it is not the site's, e.g. `de`."),
    field("archive_url", Shape::Url, false, "An archived copy (e.g. the Wayback Machine), shown beside the original in case it disappears."),
];

/// The fields of the trigger.
pub const TRIGGER: &[Field] = &[
    field(
        "type",
        Shape::OneOf(TriggerType::SLUGS),
        true,
        "The kind of event that set the chain off.",
    ),
    field(
        "description",
        TEXT_LONG,
        true,
        "What happened, in a sentence or two.",
    ),
];

/// The fields of one contributing failure.
pub const FAILURE: &[Field] = &[
    field(
        "pattern",
        Shape::Ref(RefKind::Pattern),
        true,
        "The failure pattern this is an instance of.",
    ),
    field(
        "description",
        TEXT_LONG,
        true,
        "What this failure was in this incident (not the pattern's definition).",
    ),
];

/// The fields of one resolution.
pub const RESOLUTION: &[Field] = &[
    field("action", TEXT_LONG, true, "What was done or planned."),
    field("status", Shape::OneOf(ResolutionStatus::SLUGS), true, "`done` when the source says it was done, `planned` when announced, `considered` when discussed."),
    field("patterns", Shape::List { item: &Shape::Ref(RefKind::Pattern), non_empty: false, max_items: None }, false, "The patterns this action addresses."),
];

/// The fields of an incident's front matter, in the documented order.
pub const INCIDENT: &[Field] = &[
    field("title", TEXT_TITLE, true, "A short, specific headline for the story, in your own words."),
    field("organization", TEXT_TITLE, true, "The organization the incident happened at; `anonymous` is allowed."),
    field("date", Shape::Date, true, "The incident date if the source gives it, else the publication date."),
    field("summary", TEXT_LONG, true, "1-3 sentences, used in lists, cards and the feed."),
    field("sources", Shape::List { item: &Shape::Object(SOURCE), non_empty: true, max_items: None }, true, "Where the story was told; the first is the main one."),
    field("platforms", Shape::List { item: &Shape::OneOf(Platform::SLUGS), non_empty: false, max_items: None }, false, "Where the cluster ran. List both the cloud and the managed service where it applies (`[gcp, gke]`)."),
    field("kubernetes_version", Shape::Version, false, "As given by the source, e.g. `\"1.13\"`. Quote it, or YAML reads `1.20` as the number 1.2."),
    field("environment", Shape::OneOf(Environment::SLUGS), false, "Which environment failed."),
    field("impact", TEXT_LINE, true, "One line: what users saw."),
    field("impact_level", Shape::OneOf(ImpactLevel::SLUGS), false, "How bad it was for users."),
    field("duration_minutes", Shape::Integer { min: 0, max: MAX_DURATION_MINUTES }, false, "Only if the source states or clearly implies it."),
    field("detection", Shape::OneOf(Detection::SLUGS), false, "How the incident was noticed."),
    field("symptoms", Shape::List { item: &Shape::Ref(RefKind::Symptom), non_empty: true, max_items: None }, true, "What people saw while it happened: slugs from `content/symptoms.yaml`."),
    field("components", Shape::List { item: &Shape::Text { max: 80 }, non_empty: true, max_items: None }, true, "Software and services involved, e.g. `kubelet`, `CoreDNS`, `ElastAlert`."),
    field("trigger", Shape::Object(TRIGGER), true, "What set the chain of failures off."),
    field("contributing_failures", Shape::List { item: &Shape::Object(FAILURE), non_empty: true, max_items: None }, true, "The chain of weaknesses that turned the trigger into an incident, in causal order, each mapped to a pattern."),
    field("resolutions", Shape::List { item: &Shape::Object(RESOLUTION), non_empty: false, max_items: None }, false, "What was done or planned about it (a warning when absent)."),
    field("lessons", Shape::List { item: &TEXT_LONG, non_empty: false, max_items: None }, false, "Short, general takeaways."),
    field("related", Shape::List { item: &Shape::Ref(RefKind::Incident), non_empty: false, max_items: None }, false, "Ids (file names without `.md`) of other stories in `content/incidents/`."),
    field("tags", Shape::List { item: &Shape::Text { max: 40 }, non_empty: false, max_items: Some(MAX_TAGS) }, false, "Free keywords for search."),
];

/// Longest accepted `duration_minutes`: ten years.
const MAX_DURATION_MINUTES: i64 = 10 * 365 * 24 * 60;
/// Most tags per incident.
const MAX_TAGS: usize = 20;

/// The names of `fields`, in order (the known keys of a mapping).
pub fn names(fields: &[Field]) -> Vec<&'static str> {
    fields.iter().map(|f| f.name).collect()
}

const PATTERN_FIELDS: &[&str] = &["title", "summary", "category"];
const PAGE_FIELDS: &[&str] = &["title", "description"];
const SYMPTOM_FIELDS: &[&str] = &["slug", "title", "description", "synonyms"];
const SITE_FIELDS: &[&str] = &[
    "title",
    "description",
    "base_url",
    "repository",
    "branch",
    "language",
    "paginate_by",
];

/// Collects diagnostics for one file.
struct Ctx<'a> {
    path: &'a str,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn error_at(&mut self, line: usize, col: usize, msg: impl Into<String>, help: Option<String>) {
        self.diags
            .push(Diagnostic::error(self.path, line, col, msg).with_help_opt(help));
    }

    fn error(&mut self, node: &Node, msg: impl Into<String>, help: Option<String>) {
        self.error_at(node.line, node.col, msg, help);
    }

    fn warning(&mut self, line: usize, col: usize, msg: impl Into<String>, help: Option<String>) {
        self.diags
            .push(Diagnostic::warning(self.path, line, col, msg).with_help_opt(help));
    }

    fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }
}

/// A mapping being read field by field; reports unknown and missing fields.
struct Fields<'n> {
    entries: &'n [Entry],
    /// Where to point "missing field" errors: the mapping's position.
    line: usize,
    col: usize,
    /// What this mapping is, for messages (`front matter`, `source`, `trigger`...).
    what: &'static str,
}

impl<'n> Fields<'n> {
    /// Open `node` as a mapping with the given known field names; reports unknown
    /// fields (with a suggestion) and duplicate keys are the YAML layer's business.
    fn open(
        ctx: &mut Ctx<'_>,
        node: &'n Node,
        what: &'static str,
        known: &[&str],
    ) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            ctx.error(
                node,
                format!(
                    "{what} must be a mapping of `key: value` lines, found {}",
                    node.kind_name()
                ),
                None,
            );
            return None;
        };
        for e in entries {
            if !known.contains(&e.key.as_str()) {
                let help = suggest::did_you_mean(&e.key, known.iter().copied())
                    .or_else(|| Some(format!("known fields are: {}", known.join(", "))));
                ctx.error_at(
                    e.key_line,
                    e.key_col,
                    format!("unknown field `{}` in {what}", e.key),
                    help,
                );
            }
        }
        Some(Fields {
            entries,
            line: node.line,
            col: node.col,
            what,
        })
    }

    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
            .filter(|n| match &n.value {
                // An empty value is an absent value: `venue: ""` in the `new`
                // template is fine to leave, and a required one says "is empty".
                Value::Null => false,
                Value::Str(s) => !s.trim().is_empty(),
                _ => true,
            })
    }

    fn required(&self, ctx: &mut Ctx<'_>, key: &str) -> Option<&'n Node> {
        let found = self.get(key);
        if found.is_none() {
            match self.entries.iter().find(|e| e.key == key) {
                // Present but empty: point at the value the contributor must fill.
                Some(e) => ctx.error(&e.value, format!("`{key}` is empty in {}", self.what), None),
                None => ctx.error_at(
                    self.line,
                    self.col,
                    format!("missing required field `{key}` in {}", self.what),
                    None,
                ),
            }
        }
        found
    }
}

/// A scalar read as text: strings as they are, numbers as written (`1.30` stays
/// `1.30`, `2019` stays `2019`).
fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(node.raw().map_or_else(|| i.to_string(), str::to_string)),
        Value::Float(f) => Some(node.raw().map_or_else(|| f.to_string(), str::to_string)),
        _ => None,
    }
}

/// A required or optional single-line or multi-line string field.
fn string(ctx: &mut Ctx<'_>, node: &Node, key: &str, max: usize) -> Option<String> {
    let Some(text) = scalar_text(node) else {
        ctx.error(
            node,
            format!("`{key}` must be a string, found {}", node.kind_name()),
            None,
        );
        return None;
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        ctx.error(node, format!("`{key}` must not be empty"), None);
        return None;
    }
    let chars = text.chars().count();
    if chars > max {
        ctx.error(
            node,
            format!("`{key}` is {chars} characters long; the limit is {max}"),
            None,
        );
        return None;
    }
    Some(text)
}

fn opt_string(ctx: &mut Ctx<'_>, f: &Fields<'_>, key: &str, max: usize) -> Option<String> {
    f.get(key).and_then(|n| string(ctx, n, key, max))
}

fn req_string(ctx: &mut Ctx<'_>, f: &Fields<'_>, key: &str, max: usize) -> Option<String> {
    f.required(ctx, key).and_then(|n| string(ctx, n, key, max))
}

/// A list field; a single scalar where a list is expected is an error with a hint.
fn list<'n>(ctx: &mut Ctx<'_>, node: &'n Node, key: &str) -> Option<&'n [Node]> {
    match &node.value {
        Value::Seq(items) => Some(items),
        _ => {
            ctx.error(
                node,
                format!("`{key}` must be a list, found {}", node.kind_name()),
                Some(format!(
                    "write one item per line starting with `- `, or `{key}: [a, b]`"
                )),
            );
            None
        }
    }
}

fn string_list(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    key: &str,
    required: bool,
    max_len: usize,
) -> Vec<String> {
    let node = if required {
        f.required(ctx, key)
    } else {
        f.get(key)
    };
    let Some(items) = node.and_then(|n| list(ctx, n, key)) else {
        return Vec::new();
    };
    if required && items.is_empty() {
        ctx.error(
            node.expect("list present"),
            format!("`{key}` needs at least one item"),
            None,
        );
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if let Some(s) = string(ctx, item, key, max_len) {
            if out.contains(&s) {
                ctx.error(item, format!("`{s}` is listed twice in `{key}`"), None);
            } else {
                out.push(s);
            }
        }
    }
    out
}

/// One value of a closed vocabulary.
fn one_of<T>(
    ctx: &mut Ctx<'_>,
    node: &Node,
    key: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &[&str],
) -> Option<T> {
    let text = string(ctx, node, key, MAX_LINE)?;
    match parse(&text) {
        Some(v) => Some(v),
        None => {
            let help = match suggest::nearest(&text, allowed.iter().copied()) {
                Some(near) => format!(
                    "did you mean `{near}`? allowed values: {}",
                    allowed.join(", ")
                ),
                None => format!("allowed values: {}", allowed.join(", ")),
            };
            ctx.error(
                node,
                format!("unknown {} `{text}`", key.replace('_', " ")),
                Some(help),
            );
            None
        }
    }
}

fn date(ctx: &mut Ctx<'_>, node: &Node, key: &str) -> Option<PartialDate> {
    let text = scalar_text(node);
    match text.as_deref().map(str::trim).and_then(PartialDate::parse) {
        Some(d) => Some(d),
        None => {
            let shown = text.unwrap_or_else(|| node.kind_name().to_string());
            ctx.error(
                node,
                format!("invalid date `{shown}` in `{key}`"),
                Some("write `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, a real calendar date, e.g. `2019-01` or `2019-01-15`".into()),
            );
            None
        }
    }
}

/// An absolute http(s) URL with a host and no whitespace or control characters.
pub fn is_http_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("https://") {
        r
    } else if let Some(r) = lower.strip_prefix("http://") {
        r
    } else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    !host.is_empty()
        && !host.starts_with(':')
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        })
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
}

fn url(ctx: &mut Ctx<'_>, node: &Node, key: &str) -> Option<String> {
    let text = string(ctx, node, key, 2000)?;
    if is_http_url(&text) {
        Some(text)
    } else {
        let help = if text.contains("://") || text.contains(':') {
            "only http:// and https:// URLs are allowed".to_string()
        } else {
            format!("write the full address, e.g. `https://{text}`")
        };
        ctx.error(
            node,
            format!("`{key}` must be an http(s) URL, found `{text}`"),
            Some(help),
        );
        None
    }
}

/// Names that point at a slug without being it: symptom synonyms.
type Aliases = std::collections::BTreeMap<String, String>;

/// A reference to a pattern, symptom or incident id, checked against `known`.
fn reference(
    ctx: &mut Ctx<'_>,
    node: &Node,
    what: &str,
    known: &BTreeSet<String>,
    help_tail: &str,
    aliases: Option<&Aliases>,
) -> Option<Slug> {
    let text = string(ctx, node, what, 200)?;
    if known.contains(&text) {
        if let Some(slug) = Slug::parse(&text) {
            return Some(slug);
        }
    }
    let alias = aliases.and_then(|a| a.get(&text.to_lowercase()));
    let help = match (
        alias,
        suggest::nearest(&text, known.iter().map(String::as_str)),
    ) {
        (Some(slug), _) => {
            format!("`{text}` is another name for the {what} `{slug}`; write `{slug}`")
        }
        (None, Some(near)) => format!("did you mean `{near}`? {help_tail}"),
        (None, None) => help_tail.to_string(),
    };
    ctx.error(node, format!("unknown {what} `{text}`"), Some(help));
    None
}

fn slug_list(
    ctx: &mut Ctx<'_>,
    node: Option<&Node>,
    key: &str,
    what: &str,
    known: &BTreeSet<String>,
    help_tail: &str,
    aliases: Option<&Aliases>,
) -> Vec<Slug> {
    let Some(items) = node.and_then(|n| list(ctx, n, key)) else {
        return Vec::new();
    };
    let mut out: Vec<Slug> = Vec::new();
    for item in items {
        if let Some(s) = reference(ctx, item, what, known, help_tail, aliases) {
            if out.contains(&s) {
                ctx.error(
                    item,
                    format!("{what} `{s}` is listed twice in `{key}`"),
                    None,
                );
            } else {
                out.push(s);
            }
        }
    }
    out
}

const PATTERN_HELP: &str =
    "patterns are the files in content/patterns/; add one there if this is a new failure pattern";
const SYMPTOM_HELP: &str = "symptoms are listed in content/symptoms.yaml";
const INCIDENT_HELP: &str = "incident ids are the file names in content/incidents/ without `.md`";

/// Split the front matter and parse its YAML. Positions refer to the whole file.
fn front_matter(
    file: &SourceFile,
    index: &LineIndex,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Node, Body)> {
    let split = match frontmatter::split(&file.rel_path, &file.text, index) {
        Ok(s) => s,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    match yaml::parse(
        &file.rel_path,
        &file.text,
        split.yaml_start,
        split.yaml_end,
        index,
    ) {
        Ok(node) => {
            let body = Body {
                file_text: Arc::clone(&file.text),
                offset: split.body_start,
            };
            Some((node, body))
        }
        Err(mut ds) => {
            diags.append(&mut ds);
            None
        }
    }
}

/// The Markdown body of a content file whose front matter could be split, valid or
/// not, so its Markdown problems are reported in the same run as its field problems.
pub fn body(file: &SourceFile) -> Option<Body> {
    let index = LineIndex::new(&file.text);
    let split = frontmatter::split(&file.rel_path, &file.text, &index).ok()?;
    Some(Body {
        file_text: Arc::clone(&file.text),
        offset: split.body_start,
    })
}

/// Validate one content file's front matter: split it, parse its YAML, open it as a
/// mapping of `known` fields (missing-field errors point at the opening `---`), and
/// let `build` read the fields. `build`'s value is kept only when the file has no
/// error at all, so a half-valid value never escapes.
fn content_file<T>(
    file: &SourceFile,
    known: &[&str],
    build: impl FnOnce(&mut Ctx<'_>, &Fields<'_>, Body) -> Option<T>,
) -> (Option<T>, Vec<Diagnostic>) {
    let index = LineIndex::new(&file.text);
    let mut ctx = Ctx {
        path: &file.rel_path,
        diags: Vec::new(),
    };
    let Some((root, body)) = front_matter(file, &index, &mut ctx.diags) else {
        return (None, ctx.diags);
    };
    let Some(f) = Fields::open(&mut ctx, &root, "front matter", known) else {
        return (None, ctx.diags);
    };
    let f = Fields {
        line: 1,
        col: 1,
        ..f
    };
    let built = build(&mut ctx, &f, body);
    if ctx.has_errors() {
        return (None, ctx.diags);
    }
    (built, ctx.diags)
}

/// A source URL of an incident and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlAt {
    /// The URL, trimmed.
    pub url: String,
    /// Path of the file, relative to the site root.
    pub path: String,
    /// 1-based line of the value.
    pub line: usize,
    /// 1-based column of the value.
    pub col: usize,
    /// The `archive_url` of the same source, when it has one (and this is its `url`).
    pub archive_url: Option<String>,
    /// Whether this is an `archive_url` itself.
    pub is_archive: bool,
}

/// Every `sources[].url` and `sources[].archive_url` of an incident file that is an
/// http(s) URL, with its position (for `check --links`). Files whose front matter
/// does not parse yield nothing: their errors are reported by validation.
pub fn source_urls(file: &SourceFile) -> Vec<UrlAt> {
    let index = LineIndex::new(&file.text);
    let mut ignored = Vec::new();
    let Some((root, _)) = front_matter(file, &index, &mut ignored) else {
        return Vec::new();
    };
    let Some(Value::Seq(items)) = root.get("sources").map(|n| &n.value) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let text = |key: &str| {
            item.get(key)
                .and_then(|n| n.as_str().map(|s| (s.trim().to_string(), n.line, n.col)))
                .filter(|(s, _, _)| is_http_url(s))
        };
        let archive = text("archive_url");
        if let Some((url, line, col)) = text("url") {
            out.push(UrlAt {
                url,
                path: file.rel_path.clone(),
                line,
                col,
                archive_url: archive.as_ref().map(|a| a.0.clone()),
                is_archive: false,
            });
        }
        if let Some((url, line, col)) = archive {
            out.push(UrlAt {
                url,
                path: file.rel_path.clone(),
                line,
                col,
                archive_url: None,
                is_archive: true,
            });
        }
    }
    out
}

/// The id of a content file: its stem.
pub fn stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".md").unwrap_or(name)
}

/// Validate one incident file.
pub fn incident(file: &SourceFile, vocab: &Vocabulary) -> (Option<Incident>, Vec<Diagnostic>) {
    content_file(file, &names(INCIDENT), |ctx, f, body| {
        incident_fields(ctx, f, body, file, vocab)
    })
}

/// The fields of an incident's front matter.
fn incident_fields(
    ctx: &mut Ctx<'_>,
    f: &Fields<'_>,
    body: Body,
    file: &SourceFile,
    vocab: &Vocabulary,
) -> Option<Incident> {
    let title = req_string(ctx, f, "title", MAX_TITLE);
    let organization = req_string(ctx, f, "organization", MAX_TITLE);
    let date = f.required(ctx, "date").and_then(|n| date(ctx, n, "date"));
    let summary = req_string(ctx, f, "summary", MAX_SUMMARY);

    let mut sources = Vec::new();
    if let Some(node) = f.required(ctx, "sources") {
        if let Some(items) = list(ctx, node, "sources") {
            if items.is_empty() {
                ctx.error(node, "`sources` needs at least one source", None);
            }
            for item in items {
                if let Some(s) = source(ctx, item) {
                    sources.push(s);
                }
            }
        }
    }

    let mut platforms = Vec::new();
    if let Some(items) = f.get("platforms").and_then(|n| list(ctx, n, "platforms")) {
        for item in items {
            if let Some(p) = one_of(ctx, item, "platform", Platform::parse, Platform::SLUGS) {
                if !platforms.contains(&p) {
                    platforms.push(p);
                }
            }
        }
    }
    let kubernetes_version = opt_string(ctx, f, "kubernetes_version", 40);
    let environment = f.get("environment").and_then(|n| {
        one_of(
            ctx,
            n,
            "environment",
            Environment::parse,
            Environment::SLUGS,
        )
    });
    let impact = req_string(ctx, f, "impact", MAX_LINE);
    let impact_level = f.get("impact_level").and_then(|n| {
        one_of(
            ctx,
            n,
            "impact_level",
            ImpactLevel::parse,
            ImpactLevel::SLUGS,
        )
    });
    let duration_minutes = f.get("duration_minutes").and_then(|n| match &n.value {
        Value::Int(i) if (0..=MAX_DURATION_MINUTES).contains(i) => Some(*i as u32),
        _ => {
            ctx.error(
                n,
                format!(
                    "`duration_minutes` must be a whole number of minutes, found {}",
                    n.raw()
                        .map_or_else(|| n.kind_name().to_string(), |r| format!("`{r}`"))
                ),
                Some("e.g. `duration_minutes: 90` for an hour and a half".into()),
            );
            None
        }
    });
    let detection = f
        .get("detection")
        .and_then(|n| one_of(ctx, n, "detection", Detection::parse, Detection::SLUGS));

    let symptoms_node = f.required(ctx, "symptoms");
    let symptoms = if vocab.symptoms_known {
        slug_list(
            ctx,
            symptoms_node,
            "symptoms",
            "symptom",
            &vocab.symptoms,
            SYMPTOM_HELP,
            Some(&vocab.symptom_synonyms),
        )
    } else {
        // The vocabulary is broken; accept any well-formed slug, the file's own error
        // is what needs fixing.
        let any: BTreeSet<String> = symptoms_node
            .and_then(|n| match &n.value {
                Value::Seq(items) => Some(items.iter().filter_map(scalar_text).collect()),
                _ => None,
            })
            .unwrap_or_default();
        slug_list(
            ctx,
            symptoms_node,
            "symptoms",
            "symptom",
            &any,
            SYMPTOM_HELP,
            None,
        )
    };
    if let Some(n) = symptoms_node {
        if matches!(&n.value, Value::Seq(v) if v.is_empty()) {
            ctx.error(
                n,
                "`symptoms` needs at least one symptom",
                Some(SYMPTOM_HELP.into()),
            );
        }
    }
    let components = string_list(ctx, f, "components", true, 80);

    let trigger = f.required(ctx, "trigger").and_then(|n| {
        let t = Fields::open(ctx, n, "trigger", &names(TRIGGER))?;
        let kind = t.required(ctx, "type").and_then(|n| {
            one_of(
                ctx,
                n,
                "trigger type",
                TriggerType::parse,
                TriggerType::SLUGS,
            )
        });
        let description = req_string(ctx, &t, "description", MAX_SUMMARY);
        Some(Trigger {
            kind: kind?,
            description: description?,
        })
    });

    let mut contributing_failures = Vec::new();
    if let Some(node) = f.required(ctx, "contributing_failures") {
        if let Some(items) = list(ctx, node, "contributing_failures") {
            if items.is_empty() {
                ctx.error(
                    node,
                    "`contributing_failures` needs at least one failure",
                    None,
                );
            }
            for item in items {
                let Some(cf) = Fields::open(ctx, item, "contributing failure", &names(FAILURE))
                else {
                    continue;
                };
                let pattern = cf.required(ctx, "pattern").and_then(|n| {
                    reference(ctx, n, "pattern", &vocab.patterns, PATTERN_HELP, None)
                });
                let description = req_string(ctx, &cf, "description", MAX_SUMMARY);
                if let (Some(pattern), Some(description)) = (pattern, description) {
                    contributing_failures.push(ContributingFailure {
                        pattern,
                        description,
                    });
                }
            }
        }
    }

    let mut resolutions = Vec::new();
    match f.get("resolutions") {
        None => ctx.warning(
            1,
            1,
            "no `resolutions`: readers learn most from what was done about it",
            Some("add `resolutions:` with `action`, `status` (done, planned, considered) and the `patterns` it addresses".into()),
        ),
        Some(node) => {
            for item in list(ctx, node, "resolutions").unwrap_or_default() {
                let Some(r) = Fields::open(ctx, item, "resolution", &names(RESOLUTION)) else {
                    continue;
                };
                let action = req_string(ctx, &r, "action", MAX_SUMMARY);
                let status = r.required(ctx, "status").and_then(|n| {
                    one_of(ctx, n, "resolution status", ResolutionStatus::parse, ResolutionStatus::SLUGS)
                });
                let patterns = slug_list(ctx, r.get("patterns"), "patterns", "pattern", &vocab.patterns, PATTERN_HELP, None);
                if let (Some(action), Some(status)) = (action, status) {
                    resolutions.push(Resolution { action, status, patterns });
                }
            }
        }
    }

    let lessons = string_list(ctx, f, "lessons", false, MAX_SUMMARY);
    let id = stem(&file.rel_path).to_string();
    let related = slug_list(
        ctx,
        f.get("related"),
        "related",
        "incident",
        &vocab.incidents,
        INCIDENT_HELP,
        None,
    );
    if let (Some(pos), Some(node)) = (
        related.iter().position(|r| r.as_str() == id),
        f.get("related"),
    ) {
        let at = match &node.value {
            Value::Seq(items) => items.get(pos).unwrap_or(node),
            _ => node,
        };
        ctx.error(
            at,
            format!("`related` names this incident itself (`{id}`)"),
            None,
        );
    }
    let tags = string_list(ctx, f, "tags", false, 40);
    if tags.len() > MAX_TAGS {
        if let Some(n) = f.get("tags") {
            ctx.error(
                n,
                format!("{} tags; the limit is {MAX_TAGS}", tags.len()),
                None,
            );
        }
    }

    if !is_valid_slug(&id) {
        return None;
    }
    Some(Incident {
        id: Slug::parse(&id)?,
        path: file.rel_path.clone(),
        title: title?,
        organization: organization?,
        date: date?,
        summary: summary?,
        sources,
        platforms,
        kubernetes_version,
        environment,
        impact: impact?,
        impact_level,
        duration_minutes,
        detection,
        symptoms,
        components,
        trigger: trigger?,
        contributing_failures,
        resolutions,
        lessons,
        related,
        tags,
        body,
    })
}

fn source(ctx: &mut Ctx<'_>, node: &Node) -> Option<Source> {
    let s = Fields::open(ctx, node, "source", &names(SOURCE))?;
    let url_v = s.required(ctx, "url").and_then(|n| url(ctx, n, "url"));
    let title = opt_string(ctx, &s, "title", MAX_TITLE);
    let kind = s
        .get("type")
        .and_then(|n| one_of(ctx, n, "source type", SourceType::parse, SourceType::SLUGS));
    let venue = opt_string(ctx, &s, "venue", MAX_TITLE);
    let published = s.get("published").and_then(|n| date(ctx, n, "published"));
    let language = opt_string(ctx, &s, "language", 20);
    let archive_url = s
        .get("archive_url")
        .and_then(|n| url(ctx, n, "archive_url"));
    Some(Source {
        url: url_v?,
        title,
        kind,
        venue,
        published,
        language,
        archive_url,
    })
}

/// Validate one pattern file.
pub fn pattern(file: &SourceFile) -> (Option<Pattern>, Vec<Diagnostic>) {
    content_file(file, PATTERN_FIELDS, |ctx, f, body| {
        let title = req_string(ctx, f, "title", MAX_TITLE);
        let summary = req_string(ctx, f, "summary", MAX_LINE);
        let category = f
            .required(ctx, "category")
            .and_then(|n| one_of(ctx, n, "category", Category::parse, Category::SLUGS));
        Some(Pattern {
            slug: Slug::parse(stem(&file.rel_path))?,
            path: file.rel_path.clone(),
            title: title?,
            summary: summary?,
            category: category?,
            body,
        })
    })
}

/// Validate one free page.
pub fn page(file: &SourceFile) -> (Option<Page>, Vec<Diagnostic>) {
    content_file(file, PAGE_FIELDS, |ctx, f, body| {
        let title = req_string(ctx, f, "title", MAX_TITLE);
        let description = opt_string(ctx, f, "description", MAX_LINE);
        Some(Page {
            slug: Slug::parse(stem(&file.rel_path))?,
            path: file.rel_path.clone(),
            title: title?,
            description,
            body,
        })
    })
}

/// Validate `content/symptoms.yaml`: a list of `{slug, title, description, synonyms}`.
/// Returns every valid symptom (a broken entry does not hide the others) and the
/// slugs of all entries that named one, valid or not, for the vocabulary.
pub fn symptoms(file: &SourceFile) -> (Vec<Symptom>, BTreeSet<String>, Vec<Diagnostic>) {
    let index = LineIndex::new(&file.text);
    let mut ctx = Ctx {
        path: &file.rel_path,
        diags: Vec::new(),
    };
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    let root = match yaml::parse_document(&file.rel_path, &file.text, &index) {
        Ok(n) => n,
        Err(ds) => return (out, names, ds),
    };
    let Some(items) = list(&mut ctx, &root, "symptoms.yaml") else {
        return (out, names, ctx.diags);
    };
    let mut seen: Vec<(String, usize)> = Vec::new();
    for item in items {
        let Some(f) = Fields::open(&mut ctx, item, "symptom", SYMPTOM_FIELDS) else {
            continue;
        };
        let errors_before = ctx.diags.iter().filter(|d| d.is_error()).count();
        let slug_node = f.required(&mut ctx, "slug");
        let slug = slug_node.and_then(|n| {
            let s = string(&mut ctx, n, "slug", 100)?;
            names.insert(s.clone());
            if let Some((_, line)) = seen.iter().find(|(x, _)| *x == s) {
                ctx.error(n, format!("duplicate symptom `{s}` (first defined at line {line})"), None);
                return None;
            }
            seen.push((s.clone(), n.line));
            match Slug::parse(&s) {
                Some(slug) => Some(slug),
                None => {
                    ctx.error(
                        n,
                        format!("invalid symptom slug `{s}`"),
                        Some("slugs use lower-case letters, digits and single hyphens, e.g. `node-notready`".into()),
                    );
                    None
                }
            }
        });
        let title = req_string(&mut ctx, &f, "title", MAX_TITLE);
        let description = opt_string(&mut ctx, &f, "description", MAX_LINE);
        let synonyms = string_list(&mut ctx, &f, "synonyms", false, 80);
        let errors_after = ctx.diags.iter().filter(|d| d.is_error()).count();
        if errors_after == errors_before {
            if let (Some(slug), Some(title)) = (slug, title) {
                out.push(Symptom {
                    slug,
                    title,
                    description,
                    synonyms,
                });
            }
        }
    }
    (out, names, ctx.diags)
}

/// Validate `site.yaml`. `base_url` must be an absolute http(s) URL; its path becomes
/// the base path of every link.
pub fn site_config(file: &SourceFile) -> (Option<SiteConfig>, Vec<Diagnostic>) {
    let index = LineIndex::new(&file.text);
    let mut ctx = Ctx {
        path: &file.rel_path,
        diags: Vec::new(),
    };
    let root = match yaml::parse_document(&file.rel_path, &file.text, &index) {
        Ok(n) => n,
        Err(ds) => return (None, ds),
    };
    let Some(f) = Fields::open(&mut ctx, &root, "site.yaml", SITE_FIELDS) else {
        return (None, ctx.diags);
    };
    let f = Fields {
        line: 1,
        col: 1,
        ..f
    };
    let title = req_string(&mut ctx, &f, "title", MAX_TITLE);
    let description = opt_string(&mut ctx, &f, "description", MAX_LINE).unwrap_or_default();
    let base_url = f
        .required(&mut ctx, "base_url")
        .and_then(|n| url(&mut ctx, n, "base_url"));
    let repository = f
        .get("repository")
        .and_then(|n| url(&mut ctx, n, "repository"))
        .map(|r| r.trim_end_matches('/').to_string());
    let branch = opt_string(&mut ctx, &f, "branch", 100).unwrap_or_else(|| "main".into());
    let language = opt_string(&mut ctx, &f, "language", 20).unwrap_or_else(|| "en".into());
    let paginate_by = match f.get("paginate_by") {
        None => DEFAULT_PAGINATE_BY,
        Some(n) => match &n.value {
            Value::Int(i) if (5..=1000).contains(i) => *i as usize,
            _ => {
                ctx.error(
                    n,
                    "`paginate_by` must be a whole number from 5 to 1000",
                    Some(format!(
                        "it is how many incidents a list page shows; the default is {DEFAULT_PAGINATE_BY}"
                    )),
                );
                DEFAULT_PAGINATE_BY
            }
        },
    };
    if ctx.has_errors() {
        return (None, ctx.diags);
    }
    let built = (|| {
        let (base_url, base_path) = normalize_base_url(&base_url?);
        Some(SiteConfig {
            title: title?,
            description,
            base_url,
            base_path,
            repository,
            branch,
            language,
            paginate_by,
        })
    })();
    (built, ctx.diags)
}

/// `https://x.io/kb` → (`https://x.io/kb/`, `/kb/`). Query and fragment are dropped.
pub fn normalize_base_url(url: &str) -> (String, String) {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let mut url = url.to_string();
    if !url.ends_with('/') {
        url.push('/');
    }
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let path = url[after_scheme..]
        .find('/')
        .map_or("/", |i| &url[after_scheme + i..])
        .to_string();
    (url, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An incident that uses every field of [`INCIDENT`] and its nested tables, each key
    /// on its own line.
    const EVERY_FIELD: &str = "---
title: T
organization: O
date: 2019
summary: S
sources:
  - url: https://example.com/a
    title: A
    type: blog-post
    venue: V
    published: 2019
    language: en
    archive_url: https://web.archive.org/web/2019/https://example.com/a
platforms: [aws]
kubernetes_version: \"1.13\"
environment: production
impact: I
impact_level: degradation
duration_minutes: 5
detection: alert
symptoms: [s1]
components: [c]
trigger:
  type: unknown
  description: D
contributing_failures:
  - pattern: p1
    description: D
resolutions:
  - action: A
    status: done
    patterns: [p1]
lessons: [L]
related: [other]
tags: [t]
---
Body
";

    fn check_incident(text: &str) -> (Option<Incident>, Vec<Diagnostic>) {
        let vocab = Vocabulary {
            patterns: ["p1".to_string()].into(),
            symptoms: ["s1".to_string()].into(),
            incidents: ["other".to_string(), "x".to_string()].into(),
            symptoms_known: true,
            ..Vocabulary::default()
        };
        let file = SourceFile {
            rel_path: "content/incidents/x.md".into(),
            text: text.into(),
        };
        incident(&file, &vocab)
    }

    /// The field table is what the validator does: every field it lists is accepted,
    /// and leaving one out is an error exactly when the table marks it required.
    #[test]
    fn the_field_table_matches_the_validator() {
        let (inc, diags) = check_incident(EVERY_FIELD);
        assert!(inc.is_some() && diags.is_empty(), "{diags:?}");
        let tables: [(&str, &str, &[Field]); 5] = [
            ("", "front matter", INCIDENT),
            ("  - ", "source", SOURCE),
            ("  ", "trigger", TRIGGER),
            ("  - ", "contributing failure", FAILURE),
            ("  - ", "resolution", RESOLUTION),
        ];
        let mut seen = 0;
        for (indent, what, fields) in tables {
            for f in fields {
                // Rename the key on its line (`url:` → `zzurl:`); for nested tables the
                // key is the first of its item (`  - url:`) or indented by four.
                let lines: Vec<String> = EVERY_FIELD.lines().map(str::to_string).collect();
                let nested = format!("    {}:", f.name);
                let at = lines
                    .iter()
                    .position(|l| {
                        l.starts_with(&format!("{indent}{}:", f.name))
                            || (!indent.is_empty() && indent != "  " && l.starts_with(&nested))
                    })
                    .unwrap_or_else(|| panic!("{what} field `{}` is in EVERY_FIELD", f.name));
                let mut changed = lines.clone();
                changed[at] =
                    changed[at].replacen(&format!("{}:", f.name), &format!("zz{}:", f.name), 1);
                let text = changed.join("\n") + "\n";
                let (_, diags) = check_incident(&text);
                let missing = format!("missing required field `{}` in {what}", f.name);
                let reported = diags.iter().any(|d| d.message == missing);
                assert_eq!(
                    reported, f.required,
                    "{what} field `{}`: table says required={}, validator: {diags:#?}",
                    f.name, f.required
                );
                seen += 1;
            }
        }
        assert_eq!(
            seen,
            INCIDENT.len() + SOURCE.len() + TRIGGER.len() + FAILURE.len() + RESOLUTION.len()
        );
    }

    #[test]
    fn http_urls() {
        assert!(is_http_url("https://example.com/a?b#c"));
        assert!(is_http_url("http://127.0.0.1:8080/"));
        assert!(is_http_url("HTTPS://Example.com"));
        for bad in [
            "javascript:alert(1)",
            "ftp://x.org",
            "https://",
            "https:///x",
            "example.com",
            "https://exa mple.com",
            "https://a.com/\"><script>",
            "data:text/html,x",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            normalize_base_url("https://x.io/kb"),
            ("https://x.io/kb/".to_string(), "/kb/".to_string())
        );
        assert_eq!(
            normalize_base_url("https://x.io"),
            ("https://x.io/".to_string(), "/".to_string())
        );
    }
}
