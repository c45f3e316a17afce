//! The data for others: `/incidents.json`, `/incidents.ndjson` and the per-pattern
//! Atom feeds, on the `valid` fixture (five incidents, six patterns, served under
//! `https://example.org/kb/`).

use crate::harness::{self, SiteTest};

const BASE_URL: &str = "https://example.org/kb/";

fn built() -> SiteTest {
    let mut site = SiteTest::fixture("valid");
    site.build();
    site
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The keys of a JSON object, in document order (serde_json keeps them sorted, so
/// read them from the text instead).
fn top_level_keys_in_order(line: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    let mut start = None;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
                if depth == 1 && bytes.get(i + 1) == Some(&b':') {
                    keys.push(line[start.expect("string start") + 1..i].to_string());
                }
            }
            continue;
        }
        match b {
            b'"' => {
                in_str = true;
                start = Some(i);
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            _ => {}
        }
    }
    keys
}

#[test]
fn incidents_json_holds_every_incident_newest_first_with_documented_fields() {
    let site = built();
    let doc = json(&site.out_text("incidents.json"));
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["count"], 5);
    assert_eq!(doc["site"]["base_url"], BASE_URL);
    let ids: Vec<&str> = doc["incidents"]
        .as_array()
        .expect("incidents is a list")
        .iter()
        .map(|r| r["id"].as_str().expect("id is a string"))
        .collect();
    assert_eq!(
        ids,
        [
            "2021-anonymous-manual-oom",
            "2020-alpha-node-oom",
            "2019-gamma-silent-rollout",
            "2019-alpha-cpu-throttling-cascade",
            "2018-beta-scheduler-pileup",
        ]
    );
    let a = &doc["incidents"][3];
    assert_eq!(
        a["url"],
        format!("{BASE_URL}incidents/2019-alpha-cpu-throttling-cascade/")
    );
    assert_eq!(a["date"], "2019-03-10");
    assert_eq!(a["year"], 2019);
    assert_eq!(a["date_start"], "2019-03-10T00:00:00Z");
    // Written unquoted as 1.30 in YAML, kept as written.
    assert_eq!(a["kubernetes_version"], "1.30");
    assert_eq!(a["duration_minutes"], 150);
    assert_eq!(a["impact_level"], "partial-outage");
    assert_eq!(a["platforms"], serde_json::json!(["aws", "eks"]));
    assert_eq!(
        a["patterns"],
        serde_json::json!([
            "cpu-limit-throttling",
            "noisy-neighbour",
            "scheduling-spof",
            "monitoring-blind-spot"
        ])
    );
    assert_eq!(a["trigger"]["type"], "traffic-spike");
    assert_eq!(
        a["contributing_failures"][0]["pattern"],
        "cpu-limit-throttling"
    );
    assert_eq!(a["resolutions"][1]["status"], "planned");
    assert_eq!(
        a["sources"][0]["archive_url"],
        "https://web.archive.org/web/2019/https://blog.example.com/alpha/throttling"
    );
    // A source without optional fields has explicit nulls, not missing keys.
    assert_eq!(a["sources"][1]["title"], serde_json::Value::Null);
    assert_eq!(a["sources"][1]["type"], "talk");
    assert_eq!(
        a["source_path"],
        "content/incidents/2019-alpha-cpu-throttling-cascade.md"
    );
}

#[test]
fn every_record_has_the_same_keys_in_the_documented_order() {
    let site = built();
    let documented: Vec<String> = [
        "id",
        "url",
        "title",
        "organization",
        "date",
        "year",
        "date_start",
        "summary",
        "impact",
        "impact_level",
        "duration_minutes",
        "detection",
        "environment",
        "platforms",
        "kubernetes_version",
        "symptoms",
        "components",
        "patterns",
        "trigger",
        "contributing_failures",
        "resolutions",
        "lessons",
        "related",
        "tags",
        "sources",
        "source_path",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    let ndjson = site.out_text("incidents.ndjson");
    assert!(ndjson.ends_with('\n'));
    let lines: Vec<&str> = ndjson.lines().collect();
    assert_eq!(lines.len(), 5, "one line per incident");
    for line in &lines {
        assert_eq!(top_level_keys_in_order(line), documented, "{line}");
    }
    // docs/data.md documents exactly these keys, in this order.
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/data.md"))
        .expect("docs/data.md");
    let table = harness::between(&docs, "## The incident record", "The vocabularies");
    let in_docs: Vec<String> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .map(|l| l[..l.find('`').expect("closing backtick")].to_string())
        .collect();
    assert_eq!(in_docs, documented);
}

#[test]
fn ndjson_lines_are_the_records_of_incidents_json() {
    let site = built();
    let doc = json(&site.out_text("incidents.json"));
    let records: Vec<serde_json::Value> = site
        .out_text("incidents.ndjson")
        .lines()
        .map(json)
        .collect();
    assert_eq!(
        serde_json::Value::Array(records),
        doc["incidents"],
        "the two files carry the same records in the same order"
    );
}

#[test]
fn each_pattern_has_an_atom_feed_linked_from_its_page() {
    let site = built();
    let feed = site.out_text("patterns/node-memory-exhaustion/feed.xml");
    assert!(feed.starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\""
    ));
    assert!(feed.contains("<title>Node memory exhaustion · Example Failure Stories</title>"));
    assert!(feed.contains(&format!(
        "<id>{BASE_URL}patterns/node-memory-exhaustion/</id>"
    )));
    assert!(feed.contains(&format!(
        "<link rel=\"self\" type=\"application/atom+xml\" href=\"{BASE_URL}patterns/node-memory-exhaustion/feed.xml\"/>"
    )));
    // Only the incidents whose chain has the pattern, newest first; updated is the
    // newest one's date.
    let entries: Vec<&str> = feed
        .split("<entry>")
        .skip(1)
        .map(|e| {
            let id = &e[e.find("<id>").expect("entry id") + 4..];
            &id[..id.find("</id>").expect("id ends")]
        })
        .collect();
    assert_eq!(
        entries,
        [
            format!("{BASE_URL}incidents/2021-anonymous-manual-oom/"),
            format!("{BASE_URL}incidents/2020-alpha-node-oom/"),
        ]
    );
    assert!(feed.contains("<updated>2021-01-01T00:00:00Z</updated>"));

    let page = site.out_text("patterns/node-memory-exhaustion/index.html");
    let alternates: Vec<String> = harness::tags(&page)
        .iter()
        .filter(|t| t.name == "link" && t.attr("type") == Some("application/atom+xml"))
        .filter_map(|t| t.attr("href").map(str::to_string))
        .collect();
    assert_eq!(
        alternates,
        [
            "/kb/feed.xml",
            "/kb/patterns/node-memory-exhaustion/feed.xml"
        ]
    );
    assert!(
        harness::links(&page).contains(&"/kb/patterns/node-memory-exhaustion/feed.xml".to_string())
    );
    assert!(page.contains("Follow new stories about Node memory exhaustion"));
}

#[test]
fn every_pattern_feed_is_well_formed_even_when_empty() {
    let mut site = SiteTest::fixture("valid");
    site.write(
        "content/patterns/unused-pattern.md",
        "---\ntitle: Unused\nsummary: Nobody names it.\ncategory: storage\n---\n\nBody.\n",
    );
    let outcome = site.try_build().expect("no environment error");
    assert!(!outcome.has_errors());
    let feed = site.out_text("patterns/unused-pattern/feed.xml");
    assert!(!feed.contains("<entry>"));
    assert!(feed.contains("<updated>1970-01-01T00:00:00Z</updated>"));
    assert!(feed.trim_end().ends_with("</feed>"));
}
