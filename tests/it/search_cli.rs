//! `blameless search` as a user runs it: results and JSON shape, the index kept in step
//! with the content (never stale), exit codes, and the static index `build` exports.

use crate::harness::SiteTest;

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

#[test]
fn json_results_have_the_documented_shape() {
    let site = SiteTest::fixture("valid");
    let run = site.bin().args(["search", "--json", "memory oom"]).run();
    run.assert_code(0);
    let v = json(&run.stdout);
    for key in [
        "query",
        "corrected_query",
        "corrected",
        "terms",
        "concepts",
        "total",
        "results",
        "facets",
    ] {
        assert!(v.get(key).is_some(), "missing `{key}` in {v}");
    }
    assert_eq!(v["query"], "memory oom");
    let hits = v["results"].as_array().expect("an array of results");
    assert!(!hits.is_empty());
    assert!(v["total"].as_u64().is_some_and(|t| t >= hits.len() as u64));
    let first = &hits[0];
    for key in [
        "id",
        "title",
        "title_html",
        "url",
        "score",
        "snippet",
        "date",
        "organization",
        "patterns",
        "symptoms",
    ] {
        assert!(first.get(key).is_some(), "missing `{key}` in {first}");
    }
    // The facets count every pattern and symptom of the results, labelled.
    for (facet, key) in [("pattern", "patterns"), ("symptom", "symptoms")] {
        let values = v["facets"][facet].as_array().expect("a facet");
        for hit in hits {
            for slug in hit[key].as_array().expect("slugs") {
                let value = values.iter().find(|x| x["value"] == *slug);
                assert!(
                    value.is_some_and(|x| x["count"].as_u64() >= Some(1)),
                    "{facet} {slug} in {values:?}"
                );
            }
        }
    }
    for facet in ["platform", "year"] {
        assert!(v["facets"][facet].is_array(), "{facet}");
    }
    let slug = first["patterns"][0].as_str().expect("a pattern");
    let pattern = v["facets"]["pattern"]
        .as_array()
        .and_then(|vs| vs.iter().find(|x| x["value"] == slug))
        .expect("the first result's pattern is a facet value");
    assert_ne!(
        pattern["label"], slug,
        "a pattern is labelled with its title"
    );
    let ids: Vec<&str> = hits.iter().filter_map(|h| h["id"].as_str()).collect();
    assert!(ids.contains(&"2020-alpha-node-oom"), "{ids:?}");
    assert!(first["url"].as_str().is_some_and(
        |u| u.starts_with("https://") && u.ends_with(&format!("/incidents/{}/", ids[0]))
    ));
    assert!(first["snippet"]
        .as_str()
        .is_some_and(|s| s.contains("<mark>")));
    // Scores are in descending order.
    let scores: Vec<f64> = hits.iter().filter_map(|h| h["score"].as_f64()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    let run = site
        .bin()
        .args(["search", "--json", "--limit", "1", "memory oom"])
        .run();
    run.assert_code(0);
    assert_eq!(
        json(&run.stdout)["results"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn the_index_follows_the_content() {
    let mut site = SiteTest::fixture("valid");
    site.bin()
        .args(["search", "zebrafish"])
        .run()
        .assert_code(0);
    let none = site.bin().args(["search", "--json", "zebrafish"]).run();
    assert_eq!(
        json(&none.stdout)["results"].as_array().map(Vec::len),
        Some(0)
    );
    // Edit a story: the next query sees the change without an explicit build.
    site.replace(
        "content/incidents/2020-alpha-node-oom.md",
        "title: Node out of memory at Alpha Corp",
        "title: Zebrafish node out of memory at Alpha Corp",
    );
    let run = site.bin().args(["search", "--json", "zebrafish"]).run();
    run.assert_code(0);
    let v = &json(&run.stdout)["results"];
    assert_eq!(v[0]["id"], "2020-alpha-node-oom", "{v}");
    assert!(v[0]["title"]
        .as_str()
        .is_some_and(|t| t.starts_with("Zebrafish")));
    // Delete it: gone from the results.
    site.remove("content/incidents/2020-alpha-node-oom.md");
    let run = site.bin().args(["search", "--json", "zebrafish"]).run();
    run.assert_code(0);
    assert_eq!(
        json(&run.stdout)["results"].as_array().map(Vec::len),
        Some(0)
    );
    // Break a story: no answer from an index that no longer matches the content.
    site.write(
        "content/incidents/2020-broken.md",
        "---\ntitle: Zebrafish broken\n---\nbody\n",
    );
    let run = site.bin().args(["search", "--json", "zebrafish"]).run();
    run.assert_code(1);
    assert!(run.stderr.contains("cannot search"), "{}", run.stderr);
    assert!(
        run.stderr.contains("content/incidents/2020-broken.md:"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn bad_queries_exit_two_with_a_message() {
    let site = SiteTest::fixture("valid");
    let long = "x".repeat(300);
    let run = site.bin().args(["search", long.as_str()]).run();
    run.assert_code(2);
    assert!(run.stderr.contains("query too long"), "{}", run.stderr);
    let run = site.bin().args(["search", "--limit", "0", "oom"]).run();
    run.assert_code(2);
    let run = site.bin().args(["search"]).run();
    run.assert_code(2);
}

#[test]
fn human_output_says_what_was_corrected() {
    let site = SiteTest::fixture("valid");
    let run = site.bin().args(["search", "elasticsaerch"]).run();
    run.assert_code(0);
    assert!(
        run.stdout.contains("showing results for `elasticsearch`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Node out of memory at Alpha Corp"),
        "{}",
        run.stdout
    );
}

#[test]
fn batch_and_analyze_print_one_json_line_per_input() {
    let mut site = SiteTest::fixture("valid");
    site.write(
        "queries.txt",
        "oom\n\"unterminated\n".to_string() + &"y ".repeat(20) + "\n",
    );
    let path = site.path("queries.txt");
    let run = site.bin().args(["search", "--batch"]).arg(&path).run();
    run.assert_code(0);
    let lines: Vec<serde_json::Value> = run.stdout.lines().map(json).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["query"], "oom");
    assert!(lines[0]["terms"].as_array().is_some_and(|t| t[0] == "oom"));
    assert!(lines[0]["concepts"]
        .as_array()
        .is_some_and(|c| c.iter().any(|x| x == "oomkilled")));
    assert!(lines[2]["error"]
        .as_str()
        .is_some_and(|e| e.contains("too many words")));
}

#[test]
fn build_exports_a_static_index_the_browser_can_read() {
    let mut site = SiteTest::fixture("valid");
    site.build();
    let meta: serde_json::Value = json(&site.out_text("search/meta.json"));
    assert_eq!(meta["format"], 2);
    assert_eq!(meta["analyzer"], "kb_en-1");
    assert_eq!(meta["n_docs"], 5);
    assert_eq!(meta["fieldnorm_table"].as_array().map(Vec::len), Some(256));
    let fields: Vec<&str> = meta["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["title", "symptoms", "summary", "chain", "body", "concepts"]
    );
    // Every file meta.json names exists; fragments are numbered in site order (newest first).
    let chunk_dir = meta["chunks"]["dir"].as_str().expect("chunk dir");
    let firsts = meta["chunks"]["first"]
        .as_array()
        .expect("chunk separators");
    assert!(!firsts.is_empty());
    for i in 0..firsts.len() {
        let file = format!("{chunk_dir}{i}.bin");
        assert!(site.out.join("search").join(&file).is_file(), "{file}");
    }
    // Separators sort strictly upwards (the browser finds a term's chunk by bisection).
    let firsts: Vec<&str> = firsts.iter().filter_map(|f| f.as_str()).collect();
    assert!(firsts.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()));
    let dir = meta["fragments"].as_str().expect("fragments");
    let first: serde_json::Value = json(&site.out_text(&format!("search/{dir}0.json")));
    assert_eq!(first["id"], "2021-anonymous-manual-oom");
    // The search page exists and the tantivy index stays out of the deployable output.
    assert!(site.out.join("search/index.html").is_file());
    assert!(!site.out.join(".blameless").exists());
    assert!(site.path(".blameless/index/blameless.json").is_file());
}
