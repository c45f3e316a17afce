//! `blameless import`: the k8s.af and danluu list parsers on one small fixture per
//! irregularity real lists contain (`tests/fixtures/import/`, synthetic: the
//! original lists carry no license), and the import itself: drafts that `check`
//! explains, idempotent re-imports, no overwrites.

use std::fs;

use blameless::import::{self, Entry, Format, Parsed};
use blameless::model::SourceType;

use crate::harness::{fixtures_dir, snapshot, SiteTest};

fn parse(format: Format, name: &str) -> Parsed {
    let path = fixtures_dir().join("import").join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    import::parse(format, name, &text)
}

/// `path:line:col: level: message` of each diagnostic.
fn report(p: &Parsed) -> Vec<String> {
    let mut d = p.diagnostics.clone();
    blameless::diagnostics::sort(&mut d);
    d.iter()
        .map(|d| {
            format!(
                "{}:{}:{}: {}: {}",
                d.path,
                d.line,
                d.col,
                d.level.as_str(),
                d.message
            )
        })
        .collect()
}

fn one(p: &Parsed) -> &Entry {
    assert_eq!(p.entries.len(), 1, "{:?}", p.entries);
    &p.entries[0]
}

fn date(e: &Entry) -> Option<String> {
    e.date.map(|d| d.iso())
}

#[test]
fn a_basic_list_and_a_link_that_is_not_a_story() {
    let p = parse(Format::K8sAf, "k8s-af-basic.md");
    assert_eq!(p.entries.len(), 2);
    let a = &p.entries[0];
    assert_eq!(a.line, 5);
    assert_eq!(a.title, "The case of the vanishing packets");
    assert_eq!(a.organization.as_deref(), Some("Example Corp"));
    assert_eq!(date(a).as_deref(), Some("2020"));
    assert_eq!(a.source_type, Some(SourceType::BlogPost));
    assert_eq!(a.venue, None);
    assert_eq!(a.components, ["EKS", "AWS CNI Plugin", "conntrack"]);
    assert_eq!(
        a.impact.as_deref(),
        Some("frequent connection failures when calling services outside the cluster")
    );
    let b = &p.entries[1];
    assert_eq!(b.source_type, Some(SourceType::Talk));
    assert_eq!(b.venue.as_deref(), Some("KubeCon Barcelona"));
    assert_eq!(b.components, ["CoreDNS", "ndots:5", "musl"]);
    assert_eq!(
        report(&p),
        [
            "k8s-af-basic.md:14:1: warning: `Everyone who contributed` does not look like a story: skipped",
            "k8s-af-basic.md:14:3: warning: `Everyone who contributed` has no ` - Organization - medium year`",
        ]
    );
}

#[test]
fn titles_that_contain_the_separator() {
    let p = parse(Format::K8sAf, "k8s-af-title-with-dash.md");
    let e = one(&p);
    assert_eq!(
        e.title,
        "Load balancer configuration - beware when draining nodes"
    );
    assert_eq!(e.organization.as_deref(), Some("Example Hof"));
    assert!(report(&p).is_empty(), "{:?}", report(&p));
}

#[test]
fn an_organization_fused_with_the_year() {
    let p = parse(Format::K8sAf, "k8s-af-org-fused-year.md");
    let e = one(&p);
    assert_eq!(e.title, "How a priority class emptied our cluster");
    assert_eq!(e.organization.as_deref(), Some("Metrics Labs"));
    assert_eq!(date(e).as_deref(), Some("2019"));
    assert_eq!(e.source_type, None);
    assert_eq!(
        report(&p),
        ["k8s-af-org-fused-year.md:1:3: warning: `Metrics Labs 2019` fuses the organization with the date; read as organization `Metrics Labs`, no medium"]
    );
}

#[test]
fn partial_dates_in_the_medium_and_a_year_from_the_url() {
    let p = parse(Format::K8sAf, "k8s-af-partial-dates.md");
    let got: Vec<(Option<String>, Option<SourceType>, Option<String>)> = p
        .entries
        .iter()
        .map(|e| (date(e), e.source_type, e.venue.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (
                Some("2019-01".into()),
                Some(SourceType::BlogPost),
                Some("Medium".into())
            ),
            // Given at a meetup, but the link is the slide deck.
            (
                Some("2018-09".into()),
                Some(SourceType::Slides),
                Some("Cloud Native Meetup".into())
            ),
            (
                Some("2017-10".into()),
                Some(SourceType::Talk),
                Some("AWS User Group Hamburg".into())
            ),
            (Some("2021".into()), Some(SourceType::BlogPost), None),
        ]
    );
    assert_eq!(
        report(&p),
        ["k8s-af-partial-dates.md:10:3: warning: no date in `Something happened - Org D - blog post`; the year 2021 was taken from the URL"]
    );
}

#[test]
fn trailing_commas_inline_code_and_curly_quotes() {
    let p = parse(Format::K8sAf, "k8s-af-trailing-comma.md");
    let e = one(&p);
    assert_eq!(e.components, ["EKS", "AWS CNI Plugin"]);
    assert_eq!(e.impact.as_deref(), Some("connection failures"));

    let p = parse(Format::K8sAf, "k8s-af-inline-code.md");
    let e = one(&p);
    assert_eq!(
        e.components,
        [
            "imagePullPolicy: Always",
            "readinessProbe.exec",
            "--kube-api-qps",
            "Docker Hub"
        ]
    );
    assert_eq!(e.impact.as_deref(), Some("pods stuck in ImagePullBackOff"));

    let p = parse(Format::K8sAf, "k8s-af-curly-quotes.md");
    let e = one(&p);
    assert_eq!(e.title, "The “graceful” shutdown");
    assert_eq!(e.components, ["graceful shutdown", "preStop", "SIGTERM"]);
}

#[test]
fn escaped_markdown_in_titles_and_parentheses_in_urls() {
    let p = parse(Format::K8sAf, "k8s-af-escaped-markdown.md");
    let e = one(&p);
    assert_eq!(
        e.title,
        "Oh Sh*t! The config changed [again] – Kubernetes’ fault"
    );
    assert_eq!(e.organization.as_deref(), Some("Escape Inc"));
    assert_eq!(e.url, "https://example.com/oh_(no)");
}

#[test]
fn loose_lists_and_other_bullets() {
    let p = parse(Format::K8sAf, "k8s-af-loose-list.md");
    let got: Vec<(&str, &[String], Option<&str>)> = p
        .entries
        .iter()
        .map(|e| {
            (
                e.title.as_str(),
                e.components.as_slice(),
                e.impact.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "First loose story",
                &["kubelet".to_string()][..],
                Some("nodes NotReady")
            ),
            (
                "Second loose story",
                &["etcd".to_string()][..],
                Some("API server down")
            ),
        ]
    );
    assert_eq!(p.entries[1].source_type, Some(SourceType::Postmortem));
    assert!(report(&p).is_empty(), "{:?}", report(&p));
}

#[test]
fn misspelt_and_unknown_keys_are_reported_where_they_are() {
    let p = parse(Format::K8sAf, "k8s-af-misspelt-key.md");
    let e = one(&p);
    assert_eq!(e.components, ["CronJob"]);
    assert_eq!(
        e.impact.as_deref(),
        Some("batch jobs piled up and exhausted the nodes")
    );
    assert_eq!(
        report(&p),
        [
            "k8s-af-misspelt-key.md:3:7: warning: unknown key `impace`; read as `impact`",
            "k8s-af-misspelt-key.md:4:7: warning: unknown key `severity` ignored",
        ]
    );
}

#[test]
fn danluu_lists_under_category_headings() {
    let p = parse(Format::Danluu, "danluu.md");
    type Row<'a> = (usize, &'a str, &'a str, Option<String>, Option<&'a str>);
    let got: Vec<Row<'_>> = p
        .entries
        .iter()
        .map(|e| {
            (
                e.line,
                e.organization.as_deref().unwrap_or(""),
                e.title.as_str(),
                date(e),
                e.category.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                7,
                "Example Corp",
                "A configuration push with a typo removed every backend from the load balancer",
                Some("2017".into()),
                Some("Config Errors")
            ),
            (
                9,
                "Sample Inc",
                "A bad flag disabled the cache",
                None,
                Some("Config Errors")
            ),
            (
                13,
                "Power Co",
                "A fire in a datacenter took down a region",
                Some("2016".into()),
                Some("Hardware/Power Failures")
            ),
        ]
    );
    assert_eq!(
        p.entries[0].description.as_deref(),
        Some("A configuration push with a typo removed every backend from the load balancer. Traffic failed for an hour.")
    );
    assert_eq!(
        report(&p),
        ["danluu.md:9:1: warning: no date for `Sample Inc`: the list has none and the URL names no year"]
    );
}

/// The `valid` fixture with this repository's pattern and symptom vocabularies, so
/// the keyword rules have something to suggest.
fn site_with_vocabularies() -> SiteTest {
    let mut site = SiteTest::fixture("valid");
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
    for entry in fs::read_dir(repo.join("patterns")).expect("patterns") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        site.write(
            &format!("content/patterns/{name}"),
            fs::read(&path).expect("pattern"),
        );
    }
    site.write(
        "content/symptoms.yaml",
        fs::read(repo.join("symptoms.yaml")).expect("symptoms"),
    );
    site
}

#[test]
fn import_writes_drafts_that_check_explains_and_reimporting_adds_nothing() {
    let mut site = site_with_vocabularies();
    let list = fixtures_dir().join("import/k8s-af-basic.md");
    let run = site.bin().args(["import", "k8s-af"]).arg(&list).run();
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "created content/incidents/2020-example-corp-the-case-of-the-vanishing-packets.md\ncreated content/incidents/2019-sample-gmbh-five-seconds-of-dns.md\n"
    );
    let draft = site.read("content/incidents/2019-sample-gmbh-five-seconds-of-dns.md");
    for line in [
        "title: \"Five seconds of DNS\"\n",
        "organization: \"Sample GmbH\"\n",
        "  - url: \"https://www.youtube.com/watch?v=abc123\"\n    title: \"Five seconds of DNS\"\n    type: talk\n    venue: \"KubeCon Barcelona\"\n    published: \"2019\"\n",
        "impact: \"high latency on every outgoing request\"\n",
        "symptoms: [high-latency, dns-resolution-failures]  # suggested from `latency`, `dns`; check them\n",
        "components: [\"CoreDNS\", \"ndots:5\", \"musl\"]\n",
        "  - pattern: dns-ndots-amplification  # suggested by the keyword `ndots`;",
        "  - pattern: cluster-dns-overload  # suggested by the keyword `coredns`;",
        "[Five seconds of DNS](https://www.youtube.com/watch?v=abc123)",
    ] {
        assert!(draft.contains(line), "draft has `{line}`:\n{draft}");
    }

    // `check` lists exactly what a person still has to write, at its line.
    let outcome = site.run();
    let errors: Vec<String> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && d.path.ends_with("five-seconds-of-dns.md"))
        .map(|d| format!("{}:{}: {}", d.line, d.col, d.message))
        .collect();
    assert_eq!(
        errors,
        [
            "8:10: `summary` is empty in front matter",
            "20:16: `description` is empty in trigger",
            "23:18: `description` is empty in contributing failure",
            "25:18: `description` is empty in contributing failure",
        ]
    );

    // Importing again adds nothing and touches nothing, even with edited drafts.
    site.replace(
        "content/incidents/2019-sample-gmbh-five-seconds-of-dns.md",
        "summary: \"\"",
        "summary: \"Edited by a person.\"",
    );
    let before = snapshot(&site.root);
    let run = site.bin().args(["import", "k8s-af"]).arg(&list).run();
    run.assert_code(0);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains(":5: skipped https://blog.example.com/2020/vanishing-packets/: already in content/incidents/2020-example-corp-the-case-of-the-vanishing-packets.md\n"),
        "{}",
        run.stderr
    );
    assert!(run
        .stderr
        .contains("imported 0 stories, skipped 2 already present"));
    assert!(snapshot(&site.root) == before, "nothing changed");
}

#[test]
fn an_existing_story_with_the_same_url_is_recognised_whatever_its_spelling() {
    let mut site = site_with_vocabularies();
    // The valid fixture already has this source, written with another scheme,
    // `www.` and a trailing slash.
    site.write(
        "list.md",
        "* [Throttling again - Alpha Corp - blog post 2019](http://www.blog.example.com/alpha/throttling/)\n    * involved: CFS\n    * impact: slow\n",
    );
    let run = site
        .bin()
        .args(["import", "k8s-af"])
        .arg(site.path("list.md"))
        .run();
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("already in content/incidents/2019-alpha-cpu-throttling-cascade.md"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn a_new_story_whose_id_is_taken_gets_a_free_name_and_nothing_is_overwritten() {
    let mut site = site_with_vocabularies();
    site.write(
        "list.md",
        "* [Node OOM - Alpha - blog post 2020](https://example.com/other-node-oom)\n    * involved: kubelet\n    * impact: nodes NotReady\n",
    );
    let before = site.read("content/incidents/2020-alpha-node-oom.md");
    let run = site
        .bin()
        .args(["import", "k8s-af"])
        .arg(site.path("list.md"))
        .run();
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "created content/incidents/2020-alpha-node-oom-2.md\n"
    );
    assert_eq!(
        site.read("content/incidents/2020-alpha-node-oom.md"),
        before
    );
}

#[test]
fn danluu_import_quotes_the_description_for_a_person_to_rewrite() {
    let site = site_with_vocabularies();
    let run = site
        .bin()
        .args(["import", "danluu"])
        .arg(fixtures_dir().join("import/danluu.md"))
        .run();
    run.assert_code(0);
    let created: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(created.len(), 3, "{}", run.stdout);
    let draft = site.read(created[0].strip_prefix("created ").expect("created line"));
    assert!(
        draft.contains("summary: \"\""),
        "never copied into the summary"
    );
    assert!(draft.contains("> A configuration push with a typo removed every backend from the load balancer. Traffic failed for an hour.\n"));
    assert!(draft.contains("The list filed it under *Config Errors*."));
    assert!(draft.contains("date: \"2017\""));
}

#[test]
fn a_missing_list_is_an_environment_error() {
    let site = SiteTest::fixture("valid");
    let run = site
        .bin()
        .args(["import", "k8s-af", "no-such-list.md"])
        .run();
    run.assert_code(2);
    assert!(
        run.stderr
            .starts_with("error: could not read no-such-list.md"),
        "{}",
        run.stderr
    );
}
