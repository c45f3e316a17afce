//! Search quality over this repository's own stories, measured with the labelled
//! query set `eval/queries.yaml`: every query's `expect` stories must be in the top 3,
//! and for a generic query with more right answers than three (`relevant`), each of
//! the top 3 must be one of them.
//! The test prints recall@3 and MRR (mean reciprocal rank of the first expected
//! story within the top 10), overall and per kind, so a change to the analyzer,
//! boosts or concept table shows its effect in numbers.
//!
//! It also checks the CLI-facing behaviours the issue names on real content: typo
//! correction says what it corrected, filters narrow, exclusions drop, phrases are
//! exact, hostile queries are refused rather than crashing.

use std::collections::BTreeMap;
use std::path::Path;

use blameless::diagnostics::LineIndex;
use blameless::pipeline;
use blameless::search::{Request, Searcher};
use blameless::yaml::{self, Value};

pub(crate) struct Labelled {
    pub(crate) q: String,
    kind: String,
    expect: Vec<String>,
    /// For generic queries only: more than three right answers, of which the top 3
    /// must consist.
    relevant: Vec<String>,
    known_miss: Option<String>,
}

pub(crate) fn queries() -> Vec<Labelled> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("eval/queries.yaml");
    let text = std::fs::read_to_string(&path).expect("read eval/queries.yaml");
    let index = LineIndex::new(&text);
    let doc = yaml::parse_document("eval/queries.yaml", &text, &index)
        .unwrap_or_else(|d| panic!("eval/queries.yaml does not parse: {d:?}"));
    let Value::Seq(items) = doc.value else {
        panic!("eval/queries.yaml must be a list");
    };
    items
        .iter()
        .map(|item| {
            let s = |k: &str| {
                item.get(k)
                    .and_then(|n| n.as_str())
                    .unwrap_or_else(|| panic!("line {}: `{k}` missing", item.line))
                    .to_string()
            };
            let list = |k: &str| match item.get(k).map(|n| &n.value) {
                Some(Value::Seq(ids)) => ids
                    .iter()
                    .map(|n| n.as_str().expect("ids are strings").to_string())
                    .collect(),
                None => Vec::new(),
                _ => panic!("line {}: `{k}` must be a list", item.line),
            };
            let (expect, relevant): (Vec<String>, Vec<String>) = (list("expect"), list("relevant"));
            assert!(
                expect.len() <= 3 && (expect.is_empty() != relevant.is_empty()),
                "line {}: give `expect` (one to three stories) or `relevant` (more than three), not both",
                item.line
            );
            assert!(
                relevant.is_empty() || relevant.len() > 3,
                "line {}: `relevant` is for more than three right answers; use `expect`",
                item.line
            );
            Labelled {
                q: s("q"),
                kind: s("kind"),
                expect,
                relevant,
                known_miss: item
                    .get("known_miss")
                    .and_then(|n| n.as_str())
                    .map(str::to_string),
            }
        })
        .collect()
}

/// The repository's site, copied to a temp dir (the index is written under the root).
fn repo_searcher() -> (tempfile::TempDir, Searcher) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::copy(repo.join("site.yaml"), tmp.path().join("site.yaml")).expect("copy site.yaml");
    copy_dir(&repo.join("content"), &tmp.path().join("content"));
    let searcher = pipeline::open_search(tmp.path())
        .expect("no environment error")
        .unwrap_or_else(|o| panic!("content has errors: {:?}", o.diagnostics));
    (tmp, searcher)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

fn ids(s: &Searcher, q: &str, limit: usize) -> Vec<String> {
    s.search(&Request {
        query: q.into(),
        limit,
        ..Request::default()
    })
    .unwrap_or_else(|e| panic!("`{q}`: {e}"))
    .results
    .into_iter()
    .map(|h| h.id)
    .collect()
}

#[test]
fn labelled_queries_find_their_stories_in_the_top_3() {
    let (_tmp, s) = repo_searcher();
    let queries = queries();
    assert!(
        queries.len() >= 50,
        "the query set shrank to {}",
        queries.len()
    );
    let mut failures: Vec<String> = Vec::new();
    // kind → (queries, expected found in top 3, expected total, reciprocal ranks)
    let mut stats: BTreeMap<String, (usize, usize, usize, f64)> = BTreeMap::new();
    for lq in &queries {
        let top = ids(&s, &lq.q, 10);
        // `expect`: how many of them are in the top 3. `relevant`: how many of the top
        // 3 are right answers. Either way, `wanted` is the number that passes.
        let (found3, wanted, right) = if lq.relevant.is_empty() {
            let found = lq
                .expect
                .iter()
                .filter(|id| top.iter().take(3).any(|t| t == *id))
                .count();
            (found, lq.expect.len(), &lq.expect)
        } else {
            let found = top
                .iter()
                .take(3)
                .filter(|t| lq.relevant.contains(t))
                .count();
            (found, 3, &lq.relevant)
        };
        let rr = top
            .iter()
            .position(|t| right.contains(t))
            .map_or(0.0, |p| 1.0 / (p + 1) as f64);
        for kind in [lq.kind.as_str(), "all"] {
            let e = stats.entry(kind.to_string()).or_default();
            e.0 += 1;
            e.1 += found3;
            e.2 += wanted;
            e.3 += rr;
        }
        let missed = found3 < wanted;
        if let Some(why) = &lq.known_miss {
            eprintln!("known miss `{}`: {why}", lq.q);
            if !missed {
                failures.push(format!(
                    "`{}` is marked known_miss but now finds {:?} in the top 3: remove the mark",
                    lq.q, right
                ));
            }
        } else if missed {
            let wants = if lq.relevant.is_empty() {
                format!("expected {:?} in the top 3", lq.expect)
            } else {
                format!("expected the top 3 from {:?}", lq.relevant)
            };
            failures.push(format!(
                "`{}` ({}): {wants}, got {:?}",
                lq.q,
                lq.kind,
                &top[..top.len().min(5)]
            ));
        }
    }
    eprintln!("search quality over {} labelled queries:", queries.len());
    eprintln!(
        "  {:<12} {:>7} {:>9} {:>6}",
        "kind", "queries", "recall@3", "MRR"
    );
    for (kind, (n, found, total, rr)) in &stats {
        eprintln!(
            "  {kind:<12} {n:>7} {:>9.3} {:>6.3}",
            *found as f64 / *total as f64,
            rr / *n as f64
        );
    }
    assert!(
        failures.is_empty(),
        "{} queries lost an expected story from the top 3:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn typos_are_corrected_and_said() {
    let (_tmp, s) = repo_searcher();
    let r = s
        .search(&Request {
            query: "elastalrt memory".into(),
            limit: 3,
            ..Request::default()
        })
        .expect("runs");
    assert_eq!(r.corrected_query.as_deref(), Some("elastalert memory"));
    assert_eq!(r.corrected.len(), 1);
    assert_eq!(r.results[0].id, "2018-nu-nl-elastalert-node-oom");
    // A correct word is never "corrected", even when a close word is more frequent.
    let r = s
        .search(&Request {
            query: "pods".into(),
            limit: 3,
            ..Request::default()
        })
        .expect("runs");
    assert!(r.corrected.is_empty());
}

#[test]
fn filters_exclusions_and_phrases_narrow_the_results() {
    let (_tmp, s) = repo_searcher();
    let all = ids(&s, "cpu", 50);
    let filtered = ids(&s, "cpu year:2020", 50);
    assert!(!filtered.is_empty() && filtered.len() < all.len());
    assert!(filtered.iter().all(|id| id.starts_with("2020-")));
    let throttled = ids(&s, "pattern:cpu-limit-throttling", 50);
    assert_eq!(throttled, ["2020-buffer-cpu-limits-throttling"]);
    let without = ids(&s, "cpu -throttling", 50);
    assert!(!without.contains(&"2020-buffer-cpu-limits-throttling".to_string()));
    // Same words, as a phrase and not: the phrase only matches where they are adjacent.
    let loose = ids(&s, "node memory", 50);
    let exact = ids(&s, "\"node memory\"", 50);
    assert!(exact.len() < loose.len(), "{exact:?} vs {loose:?}");
    assert!(exact.iter().all(|id| loose.contains(id)));
}

#[test]
fn hostile_queries_are_refused_or_answered_never_crash() {
    let (_tmp, s) = repo_searcher();
    let too_long = "a".repeat(300);
    let too_many = "w ".repeat(17);
    for q in [too_long.as_str(), too_many.as_str()] {
        let err = s
            .search(&Request {
                query: q.into(),
                limit: 10,
                ..Request::default()
            })
            .expect_err("refused");
        assert!(err.to_string().contains("at most"), "{err}");
    }
    let parens = "(".repeat(256);
    for q in [
        parens.as_str(),
        "\"unterminated phrase",
        "AND OR NOT",
        "pattern:",
        "-",
        "::::",
        "<script>alert(1)</script>",
        "🙂 ΟΔΟΣ İstanbul",
        "",
    ] {
        let r = s
            .search(&Request {
                query: q.into(),
                limit: 10,
                ..Request::default()
            })
            .unwrap_or_else(|e| panic!("`{q}` refused: {e}"));
        for hit in &r.results {
            assert!(!hit.snippet.contains("<script"), "{}", hit.snippet);
        }
    }
    assert!(s
        .search(&Request {
            query: "oom".into(),
            limit: 0,
            ..Request::default()
        })
        .is_err());
}
