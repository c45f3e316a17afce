//! The integration tests of blameless: one test binary (fast to link, shares the
//! harness). Each module builds or checks a fixture site from `tests/fixtures/` in a
//! temp dir and asserts on the output, the diagnostics or the exit code.
//!
//! | module | what it covers |
//! |---|---|
//! | `valid_site` | every page of a complete site under a sub-path base URL, links, failure chain, related ranking, pattern pages, feed, sitemap |
//! | `invalid_site` | every validation error case, the whole report compared with `tests/fixtures/invalid/expected.txt` |
//! | `overrides` | site templates and static files replace the embedded theme |
//! | `output_safety` | failed builds leave the old output intact; refused output directories |
//! | `determinism` | two builds under different threads, time zone and file order are identical |
//! | `repo_content` | this repository's own `content/` builds |
//! | `cli` | exit codes, `--help`, `new` |
//! | `data_files` | `incidents.json`, `incidents.ndjson`, per-pattern Atom feeds |
//! | `import` | the k8s.af and danluu list parsers on one fixture per irregularity; idempotent, non-overwriting import |
//! | `links` | `check --links` against a local server on 127.0.0.1: dead, slow, redirected, flaky links; the cache |
//! | `hostile` | nothing a story contains can run script on the site |
//! | `workflows` | the GitHub Actions workflows parse, pin actions by SHA, keep least privilege |
//! | `serve` | `blameless serve` on 127.0.0.1: pages, live reload after an edit, the escaped error overlay, refused requests (traversal, oversize, Host, Origin), the search API, incremental rebuilds byte-identical to a full build |
//! | `serve_search` | `serve`'s incremental search index after edits of every kind: every query of `eval/queries.yaml` answers exactly as a fresh full index does, the static export has the same bytes, and only the changed stories and chunks are redone |
//! | `mutations` | mangled stories never panic; every diagnostic points inside the file |
//!
//! Set `BLAMELESS_BLESS=1` to rewrite `expected.txt` files after an intended change,
//! then review the diff line by line.

mod harness;

mod cli;
mod data_files;
mod determinism;
mod hostile;
mod import;
mod invalid_site;
mod links;
mod mutations;
mod output_safety;
mod overrides;
mod repo_content;
mod search_cli;
mod search_quality;
mod serve;
mod serve_search;
mod valid_site;
mod workflows;
