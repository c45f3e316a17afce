//! The default theme, embedded in the binary, and the site's overrides.
//!
//! A site's `templates/x.html` or `static/x` replaces the embedded file of the same
//! name; other embedded files stay. Owns nothing but that merge: templates are
//! compiled by [`crate::render`], static files are copied by the pipeline.

use std::collections::BTreeMap;

use crate::source::{SourceFile, StaticFile};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/theme_files.rs"));
}

/// Where a theme file came from, for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Built into blameless.
    Embedded,
    /// The site's own `templates/` or `static/`.
    Site,
}

/// The merged theme: template name → (source, origin); static path → bytes.
#[derive(Debug, Clone)]
pub struct Theme {
    /// Templates by name (`base.html`).
    pub templates: BTreeMap<String, (String, Origin)>,
    /// Static files by path relative to `static/`.
    pub static_files: BTreeMap<String, Vec<u8>>,
}

/// The embedded default templates and static files, with the site's files laid over
/// them.
pub fn merge(site_templates: &[SourceFile], site_static: &[StaticFile]) -> Theme {
    let mut templates: BTreeMap<String, (String, Origin)> = embedded::TEMPLATES
        .iter()
        .map(|(name, text)| ((*name).to_string(), ((*text).to_string(), Origin::Embedded)))
        .collect();
    for t in site_templates {
        templates.insert(t.rel_path.clone(), (t.text.to_string(), Origin::Site));
    }
    let mut static_files: BTreeMap<String, Vec<u8>> = embedded::STATIC
        .iter()
        .map(|(name, bytes)| ((*name).to_string(), bytes.to_vec()))
        .collect();
    for s in site_static {
        static_files.insert(s.rel_path.clone(), s.bytes.clone());
    }
    Theme {
        templates,
        static_files,
    }
}

/// Names of the embedded templates (for tests and `--help` text).
pub fn embedded_template_names() -> Vec<&'static str> {
    embedded::TEMPLATES.iter().map(|(n, _)| *n).collect()
}
