//! blameless: a static site generator for postmortem knowledge bases.
//!
//! A site root holds `site.yaml` and `content/` (incidents, failure patterns, the
//! symptom vocabulary, free pages); blameless validates every file, reporting every
//! problem at its `path:line:col`, and renders a static site: a page per story with
//! its failure chain, a page per pattern, symptom, component, organization, platform
//! and year, a feed and a sitemap.
//!
//! The pipeline ([`pipeline`]) is a sequence of stages passing plain types:
//!
//! ```text
//!  site root ──source::load──▶ Sources (decoded text, walk diagnostics)
//!     │
//!     ├─ frontmatter::split + yaml::parse ─▶ positioned YAML nodes
//!     ├─ schema ─▶ SiteConfig, Symptom, Pattern, Page, Incident (+ diagnostics)
//!     ├─ site::assemble ─▶ Site (indexes, related ranking, co-occurrence)
//!     ├─ markdown (+ highlight) ─▶ sanitised HTML bodies (+ diagnostics)
//!     ├─ render (views + tera, theme) ─▶ each OutputFile to a sink, in parallel
//!     └─ output::Staging ─▶ streamed into a staging dir, atomic swap  (build only;
//!                           check's sink discards; serve keeps the files in memory)
//! ```
//!
//! [`serve`] keeps a [`pipeline::Cache`] between runs, so a rebuild after an edit
//! validates, converts and renders only what the edit touched.
//!
//! Third-party crates each have one owner: serde_yaml in [`yaml`], pulldown-cmark in
//! [`markdown`], syntect in [`highlight`], tera in [`render`], clap in [`cli`], notify in [`serve::watch`].

pub mod anchors;
pub mod cli;
pub mod data;
pub mod diagnostics;
pub mod docs;
pub mod frontmatter;
pub mod highlight;
pub mod import;
pub mod jsonschema;
pub mod links;
pub mod markdown;
pub mod model;
pub mod new;
pub mod output;
pub mod pipeline;
pub mod prompt;
pub mod render;
pub mod schema;
pub mod search;
pub mod serve;
pub mod site;
pub mod source;
pub mod suggest;
pub mod theme;
pub mod views;
pub mod yaml;
