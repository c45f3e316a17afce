//! Deterministic output: the same input gives the same bytes, whatever the number of
//! threads, the time zone, the locale or the order in which the files were created.

use crate::harness::{self, snapshot, SiteTest};

/// Paths whose bytes differ between two snapshots, or that only one has.
fn differences(
    a: &std::collections::BTreeMap<String, harness::Entry>,
    b: &std::collections::BTreeMap<String, harness::Entry>,
) -> Vec<String> {
    let mut out: Vec<String> = a
        .iter()
        .filter(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect();
    out.extend(b.keys().filter(|k| !a.contains_key(*k)).cloned());
    out
}

#[test]
fn two_builds_are_byte_identical() {
    // In-process, default thread pool, files created in name order.
    let mut first = SiteTest::fixture("valid");
    first.build();
    // The binary, one thread, another time zone and locale, files created in reverse.
    let second = SiteTest::fixture_reversed("valid");
    let run = second
        .bin()
        .env("RAYON_NUM_THREADS", "1")
        .env("TZ", "Pacific/Auckland")
        .env("LANG", "de_DE.UTF-8")
        .env("LC_ALL", "de_DE.UTF-8")
        .arg("build")
        .arg("-o")
        .arg(&second.out)
        .run();
    run.assert_code(0);
    let (a, b) = (snapshot(&first.out), snapshot(&second.out));
    assert!(
        a.len() > 40,
        "the build produced the site ({} entries)",
        a.len()
    );
    let diff = differences(&a, &b);
    assert!(diff.is_empty(), "outputs differ in: {diff:?}");
    // And many threads.
    let third = SiteTest::fixture("valid");
    third
        .bin()
        .env("RAYON_NUM_THREADS", "8")
        .arg("build")
        .arg("-o")
        .arg(&third.out)
        .run()
        .assert_code(0);
    let diff = differences(&a, &snapshot(&third.out));
    assert!(diff.is_empty(), "outputs differ in: {diff:?}");
}

#[test]
fn the_output_holds_no_machine_specific_data() {
    let mut site = SiteTest::fixture("valid");
    site.build();
    let tmp = site.tmp().to_string_lossy().into_owned();
    let home = std::env::var("HOME").unwrap_or_default();
    let manifest = env!("CARGO_MANIFEST_DIR");
    for (path, text) in harness::files(&snapshot(&site.out)) {
        assert!(!text.contains(&tmp), "{path} holds the build directory");
        assert!(
            !text.contains(manifest),
            "{path} holds the source directory"
        );
        if home.len() > 1 {
            assert!(!text.contains(&home), "{path} holds $HOME");
        }
    }
}
