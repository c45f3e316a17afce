//! The theme: the embedded default templates and static files, and a site's own
//! `templates/x.html` and `static/x` that replace the embedded file of the same name
//! (the `overrides` fixture has `templates/page.html`, `static/style.css` and an extra
//! `static/images/diagram.svg`).

use std::fs;
use std::path::Path;

use blameless::diagnostics;

use crate::harness::{self, SiteTest};

/// The `?v=` hash in the stylesheet link of a page.
fn stylesheet_version(html: &str) -> String {
    harness::links(html)
        .into_iter()
        .find_map(|l| l.split_once("style.css?v=").map(|(_, v)| v.to_string()))
        .expect("a versioned stylesheet link")
}

#[test]
fn site_files_override_the_embedded_ones_and_the_rest_stays() {
    let mut site = SiteTest::fixture("overrides");
    site.build()
        // The site's page.html renders the free pages ...
        .check_file_contains(
            "about/index.html",
            &[
                "OVERRIDE-PAGE-TEMPLATE",
                "<h1>About the overrides</h1>",
                "ABOUT-BODY rendered through the site",
            ],
        )
        // ... inside the embedded base.html ...
        .check_file_contains("about/index.html", &["<header class=\"site-header\">"])
        // ... while the other pages keep the embedded templates.
        .check_file_contains(
            "incidents/2019-example-shared-node/index.html",
            &["Failure chain", "Both services ran on one node."],
        )
        .check_file_not_contains(
            "incidents/2019-example-shared-node/index.html",
            &["OVERRIDE-PAGE-TEMPLATE"],
        );
    // Static files: the override replaces style.css byte for byte, the extra file is
    // copied, embedded files that are not overridden stay.
    let fixture = harness::fixtures_dir().join("overrides/static");
    assert_eq!(
        fs::read(site.out.join("style.css")).expect("style.css"),
        fs::read(fixture.join("style.css")).expect("fixture style.css")
    );
    assert_eq!(
        fs::read(site.out.join("images/diagram.svg")).expect("diagram"),
        fs::read(fixture.join("images/diagram.svg")).expect("fixture diagram")
    );
    assert_eq!(
        fs::read(site.out.join("favicon.svg")).expect("favicon"),
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("static/favicon.svg"))
            .expect("embedded favicon")
    );
    // The stylesheet link's cache-busting hash follows the override.
    let with_override = stylesheet_version(&site.out_text("index.html"));
    let mut plain = SiteTest::fixture("overrides");
    plain.remove("static/style.css");
    plain.build();
    assert_ne!(
        stylesheet_version(&plain.out_text("index.html")),
        with_override
    );
}

#[test]
fn a_site_with_only_site_yaml_and_content_uses_the_embedded_theme() {
    let mut site = SiteTest::fixture("valid");
    assert!(!site.path("templates").exists() && !site.path("static").exists());
    site.build();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["style.css", "favicon.svg"] {
        assert_eq!(
            fs::read(site.out.join(file)).expect("built"),
            fs::read(repo.join("static").join(file)).expect("embedded"),
            "{file} comes from the embedded theme"
        );
    }
    site.check_file_contains("index.html", &["<header class=\"site-header\">"]);
}

#[test]
fn a_template_syntax_error_points_at_the_template_line() {
    let mut site = SiteTest::fixture("overrides");
    site.write(
        "templates/incident.html",
        "{% extends \"base.html\" %}\n{% block content %}\n<p>ok</p>\n{% if incident.title %}\n<p>unclosed if</p>\n{% endblock content %}\n",
    );
    let expected = "templates/incident.html:6:1: error: template syntax error: ";
    let run = site.bin().arg("check").run();
    run.assert_code(1);
    assert!(run.stderr_report().starts_with(expected), "{}", run.stderr);
    assert_eq!(
        run.stderr_report()
            .lines()
            .filter(|l| !l.starts_with("  = help"))
            .count(),
        1
    );
    let out = site.tmp().join("public");
    let run = site.bin().arg("build").arg("-o").arg(&out).run();
    run.assert_code(1);
    assert!(run.stderr_report().starts_with(expected), "{}", run.stderr);
    assert!(!out.exists());
}

#[test]
fn a_template_runtime_error_names_the_template_and_the_page() {
    let mut site = SiteTest::fixture("overrides");
    site.write(
        "templates/page.html",
        "{% extends \"base.html\" %}\n{% block content %}{{ content.no_such_field }}{% endblock content %}\n",
    );
    // `check` renders every page too, so what passes check builds.
    let outcome = site.run();
    let report = diagnostics::render_human(&outcome.diagnostics);
    assert!(
        report.starts_with(
            "templates/page.html:1:1: error: template failed while rendering `content/pages/about.md`"
        ),
        "{report}"
    );
    assert!(report.contains("content.no_such_field"), "{report}");
    assert!(
        report.contains("= help: fix the site's template, or delete it to use the built-in one")
    );
}

#[test]
fn a_static_file_may_not_replace_a_generated_page() {
    let mut site = SiteTest::fixture("overrides");
    site.write("static/index.html", "<p>mine</p>");
    let outcome = site.run();
    assert_eq!(
        diagnostics::render_human(&outcome.diagnostics),
        "static/index.html:1:1: error: `index.html` is also generated by blameless; the static file would overwrite it\n  \
         = help: rename or remove the static file\n"
    );
}

#[test]
fn links_in_templates_and_static_are_refused() {
    let mut site = SiteTest::fixture("overrides");
    site.symlink("static/secret.txt", "/etc/passwd");
    site.symlink("templates/404.html", "../site.yaml");
    let outcome = site.run();
    let report = diagnostics::render_human(&outcome.diagnostics);
    assert!(
        report.contains("static/secret.txt:1:1: error: symbolic links are not allowed in static/ (points to `/etc/passwd`)"),
        "{report}"
    );
    assert!(
        report.contains("templates/404.html:1:1: error: symbolic links are not allowed in templates/ (points to `../site.yaml`)"),
        "{report}"
    );
    assert!(outcome.has_errors());
}

/// BUG: `static/.blameless-output` passes `check` but makes `build` fail with exit 2
/// ("internal error: invalid output path `.blameless-output`: it is the marker file").
/// A file in `static/` is content: it must be a diagnostic in `check` and `build`
/// alike (exit 1), so that what passes `check` builds.
#[test]
fn a_static_file_named_like_the_output_marker_is_a_content_error() {
    let mut site = SiteTest::fixture("overrides");
    site.write("static/.blameless-output", "x");
    let outcome = site.run();
    assert!(
        outcome
            .diagnostics
            .iter()
            .any(|d| d.is_error() && d.path == "static/.blameless-output"),
        "check must report static/.blameless-output, got:\n{}",
        diagnostics::render_human(&outcome.diagnostics)
    );
    let out = site.tmp().join("public");
    let run = site.bin().arg("build").arg("-o").arg(&out).run();
    run.assert_code(1);
}

/// BUG: a static file where the site generates a directory (`static/patterns`), or a
/// static directory where it generates a file (`static/robots.txt/a`), passes `check`;
/// `build` then fails with exit 2: "internal error: invalid output path
/// `patterns/cpu-limit-throttling/index.html`: `patterns` is also a file". Expected: a
/// diagnostic on each static path in `check` and `build` (exit 1), as for
/// `static/index.html`.
#[test]
fn static_paths_that_clash_with_generated_directories_are_content_errors() {
    let mut site = SiteTest::fixture("overrides");
    site.write("static/patterns", "a file where a directory is generated")
        .write(
            "static/robots.txt/a",
            "a directory where a file is generated",
        );
    let outcome = site.run();
    for path in ["static/patterns", "static/robots.txt/a"] {
        assert!(
            outcome
                .diagnostics
                .iter()
                .any(|d| d.is_error() && d.path == path),
            "check must report {path}, got:\n{}",
            diagnostics::render_human(&outcome.diagnostics)
        );
    }
    let out = site.tmp().join("public");
    let run = site.bin().arg("build").arg("-o").arg(&out).run();
    run.assert_code(1);
}
