//! This repository's own site (`site.yaml` and `content/` at the crate root) builds
//! without errors into a temp dir, with a page for every story and pattern.

use std::fs;
use std::path::Path;

use blameless::diagnostics;
use blameless::pipeline::{self, Options};

use crate::harness::{self, snapshot};

fn stems(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".md").map(str::to_string))
        .collect();
    out.sort();
    out
}

#[test]
fn the_repository_site_builds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("public");
    let outcome = pipeline::build(root, &out, &Options::default()).expect("no environment error");
    let errors: Vec<_> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    assert!(
        errors.is_empty(),
        "the repository's content has errors:\n{}",
        diagnostics::render_human(&errors)
    );
    let files = harness::files(&snapshot(&out));

    let incidents = stems(&root.join("content/incidents"));
    assert!(
        incidents.len() >= 9,
        "the nine stories of the issue: {incidents:?}"
    );
    for id in &incidents {
        assert!(
            files.contains_key(&format!("incidents/{id}/index.html")),
            "no page for incident {id}"
        );
    }
    let patterns = stems(&root.join("content/patterns"));
    assert!(
        patterns.len() >= 25,
        "about 30 patterns: {}",
        patterns.len()
    );
    for slug in &patterns {
        assert!(
            files.contains_key(&format!("patterns/{slug}/index.html")),
            "no page for pattern {slug}"
        );
    }
    for page in stems(&root.join("content/pages")) {
        assert!(
            files.contains_key(&format!("{page}/index.html")),
            "no page {page}"
        );
    }

    // The NU.nl story follows the whole chain.
    let nu = incidents
        .iter()
        .find(|id| id.contains("nu-nl"))
        .expect("the NU.nl story");
    let html = &files[&format!("incidents/{nu}/index.html")];
    let links = html
        .matches("<li class=\"chain-step chain-failure\">")
        .count();
    assert!(
        links >= 6,
        "the NU.nl chain has {links} contributing failures"
    );

    // Every link works under the configured base path.
    let site_yaml = fs::read_to_string(root.join("site.yaml")).expect("site.yaml");
    let base_url = site_yaml
        .lines()
        .find_map(|l| l.strip_prefix("base_url:"))
        .map(|v| v.trim().trim_matches(['"', '\'']))
        .expect("site.yaml has a base_url");
    let (base_url, base_path) = blameless::schema::normalize_base_url(base_url);
    let problems = harness::broken_links(&files, &base_url, &base_path);
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

/// `schema/incident.json` and the generated regions of CONTRIBUTING.md are what the
/// current code and content generate (`blameless docs` rewrites them).
#[test]
fn the_generated_documentation_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let vocab = blameless::docs::load(root)
        .expect("no environment error")
        .unwrap_or_else(|d| panic!("{}", diagnostics::render_human(&d)));
    let stale = blameless::docs::stale(root, &vocab).expect("readable");
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}; run `cargo run -- docs` and commit the result"
    );
    // The published copy is the same file.
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("public");
    pipeline::build(root, &out, &Options::default()).expect("no environment error");
    assert_eq!(
        fs::read_to_string(out.join("schema/incident.json")).expect("published schema"),
        fs::read_to_string(root.join("schema/incident.json")).expect("checked-in schema")
    );
}
