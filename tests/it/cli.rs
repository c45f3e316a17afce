//! The command line: exit codes (0 ok, 1 content problems, 2 usage or environment
//! errors), `--help`, and `new`.

use std::fs;

use crate::harness::{snapshot, Bin, SiteTest};

#[test]
fn help_exits_zero_and_lists_the_commands() {
    let run = Bin::new().arg("--help").run();
    run.assert_code(0);
    for word in ["build", "check", "new", "--root"] {
        assert!(
            run.stdout.contains(word),
            "--help mentions {word}:\n{}",
            run.stdout
        );
    }
    let run = Bin::new().args(["build", "--help"]).run();
    run.assert_code(0);
    assert!(run.stdout.contains("--output"));
    assert!(run.stdout.contains("--base-url"));
    let run = Bin::new().args(["check", "--help"]).run();
    run.assert_code(0);
    assert!(run.stdout.contains("--deny-warnings"));
    assert!(run.stdout.contains("--format"));
}

#[test]
fn usage_errors_exit_two() {
    for args in [
        &["--frobnicate"][..],
        &["check", "--frobnicate"],
        &["nonsense"],
        &[],
        &["check", "--format", "xml"],
        &["new"],
        &["new", "Title"],
    ] {
        let run = Bin::new().args(args).run();
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert!(!run.stderr.is_empty(), "{args:?} explains itself");
    }
}

#[test]
fn a_missing_root_exits_two_with_a_message() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let missing = tmp.path().join("no-such-site");
    for cmd in ["check", "build"] {
        let run = Bin::new().arg("--root").arg(&missing).arg(cmd).run();
        run.assert_code(2);
        assert!(
            run.stderr.starts_with(&format!(
                "error: cannot read the site root `{}`",
                missing.display()
            )),
            "{cmd}: {}",
            run.stderr
        );
    }
    // A directory that is not a site.
    let run = Bin::new().arg("--root").arg(tmp.path()).arg("check").run();
    run.assert_code(2);
    assert_eq!(
        run.stderr,
        format!(
            "error: no site.yaml in {} (is --root right?)\n",
            tmp.path().display()
        )
    );
    assert!(!tmp.path().join("public").exists());
}

#[test]
fn build_accepts_a_base_url_override_and_rejects_a_bad_one() {
    let site = SiteTest::fixture("valid");
    let run = site
        .bin()
        .args(["build", "--base-url", "http://127.0.0.1:8000/"])
        .arg("-o")
        .arg(&site.out)
        .run();
    run.assert_code(0);
    let html = fs::read_to_string(site.out.join("index.html")).expect("home");
    assert!(
        html.contains("href=\"/style.css?v="),
        "links use the new base path"
    );
    assert!(
        !html.contains("/kb/"),
        "no trace of the configured base path"
    );
    let run = site
        .bin()
        .args(["build", "--base-url", "javascript:alert(1)"])
        .arg("-o")
        .arg(site.tmp().join("other"))
        .run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("--base-url must be an http(s) URL"),
        "{}",
        run.stderr
    );
}

/// Replace the placeholders of `new`'s template with valid values, line by line; each
/// replacement must apply to exactly one line, so a changed template fails loudly.
fn fill_in(template: &str) -> String {
    let fills: &[(&str, &str)] = &[
        (
            "summary: \"\"",
            "summary: A filled-in summary of the story.",
        ),
        ("  - url: \"\"", "  - url: https://example.com/write-up"),
        ("    title: \"\"", "    title: The write-up"),
        ("    venue: \"\"", "    venue: Example blog"),
        ("    published: \"\"", "    published: \"2019-07\""),
        ("impact: \"\"", "impact: Users saw errors for an hour."),
        ("symptoms: []", "symptoms: [5xx-errors]"),
        ("components: []", "components: [kubelet]"),
        ("  description: \"\"", "  description: A deploy went out."),
        ("  - pattern: \"\"", "  - pattern: noisy-neighbour"),
        (
            "    description: \"\"",
            "    description: Two services shared a node.",
        ),
        ("  - action: \"\"", "  - action: Spread the services."),
        ("    patterns: []", "    patterns: [noisy-neighbour]"),
    ];
    let mut lines: Vec<String> = template.lines().map(str::to_string).collect();
    for (prefix, value) in fills {
        let hits: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                l.strip_prefix(prefix)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with("  #"))
            })
            .map(|(i, _)| i)
            .collect();
        assert_eq!(hits.len(), 1, "`{prefix}` should be on exactly one line");
        lines[hits[0]] = (*value).to_string();
    }
    lines.join("\n") + "\n"
}

#[test]
fn new_creates_a_template_that_check_explains_until_filled() {
    let site = SiteTest::fixture("valid");
    let rel = "content/incidents/2019-x-title.md";
    let run = site
        .bin()
        .args(["new", "Title", "--org", "X", "--date", "2019-06"])
        .run();
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        format!(
            "created {rel}\nnext: fill in every field, then run `blameless check` until it reports no errors\n"
        )
    );
    let template = site.read(rel);
    // The fixture has no checked-in schema: editors get the published one.
    assert!(template.starts_with(
        "---\n# yaml-language-server: $schema=https://example.org/kb/schema/incident.json\n"
    ));
    assert!(template.contains("title: \"Title\""));
    assert!(template.contains("organization: \"X\""));
    assert!(template.contains("date: \"2019-06\""));
    // Every documented field is there, commented or not.
    for field in blameless::schema::names(blameless::schema::INCIDENT) {
        assert!(
            template.contains(&format!("{field}:")),
            "template has `{field}`"
        );
    }

    // Refuses to overwrite, and leaves the file alone.
    let before = snapshot(&site.root);
    let run = site
        .bin()
        .args(["new", "Title", "--org", "X", "--date", "2019-06"])
        .run();
    run.assert_code(2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert!(snapshot(&site.root) == before);

    // `check` points at every placeholder, with its line and column.
    let run = site.bin().arg("check").run();
    run.assert_code(1);
    let report = run.stderr_report();
    let lines: Vec<&str> = report
        .lines()
        .filter(|l| !l.starts_with("  = help"))
        .collect();
    assert!(lines.len() >= 8, "{report}");
    for line in &lines {
        let rest = line
            .strip_prefix(&format!("{rel}:"))
            .unwrap_or_else(|| panic!("only the new file has problems: {line}"));
        let mut parts = rest.splitn(3, ':');
        let row: usize = parts.next().and_then(|n| n.parse().ok()).expect("line");
        let col: usize = parts.next().and_then(|n| n.parse().ok()).expect("col");
        assert!(row > 1 && col > 1, "points into the file: {line}");
        // The position is on the placeholder's line.
        let text_line = template.lines().nth(row - 1).expect("line exists");
        assert!(
            text_line.contains("\"\"") || text_line.contains("[]"),
            "{line} → `{text_line}`"
        );
    }

    // Filled in, it passes.
    let mut site = site;
    let filled = fill_in(&template);
    site.write(rel, filled);
    let run = site.bin().arg("check").run();
    run.assert_code(0);
    assert_eq!(run.stderr_report(), "");
}

#[test]
fn new_rejects_bad_input_with_exit_two() {
    let site = SiteTest::fixture("valid");
    let before = snapshot(&site.root);
    for args in [
        &["new", "Title", "--org", "X", "--date", "2019-13"][..],
        &["new", "   ", "--org", "X"],
        &["new", "Title", "--org", ""],
    ] {
        let run = site.bin().args(args).run();
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert!(snapshot(&site.root) == before, "nothing was written");
}

#[test]
fn schema_prints_the_published_schema_and_docs_check_finds_stale_copies() {
    let mut site = SiteTest::fixture("valid");
    let run = site.bin().arg("schema").run();
    run.assert_code(0);
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(schema["$id"], "https://example.org/kb/schema/incident.json");
    // Exactly what the build publishes.
    site.build();
    assert_eq!(site.out_text("schema/incident.json"), run.stdout);

    // No checked-in copy yet: stale until `docs` writes it.
    site.bin().args(["docs", "--check"]).run().assert_code(1);
    let run = site.bin().arg("docs").run();
    run.assert_code(0);
    assert_eq!(run.stdout, "updated schema/incident.json\n");
    site.bin().args(["docs", "--check"]).run().assert_code(0);
    assert!(
        site.bin().arg("docs").run().stdout.is_empty(),
        "nothing to update"
    );

    // A new pattern makes the copy stale, with a message saying what to run.
    site.write(
        "content/patterns/new-pattern.md",
        "---\ntitle: New\nsummary: A new one.\ncategory: storage\n---\n\nBody.\n",
    );
    let run = site.bin().args(["docs", "--check"]).run();
    run.assert_code(1);
    assert_eq!(
        run.stderr,
        "schema/incident.json: error: out of date with the code and content/\n  = help: run `blameless docs` and commit the result\n"
    );

    // With a checked-in copy, `new` points editors at it (relative to the new file).
    site.bin().arg("docs").run().assert_code(0);
    site.bin()
        .args(["new", "Another", "--org", "Y", "--date", "2020"])
        .run()
        .assert_code(0);
    assert!(site
        .read("content/incidents/2020-y-another.md")
        .starts_with("---\n# yaml-language-server: $schema=../../schema/incident.json\n"));

    // A broken pattern file: no schema from broken vocabularies (exit 1, diagnostics).
    site.write("content/patterns/broken.md", "---\ntitle: [\n---\n");
    let run = site.bin().arg("schema").run();
    run.assert_code(1);
    assert!(
        run.stderr.starts_with("content/patterns/broken.md:"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn new_is_scriptable_with_flags_when_not_on_a_terminal() {
    let site = SiteTest::fixture("valid");
    // Standard input is not a terminal here: no prompt, TITLE and --org required.
    let run = site.bin().arg("new").run();
    run.assert_code(2);
    assert!(
        run.stderr.starts_with(
            "error: `new` needs a TITLE and --org when it cannot ask (not a terminal, or --no-input)\n"
        ),
        "{}",
        run.stderr
    );

    let run = site
        .bin()
        .args([
            "new",
            "Flags only",
            "--org",
            "Script Co",
            "--date",
            "2021-02",
            "--url",
            "https://example.com/flags",
            "--symptom",
            "oomkilled,node-notready",
            "--pattern",
            "noisy-neighbour",
            "--pattern",
            "node-memory-exhaustion",
        ])
        .run();
    run.assert_code(0);
    let text = site.read("content/incidents/2021-script-co-flags-only.md");
    for line in [
        "  - url: \"https://example.com/flags\"\n",
        "symptoms: [oomkilled, node-notready]  # required, at least one:\n",
        "  - pattern: noisy-neighbour  # a failure pattern:\n",
        "  - pattern: node-memory-exhaustion\n    description: \"\"\n",
    ] {
        assert!(text.contains(line), "has `{line}`:\n{text}");
    }

    // Values outside the vocabularies are refused before anything is written.
    let before = snapshot(&site.root);
    let run = site
        .bin()
        .args(["new", "Bad", "--org", "X", "--pattern", "noisy-neighbor"])
        .run();
    run.assert_code(2);
    assert_eq!(
        run.stderr,
        "error: unknown pattern `noisy-neighbor`; did you mean `noisy-neighbour`?\n"
    );
    let run = site
        .bin()
        .args(["new", "Bad", "--org", "X", "--url", "ftp://x"])
        .run();
    run.assert_code(2);
    assert!(snapshot(&site.root) == before);
}
