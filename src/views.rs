//! View structs: exactly what templates see. This is the theme's contract.
//!
//! Every template is rendered with a context holding `site` ([`SiteView`]) and
//! `meta` ([`PageMeta`]) plus one page-specific value:
//!
//! | template | extra context |
//! |---|---|
//! | `index.html` | `home`: [`HomeView`] (paginated: `/`, `/page/2/`...) |
//! | `incident.html` | `incident`: [`IncidentView`] |
//! | `patterns.html` | `patterns`: [`PatternsView`] |
//! | `pattern.html` | `pattern`: [`PatternView`] |
//! | `taxonomy.html` | `taxonomy`: [`TaxonomyView`] (symptoms, components, organizations, platforms, years) |
//! | `term.html` | `term`: [`TermView`] (one symptom, component, organization, platform or year) |
//! | `page.html` | `content`: [`PageView`] (free pages from `content/pages/`) |
//! | `search.html` | `search`: [`SearchView`] (`/search/`; results come from `search.js`) |
//! | `404.html` | nothing else |
//! | `feed.xml` | `feed`: [`FeedView`] (Atom: the site's `/feed.xml` and each pattern's `/patterns/<slug>/feed.xml`) |
//! | `sitemap.xml` | `sitemap`: [`SitemapView`] |
//! | `robots.txt` | nothing else |
//!
//! Conventions: a field named `url` is a root-relative link that already includes the
//! site's base path (`/kb/incidents/x/`), so templates never build links by hand and a
//! site served under a sub-path works; `permalink` is the absolute URL (feeds,
//! canonical links). Strings are plain text: templates are `.html`/`.xml`, so tera
//! escapes them. Only the `*_html` fields are pre-rendered, sanitised HTML that
//! templates print with `| safe`.
//!
//! Views are built by [`crate::render`] from the model; they own no logic.

use serde::Serialize;

use crate::markdown::TocEntry;

/// Shared by every page: the site's identity and navigation.
#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    /// Site title.
    pub title: String,
    /// One-sentence description.
    pub description: String,
    /// Absolute base URL, trailing slash.
    pub base_url: String,
    /// Path part of the base URL, starting and ending with `/`.
    pub base_path: String,
    /// `<html lang>`.
    pub language: String,
    /// Repository URL, when configured.
    pub repository: Option<String>,
    /// Where "contribute a story" points: the contributing page if there is one,
    /// else the repository.
    pub contribute_url: Option<String>,
    /// Main navigation, in order.
    pub nav: Vec<NavLink>,
    /// Free pages (about, contributing...), sorted by title.
    pub pages: Vec<NavLink>,
    /// Site-wide counts.
    pub counts: SiteCounts,
    /// Root-relative URL of the stylesheet (with a content hash query for caching).
    pub stylesheet_url: String,
    /// Root-relative URL of the syntax-highlighting stylesheet.
    pub syntax_stylesheet_url: String,
    /// Root-relative URL of the Atom feed.
    pub feed_url: String,
    /// Root-relative URL of the search page (`/kb/search/`): the `action` of every
    /// search form (`GET`, one field `q`; filters are `pattern`, `symptom`, `platform`
    /// and `year`, each repeatable).
    pub search_url: String,
    /// Root-relative URL of the static search index, ending with `/` (the directory
    /// holding `meta.json`), which `search.js` loads.
    pub search_index_url: String,
    /// Root-relative URL of the search script (`search.js`, an ES module), with a
    /// content hash query covering it and `search-core.js`, which it imports with the
    /// same query.
    pub search_script_url: String,
    /// `blameless <version>`.
    pub generator: String,
}

/// A link in a navigation list.
#[derive(Debug, Clone, Serialize)]
pub struct NavLink {
    /// Link text.
    pub title: String,
    /// Root-relative URL.
    pub url: String,
    /// Key of the section, to mark the current one (`incidents`, `patterns`, ...).
    pub key: String,
}

/// Counts shown on the home page and in the footer.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SiteCounts {
    /// Incidents.
    pub incidents: usize,
    /// Failure patterns.
    pub patterns: usize,
    /// Symptoms in the vocabulary.
    pub symptoms: usize,
    /// Distinct components.
    pub components: usize,
    /// Distinct organizations.
    pub organizations: usize,
}

/// Per-page metadata for `<head>`.
#[derive(Debug, Clone, Serialize)]
pub struct PageMeta {
    /// `<title>` text (without the site title).
    pub title: String,
    /// Meta description.
    pub description: String,
    /// Absolute canonical URL.
    pub permalink: String,
    /// Root-relative URL of this page.
    pub url: String,
    /// Which navigation section this page belongs to (`home`, `incidents`,
    /// `patterns`, `symptoms`, `components`, `organizations`, `platforms`, `years`,
    /// `page`, `search`, `404`).
    pub section: String,
    /// The template's page kind (`home`, `incident`, `patterns`, `pattern`,
    /// `taxonomy`, `term`, `page`, `search`, `404`).
    pub kind: String,
}

/// A vocabulary value: its slug and reader label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    /// YAML spelling (for CSS classes and data attributes).
    pub slug: String,
    /// Reader label.
    pub label: String,
}

/// A linked term: a symptom, pattern, platform, component or organization chip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chip {
    /// Slug of the term.
    pub slug: String,
    /// Reader label.
    pub title: String,
    /// Root-relative URL of the term's page.
    pub url: String,
}

/// A term with how many incidents it has (taxonomy indexes, browse lists).
#[derive(Debug, Clone, Serialize)]
pub struct TermLink {
    /// Slug.
    pub slug: String,
    /// Reader label.
    pub title: String,
    /// Root-relative URL.
    pub url: String,
    /// Number of incidents.
    pub count: usize,
    /// One line about the term, when there is one (symptom description, pattern summary).
    pub description: Option<String>,
}

/// An incident as it appears in lists: home, taxonomy pages, pattern pages, feed.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentCard {
    /// Incident id.
    pub id: String,
    /// Root-relative URL.
    pub url: String,
    /// Absolute URL.
    pub permalink: String,
    /// Title.
    pub title: String,
    /// Organization chip.
    pub organization: Chip,
    /// `2019`, `2019-01` or `2019-01-15` (for `<time datetime>`).
    pub date: String,
    /// `January 2019`.
    pub date_human: String,
    /// RFC 3339 (feeds).
    pub date_rfc3339: String,
    /// Year.
    pub year: u16,
    /// 1–3 sentences.
    pub summary: String,
    /// What users saw.
    pub impact: String,
    /// Impact level.
    pub impact_level: Option<Label>,
    /// Symptom chips, as written.
    pub symptoms: Vec<Chip>,
    /// Pattern chips, distinct, in chain order.
    pub patterns: Vec<Chip>,
    /// Platform chips.
    pub platforms: Vec<Chip>,
}

/// A short reference to another incident (related lists).
#[derive(Debug, Clone, Serialize)]
pub struct IncidentRef {
    /// Incident id.
    pub id: String,
    /// Root-relative URL.
    pub url: String,
    /// Title.
    pub title: String,
    /// Organization name.
    pub organization: String,
    /// `January 2019`.
    pub date_human: String,
    /// `2019-01`.
    pub date: String,
    /// How many failure patterns it shares with the incident being shown.
    pub shared: usize,
}

/// Where a page stands in a paginated list (`paginate_by` in `site.yaml`).
#[derive(Debug, Clone, Serialize)]
pub struct Pagination {
    /// 1-based number of this page.
    pub current: usize,
    /// Number of pages (at least 1).
    pub total_pages: usize,
    /// Items in the whole list.
    pub total_items: usize,
    /// Items per page.
    pub per_page: usize,
    /// Previous page, if any.
    pub prev_url: Option<String>,
    /// Next page, if any.
    pub next_url: Option<String>,
    /// Every page.
    pub pages: Vec<PageLink>,
}

/// A link to one page of a paginated list.
#[derive(Debug, Clone, Serialize)]
pub struct PageLink {
    /// 1-based page number.
    pub number: usize,
    /// Root-relative URL.
    pub url: String,
    /// Whether this is the page being shown.
    pub current: bool,
}

/// The home page.
#[derive(Debug, Clone, Serialize)]
pub struct HomeView {
    /// This page's incidents: all incidents newest first, paginated.
    pub incidents: Vec<IncidentCard>,
    /// Pagination of the incident list (`/`, `/page/2/`, ...).
    pub pagination: Pagination,
    /// Browse entry points (patterns, symptoms, components, organizations, platforms,
    /// years) with their number of terms.
    pub browse: Vec<TermLink>,
    /// The most frequent patterns (up to 12).
    pub top_patterns: Vec<TermLink>,
    /// The most frequent symptoms (up to 12).
    pub top_symptoms: Vec<TermLink>,
    /// Years with incidents, newest first.
    pub years: Vec<TermLink>,
}

/// The trigger of an incident.
#[derive(Debug, Clone, Serialize)]
pub struct TriggerView {
    /// Trigger type.
    pub kind: Label,
    /// What happened.
    pub description: String,
}

/// One link of the failure chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainLink {
    /// 1-based position in the chain.
    pub step: usize,
    /// The pattern this failure is an instance of.
    pub pattern: Chip,
    /// The pattern's one-line summary.
    pub pattern_summary: String,
    /// How it showed up in this incident.
    pub description: String,
}

/// A resolution of an incident.
#[derive(Debug, Clone, Serialize)]
pub struct ResolutionView {
    /// What was done.
    pub action: String,
    /// done / planned / considered.
    pub status: Label,
    /// Patterns it addresses.
    pub patterns: Vec<Chip>,
}

/// A source of a story.
#[derive(Debug, Clone, Serialize)]
pub struct SourceView {
    /// URL (http or https).
    pub url: String,
    /// Title, or the URL's host when absent.
    pub title: String,
    /// Kind of write-up.
    pub kind: Option<Label>,
    /// Venue.
    pub venue: Option<String>,
    /// Publication date, human form.
    pub published: Option<String>,
    /// Publication date, machine form.
    pub published_iso: Option<String>,
    /// Language of the write-up.
    pub language: Option<String>,
    /// Archived copy.
    pub archive_url: Option<String>,
}

/// Other incidents that share one failure pattern with this one.
#[derive(Debug, Clone, Serialize)]
pub struct RelatedGroup {
    /// The shared pattern.
    pub pattern: Chip,
    /// Incidents with it, most shared patterns first, then newest (at most 6).
    pub incidents: Vec<IncidentRef>,
    /// How many more incidents have this pattern (see the pattern page).
    pub more: usize,
}

/// An incident page.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    /// Everything a list shows.
    #[serde(flatten)]
    pub card: IncidentCard,
    /// Kubernetes version as written.
    pub kubernetes_version: Option<String>,
    /// Environment.
    pub environment: Option<Label>,
    /// Duration in minutes.
    pub duration_minutes: Option<u32>,
    /// `2 h 30 min`.
    pub duration_human: Option<String>,
    /// How it was detected.
    pub detection: Option<Label>,
    /// The trigger: first link of the chain.
    pub trigger: TriggerView,
    /// Contributing failures, in order.
    pub chain: Vec<ChainLink>,
    /// Resolutions, in written order.
    pub resolutions: Vec<ResolutionView>,
    /// Component chips.
    pub components: Vec<Chip>,
    /// Free keywords.
    pub tags: Vec<String>,
    /// Lessons learned.
    pub lessons: Vec<String>,
    /// Sources.
    pub sources: Vec<SourceView>,
    /// The rendered body.
    pub body_html: String,
    /// h2/h3 headings of the body.
    pub toc: Vec<TocEntry>,
    /// "Edit this page" URL, when the site has a repository.
    pub edit_url: Option<String>,
    /// Source file relative to the site root.
    pub source_path: String,
    /// Incidents sharing a pattern, one group per pattern of this incident's chain.
    pub related_groups: Vec<RelatedGroup>,
    /// Explicit `related` links.
    pub related: Vec<IncidentRef>,
}

/// One pattern in the patterns index.
#[derive(Debug, Clone, Serialize)]
pub struct PatternSummary {
    /// Slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Root-relative URL.
    pub url: String,
    /// One line.
    pub summary: String,
    /// Incidents in which it contributed.
    pub count: usize,
}

/// A category of the patterns index.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryView {
    /// Category slug (anchor id).
    pub slug: String,
    /// Category label.
    pub title: String,
    /// Patterns, by title.
    pub patterns: Vec<PatternSummary>,
}

/// The patterns index, grouped by category.
#[derive(Debug, Clone, Serialize)]
pub struct PatternsView {
    /// Categories that have patterns, in vocabulary order.
    pub categories: Vec<CategoryView>,
    /// Number of patterns.
    pub count: usize,
}

/// An incident on a pattern page, with its own account of the pattern.
#[derive(Debug, Clone, Serialize)]
pub struct PatternIncident {
    /// The incident.
    pub incident: IncidentCard,
    /// How the pattern showed up there (the contributing failure's description;
    /// several joined when the chain names the pattern more than once).
    pub descriptions: Vec<String>,
}

/// A resolution used against a pattern, with the incident that used it.
#[derive(Debug, Clone, Serialize)]
pub struct PatternResolution {
    /// What was done.
    pub action: String,
    /// done / planned / considered.
    pub status: Label,
    /// The incident.
    pub incident: IncidentRef,
}

/// Another pattern that occurs in the same incidents.
#[derive(Debug, Clone, Serialize)]
pub struct CoPattern {
    /// The other pattern.
    pub pattern: Chip,
    /// In how many incidents both contributed.
    pub count: usize,
}

/// A pattern page.
#[derive(Debug, Clone, Serialize)]
pub struct PatternView {
    /// Slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// One line.
    pub summary: String,
    /// Category.
    pub category: Label,
    /// Root-relative URL of the category's section of the patterns index.
    pub category_url: String,
    /// Rendered explanation.
    pub body_html: String,
    /// h2/h3 headings of the body.
    pub toc: Vec<TocEntry>,
    /// "Edit this page" URL.
    pub edit_url: Option<String>,
    /// This page's incidents in which the pattern contributed, newest first.
    pub incidents: Vec<PatternIncident>,
    /// Pagination of the incident list (`patterns/x/page/2/`...). Only page 1
    /// carries the body, TOC and resolutions.
    pub pagination: Pagination,
    /// Resolutions those incidents aimed at this pattern, done first (at most 60,
    /// page 1 only).
    pub resolutions: Vec<PatternResolution>,
    /// How many resolutions aimed at this pattern there are in all (page 1 only).
    pub resolution_count: usize,
    /// Patterns it most often occurs with (at most 8), most frequent first (page 1
    /// only).
    pub co_occurring: Vec<CoPattern>,
    /// Root-relative URL of the pattern's Atom feed (`patterns/<slug>/feed.xml`).
    pub feed_url: String,
}

/// A taxonomy index: every symptom, component, organization, platform or year.
#[derive(Debug, Clone, Serialize)]
pub struct TaxonomyView {
    /// `symptoms`, `components`, `organizations`, `platforms` or `years`.
    pub kind: String,
    /// `Symptoms`.
    pub title: String,
    /// One sentence about this way of browsing.
    pub description: String,
    /// Terms: by count then title (years: newest first).
    pub terms: Vec<TermLink>,
}

/// One term's page: its incidents.
#[derive(Debug, Clone, Serialize)]
pub struct TermView {
    /// `symptoms`, `components`, ...
    pub kind: String,
    /// `Symptoms` (for the breadcrumb).
    pub kind_title: String,
    /// Root-relative URL of the taxonomy index.
    pub kind_url: String,
    /// The singular noun: `symptom`, `component`, `organization`, `platform`, `year`.
    pub singular: String,
    /// Slug.
    pub slug: String,
    /// Reader label.
    pub title: String,
    /// Description (symptoms).
    pub description: Option<String>,
    /// Other words for it (symptoms).
    pub synonyms: Vec<String>,
    /// This page's incidents, newest first.
    pub incidents: Vec<IncidentCard>,
    /// Pagination of the incident list.
    pub pagination: Pagination,
}

/// A free page.
#[derive(Debug, Clone, Serialize)]
pub struct PageView {
    /// Title.
    pub title: String,
    /// Rendered body.
    pub body_html: String,
    /// h2/h3 headings.
    pub toc: Vec<TocEntry>,
    /// "Edit this page" URL.
    pub edit_url: Option<String>,
}

/// The search page. Its results are drawn in the browser by `search.js` from the
/// static index; the page itself carries what works without script: the form and
/// ways to browse.
#[derive(Debug, Clone, Serialize)]
pub struct SearchView {
    /// The most frequent symptoms (up to 12), offered as starting points when there
    /// is no query or nothing matches.
    pub symptoms: Vec<TermLink>,
    /// The most frequent patterns (up to 12), likewise.
    pub patterns: Vec<TermLink>,
    /// Example queries for the empty state: what people type for the most frequent
    /// symptoms (`502`, `NotReady`...), at most 6.
    pub examples: Vec<SearchExample>,
}

/// An example query and the search page URL that runs it.
#[derive(Debug, Clone, Serialize)]
pub struct SearchExample {
    /// The query text.
    pub query: String,
    /// Root-relative URL of the search page with `?q=` the query (percent-encoded).
    pub url: String,
}

/// An Atom feed: the site's (`feed.xml`) or one failure pattern's
/// (`patterns/<slug>/feed.xml`), both rendered by the `feed.xml` template.
#[derive(Debug, Clone, Serialize)]
pub struct FeedView {
    /// Feed title: the site's, or `<pattern> · <site>`.
    pub title: String,
    /// Feed subtitle: the site's description, or the pattern's summary.
    pub subtitle: String,
    /// Atom `<id>`: the absolute URL of the page the feed follows.
    pub id: String,
    /// Absolute URL of the HTML page the feed follows (`rel="alternate"`).
    pub alternate_url: String,
    /// Absolute URL of the feed itself.
    pub self_url: String,
    /// RFC 3339 time of the newest entry (never the build time: output is
    /// deterministic).
    pub updated: String,
    /// The newest incidents (at most 50), newest first.
    pub entries: Vec<IncidentCard>,
}

/// The sitemap.
#[derive(Debug, Clone, Serialize)]
pub struct SitemapView {
    /// Every HTML page.
    pub urls: Vec<SitemapUrl>,
}

/// One sitemap entry.
#[derive(Debug, Clone, Serialize)]
pub struct SitemapUrl {
    /// Absolute URL.
    pub loc: String,
    /// `YYYY-MM-DD`, when the page has a date.
    pub lastmod: Option<String>,
}
