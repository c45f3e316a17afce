//! Files of the repository that are generated from the code and the content, never
//! edited by hand: the JSON Schema `schema/incident.json` and the marked regions of
//! `CONTRIBUTING.md` (the field reference and the pattern and symptom vocabularies).
//!
//! `blameless docs` rewrites them; `blameless docs --check` (and a test) fails when
//! a checked-in copy differs from what the current code and `content/` generate, so
//! a new pattern or field cannot leave the documentation behind.
//!
//! In: the site root. Out: `(path, text)` pairs; [`write()`] is the only function that
//! touches the disk. Content problems in the vocabularies (a broken pattern file)
//! come back as diagnostics: documentation is not generated from a broken site.

use std::path::Path;

use anyhow::Context as _;

use crate::diagnostics::Diagnostic;
use crate::jsonschema;
use crate::model::{Pattern, Symptom};
use crate::schema::{self, Field, RefKind, Shape};
use crate::source;

/// The checked-in JSON Schema, relative to the root.
pub const SCHEMA_FILE: &str = "schema/incident.json";

/// The site's vocabularies, validated.
#[derive(Debug, Clone)]
pub struct Vocabularies {
    /// Absolute base URL from `site.yaml`.
    pub base_url: String,
    /// Patterns, sorted by slug.
    pub patterns: Vec<Pattern>,
    /// Symptoms, in file order.
    pub symptoms: Vec<Symptom>,
}

impl Vocabularies {
    /// The slugs the JSON Schema lists.
    pub fn schema_vocab(&self) -> jsonschema::Vocab {
        jsonschema::Vocab {
            base_url: self.base_url.clone(),
            patterns: self.patterns.iter().map(|p| p.slug.to_string()).collect(),
            symptoms: self.symptoms.iter().map(|s| s.slug.to_string()).collect(),
        }
    }
}

/// Read and validate `site.yaml`, `content/patterns/` and `content/symptoms.yaml`.
/// `Err` for environment problems; diagnostics (and no vocabularies) when a file is
/// broken.
pub fn load(root: &Path) -> anyhow::Result<Result<Vocabularies, Vec<Diagnostic>>> {
    let sources = source::load(root)?;
    let mut diags: Vec<Diagnostic> = sources
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    let (config, mut d) = schema::site_config(&sources.site_config);
    diags.append(&mut d);
    let mut patterns = Vec::new();
    for f in &sources.patterns {
        let (p, mut d) = schema::pattern(f);
        diags.append(&mut d);
        patterns.extend(p);
    }
    patterns.sort_by(|a, b| a.slug.cmp(&b.slug));
    let symptoms = match &sources.symptoms {
        Some(f) => {
            let (s, _, mut d) = schema::symptoms(f);
            diags.append(&mut d);
            s
        }
        None => Vec::new(),
    };
    diags.retain(Diagnostic::is_error);
    match config {
        Some(c) if diags.is_empty() => Ok(Ok(Vocabularies {
            base_url: c.base_url,
            patterns,
            symptoms,
        })),
        _ => Ok(Err(diags)),
    }
}

/// Every generated file under `root`, with the text it should have. Files that are
/// not there are not generated (a site without `CONTRIBUTING.md` has none).
pub fn generate(root: &Path, vocab: &Vocabularies) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = vec![(
        SCHEMA_FILE.to_string(),
        jsonschema::incident_text(&vocab.schema_vocab()),
    )];
    let contributing = root.join("CONTRIBUTING.md");
    if contributing.is_file() {
        let text = std::fs::read_to_string(&contributing)
            .with_context(|| format!("could not read {}", contributing.display()))?;
        out.push((
            "CONTRIBUTING.md".to_string(),
            replace_regions(&text, vocab)?,
        ));
    }
    Ok(out)
}

/// The generated files whose checked-in text differs (or that are missing).
pub fn stale(root: &Path, vocab: &Vocabularies) -> anyhow::Result<Vec<String>> {
    Ok(generate(root, vocab)?
        .into_iter()
        .filter(|(path, text)| std::fs::read_to_string(root.join(path)).ok().as_ref() != Some(text))
        .map(|(path, _)| path)
        .collect())
}

/// Write every generated file that changed; returns their paths.
pub fn write(root: &Path, vocab: &Vocabularies) -> anyhow::Result<Vec<String>> {
    let mut written = Vec::new();
    for (path, text) in generate(root, vocab)? {
        let full = root.join(&path);
        if std::fs::read_to_string(&full).ok().as_ref() == Some(&text) {
            continue;
        }
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        std::fs::write(&full, text)
            .with_context(|| format!("could not write {}", full.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The regions of `CONTRIBUTING.md` that are generated, by name.
const REGIONS: &[&str] = &["fields", "symptoms", "patterns"];

fn begin_marker(name: &str) -> String {
    format!("<!-- blameless:generated {name} (edit with `blameless docs`, not by hand) -->")
}

fn end_marker(name: &str) -> String {
    format!("<!-- blameless:end {name} -->")
}

/// Replace the text between each region's markers with freshly generated Markdown. A
/// document without markers is returned as is; a begin marker without its end is an
/// error (it would swallow the rest of the file).
pub fn replace_regions(text: &str, vocab: &Vocabularies) -> anyhow::Result<String> {
    let mut out = text.to_string();
    for name in REGIONS {
        let (begin, end) = (begin_marker(name), end_marker(name));
        let Some(b) = out.find(&begin) else {
            continue;
        };
        let body_start = b + begin.len();
        let e = out[body_start..]
            .find(&end)
            .map(|i| body_start + i)
            .with_context(|| format!("`{begin}` has no matching `{end}`"))?;
        let generated = match *name {
            "fields" => field_reference(),
            "symptoms" => symptom_list(&vocab.symptoms),
            _ => pattern_list(&vocab.patterns),
        };
        out.replace_range(body_start..e, &format!("\n{generated}"));
    }
    Ok(out)
}

/// `` `a`, `b`, `c` ``.
fn code_list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn shape_type(shape: &Shape) -> String {
    match shape {
        Shape::Text { .. } => "string".into(),
        Shape::Version => "string".into(),
        Shape::Date => "date".into(),
        Shape::Url => "URL".into(),
        Shape::Integer { .. } => "integer".into(),
        Shape::OneOf(_) => "enum".into(),
        Shape::Ref(RefKind::Pattern) => "pattern slug".into(),
        Shape::Ref(RefKind::Symptom) => "symptom slug".into(),
        Shape::Ref(RefKind::Incident) => "incident id".into(),
        Shape::List { item, .. } => match item {
            Shape::Object(_) => "list of mappings".into(),
            other => format!("list of {}s", shape_type(other)),
        },
        Shape::Object(_) => "mapping".into(),
    }
}

fn shape_values(shape: &Shape) -> Option<String> {
    match shape {
        Shape::OneOf(values) => Some(format!("One of {}.", code_list(values))),
        Shape::Date => Some("`YYYY`, `YYYY-MM` or `YYYY-MM-DD`.".into()),
        Shape::Url => Some("`http://` or `https://`.".into()),
        Shape::Text { max } => Some(format!("At most {max} characters.")),
        Shape::Integer { min, max } => Some(format!("{min} to {max}.")),
        Shape::Ref(RefKind::Pattern) => Some("See [Pattern slugs](#pattern-slugs).".into()),
        Shape::Ref(RefKind::Symptom) => Some("See [Symptom slugs](#symptom-slugs).".into()),
        Shape::List { item, .. } => shape_values(item),
        _ => None,
    }
}

fn required_text(f: &Field) -> &'static str {
    match (f.required, f.shape) {
        (
            true,
            Shape::List {
                non_empty: true, ..
            },
        ) => "yes, at least 1",
        (true, _) => "yes",
        (false, _) => "no",
    }
}

fn sub_fields(shape: &Shape) -> Option<&'static [Field]> {
    match shape {
        Shape::Object(fields) => Some(fields),
        Shape::List {
            item: Shape::Object(fields),
            ..
        } => Some(fields),
        _ => None,
    }
}

/// The field reference table, from [`schema::INCIDENT`]; nested fields are rows of
/// their own (`sources[].url`).
fn field_reference() -> String {
    let mut t = String::from(
        "| Field | Type | Required | Meaning and allowed values |\n|---|---|---|---|\n",
    );
    let mut row = |name: String, f: &Field| {
        let values = shape_values(&f.shape)
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        t.push_str(&format!(
            "| `{name}` | {} | {} | {}{values} |\n",
            shape_type(&f.shape),
            required_text(f),
            f.doc.replace('|', "\\|")
        ));
    };
    for f in schema::INCIDENT {
        row(f.name.to_string(), f);
        if let Some(fields) = sub_fields(&f.shape) {
            let sep = if matches!(f.shape, Shape::List { .. }) {
                "[]."
            } else {
                "."
            };
            for sub in fields {
                row(format!("{}{sep}{}", f.name, sub.name), sub);
            }
        }
    }
    t
}

fn symptom_list(symptoms: &[Symptom]) -> String {
    let mut t = String::from("| Slug | Symptom | Also known as |\n|---|---|---|\n");
    for s in symptoms {
        t.push_str(&format!(
            "| `{}` | {} | {} |\n",
            s.slug,
            s.title.replace('|', "\\|"),
            s.synonyms.join(", ").replace('|', "\\|")
        ));
    }
    t
}

fn pattern_list(patterns: &[Pattern]) -> String {
    let mut by_category: std::collections::BTreeMap<_, Vec<&Pattern>> = Default::default();
    for p in patterns {
        by_category.entry(p.category).or_default().push(p);
    }
    let sections: Vec<String> = by_category
        .into_iter()
        .map(|(category, list)| {
            let mut t = format!("**{}**\n\n", category.label());
            for p in list {
                t.push_str(&format!(
                    "- `{}`: {}. {}\n",
                    p.slug,
                    p.title.trim_end_matches('.'),
                    p.summary
                ));
            }
            t
        })
        .collect();
    sections.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabularies {
        Vocabularies {
            base_url: "https://example.org/".into(),
            patterns: Vec::new(),
            symptoms: Vec::new(),
        }
    }

    #[test]
    fn regions_are_replaced_and_the_rest_is_kept() {
        let text = format!(
            "intro\n{}\nstale text\n{}\noutro\n",
            begin_marker("symptoms"),
            end_marker("symptoms")
        );
        let out = replace_regions(&text, &vocab()).expect("markers match");
        assert_eq!(
            out,
            format!(
                "intro\n{}\n| Slug | Symptom | Also known as |\n|---|---|---|\n{}\noutro\n",
                begin_marker("symptoms"),
                end_marker("symptoms")
            )
        );
        // Idempotent.
        assert_eq!(replace_regions(&out, &vocab()).expect("same"), out);
        // No markers: unchanged.
        assert_eq!(replace_regions("plain\n", &vocab()).expect("ok"), "plain\n");
    }

    #[test]
    fn an_unclosed_region_is_an_error_not_a_truncation() {
        let text = format!("{}\nthe rest of the guide\n", begin_marker("fields"));
        let err = replace_regions(&text, &vocab()).expect_err("unclosed");
        assert!(err
            .to_string()
            .contains("has no matching `<!-- blameless:end fields -->`"));
    }
}
