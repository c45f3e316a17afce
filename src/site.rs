//! Cross-file assembly: the validated content of every file becomes one [`Site`] with
//! the indexes pages are built from (incidents by pattern, symptom, component,
//! organization, platform and year), the related-incident ranking and the pattern
//! co-occurrence counts.
//!
//! Pure: no I/O, no rendering. Cross-file problems that are not references (those
//! are checked during schema validation) are reported here: a pattern no incident
//! uses (warning), a page whose URL would collide with a section.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostics::Diagnostic;
use crate::model::{slugify, Incident, Page, Pattern, Platform, SiteConfig, Slug, Symptom};

/// A free-text term (component, organization) gathered from incidents.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The most frequent spelling (ties: the alphabetically first).
    pub title: String,
    /// Incidents (indexes into [`Site::incidents`]), newest first.
    pub incidents: Vec<usize>,
}

/// The whole validated site, with its indexes. Every index lists incidents by their
/// position in [`Site::incidents`], which is sorted newest first.
#[derive(Debug, Clone)]
pub struct Site {
    /// `site.yaml`.
    pub config: SiteConfig,
    /// Newest first (date descending, then id).
    pub incidents: Vec<std::sync::Arc<Incident>>,
    /// By slug.
    pub patterns: Vec<Pattern>,
    /// In vocabulary order.
    pub symptoms: Vec<Symptom>,
    /// By slug.
    pub pages: Vec<Page>,
    /// Pattern slug → incidents in which it contributed.
    pub by_pattern: BTreeMap<Slug, Vec<usize>>,
    /// Symptom slug → incidents.
    pub by_symptom: BTreeMap<Slug, Vec<usize>>,
    /// Component slug → term.
    pub components: BTreeMap<String, Term>,
    /// Organization slug → term.
    pub organizations: BTreeMap<String, Term>,
    /// Platform → incidents.
    pub platforms: BTreeMap<Platform, Vec<usize>>,
    /// Year → incidents.
    pub years: BTreeMap<u16, Vec<usize>>,
    /// Incident id → position in `incidents`.
    pub by_id: BTreeMap<Slug, usize>,
}

/// Other incidents sharing one pattern with an incident.
#[derive(Debug, Clone, PartialEq)]
pub struct RelatedByPattern {
    /// The shared pattern.
    pub pattern: Slug,
    /// `(incident, number of shared patterns)`, best first.
    pub incidents: Vec<(usize, usize)>,
    /// How many other incidents have the pattern in all.
    pub total: usize,
}

/// Top-level URL segments owned by the generator; a free page may not take one.
pub const RESERVED_PAGE_SLUGS: &[&str] = &[
    "incidents",
    "patterns",
    "symptoms",
    "components",
    "organizations",
    "platforms",
    "years",
    "search",
    "api",
    "static",
    "schema",
    "feed",
    "sitemap",
    "404",
    "index",
    "page",
];

/// Assemble the site from validated parts.
pub fn assemble(
    config: SiteConfig,
    mut incidents: Vec<std::sync::Arc<Incident>>,
    mut patterns: Vec<Pattern>,
    symptoms: Vec<Symptom>,
    mut pages: Vec<Page>,
) -> (Site, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    incidents.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
    patterns.sort_by(|a, b| a.slug.cmp(&b.slug));
    pages.sort_by(|a, b| a.slug.cmp(&b.slug));

    let mut by_pattern: BTreeMap<Slug, Vec<usize>> = patterns
        .iter()
        .map(|p| (p.slug.clone(), Vec::new()))
        .collect();
    let mut by_symptom: BTreeMap<Slug, Vec<usize>> = symptoms
        .iter()
        .map(|s| (s.slug.clone(), Vec::new()))
        .collect();
    let mut platforms: BTreeMap<Platform, Vec<usize>> = BTreeMap::new();
    let mut years: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
    let mut components = TermIndex::default();
    let mut organizations = TermIndex::default();

    for (i, inc) in incidents.iter().enumerate() {
        for p in inc.patterns() {
            by_pattern.entry(p.clone()).or_default().push(i);
        }
        for s in &inc.symptoms {
            by_symptom.entry(s.clone()).or_default().push(i);
        }
        for p in &inc.platforms {
            platforms.entry(*p).or_default().push(i);
        }
        years.entry(inc.date.year).or_default().push(i);
        let mut seen = BTreeSet::new();
        for c in &inc.components {
            if seen.insert(slugify(c)) {
                components.add(c, i);
            }
        }
        organizations.add(&inc.organization, i);
    }

    for p in &patterns {
        if by_pattern.get(&p.slug).is_none_or(Vec::is_empty) {
            diags.push(
                Diagnostic::note(
                    &p.path,
                    1,
                    1,
                    format!("no incident names the pattern `{}` yet", p.slug),
                )
                .with_help(
                    "its page invites a story; name it in an incident's `contributing_failures` when one fits",
                ),
            );
        }
    }
    // A page named like a section would overwrite it: report it and leave it out.
    pages.retain(|page| {
        let reserved = RESERVED_PAGE_SLUGS.contains(&page.slug.as_str());
        if reserved {
            diags.push(
                Diagnostic::error(
                    &page.path,
                    1,
                    1,
                    format!(
                        "page name `{}` is reserved: the site uses `/{}/` itself",
                        page.slug, page.slug
                    ),
                )
                .with_help("rename the file"),
            );
        }
        !reserved
    });

    let by_id = incidents
        .iter()
        .enumerate()
        .map(|(i, inc)| (inc.id.clone(), i))
        .collect();
    let site = Site {
        by_id,
        config,
        incidents,
        patterns,
        symptoms,
        pages,
        by_pattern,
        by_symptom,
        components: components.finish(),
        organizations: organizations.finish(),
        platforms,
        years,
    };
    (site, diags)
}

/// Gathers free-text terms under their slug, counting spellings.
#[derive(Default)]
struct TermIndex {
    terms: BTreeMap<String, (BTreeMap<String, usize>, Vec<usize>)>,
}

impl TermIndex {
    fn add(&mut self, text: &str, incident: usize) {
        let (spellings, list) = self.terms.entry(slugify(text)).or_default();
        *spellings.entry(text.to_string()).or_default() += 1;
        if list.last() != Some(&incident) {
            list.push(incident);
        }
    }

    fn finish(self) -> BTreeMap<String, Term> {
        self.terms
            .into_iter()
            .map(|(slug, (spellings, incidents))| {
                // max_by_key keeps the last maximum; iterate reversed so ties go to the
                // alphabetically first spelling.
                let title = spellings
                    .iter()
                    .rev()
                    .max_by_key(|(_, n)| **n)
                    .map(|(s, _)| s.clone())
                    .unwrap_or_default();
                (slug, Term { title, incidents })
            })
            .collect()
    }
}

impl Site {
    /// The pattern with this slug.
    pub fn pattern(&self, slug: &Slug) -> Option<&Pattern> {
        self.patterns
            .binary_search_by(|p| p.slug.cmp(slug))
            .ok()
            .map(|i| &self.patterns[i])
    }

    /// The symptom with this slug.
    pub fn symptom(&self, slug: &Slug) -> Option<&Symptom> {
        self.symptoms.iter().find(|s| &s.slug == slug)
    }

    /// Position of the incident with this id.
    pub fn incident_index(&self, id: &Slug) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// For incident `i`: for each pattern of its chain (in chain order), the other
    /// incidents with that pattern, ranked by how many patterns they share with `i`
    /// (most first), then newest first; at most `limit` of them, with the total count.
    ///
    /// Linear in the sizes of the pattern's incident lists (a dense counter, then a
    /// partial selection), so a 10,000-story site stays fast.
    pub fn related_by_pattern(&self, i: usize, limit: usize) -> Vec<RelatedByPattern> {
        let mine = self.incidents[i].patterns();
        let mut shared = vec![0u8; self.incidents.len()];
        for p in &mine {
            for &j in self
                .by_pattern
                .get(*p)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                shared[j] = shared[j].saturating_add(1);
            }
        }
        mine.into_iter()
            .filter_map(|p| {
                let list = self.by_pattern.get(p)?;
                // Newest first is index order; more shared patterns rank higher.
                let mut others: Vec<(std::cmp::Reverse<u8>, usize)> = list
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| (std::cmp::Reverse(shared[j]), j))
                    .collect();
                if others.is_empty() {
                    return None;
                }
                let total = others.len();
                if others.len() > limit && limit > 0 {
                    others.select_nth_unstable(limit - 1);
                }
                others.truncate(limit);
                others.sort_unstable();
                Some(RelatedByPattern {
                    pattern: p.clone(),
                    incidents: others
                        .into_iter()
                        .map(|(s, j)| (j, usize::from(s.0)))
                        .collect(),
                    total,
                })
            })
            .collect()
    }

    /// Patterns that contributed in the same incidents as `slug`, with how often,
    /// most frequent first, then by slug.
    pub fn co_occurring(&self, slug: &Slug) -> Vec<(Slug, usize)> {
        let mut counts: BTreeMap<&Slug, usize> = BTreeMap::new();
        for &i in self
            .by_pattern
            .get(slug)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            for p in self.incidents[i].patterns() {
                if p != slug {
                    *counts.entry(p).or_default() += 1;
                }
            }
        }
        let mut v: Vec<(Slug, usize)> = counts.into_iter().map(|(s, n)| (s.clone(), n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}
