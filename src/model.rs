//! The content model: validated domain types for incidents, patterns, symptoms, pages
//! and the site configuration.
//!
//! Holding one of these types means it is valid: [`crate::schema`] is the only place
//! that constructs them from front matter, collecting a diagnostic for every problem.
//! This module depends on no third-party crate except serde (for the JSON Schema-free
//! `Serialize` used by views and tests) and nothing else in the crate.

use std::fmt;
use std::hash::Hasher as _;

/// A validated identifier: `^[a-z0-9]+(-[a-z0-9]+)*$`, at most 100 characters.
/// Incident ids, pattern and symptom slugs, page slugs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    /// Longest accepted slug, in bytes.
    pub const MAX_LEN: usize = 100;

    /// Validate `s` as a slug.
    pub fn parse(s: &str) -> Option<Slug> {
        is_valid_slug(s).then(|| Slug(s.to_string()))
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `s` matches `^[a-z0-9]+(-[a-z0-9]+)*$` and is at most [`Slug::MAX_LEN`] long.
pub fn is_valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= Slug::MAX_LEN
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Turn free text into a URL-safe slug: ASCII letters and digits lower-cased, every
/// other run of characters becomes one `-`. Text with no ASCII letter or digit gets a
/// stable `x-<hex>` slug derived from its bytes, so every term still has a page.
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    out.truncate(80);
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        let mut h = Fnv1a::default();
        h.write(text.as_bytes());
        out = format!("x-{:08x}", h.finish() as u32);
    }
    out
}

/// 64-bit FNV-1a: stable across runs, platforms and Rust versions, unlike std's
/// `RandomState`, so it can name things in the output (slugs, content-hashed files)
/// and fingerprint inputs.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A date known to the year, month or day: `2019`, `2019-01` or `2019-01-15`.
///
/// Ordered chronologically, with a less precise date sorting before a more precise one
/// in the same period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartialDate {
    /// Four-digit year.
    pub year: u16,
    /// 1–12, when known.
    pub month: Option<u8>,
    /// 1–31 (valid for the month), when known.
    pub day: Option<u8>,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl PartialDate {
    /// Parse `YYYY`, `YYYY-MM` or `YYYY-MM-DD` strictly (real calendar days, years
    /// 1970–2100). Returns `None` for anything else.
    pub fn parse(s: &str) -> Option<PartialDate> {
        let parts: Vec<&str> = s.split('-').collect();
        let num = |p: &str, len: usize| -> Option<u32> {
            (p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        let year = num(parts.first()?, 4)?;
        if !(1970..=2100).contains(&year) {
            return None;
        }
        let year = year as u16;
        match parts.len() {
            1 => Some(PartialDate {
                year,
                month: None,
                day: None,
            }),
            2 | 3 => {
                let month = num(parts[1], 2)?;
                if !(1..=12).contains(&month) {
                    return None;
                }
                let month = month as u8;
                let day = if parts.len() == 3 {
                    let day = num(parts[2], 2)?;
                    if day < 1 || day > u32::from(days_in_month(year, month)) {
                        return None;
                    }
                    Some(day as u8)
                } else {
                    None
                };
                Some(PartialDate {
                    year,
                    month: Some(month),
                    day,
                })
            }
            _ => None,
        }
    }

    /// Machine form: `2019`, `2019-01` or `2019-01-15`.
    pub fn iso(&self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{:04}-{:02}-{:02}", self.year, m, d),
            (Some(m), None) => format!("{:04}-{:02}", self.year, m),
            _ => format!("{:04}", self.year),
        }
    }

    /// Reader form: `2019`, `January 2019` or `15 January 2019`.
    pub fn human(&self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{} {} {}", d, MONTHS[usize::from(m - 1)], self.year),
            (Some(m), None) => format!("{} {}", MONTHS[usize::from(m - 1)], self.year),
            _ => self.year.to_string(),
        }
    }

    /// RFC 3339 timestamp at midnight UTC of the first day the date can mean, for feeds
    /// and sitemaps (deterministic: never the build time).
    pub fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T00:00:00Z",
            self.year,
            self.month.unwrap_or(1),
            self.day.unwrap_or(1)
        )
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Declares a closed vocabulary: an enum with its YAML spelling and a reader label.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $slug:literal / $label:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* #[doc = $label] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            /// Every YAML spelling, in declaration order.
            pub const SLUGS: &'static [&'static str] = &[$($slug,)+];

            /// The value spelled `s` in YAML.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($slug => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The YAML spelling.
            pub fn slug(self) -> &'static str {
                match self {
                    $($name::$variant => $slug,)+
                }
            }

            /// The reader-facing label.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }
        }
    };
}

vocabulary! {
    /// What kind of write-up a source is.
    SourceType {
        BlogPost = "blog-post" / "Blog post",
        Postmortem = "postmortem" / "Postmortem",
        IncidentReport = "incident-report" / "Incident report",
        StatusPage = "status-page" / "Status page",
        Talk = "talk" / "Talk",
        Slides = "slides" / "Slides",
        Thread = "thread" / "Thread",
        Podcast = "podcast" / "Podcast",
    }
}

vocabulary! {
    /// Where the cluster ran.
    Platform {
        Aws = "aws" / "AWS",
        Eks = "eks" / "EKS",
        Gcp = "gcp" / "GCP",
        Gke = "gke" / "GKE",
        Azure = "azure" / "Azure",
        Aks = "aks" / "AKS",
        OnPrem = "on-prem" / "On-premises",
        Openstack = "openstack" / "OpenStack",
        Digitalocean = "digitalocean" / "DigitalOcean",
        Other = "other" / "Other platform",
    }
}

vocabulary! {
    /// Which environment failed.
    Environment {
        Production = "production" / "Production",
        Staging = "staging" / "Staging",
        Development = "development" / "Development",
        Ci = "ci" / "CI",
        NonProduction = "non-production" / "Non-production",
    }
}

vocabulary! {
    /// How bad it was for users.
    ImpactLevel {
        FullOutage = "full-outage" / "Full outage",
        PartialOutage = "partial-outage" / "Partial outage",
        Degradation = "degradation" / "Degradation",
        NoUserImpact = "no-user-impact" / "No user impact",
        NearMiss = "near-miss" / "Near miss",
    }
}

vocabulary! {
    /// How the incident was noticed.
    Detection {
        Alert = "alert" / "Alert",
        CustomerReport = "customer-report" / "Customer report",
        InternalUser = "internal-user" / "Internal user",
        ManualCheck = "manual-check" / "Manual check",
        Unknown = "unknown" / "Unknown",
    }
}

vocabulary! {
    /// What set the chain of failures off.
    TriggerType {
        CodeDeploy = "code-deploy" / "Code deploy",
        ConfigChange = "config-change" / "Configuration change",
        ClusterUpgrade = "cluster-upgrade" / "Cluster upgrade",
        InfraChange = "infra-change" / "Infrastructure change",
        NodeMaintenance = "node-maintenance" / "Node maintenance",
        AutoscalingEvent = "autoscaling-event" / "Autoscaling event",
        TrafficSpike = "traffic-spike" / "Traffic spike",
        BatchWorkload = "batch-workload" / "Batch workload",
        ProviderChange = "provider-change" / "Provider change",
        CapacityExhaustion = "capacity-exhaustion" / "Capacity exhaustion",
        HardwareFailure = "hardware-failure" / "Hardware failure",
        ManualOperation = "manual-operation" / "Manual operation",
        SecurityAttack = "security-attack" / "Security attack",
        LatentBug = "latent-bug" / "Latent bug",
        Unknown = "unknown" / "Unknown",
    }
}

vocabulary! {
    /// Where a resolution stands.
    ResolutionStatus {
        Done = "done" / "Done",
        Planned = "planned" / "Planned",
        Considered = "considered" / "Considered",
    }
}

vocabulary! {
    /// The family a failure pattern belongs to; the patterns index groups by it.
    Category {
        Resources = "resources" / "Resources",
        Scheduling = "scheduling" / "Scheduling",
        Networking = "networking" / "Networking",
        Dns = "dns" / "DNS",
        ControlPlane = "control-plane" / "Control plane",
        Observability = "observability" / "Observability",
        Security = "security" / "Security",
        ChangeManagement = "change-management" / "Change management",
        Storage = "storage" / "Storage",
        Upgrades = "upgrades" / "Upgrades",
        Organization = "organization" / "Organization",
    }
}

/// `site.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteConfig {
    /// Site title.
    pub title: String,
    /// One-sentence description (meta description, feed subtitle).
    pub description: String,
    /// Absolute base URL with a trailing slash, e.g. `https://org.github.io/kb/`.
    pub base_url: String,
    /// Path part of `base_url`, starting and ending with `/` (`/` or `/kb/`).
    pub base_path: String,
    /// Repository URL (for "edit this page" and "contribute" links), no trailing slash.
    pub repository: Option<String>,
    /// Branch the edit links point at.
    pub branch: String,
    /// BCP 47 language tag for `<html lang>`.
    pub language: String,
    /// Incidents per page on the home page and list pages (default
    /// [`crate::schema::DEFAULT_PAGINATE_BY`]).
    pub paginate_by: usize,
}

/// Where a story was told.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// http(s) URL of the write-up.
    pub url: String,
    /// Title of the write-up.
    pub title: Option<String>,
    /// Kind of write-up.
    pub kind: Option<SourceType>,
    /// Where it was published (blog, conference).
    pub venue: Option<String>,
    /// Publication date.
    pub published: Option<PartialDate>,
    /// Language of the write-up, when not the site's.
    pub language: Option<String>,
    /// An archived copy (http(s)).
    pub archive_url: Option<String>,
}

/// What set the incident off.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    /// Trigger category.
    pub kind: TriggerType,
    /// What happened, in a sentence or two.
    pub description: String,
}

/// One link of the failure chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ContributingFailure {
    /// The failure pattern this is an instance of.
    pub pattern: Slug,
    /// How it showed up in this incident.
    pub description: String,
}

/// Something done (or planned) about the incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// What was done.
    pub action: String,
    /// Whether it was done.
    pub status: ResolutionStatus,
    /// Patterns this action addresses.
    pub patterns: Vec<Slug>,
}

/// A validated incident (`content/incidents/<id>.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// File stem.
    pub id: Slug,
    /// Source path relative to the site root.
    pub path: String,
    /// Title of the story.
    pub title: String,
    /// Organization ("anonymous" allowed).
    pub organization: String,
    /// Incident date, else publication date.
    pub date: PartialDate,
    /// 1–3 sentences.
    pub summary: String,
    /// At least one.
    pub sources: Vec<Source>,
    /// Platforms, de-duplicated in written order.
    pub platforms: Vec<Platform>,
    /// Kubernetes version as written.
    pub kubernetes_version: Option<String>,
    /// Environment.
    pub environment: Option<Environment>,
    /// What users saw, one line.
    pub impact: String,
    /// Impact level.
    pub impact_level: Option<ImpactLevel>,
    /// Duration in minutes.
    pub duration_minutes: Option<u32>,
    /// How it was detected.
    pub detection: Option<Detection>,
    /// Symptom slugs (at least one, known).
    pub symptoms: Vec<Slug>,
    /// Components involved (at least one).
    pub components: Vec<String>,
    /// The trigger.
    pub trigger: Trigger,
    /// The chain of contributing failures, in order (at least one).
    pub contributing_failures: Vec<ContributingFailure>,
    /// Resolutions.
    pub resolutions: Vec<Resolution>,
    /// Lessons learned.
    pub lessons: Vec<String>,
    /// Explicitly related incident ids.
    pub related: Vec<Slug>,
    /// Free keywords.
    pub tags: Vec<String>,
    /// Markdown body.
    pub body: Body,
}

impl Incident {
    /// Distinct patterns of the failure chain, in chain order.
    pub fn patterns(&self) -> Vec<&Slug> {
        let mut seen: Vec<&Slug> = Vec::new();
        for cf in &self.contributing_failures {
            if !seen.contains(&&cf.pattern) {
                seen.push(&cf.pattern);
            }
        }
        seen
    }
}

/// The Markdown body of a content file, with where it starts in the file (so
/// Markdown diagnostics point at real lines).
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// The whole decoded file text.
    pub file_text: std::sync::Arc<str>,
    /// Byte offset of the body in `file_text`.
    pub offset: usize,
}

impl Body {
    /// The Markdown source of the body.
    pub fn markdown(&self) -> &str {
        &self.file_text[self.offset..]
    }
}

/// A failure pattern (`content/patterns/<slug>.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// File stem.
    pub slug: Slug,
    /// Source path relative to the site root.
    pub path: String,
    /// Name of the pattern.
    pub title: String,
    /// One line.
    pub summary: String,
    /// Category.
    pub category: Category,
    /// Markdown body.
    pub body: Body,
}

/// A symptom from `content/symptoms.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Symptom {
    /// Slug.
    pub slug: Slug,
    /// Reader label.
    pub title: String,
    /// One sentence: what a person sees.
    pub description: Option<String>,
    /// Other ways people say it (search synonyms).
    pub synonyms: Vec<String>,
}

/// A free page (`content/pages/<slug>.md`), served at `/<slug>/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// File stem.
    pub slug: Slug,
    /// Source path relative to the site root.
    pub path: String,
    /// Title.
    pub title: String,
    /// Meta description.
    pub description: Option<String>,
    /// Markdown body.
    pub body: Body,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(is_valid_slug("2019-jetstack-opa-webhook-outage"));
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", "é", "../x", "a/b"] {
            assert!(!is_valid_slug(bad), "{bad}");
        }
        assert!(!is_valid_slug(&"a".repeat(101)));
    }

    #[test]
    fn slugify_is_url_safe_and_stable() {
        assert_eq!(slugify("CoreDNS"), "coredns");
        assert_eq!(slugify("API server"), "api-server");
        assert_eq!(slugify("  NU.nl  "), "nu-nl");
        assert_eq!(slugify("`ndots:5`"), "ndots-5");
        let s = slugify("日本");
        assert!(s.starts_with("x-") && is_valid_slug(&s), "{s}");
        assert_eq!(s, slugify("日本"));
    }

    #[test]
    fn dates() {
        let d = PartialDate::parse("2019-01-15").expect("valid");
        assert_eq!(d.iso(), "2019-01-15");
        assert_eq!(d.human(), "15 January 2019");
        assert_eq!(PartialDate::parse("2019").expect("valid").human(), "2019");
        assert_eq!(
            PartialDate::parse("2019-02").expect("valid").rfc3339(),
            "2019-02-01T00:00:00Z"
        );
        assert!(PartialDate::parse("2020-02-29").is_some());
        for bad in [
            "2019-02-29",
            "2019-13",
            "2019-1",
            "19",
            "2019-01-32",
            "yesterday",
            "2019-01-01T00:00",
            "1969",
        ] {
            assert!(PartialDate::parse(bad).is_none(), "{bad}");
        }
        assert!(PartialDate::parse("2019").expect("v") < PartialDate::parse("2019-01").expect("v"));
    }

    #[test]
    fn vocabularies_round_trip() {
        for (v, s) in Platform::ALL.iter().zip(Platform::SLUGS) {
            assert_eq!(Platform::parse(s), Some(*v));
            assert_eq!(v.slug(), *s);
        }
        assert_eq!(TriggerType::SLUGS.len(), 15);
        assert_eq!(
            Category::parse("control-plane"),
            Some(Category::ControlPlane)
        );
    }
}
