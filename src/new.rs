//! `blameless new`: writes a contributor's template for a new incident, with every
//! field present and commented, and refuses to overwrite an existing file.
//!
//! The template lists the site's own symptom and pattern vocabularies in comments, so
//! a contributor can fill it without leaving the file, and it deliberately fails
//! `blameless check` until the placeholders are replaced (empty required fields are
//! reported with their line).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use crate::model::{slugify, PartialDate, SourceType, TriggerType};
use crate::{schema, source};

/// What `new` was asked for.
#[derive(Debug, Clone)]
pub struct NewIncident {
    /// Story title.
    pub title: String,
    /// Organization.
    pub organization: String,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; defaults to today's month.
    pub date: Option<String>,
    /// The write-up's URL, when known.
    pub source_url: Option<String>,
    /// Symptom slugs, checked against the site's vocabulary.
    pub symptoms: Vec<String>,
    /// Failure-pattern slugs of the chain, in order, checked against the vocabulary.
    pub patterns: Vec<String>,
}

/// The site's symptom and pattern slugs (empty when they cannot be read: the
/// template then lists none, and `check` explains why).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vocab {
    /// Symptom slugs, in file order.
    pub symptoms: Vec<String>,
    /// Pattern slugs, sorted.
    pub patterns: Vec<String>,
    /// The site's base URL, when `site.yaml` is valid.
    pub base_url: Option<String>,
}

/// Read the vocabularies of the site at `root`, best effort.
pub fn vocab(root: &Path) -> Vocab {
    match source::load(root) {
        Ok(s) => Vocab {
            base_url: schema::site_config(&s.site_config).0.map(|c| c.base_url),
            symptoms: s
                .symptoms
                .as_ref()
                .map(|f| schema::symptoms(f).1.into_iter().collect())
                .unwrap_or_default(),
            patterns: s
                .patterns
                .iter()
                .map(|f| schema::stem(&f.rel_path).to_string())
                .collect(),
        },
        Err(_) => Vocab::default(),
    }
}

/// `values` that are not in `known`, as an error naming the nearest known one.
fn check_slugs(what: &str, values: &[String], known: &[String]) -> anyhow::Result<()> {
    for v in values {
        if !known.contains(v) {
            let near = crate::suggest::did_you_mean(v, known.iter().map(String::as_str))
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            bail!("unknown {what} `{v}`{near}");
        }
    }
    Ok(())
}

/// Today's date in UTC (civil-from-days, Howard Hinnant's algorithm), so the default
/// date needs no time-zone database.
fn today() -> PartialDate {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    PartialDate {
        year: y as u16,
        month: Some(m as u8),
        day: Some(d as u8),
    }
}

/// The id for a new story: `<year>-<org>-<title>`, slugified, at most 80 characters,
/// cut at a word boundary.
pub fn incident_id(year: u16, organization: &str, title: &str) -> String {
    let mut id = format!("{year}-{}-{}", slugify(organization), slugify(title));
    if id.len() > 80 {
        let cut = id[..80].rfind('-').unwrap_or(80);
        id.truncate(cut);
    }
    id
}

/// Write the template into `content/incidents/` and return its path.
pub fn create(root: &Path, req: &NewIncident) -> anyhow::Result<PathBuf> {
    let title = req.title.trim();
    if title.is_empty() {
        bail!("the title must not be empty");
    }
    let org = req.organization.trim();
    if org.is_empty() {
        bail!("--org must not be empty (use `anonymous` if the organization is not named)");
    }
    if title.chars().any(char::is_control) || org.chars().any(char::is_control) {
        bail!("the title and --org must be plain text without control characters");
    }
    let date = match &req.date {
        Some(d) => PartialDate::parse(d.trim())
            .with_context(|| format!("invalid --date `{d}`: write YYYY, YYYY-MM or YYYY-MM-DD"))?,
        None => {
            let t = today();
            PartialDate { day: None, ..t }
        }
    };
    if let Some(url) = &req.source_url {
        if !schema::is_http_url(url.trim()) {
            bail!("--url must be an http(s) URL, found `{url}`");
        }
    }
    let vocab = vocab(root);
    check_slugs("symptom", &req.symptoms, &vocab.symptoms)?;
    check_slugs("pattern", &req.patterns, &vocab.patterns)?;
    let id = incident_id(date.year, org, title);
    let dir = root.join("content").join("incidents");
    if !dir.is_dir() {
        bail!(
            "no content/incidents/ directory in {} (is --root right?)",
            root.display()
        );
    }
    let path = dir.join(format!("{id}.md"));
    let text = template(root, &vocab, req, title, org, &date);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| {
            if path.exists() {
                format!(
                    "{} already exists; edit it, or choose another title",
                    path.display()
                )
            } else {
                format!("could not create {}", path.display())
            }
        })?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("could not write {}", path.display()))?;
    Ok(path)
}

/// Where editors find the JSON Schema: the repository's checked-in copy (relative to
/// `content/incidents/<id>.md`, so it works offline and matches this checkout's
/// vocabularies), else the copy the built site publishes.
fn schema_url(root: &Path, base_url: Option<&str>) -> Option<String> {
    if root.join(crate::docs::SCHEMA_FILE).is_file() {
        Some(format!("../../{}", crate::docs::SCHEMA_FILE))
    } else {
        base_url.map(|b| format!("{b}{}", crate::jsonschema::PATH))
    }
}

/// A YAML double-quoted string. Control characters (never meaningful in a title or
/// URL) are dropped, so the result is always one valid line of YAML.
pub(crate) fn yaml_string(s: &str) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    format!("\"{}\"", clean.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Wrap a comma-separated list into `# ` comment lines of about 88 columns.
fn comment_list(prefix: &str, items: &[String]) -> String {
    let mut out = String::new();
    let mut line = format!("#   {prefix}");
    for (n, item) in items.iter().enumerate() {
        let piece = if n + 1 == items.len() {
            item.clone()
        } else {
            format!("{item}, ")
        };
        if line.len() + piece.len() > 88 {
            out.push_str(line.trim_end());
            out.push('\n');
            line = "#     ".to_string();
        }
        line.push_str(&piece);
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

fn template(
    root: &Path,
    vocab: &Vocab,
    req: &NewIncident,
    title: &str,
    org: &str,
    date: &PartialDate,
) -> String {
    let (symptoms, patterns, base_url) = (&vocab.symptoms, &vocab.patterns, vocab.base_url.clone());
    let list = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    let mut t = String::new();
    t.push_str("---\n");
    if let Some(url) = schema_url(root, base_url.as_deref()) {
        // Editors with yaml-language-server complete and check the fields as you type.
        t.push_str(&format!("# yaml-language-server: $schema={url}\n"));
    }
    t.push_str(
        "# The story's front matter. Required fields are marked; `blameless check` explains\n",
    );
    t.push_str("# every problem with file:line:col. Field reference: CONTRIBUTING.md.\n");
    t.push_str(&format!("title: {}  # required\n", yaml_string(title)));
    t.push_str(&format!(
        "organization: {}  # required; \"anonymous\" is fine\n",
        yaml_string(org)
    ));
    t.push_str(&format!(
        "date: \"{}\"  # required: incident date (else publication date): YYYY, YYYY-MM or YYYY-MM-DD\n",
        date.iso()
    ));
    t.push_str("summary: \"\"  # required: 1-3 sentences for lists and feeds, in your own words\n");
    t.push_str("sources:  # required, at least one\n");
    match &req.source_url {
        Some(url) => t.push_str(&format!("  - url: {}\n", yaml_string(url.trim()))),
        None => t.push_str("  - url: \"\"  # required: http(s) link to the write-up\n"),
    }
    t.push_str("    title: \"\"\n");
    t.push_str("    type: blog-post\n");
    t.push_str(&comment_list("type is one of: ", &list(SourceType::SLUGS)));
    t.push_str("    venue: \"\"  # e.g. company blog, Medium, KubeCon\n");
    t.push_str("    published: \"\"  # YYYY, YYYY-MM or YYYY-MM-DD\n");
    t.push_str("    # language: de  # when the write-up is not in English\n");
    t.push_str("    # archive_url: https://web.archive.org/...  # an archived copy\n");
    t.push_str("platforms: []  # aws, eks, gcp, gke, azure, aks, on-prem, openstack, digitalocean, other\n");
    t.push_str("# kubernetes_version: \"1.27\"  # quote it, so 1.30 stays 1.30\n");
    t.push_str("environment: production  # production, staging, development, ci, non-production\n");
    t.push_str("impact: \"\"  # required: one line, what users saw\n");
    t.push_str("impact_level: partial-outage  # full-outage, partial-outage, degradation, no-user-impact, near-miss\n");
    t.push_str("# duration_minutes: 90\n");
    t.push_str(
        "detection: unknown  # alert, customer-report, internal-user, manual-check, unknown\n",
    );
    t.push_str(&format!(
        "symptoms: [{}]  # required, at least one:\n",
        req.symptoms.join(", ")
    ));
    t.push_str(&comment_list("", symptoms));
    t.push_str(
        "components: []  # required, at least one: e.g. [kubelet, CoreDNS, nginx-ingress]\n",
    );
    t.push_str("trigger:  # required: what set it off\n");
    t.push_str("  type: unknown\n");
    t.push_str(&comment_list("type is one of: ", &list(TriggerType::SLUGS)));
    t.push_str("  description: \"\"\n");
    t.push_str(
        "contributing_failures:  # required: the chain of failures, in order, not one root cause\n",
    );
    match req.patterns.split_first() {
        None => t.push_str("  - pattern: \"\"  # a failure pattern:\n"),
        Some((first, _)) => t.push_str(&format!("  - pattern: {first}  # a failure pattern:\n")),
    }
    t.push_str(&comment_list("", patterns));
    t.push_str("    description: \"\"  # how it showed up in this incident\n");
    for p in req.patterns.iter().skip(1) {
        t.push_str(&format!("  - pattern: {p}\n"));
        t.push_str("    description: \"\"\n");
    }
    t.push_str("resolutions:  # what was done or planned about it\n");
    t.push_str("  - action: \"\"\n");
    t.push_str("    status: done  # done, planned, considered\n");
    t.push_str("    patterns: []  # the patterns this action addresses\n");
    t.push_str("lessons: []  # what others can learn, one sentence each\n");
    t.push_str("related: []  # ids of related stories (file names without .md)\n");
    t.push_str("tags: []  # free keywords\n");
    t.push_str("---\n\n");
    t.push_str("## Summary\n\nWhat happened, in your own words.\n\n");
    t.push_str("## Timeline\n\nWhat is known about when things happened.\n\n");
    t.push_str("## Analysis\n\nHow the contributing failures combined.\n\n");
    t.push_str("## Lessons\n\nWhat others can take away.\n");
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_slugs_and_bounded() {
        assert_eq!(
            incident_id(2019, "NU.nl", "ElastAlert took down nodes"),
            "2019-nu-nl-elastalert-took-down-nodes"
        );
        let long = incident_id(2020, "Org", &"word ".repeat(40));
        assert!(
            long.len() <= 80 && crate::model::is_valid_slug(&long),
            "{long}"
        );
    }

    #[test]
    fn today_is_plausible() {
        let t = today();
        assert!(t.year >= 2024 && t.month.is_some());
    }
}
