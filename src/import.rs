//! `blameless import`: turn an existing Markdown list of failure stories into one
//! incident file per story.
//!
//! Two list formats, each with its own parser producing [`Entry`]s and a diagnostic
//! (`list.md:line:col`) for everything it could not parse fully:
//! [`k8s_af`] (`* [Title - Org - medium year](url)` with `involved:`/`impact:`
//! sub-bullets) and [`danluu`] (`[Company](url). Description.` under category
//! headings). This module does the rest, the same for both: suggest symptoms and
//! failure patterns by keyword, skip stories whose source URL is already in
//! `content/incidents/` (so importing twice adds nothing), pick a free file name,
//! and write drafts that never overwrite a file.
//!
//! The drafts are honest: what the list says is filled in, suggestions carry a comment
//! naming the keyword that produced them, and what only a person can write (summary,
//! trigger, descriptions of each failure) is left empty, so `blameless check` lists
//! every field still to do at its line.

pub mod danluu;
pub mod k8s_af;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::diagnostics::Diagnostic;
use crate::model::{PartialDate, SourceType};
use crate::new::{incident_id, yaml_string};
use crate::{frontmatter, schema, source};

/// One story read from a list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Entry {
    /// 1-based line of the entry in the list file.
    pub line: usize,
    /// Title (unescaped, trimmed).
    pub title: String,
    /// Organization, when the list gives one.
    pub organization: Option<String>,
    /// Publication date as precise as the list gives it.
    pub date: Option<PartialDate>,
    /// Source URL.
    pub url: String,
    /// Kind of write-up, when the medium says.
    pub source_type: Option<SourceType>,
    /// Where it was published (`KubeCon Barcelona`, `Medium`), when the list says.
    pub venue: Option<String>,
    /// Components (`involved:`), cleaned, in order, without duplicates.
    pub components: Vec<String>,
    /// Impact line.
    pub impact: Option<String>,
    /// The list's own description (danluu), quoted in the body for a person to
    /// rewrite.
    pub description: Option<String>,
    /// Category heading the entry sits under (danluu).
    pub category: Option<String>,
}

/// What a parser read from a list.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Every story entry, in list order.
    pub entries: Vec<Entry>,
    /// Everything that could not be parsed fully, at its position in the list.
    pub diagnostics: Vec<Diagnostic>,
}

/// The list formats `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// hjacobs/kubernetes-failure-stories (k8s.af).
    K8sAf,
    /// danluu/post-mortems.
    Danluu,
}

impl Format {
    /// Name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::K8sAf => "k8s-af",
            Format::Danluu => "danluu",
        }
    }
}

/// The outcome of an import.
#[derive(Debug, Default)]
pub struct Report {
    /// Files written, relative to the root, in list order.
    pub created: Vec<String>,
    /// Entries skipped because their source URL is already in the collection (or
    /// earlier in the same list): `(list line, url, the file that has it)`.
    pub skipped: Vec<(usize, String, String)>,
    /// Problems with the list, at their positions, and notes on each draft's
    /// suggestions.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parse `text` (the list file at `list_path`) in `format`.
pub fn parse(format: Format, list_path: &str, text: &str) -> Parsed {
    match format {
        Format::K8sAf => k8s_af::parse(list_path, text),
        Format::Danluu => danluu::parse(list_path, text),
    }
}

/// Import `list` (already read) into the site at `root`.
pub fn import(root: &Path, format: Format, list_path: &str, text: &str) -> anyhow::Result<Report> {
    let sources = source::load(root)?;
    let dir = root.join("content").join("incidents");
    if !dir.is_dir() {
        anyhow::bail!(
            "no content/incidents/ directory in {} (is --root right?)",
            root.display()
        );
    }
    let rules = Rules::from_sources(&sources);
    let mut known_urls: Vec<(String, String)> = sources
        .incidents
        .iter()
        .flat_map(|f| {
            source_urls(&f.text)
                .into_iter()
                .map(|u| (canonical_url(&u), f.rel_path.clone()))
        })
        .collect();
    let mut taken: BTreeSet<String> = sources
        .incidents
        .iter()
        .map(|f| schema::stem(&f.rel_path).to_string())
        .chain(sources.failed.iter().map(|(_, s)| s.clone()))
        .collect();

    let parsed = parse(format, list_path, text);
    let mut report = Report {
        diagnostics: parsed.diagnostics,
        ..Report::default()
    };
    for entry in parsed.entries {
        let canonical = canonical_url(&entry.url);
        if let Some((_, file)) = known_urls.iter().find(|(u, _)| *u == canonical) {
            report
                .skipped
                .push((entry.line, entry.url.clone(), file.clone()));
            continue;
        }
        let year = entry.date.map_or(0, |d| d.year);
        let org = entry.organization.as_deref().unwrap_or("unknown");
        let base = if year == 0 {
            incident_id(0, org, &entry.title)
                .trim_start_matches("0-")
                .to_string()
        } else {
            incident_id(year, org, &entry.title)
        };
        let id = (1..)
            .map(|n| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                }
            })
            .find(|id| !taken.contains(id))
            .expect("an unbounded range has a free id");
        let rel = format!("content/incidents/{id}.md");
        let draft = draft(format, list_path, &entry, &rules);
        write_new(&dir.join(format!("{id}.md")), &draft.text)?;
        for note in draft.notes {
            report.diagnostics.push(
                Diagnostic::warning(list_path, entry.line, 1, note).with_help(format!("see {rel}")),
            );
        }
        taken.insert(id);
        known_urls.push((canonical, rel.clone()));
        report.created.push(rel);
    }
    crate::diagnostics::sort(&mut report.diagnostics);
    Ok(report)
}

fn write_new(path: &PathBuf, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("could not create {} (never overwritten)", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("could not write {}", path.display()))
}

/// The `url:` values of a content file's front matter (sources; `archive_url` is a
/// copy, not the story's identity).
fn source_urls(text: &str) -> Vec<String> {
    let index = crate::diagnostics::LineIndex::new(text);
    let Ok(split) = frontmatter::split("", text, &index) else {
        return Vec::new();
    };
    text[split.yaml_start..split.yaml_end]
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("- ").map_or(l, str::trim_start);
            l.strip_prefix("url:")
        })
        .map(|v| {
            let v = v.split(" #").next().unwrap_or(v).trim();
            v.trim_matches(['"', '\'']).to_string()
        })
        .filter(|v| !v.is_empty())
        .collect()
}

/// A URL reduced to what identifies the story: no scheme difference, no `www.`, no
/// fragment, no trailing slash, lower-case host.
pub fn canonical_url(url: &str) -> String {
    let url = url.trim();
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split('#').next().unwrap_or(rest);
    let (host, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    format!("{host}{}", path.trim_end_matches('/'))
}

/// Keyword rules: the site's symptom synonyms, and built-in keywords for the
/// patterns the site has.
struct Rules {
    /// `(keyword, symptom slug)`, keywords lower-case.
    symptoms: Vec<(String, String)>,
    /// `(keyword, pattern slug)`, keywords lower-case; only patterns that exist.
    patterns: Vec<(String, String)>,
}

/// Keywords that point at a failure pattern, from the k8s.af classification
/// (`/work/shared/research/domain.md`, section 5). A rule applies only when the
/// site has the pattern.
const PATTERN_KEYWORDS: &[(&str, &[&str])] = &[
    ("dns-ndots-amplification", &["ndots"]),
    ("conntrack-snat-race", &["conntrack", "snat", "dnat"]),
    (
        "cpu-limit-throttling",
        &["cpu throttling", "cfs", "cpu limits", "throttling"],
    ),
    ("cluster-dns-overload", &["coredns", "kube-dns", "dns"]),
    ("etcd-failure", &["etcd"]),
    ("runaway-jobs", &["cronjob", "cronjobs", "job"]),
    (
        "kubelet-runtime-unhealthy",
        &["pleg", "docker daemon", "notready", "kubelet"],
    ),
    (
        "apiserver-overload",
        &["api server", "apiserver", "kube-api-qps"],
    ),
    (
        "cni-networking-failure",
        &["cni", "flannel", "calico", "weave"],
    ),
    (
        "capacity-provisioning-failure",
        &[
            "cluster-autoscaler",
            "cluster autoscaler",
            "autoscaler",
            "spot",
        ],
    ),
    ("node-memory-exhaustion", &["systemoom", "memory pressure"]),
    ("container-oomkill", &["oomkill", "oomkilled", "oom"]),
    ("ingress-misconfiguration", &["ingress", "nginx-ingress"]),
    (
        "image-pull-registry",
        &["imagepullpolicy", "registry", "image pull"],
    ),
    (
        "probe-misconfiguration",
        &[
            "readinessprobe",
            "livenessprobe",
            "liveness",
            "readiness",
            "probe",
        ],
    ),
    (
        "pod-ip-exhaustion",
        &["ip exhaustion", "ip addresses", "pod cidr", "subnet"],
    ),
    (
        "pod-priority-preemption",
        &["priorityclass", "pod priority", "preemption"],
    ),
    ("admission-webhook-outage", &["webhook", "admission"]),
    (
        "graceful-shutdown-race",
        &["graceful shutdown", "prestop", "sigterm"],
    ),
    ("certificate-expiry", &["certificate", "cert"]),
    (
        "security-exposure",
        &["cryptominer", "crypto mining", "exposed dashboard"],
    ),
    (
        "load-balancer-traffic-policy",
        &["externaltrafficpolicy", "elb", "load balancer"],
    ),
    ("cluster-upgrade-breakage", &["upgrade"]),
    ("accidental-deletion", &["deleted", "deletion"]),
    ("monitoring-blind-spot", &["monitoring", "alerting"]),
    (
        "log-pipeline-loss",
        &["fluentd", "fluent-bit", "fluent bit", "logging"],
    ),
    ("scheduling-spof", &["anti-affinity", "single node"]),
    ("stateful-data-loss", &["data loss", "statefulset"]),
];

impl Rules {
    fn from_sources(sources: &source::Sources) -> Rules {
        let patterns_here: BTreeSet<String> = sources
            .patterns
            .iter()
            .map(|f| schema::stem(&f.rel_path).to_string())
            .collect();
        let mut patterns = Vec::new();
        for (slug, words) in PATTERN_KEYWORDS {
            if patterns_here.contains(*slug) {
                for w in *words {
                    patterns.push(((*w).to_string(), (*slug).to_string()));
                }
            }
        }
        let mut symptoms = Vec::new();
        if let Some(f) = &sources.symptoms {
            for s in schema::symptoms(f).0 {
                for name in s.synonyms.iter().chain([&s.title]) {
                    symptoms.push((name.to_lowercase(), s.slug.to_string()));
                }
                symptoms.push((s.slug.to_string().replace('-', " "), s.slug.to_string()));
            }
        }
        Rules { symptoms, patterns }
    }
}

/// `needle` occurs in `haystack` (both lower-case) between word boundaries; a plural
/// `s` is allowed (`502s` matches `502`).
fn has_word(haystack: &str, needle: &str) -> bool {
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    haystack.match_indices(needle).any(|(i, m)| {
        let after = &haystack[i + m.len()..];
        let after = after.strip_prefix('s').unwrap_or(after);
        boundary(haystack[..i].chars().next_back()) && boundary(after.chars().next())
    })
}

/// `(slug, keyword)` for each rule that matches `text`, first match per slug, in
/// rule order.
fn suggest(rules: &[(String, String)], text: &str) -> Vec<(String, String)> {
    let text = text.to_lowercase();
    let mut out: Vec<(String, String)> = Vec::new();
    for (word, slug) in rules {
        if !out.iter().any(|(s, _)| s == slug) && has_word(&text, word) {
            out.push((slug.clone(), word.clone()));
        }
    }
    out
}

struct Draft {
    text: String,
    /// What a person must look at, for the report.
    notes: Vec<String>,
}

fn draft(format: Format, list_path: &str, e: &Entry, rules: &Rules) -> Draft {
    let mut notes = Vec::new();
    let all_text = format!(
        "{} {} {} {}",
        e.title,
        e.components.join(", "),
        e.impact.as_deref().unwrap_or(""),
        e.description.as_deref().unwrap_or("")
    );
    let patterns = suggest(&rules.patterns, &all_text);
    let symptoms = suggest(&rules.symptoms, &all_text);
    let mut t = String::from("---\n");
    t.push_str(&format!(
        "# Imported by `blameless import {}` from {list_path}:{}. What the list said is filled in;\n",
        format.name(),
        e.line
    ));
    t.push_str(
        "# suggestions say which keyword produced them. Read the source, then fill in every\n",
    );
    t.push_str("# empty field: `blameless check` lists each one with its line.\n");
    t.push_str(&format!("title: {}\n", yaml_string(&e.title)));
    match &e.organization {
        Some(o) => t.push_str(&format!("organization: {}\n", yaml_string(o))),
        None => t.push_str("organization: \"\"  # the list does not say; `anonymous` is allowed\n"),
    }
    match e.date {
        Some(d) => t.push_str(&format!(
            "date: \"{}\"  # publication date from the list; use the incident date if the source gives it\n",
            d.iso()
        )),
        None => t.push_str("date: \"\"  # the list gives no date: YYYY, YYYY-MM or YYYY-MM-DD\n"),
    }
    t.push_str("summary: \"\"  # 1-3 sentences in your own words\n");
    t.push_str("sources:\n");
    t.push_str(&format!("  - url: {}\n", yaml_string(&e.url)));
    t.push_str(&format!("    title: {}\n", yaml_string(&e.title)));
    if let Some(k) = e.source_type {
        t.push_str(&format!("    type: {}\n", k.slug()));
    }
    if let Some(v) = &e.venue {
        t.push_str(&format!("    venue: {}\n", yaml_string(v)));
    }
    if let Some(d) = e.date {
        t.push_str(&format!("    published: \"{}\"\n", d.iso()));
    }
    match &e.impact {
        Some(i) => t.push_str(&format!("impact: {}\n", yaml_string(i))),
        None => t.push_str("impact: \"\"  # one line: what users saw\n"),
    }
    if symptoms.is_empty() {
        t.push_str("symptoms: []  # no keyword matched: pick from content/symptoms.yaml\n");
        notes.push(format!(
            "`{}`: no symptom keyword matched; classify by hand",
            e.title
        ));
    } else {
        let words: Vec<String> = symptoms.iter().map(|(_, w)| format!("`{w}`")).collect();
        let slugs: Vec<&str> = symptoms.iter().map(|(s, _)| s.as_str()).collect();
        t.push_str(&format!(
            "symptoms: [{}]  # suggested from {}; check them\n",
            slugs.join(", "),
            words.join(", ")
        ));
    }
    if e.components.is_empty() {
        t.push_str("components: []  # the software and services involved\n");
    } else {
        let items: Vec<String> = e.components.iter().map(|c| yaml_string(c)).collect();
        t.push_str(&format!("components: [{}]\n", items.join(", ")));
    }
    t.push_str(
        "trigger:\n  type: unknown  # what set it off; see CONTRIBUTING.md for the values\n",
    );
    t.push_str("  description: \"\"\n");
    t.push_str("contributing_failures:  # the chain of failures, in causal order\n");
    if patterns.is_empty() {
        t.push_str("  - pattern: \"\"  # no keyword rule matched: classify by hand\n");
        t.push_str("    description: \"\"\n");
        notes.push(format!(
            "`{}`: no failure-pattern keyword matched; marked for a person to classify",
            e.title
        ));
    } else {
        for (slug, word) in &patterns {
            t.push_str(&format!(
                "  - pattern: {slug}  # suggested by the keyword `{word}`; keep it only if the source bears it out\n"
            ));
            t.push_str("    description: \"\"  # how it showed up in this incident\n");
        }
    }
    t.push_str("---\n\n## Summary\n\n");
    t.push_str(&format!(
        "Imported from a list; read the original: [{}]({}).\n",
        markdown_text(&e.title),
        e.url.replace(' ', "%20").replace(')', "%29")
    ));
    if let Some(d) = &e.description {
        t.push_str(&format!(
            "\nThe list described it as follows (rewrite it in your own words, then delete this quote):\n\n> {}\n",
            markdown_text(d)
        ));
    }
    if let Some(c) = &e.category {
        t.push_str(&format!(
            "\nThe list filed it under *{}*.\n",
            markdown_text(c)
        ));
    }
    Draft { text: t, notes }
}

/// Text for a Markdown body: characters that Markdown or HTML would interpret are
/// escaped, so a title like `Oh Sh*t!` or `<script>` stays text.
fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '|' | '&' | '(' | ')'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// Helpers shared by the two list parsers.

/// Undo Markdown backslash escapes (`Sh\*t` → `Sh*t`) and drop code-span backticks.
pub(crate) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) if n.is_ascii_punctuation() => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '`' => {}
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `[text](url)` at the start of `s`: the link text (escapes respected, brackets
/// balanced), the URL (parentheses balanced) and the rest of the line.
pub(crate) fn link(s: &str) -> Option<(&str, &str, &str)> {
    let rest = s.strip_prefix('[')?;
    let mut depth = 0usize;
    let mut escaped = false;
    let mut text_end = None;
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' => depth += 1,
            ']' if depth == 0 => {
                text_end = Some(i);
                break;
            }
            ']' => depth -= 1,
            _ => {}
        }
    }
    let text_end = text_end?;
    let after = rest[text_end + 1..].strip_prefix('(')?;
    let mut depth = 0usize;
    for (i, c) in after.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => {
                let url = after[..i].trim();
                let url = url.split_whitespace().next().unwrap_or(url);
                let url = url.trim_start_matches('<').trim_end_matches('>');
                return Some((&rest[..text_end], url, &after[i + 1..]));
            }
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Straight and curly quotes that wrap a term (`"graceful shutdown"`, `“x”`).
pub(crate) fn strip_quotes(s: &str) -> &str {
    s.trim_matches(['"', '\'', '“', '”', '‘', '’']).trim()
}

/// A year (`/2017/`) in a URL's path, for lists that give no date.
pub(crate) fn year_in_url(url: &str) -> Option<PartialDate> {
    let path = url.split_once("://").map_or(url, |(_, r)| r);
    let path = &path[path.find('/')?..];
    path.split(['/', '-', '_', '.'])
        .filter(|p| p.len() == 4)
        .find_map(|p| PartialDate::parse(p).filter(|d| d.year >= 2000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_compared_by_what_identifies_the_story() {
        assert_eq!(
            canonical_url("https://www.Example.com/a/b/#top"),
            canonical_url("http://example.com/a/b")
        );
        assert_ne!(
            canonical_url("https://example.com/a"),
            canonical_url("https://example.com/b")
        );
    }

    #[test]
    fn keywords_match_whole_words_only() {
        assert!(has_word("the oom killer", "oom"));
        assert!(!has_word("a room with a view", "oom"));
        assert!(has_word("`ndots:5`", "ndots"));
        assert!(has_word("coredns, conntrack", "conntrack"));
        assert!(has_word("502s during deploys", "502"));
        assert!(!has_word("5021 requests", "502"));
    }

    #[test]
    fn links_with_escapes_brackets_and_parentheses() {
        assert_eq!(
            link("[Oh Sh\\*t! \\[x\\] - A - blog post 2019](https://e.com/a_(b)) trailing"),
            Some((
                "Oh Sh\\*t! \\[x\\] - A - blog post 2019",
                "https://e.com/a_(b)",
                " trailing"
            ))
        );
        assert_eq!(link("[no url]"), None);
        assert_eq!(unescape("Oh Sh\\*t! `ndots:5`"), "Oh Sh*t! ndots:5");
    }

    #[test]
    fn years_in_urls() {
        assert_eq!(
            year_in_url("https://blog.example.com/2017/03/outage").map(|d| d.iso()),
            Some("2017".into())
        );
        assert_eq!(year_in_url("https://example.com/post/1999-x"), None);
        assert_eq!(year_in_url("https://2019.example.com/"), None);
    }

    #[test]
    fn markdown_text_cannot_inject() {
        assert_eq!(markdown_text("<script>"), "\\<script\\>");
        assert_eq!(markdown_text("a*b"), "a\\*b");
    }
}
