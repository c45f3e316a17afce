//! The output directory: a failed build leaves the previous output byte-for-byte
//! intact with no staging directory behind, and directories that are not blameless's to
//! replace are refused (exit 2) before any work.

use std::fs;
use std::path::{Path, PathBuf};

use crate::harness::{self, snapshot, SiteTest};

const STORY: &str = "content/incidents/2019-alpha-cpu-throttling-cascade.md";
const OTHER: &str = "content/incidents/2020-alpha-node-oom.md";

/// A built `valid` site and the snapshot of its output.
fn built() -> (SiteTest, std::collections::BTreeMap<String, harness::Entry>) {
    let mut site = SiteTest::fixture("valid");
    site.build();
    let before = snapshot(&site.out);
    assert!(before.contains_key(blameless::output::MARKER));
    (site, before)
}

/// Change a story so that a successful rebuild would change the output.
fn change_a_title(site: &mut SiteTest) {
    site.replace(
        OTHER,
        "title: Node out of memory at Alpha Corp",
        "title: RETITLED node out of memory",
    );
}

#[test]
fn a_failed_build_leaves_the_previous_output_intact() {
    let (mut site, before) = built();
    change_a_title(&mut site);
    site.write(STORY, "---\ntitle: [unclosed\n---\n");
    let outcome = site.try_build().expect("no environment error");
    assert!(outcome.has_errors());
    assert!(
        snapshot(&site.out) == before,
        "output changed after a failed build"
    );
    assert_eq!(harness::leftovers(site.tmp()), Vec::<String>::new());

    // The same through the binary: exit 1, and it says so.
    let run = site.bin().arg("build").arg("-o").arg(&site.out).run();
    run.assert_code(1);
    assert!(
        run.stderr_last_line().starts_with("error: build failed")
            && run.stderr_last_line().ends_with("was left untouched"),
        "{}",
        run.stderr
    );
    assert!(snapshot(&site.out) == before);
    assert_eq!(harness::leftovers(site.tmp()), Vec::<String>::new());
}

#[test]
fn a_write_failure_midway_leaves_the_previous_output_intact() {
    let (mut site, before) = built();
    change_a_title(&mut site);
    let run = site
        .bin()
        .env(blameless::output::FAIL_AFTER_WRITES_VAR, "3")
        .arg("build")
        .arg("-o")
        .arg(&site.out)
        .run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("injected failure after 3 writes"),
        "{}",
        run.stderr
    );
    assert!(
        snapshot(&site.out) == before,
        "output changed after a failed write"
    );
    assert_eq!(harness::leftovers(site.tmp()), Vec::<String>::new());

    // Without the fault, the same build replaces the output (so the check above did
    // compare against a build that would have changed it).
    let run = site.bin().arg("build").arg("-o").arg(&site.out).run();
    run.assert_code(0);
    let after = harness::files(&snapshot(&site.out));
    assert!(after["incidents/2020-alpha-node-oom/index.html"].contains("RETITLED"));
    assert_eq!(harness::leftovers(site.tmp()), Vec::<String>::new());
}

#[test]
fn a_rebuild_replaces_the_whole_tree() {
    let (mut site, before) = built();
    // Remove a story: its page must disappear, not linger from the previous build.
    site.remove("content/incidents/2021-anonymous-manual-oom.md");
    site.replace(
        "content/incidents/2019-alpha-cpu-throttling-cascade.md",
        "related: [2021-anonymous-manual-oom]\n",
        "",
    );
    site.build();
    let after = snapshot(&site.out);
    assert!(before.contains_key("incidents/2021-anonymous-manual-oom/index.html"));
    assert!(!after.contains_key("incidents/2021-anonymous-manual-oom/index.html"));
    assert!(after.contains_key(blameless::output::MARKER));
    assert_eq!(harness::leftovers(site.tmp()), Vec::<String>::new());
}

/// Run `build -o <out>` from `cwd`; expect exit 2 and the refusal reason; nothing
/// anywhere in the temp dir may change.
fn assert_refused(site: &SiteTest, cwd: &Path, out: &Path, why: &str) {
    let before = snapshot(site.tmp());
    let run = site
        .bin()
        .current_dir(cwd)
        .arg("build")
        .arg("--output")
        .arg(out)
        .run();
    run.assert_code(2);
    // A relative --output is shown joined to the current directory.
    let shown = if out.is_absolute() {
        out.to_path_buf()
    } else {
        cwd.join(out)
    };
    assert_eq!(
        run.stderr,
        format!(
            "error: refusing to use `{}` as the output directory: {why}\n",
            shown.display()
        ),
        "output {}",
        out.display()
    );
    assert!(
        snapshot(site.tmp()) == before,
        "refusing {} changed files",
        out.display()
    );
}

#[test]
fn dangerous_output_directories_are_refused() {
    let mut site = SiteTest::fixture("valid");
    let root = site.root.clone();
    let tmp = site.tmp().to_path_buf();
    let cases: Vec<(PathBuf, &str)> = vec![
        (root.clone(), "it is the site root"),
        (tmp.clone(), "it contains the site root"),
        (root.join("content"), "it is the site's content/ directory"),
        (
            root.join("content/incidents"),
            "it is inside the site's content/ directory",
        ),
        // Refused whether or not the directory exists yet: creating it would turn the
        // output into theme overrides.
        (
            root.join("templates"),
            "it is the site's templates/ directory",
        ),
        (
            root.join("static/x"),
            "it is inside the site's static/ directory",
        ),
    ];
    for (out, why) in &cases {
        assert_refused(&site, &tmp, out, why);
    }
    // Relative paths, from the current directory (zola#1378: `--output-dir .`).
    assert_refused(&site, &root, Path::new("."), "it is the site root");
    assert_refused(&site, &root, Path::new("content/.."), "it is the site root");
    // Existing templates/ and static/ directories too.
    site.write("templates/.keep", "")
        .write("static/x/.keep", "");
    assert_refused(
        &site,
        &tmp,
        &root.join("templates"),
        "it is the site's templates/ directory",
    );
    assert_refused(
        &site,
        &tmp,
        &root.join("static/x"),
        "it is inside the site's static/ directory",
    );
}

#[test]
fn a_foreign_non_empty_directory_is_refused_and_untouched() {
    let site = SiteTest::fixture("valid");
    let foreign = site.tmp().join("docs");
    fs::create_dir_all(foreign.join("sub")).expect("mkdir");
    fs::write(foreign.join("index.html"), "mine").expect("write");
    fs::write(foreign.join("sub/notes.txt"), "my notes").expect("write");
    assert_refused(
        &site,
        site.tmp(),
        &foreign,
        "it exists and was not created by blameless (no .blameless-output marker); \
         remove it or choose another --output",
    );
    assert_eq!(fs::read(foreign.join("index.html")).expect("kept"), b"mine");
    // The in-process API refuses it the same way, before any work.
    let e =
        blameless::pipeline::build(&site.root, &foreign, &Default::default()).expect_err("refused");
    assert!(
        e.to_string().contains("was not created by blameless"),
        "{e}"
    );
    // An empty directory is fine, and becomes blameless's.
    let empty = site.tmp().join("empty");
    fs::create_dir(&empty).expect("mkdir");
    let run = site.bin().arg("build").arg("-o").arg(&empty).run();
    run.assert_code(0);
    assert!(empty.join(blameless::output::MARKER).exists());
    assert!(empty.join("index.html").exists());
}

#[test]
fn the_default_output_is_public_under_the_root_and_can_be_rebuilt() {
    let site = SiteTest::fixture("valid");
    for _ in 0..2 {
        let run = site.bin().arg("build").run();
        run.assert_code(0);
        assert!(
            run.stderr_last_line().starts_with("built "),
            "{}",
            run.stderr
        );
    }
    let public = site.path("public");
    assert!(public.join(blameless::output::MARKER).exists());
    assert!(public
        .join("incidents/2018-beta-scheduler-pileup/index.html")
        .exists());
    // The output inside the root is not read back as content.
    let run = site.bin().arg("check").run();
    run.assert_code(0);
    assert_eq!(run.stderr_report(), "");
}
