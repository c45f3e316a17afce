//! The GitHub Actions workflows (`.github/workflows/`) parse as YAML and keep their
//! security properties: actions pinned by full commit SHA with a version comment,
//! read-only tokens except the Pages deploy job, no secrets in pull requests, and the
//! pull-request check runs `blameless check` with GitHub annotations.

use std::fs;
use std::path::Path;

use blameless::diagnostics::LineIndex;
use blameless::yaml::{self, Node, Value};

fn workflow(name: &str) -> (String, Node) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".github/workflows")
        .join(name);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let node = yaml::parse_document(name, &text, &LineIndex::new(&text))
        .unwrap_or_else(|d| panic!("{name} is not valid YAML: {d:?}"));
    (text, node)
}

fn map_keys(node: &Node) -> Vec<&str> {
    match &node.value {
        Value::Map(entries) => entries.iter().map(|e| e.key.as_str()).collect(),
        other => panic!("expected a mapping, found {other:?}"),
    }
}

fn permissions(node: Option<&Node>) -> Vec<(String, String)> {
    let Some(node) = node else {
        return Vec::new();
    };
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .map(|e| (e.key.clone(), e.value.as_str().unwrap_or("?").to_string()))
            .collect(),
        other => panic!("permissions must be a mapping, found {other:?}"),
    }
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// Every `uses:` names `owner/repo@<40 hex digits> # v<version>`.
fn assert_pinned(name: &str, text: &str) {
    let uses: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            l.trim_start()
                .trim_start_matches("- ")
                .strip_prefix("uses: ")
        })
        .collect();
    assert!(!uses.is_empty(), "{name} uses actions");
    for u in uses {
        let (action, comment) = u.split_once(" # ").unwrap_or((u, ""));
        let (_, sha) = action
            .split_once('@')
            .unwrap_or_else(|| panic!("{name}: `{u}` is not pinned"));
        assert!(
            sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}: `{u}` must be pinned by a full commit SHA"
        );
        assert!(
            comment.starts_with('v'),
            "{name}: `{u}` needs a `# vX.Y.Z` comment"
        );
    }
}

#[test]
fn the_pull_request_check_is_read_only_and_annotates() {
    let (text, wf) = workflow("check.yml");
    assert_pinned("check.yml", &text);
    assert_eq!(
        map_keys(wf.get("on").expect("triggers")),
        ["pull_request"],
        "never pull_request_target: it would hand a write token to untrusted code"
    );
    assert_eq!(
        permissions(wf.get("permissions")),
        [pair("contents", "read")]
    );
    assert!(!text.contains("secrets."), "no secrets in pull requests");
    let jobs = wf.get("jobs").expect("jobs");
    for job in map_keys(jobs) {
        assert!(
            jobs.get(job).and_then(|j| j.get("permissions")).is_none(),
            "job `{job}` must not widen the read-only token"
        );
    }
    for step in [
        "cargo build --release --locked",
        "./target/release/blameless check --format github --deny-warnings",
        "./target/release/blameless docs --check",
        "./target/release/blameless build --output public",
        "bash scripts/test",
    ] {
        assert!(
            text.contains(&format!("run: {step}\n")),
            "check.yml runs `{step}`"
        );
    }
    assert_eq!(text.matches("persist-credentials: false").count(), 2);
    assert_eq!(text.matches("save-if: false").count(), 2);
}

#[test]
fn only_the_pages_deploy_job_can_write() {
    let (text, wf) = workflow("pages.yml");
    assert_pinned("pages.yml", &text);
    let on = wf.get("on").expect("triggers");
    assert_eq!(map_keys(on), ["push", "workflow_dispatch"]);
    assert_eq!(
        permissions(wf.get("permissions")),
        [pair("contents", "read")]
    );
    let jobs = wf.get("jobs").expect("jobs");
    assert_eq!(map_keys(jobs), ["build", "deploy"]);
    assert_eq!(
        permissions(jobs.get("build").and_then(|j| j.get("permissions"))),
        []
    );
    let deploy = jobs.get("deploy").expect("deploy job");
    assert_eq!(
        permissions(deploy.get("permissions")),
        [pair("pages", "write"), pair("id-token", "write")]
    );
    assert_eq!(deploy.get("needs").and_then(Node::as_str), Some("build"));
    assert!(text.contains("run: ./target/release/blameless build --output public\n"));
}
