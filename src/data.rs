//! The data files for others: `/incidents.json` (every incident's structured fields)
//! and `/incidents.ndjson` (the same records, one per line, for bulk loading into
//! Elasticsearch, OpenSearch or Quickwit). The format is documented in
//! `docs/data.md`; this module is its only producer.
//!
//! In: the assembled [`Site`]. Out: [`OutputFile`]s. Pure: no disk, no clock, no
//! hash-map iteration, so the bytes are a function of the content. Keys come out in
//! the order the record structs declare them, and absent optional values are
//! explicit `null`s (lists are `[]`), so every record has the same keys.

use serde::Serialize;

use crate::model::{Incident, PartialDate};
use crate::output::OutputFile;
use crate::site::Site;

/// Version of the record format in `incidents.json`. Bumped only for changes that
/// remove or change the meaning of a field; new fields keep the version.
pub const FORMAT_VERSION: u32 = 1;

/// The files this module writes, at the root of the site.
pub const PATHS: [&str; 2] = ["incidents.json", "incidents.ndjson"];

/// `incidents.json`: the envelope around every record.
#[derive(Debug, Serialize)]
pub struct Export<'a> {
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// `blameless <version>`.
    pub generator: &'a str,
    /// The site the records come from.
    pub site: ExportSite<'a>,
    /// Number of records.
    pub count: usize,
    /// Every incident, newest first (then by id).
    pub incidents: Vec<Record<'a>>,
}

/// The site in the envelope.
#[derive(Debug, Serialize)]
pub struct ExportSite<'a> {
    /// Site title.
    pub title: &'a str,
    /// Absolute base URL, trailing slash.
    pub base_url: &'a str,
}

/// One incident, as published.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    /// The incident id (file stem); unique, stable, a good document id.
    pub id: &'a str,
    /// Absolute URL of the incident's page.
    pub url: String,
    /// Title.
    pub title: &'a str,
    /// Organization (`anonymous` allowed).
    pub organization: &'a str,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, as precise as known.
    pub date: String,
    /// The year of `date`, for range queries and histograms.
    pub year: u16,
    /// The first instant `date` can mean (RFC 3339, UTC), for date fields.
    pub date_start: String,
    /// 1–3 sentences.
    pub summary: &'a str,
    /// What users saw.
    pub impact: &'a str,
    /// Impact level slug, or null.
    pub impact_level: Option<&'static str>,
    /// Duration in minutes, or null.
    pub duration_minutes: Option<u32>,
    /// Detection slug, or null.
    pub detection: Option<&'static str>,
    /// Environment slug, or null.
    pub environment: Option<&'static str>,
    /// Platform slugs.
    pub platforms: Vec<&'static str>,
    /// Kubernetes version as written, or null.
    pub kubernetes_version: Option<&'a str>,
    /// Symptom slugs.
    pub symptoms: Vec<&'a str>,
    /// Components as written.
    pub components: &'a [String],
    /// Distinct pattern slugs of the failure chain, in chain order.
    pub patterns: Vec<&'a str>,
    /// The trigger.
    pub trigger: RecordTrigger<'a>,
    /// The failure chain, in causal order.
    pub contributing_failures: Vec<RecordFailure<'a>>,
    /// Resolutions.
    pub resolutions: Vec<RecordResolution<'a>>,
    /// Lessons.
    pub lessons: &'a [String],
    /// Ids of explicitly related incidents.
    pub related: Vec<&'a str>,
    /// Free keywords.
    pub tags: &'a [String],
    /// Where the story was told.
    pub sources: Vec<RecordSource<'a>>,
    /// The content file, relative to the site root.
    pub source_path: &'a str,
}

/// The trigger of a record.
#[derive(Debug, Serialize)]
pub struct RecordTrigger<'a> {
    /// Trigger type slug.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// What happened.
    pub description: &'a str,
}

/// One link of a record's failure chain.
#[derive(Debug, Serialize)]
pub struct RecordFailure<'a> {
    /// Pattern slug.
    pub pattern: &'a str,
    /// How it showed up.
    pub description: &'a str,
}

/// One resolution of a record.
#[derive(Debug, Serialize)]
pub struct RecordResolution<'a> {
    /// What was done.
    pub action: &'a str,
    /// Status slug.
    pub status: &'static str,
    /// Pattern slugs it addresses.
    pub patterns: Vec<&'a str>,
}

/// One source of a record.
#[derive(Debug, Serialize)]
pub struct RecordSource<'a> {
    /// URL of the write-up.
    pub url: &'a str,
    /// Title, or null.
    pub title: Option<&'a str>,
    /// Source type slug, or null.
    #[serde(rename = "type")]
    pub kind: Option<&'static str>,
    /// Venue, or null.
    pub venue: Option<&'a str>,
    /// Publication date (`YYYY[-MM[-DD]]`), or null.
    pub published: Option<String>,
    /// Language tag, or null.
    pub language: Option<&'a str>,
    /// Archived copy, or null.
    pub archive_url: Option<&'a str>,
}

/// The record of one incident; `base_url` makes its `url` absolute.
pub fn record<'a>(inc: &'a Incident, base_url: &str) -> Record<'a> {
    let iso = |d: &PartialDate| d.iso();
    Record {
        id: inc.id.as_str(),
        url: format!("{base_url}incidents/{}/", inc.id),
        title: &inc.title,
        organization: &inc.organization,
        date: inc.date.iso(),
        year: inc.date.year,
        date_start: inc.date.rfc3339(),
        summary: &inc.summary,
        impact: &inc.impact,
        impact_level: inc.impact_level.map(|v| v.slug()),
        duration_minutes: inc.duration_minutes,
        detection: inc.detection.map(|v| v.slug()),
        environment: inc.environment.map(|v| v.slug()),
        platforms: inc.platforms.iter().map(|p| p.slug()).collect(),
        kubernetes_version: inc.kubernetes_version.as_deref(),
        symptoms: inc.symptoms.iter().map(|s| s.as_str()).collect(),
        components: &inc.components,
        patterns: inc.patterns().into_iter().map(|p| p.as_str()).collect(),
        trigger: RecordTrigger {
            kind: inc.trigger.kind.slug(),
            description: &inc.trigger.description,
        },
        contributing_failures: inc
            .contributing_failures
            .iter()
            .map(|cf| RecordFailure {
                pattern: cf.pattern.as_str(),
                description: &cf.description,
            })
            .collect(),
        resolutions: inc
            .resolutions
            .iter()
            .map(|r| RecordResolution {
                action: &r.action,
                status: r.status.slug(),
                patterns: r.patterns.iter().map(|p| p.as_str()).collect(),
            })
            .collect(),
        lessons: &inc.lessons,
        related: inc.related.iter().map(|r| r.as_str()).collect(),
        tags: &inc.tags,
        sources: inc
            .sources
            .iter()
            .map(|s| RecordSource {
                url: &s.url,
                title: s.title.as_deref(),
                kind: s.kind.map(|k| k.slug()),
                venue: s.venue.as_deref(),
                published: s.published.as_ref().map(iso),
                language: s.language.as_deref(),
                archive_url: s.archive_url.as_deref(),
            })
            .collect(),
        source_path: &inc.path,
    }
}

/// One record serialised for both files: its `incidents.ndjson` line (newline
/// included) and its element of `incidents.json`'s list, indented as the pretty
/// printer indents it there. A long-lived process keeps these per incident, so a
/// rebuild after a one-story edit serialises one record, not all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordText {
    /// The compact record and a newline.
    pub line: String,
    /// The pretty record, every line indented by the envelope's two levels.
    pub element: String,
}

/// The [`RecordText`] of one incident.
pub fn record_text(inc: &Incident, base_url: &str) -> anyhow::Result<RecordText> {
    let r = record(inc, base_url);
    let mut line = serde_json::to_string(&r)?;
    line.push('\n');
    let pretty = serde_json::to_string_pretty(&r)?;
    // In the envelope a record sits two levels deep. JSON strings never hold a raw
    // newline, so every line of the output is one of the printer's own.
    let mut element = String::with_capacity(pretty.len() + pretty.len() / 4);
    for (k, l) in pretty.split('\n').enumerate() {
        if k > 0 {
            element.push('\n');
        }
        element.push_str("    ");
        element.push_str(l);
    }
    Ok(RecordText { line, element })
}

/// `incidents.json` and `incidents.ndjson`.
pub fn files(site: &Site, generator: &str) -> anyhow::Result<Vec<OutputFile>> {
    use rayon::prelude::*;
    let base_url = &site.config.base_url;
    let texts: Vec<RecordText> = site
        .incidents
        .par_iter()
        .map(|i| record_text(i, base_url))
        .collect::<anyhow::Result<_>>()?;
    let texts: Vec<&RecordText> = texts.iter().collect();
    files_from(site, generator, &texts)
}

/// `incidents.json` and `incidents.ndjson` from every incident's [`RecordText`], in
/// site order: the bytes [`files`] gives.
pub fn files_from(
    site: &Site,
    generator: &str,
    records: &[&RecordText],
) -> anyhow::Result<Vec<OutputFile>> {
    let envelope = Export {
        version: FORMAT_VERSION,
        generator,
        site: ExportSite {
            title: &site.config.title,
            base_url: &site.config.base_url,
        },
        count: records.len(),
        incidents: Vec::new(),
    };
    Ok(vec![
        OutputFile {
            path: PATHS[0].into(),
            bytes: pretty_export(&envelope, records)?,
        },
        OutputFile {
            path: PATHS[1].into(),
            bytes: records.iter().flat_map(|r| r.line.bytes()).collect(),
        },
    ])
}

/// `serde_json::to_vec_pretty` of `envelope` with `records` as its incidents, from
/// the records' elements (the envelope is printed with an empty list, which is then
/// opened up).
fn pretty_export(envelope: &Export<'_>, records: &[&RecordText]) -> anyhow::Result<Vec<u8>> {
    let mut json = serde_json::to_vec_pretty(envelope)?;
    if !records.is_empty() {
        let tail = b"[]\n}";
        anyhow::ensure!(json.ends_with(tail), "incidents.json: unexpected envelope");
        json.truncate(json.len() - tail.len());
        json.extend_from_slice(b"[\n");
        for (k, r) in records.iter().enumerate() {
            if k > 0 {
                json.extend_from_slice(b",\n");
            }
            json.extend_from_slice(r.element.as_bytes());
        }
        json.extend_from_slice(b"\n  ]\n}");
    }
    json.push(b'\n');
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(id: &str, title: &str, body: &str) -> Incident {
        let file = crate::source::SourceFile {
            rel_path: format!("content/incidents/{id}.md"),
            text: format!(
                "---\ntitle: {title}\norganization: Acme\ndate: 2020-01-02\nsummary: A \"quoted\" summary.\n\
                 impact: Everything stopped.\nsources:\n  - url: https://example.com/a\n\
                 symptoms: [oomkilled]\ncomponents: [coredns]\ntrigger:\n  type: code-deploy\n  description: A deploy.\ncontributing_failures:\n\
                 \x20 - pattern: dns\n    description: DNS failed.\nresolutions:\n  - action: Fixed it.\n\
                 \x20   status: done\nlessons: [one, two]\n---\n{body}\n"
            )
            .into(),
        };
        let vocab = crate::schema::Vocabulary {
            patterns: ["dns".to_string()].into(),
            incidents: [id.to_string()].into(),
            ..Default::default()
        };
        let (inc, diags) = crate::schema::incident(&file, &vocab);
        inc.unwrap_or_else(|| panic!("{diags:?}"))
    }

    #[test]
    fn incidents_json_from_record_texts_is_what_the_pretty_printer_writes() -> anyhow::Result<()> {
        let incs = [
            incident("a", "First", "Body"),
            incident(
                "b",
                r#""Second: with \\ and \u00e9 \U0001F600 </script>""#,
                "Other\n\nbody",
            ),
        ];
        for n in 0..=incs.len() {
            let records: Vec<Record<'_>> = incs[..n]
                .iter()
                .map(|i| record(i, "https://kb.example/"))
                .collect();
            let texts: Vec<RecordText> = incs[..n]
                .iter()
                .map(|i| record_text(i, "https://kb.example/"))
                .collect::<anyhow::Result<_>>()?;
            let envelope = |incidents| Export {
                version: FORMAT_VERSION,
                generator: "blameless test",
                site: ExportSite {
                    title: "KB",
                    base_url: "https://kb.example/",
                },
                count: n,
                incidents,
            };
            let mut expected = serde_json::to_vec_pretty(&envelope(records))?;
            expected.push(b'\n');
            let got = pretty_export(&envelope(Vec::new()), &texts.iter().collect::<Vec<_>>())?;
            assert_eq!(
                String::from_utf8(got)?,
                String::from_utf8(expected)?,
                "{n} records"
            );
        }
        Ok(())
    }
}
