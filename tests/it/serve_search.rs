//! `serve`'s search index after edits of every kind equals a fresh full index of the
//! same content: every query of `eval/queries.yaml` gets the same whole answer (ids,
//! order, scores, snippets, totals, corrections) and the static export `search/` has
//! the same bytes. On a copy of this repository's own stories, in process with small
//! chunks (so that 17 stories make several chunks and an edit lands in one of them),
//! and through a running server. Every wait polls with a deadline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use blameless::pipeline::{self, Cache, Options};
use blameless::search::cache::DocCache;
use blameless::search::{self, Request, Searcher};

use crate::harness::SiteTest;
use crate::search_quality::queries;
use crate::serve::{get, start, DEADLINE};

/// What an index answers: the static export and one answer per labelled query.
#[derive(PartialEq)]
struct Answers {
    files: BTreeMap<String, Vec<u8>>,
    queries: Vec<(String, String)>,
}

/// Every labelled query's answer as `render` shows it (errors included).
fn ask(searcher: &Searcher, render: impl Fn(&search::Results) -> String) -> Vec<(String, String)> {
    queries()
        .into_iter()
        .map(|l| {
            let request = Request {
                query: l.q.clone(),
                limit: 20,
                ..Request::default()
            };
            let answer = match searcher.search(&request) {
                Ok(results) => render(&results),
                Err(e) => format!("error: {e}"),
            };
            (l.q, answer)
        })
        .collect()
}

/// The whole answer (not only the hits): totals, terms and corrections too.
fn whole(results: &search::Results) -> String {
    serde_json::to_string_pretty(results).expect("results serialize")
}

/// A fresh full index of the content at `root`, nothing cached, with result URLs
/// under `base`; its export and searcher.
fn full_index(root: &Path, base: &str, dir: &Path) -> (BTreeMap<String, Vec<u8>>, Searcher) {
    let files = Mutex::new(BTreeMap::new());
    let outcome = pipeline::index_cached(
        root,
        &Options {
            base_url: Some(base.to_string()),
        },
        dir,
        &|file| {
            files
                .lock()
                .expect("not poisoned")
                .insert(file.path, file.bytes);
            Ok(())
        },
        &Cache::default(),
    )
    .expect("a full index");
    assert!(
        !outcome.has_errors(),
        "the content has errors:\n{}",
        blameless::diagnostics::render_human(&outcome.diagnostics)
    );
    let files = files.into_inner().expect("not poisoned");
    (files, search::open_dir(dir).expect("open the full index"))
}

/// Fail with the first difference between two answers, naming `step`.
fn assert_same(step: &str, got: &Answers, want: &Answers) {
    let differ: std::collections::BTreeSet<&String> = want
        .files
        .keys()
        .chain(got.files.keys())
        .filter(|p| want.files.get(*p) != got.files.get(*p))
        .collect();
    assert!(
        differ.is_empty(),
        "{step}: the export differs from a full index's: {differ:?}"
    );
    for (g, w) in got.queries.iter().zip(&want.queries) {
        assert_eq!(g, w, "{step}: query `{}` answers differently", w.0);
    }
    assert_eq!(got.queries.len(), want.queries.len(), "{step}");
}

/// The incremental path as `serve` runs it: a cached page run hands its site to
/// [`pipeline::index_site`], which reuses what did not change.
struct Incremental {
    cache: Cache,
    docs: DocCache,
    dir: PathBuf,
    n: usize,
}

impl Incremental {
    /// Index the site as it is now: its answers and (stories analysed, chunks
    /// indexed, chunks).
    fn index(&mut self, site: &SiteTest) -> (Answers, (usize, usize, usize)) {
        let options = Options {
            base_url: Some(BASE.to_string()),
        };
        let outcome = pipeline::run_cached(&site.root, &options, &|_| Ok(()), &self.cache)
            .expect("a cached run");
        assert!(
            !outcome.has_errors(),
            "the content has errors:\n{}",
            blameless::diagnostics::render_human(&outcome.diagnostics)
        );
        let (s, bodies) = self.cache.take_site().expect("a good run leaves its site");
        assert!(self.cache.take_site().is_none(), "taken once");
        let dir = self.dir.join(format!("index-{}", self.n));
        self.n += 1;
        let made = pipeline::index_site(&s, &bodies, &dir, &mut self.docs).expect("indexed");
        let searcher = search::open_dir(&dir).expect("open the index");
        let answers = Answers {
            files: made.files.into_iter().map(|f| (f.path, f.bytes)).collect(),
            queries: ask(&searcher, whole),
        };
        (answers, (made.analysed, made.chunks_indexed, made.chunks))
    }

    /// Index the site as it is now and check the answers against a fresh full
    /// index's; returns (stories analysed, chunks indexed, chunks).
    fn check(&mut self, site: &SiteTest, step: &str) -> (usize, usize, usize) {
        let (got, counts) = self.index(site);
        assert_same(step, &got, &reference(site, self.n));
        counts
    }
}

const BASE: &str = "http://127.0.0.1:9/";

/// The full index's answers for the site as it is now (`n` names its directory).
fn reference(site: &SiteTest, n: usize) -> Answers {
    let dir = site.tmp().join(format!("full-{n}"));
    let (files, searcher) = full_index(&site.root, BASE, &dir);
    Answers {
        files,
        queries: ask(&searcher, whole),
    }
}

/// Replace the line of `rel` that starts with `prefix` by `line`.
fn set_line(site: &mut SiteTest, rel: &str, prefix: &str, line: &str) {
    let text = site.read(rel);
    let old = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with `{prefix}` in {rel}"))
        .to_string();
    site.replace(rel, &format!("\n{old}\n"), &format!("\n{line}\n"));
}

const A: &str = "content/incidents/2019-moonlight-pods-on-one-node.md";
const B: &str = "content/incidents/2020-buffer-cpu-limits-throttling.md";
const C: &str = "content/incidents/2019-zalando-coredns-oomkill-dns-outage.md";
const D: &str = "content/incidents/2018-nu-nl-elastalert-node-oom.md";
const E: &str = "content/incidents/2019-loveholidays-gke-ip-exhaustion.md";

#[test]
fn incremental_index_answers_like_a_full_index_after_every_kind_of_edit() {
    let mut site = SiteTest::repo();
    let mut inc = Incremental {
        cache: Cache::default(),
        docs: DocCache::with_chunk_docs(site.tmp().join("chunks"), 3),
        dir: site.tmp().join("serve"),
        n: 0,
    };
    let stories = std::fs::read_dir(site.path("content/incidents"))
        .expect("stories")
        .count();

    let (analysed, indexed, chunks) = inc.check(&site, "first index");
    assert_eq!((analysed, indexed), (stories, chunks), "first index");
    assert!(chunks >= 3, "small chunks make several: {chunks}");

    // One story's title, then another's body: one story analysed, one chunk indexed.
    set_line(
        &mut site,
        A,
        "title: ",
        "title: Every pod on one failing node (quokka)",
    );
    let (analysed, indexed, _) = inc.check(&site, "title");
    assert_eq!((analysed, indexed), (1, 1), "title");

    let body = format!(
        "{}\nThe flux capacitor overheated, so every kubelet restarted twice.\n",
        site.read(B)
    );
    site.write(B, body);
    let (analysed, indexed, _) = inc.check(&site, "body");
    assert_eq!((analysed, indexed), (1, 1), "body");

    // A symptom list (facets, concepts, the symptoms field).
    set_line(
        &mut site,
        C,
        "symptoms: ",
        "symptoms: [timeouts, high-latency]",
    );
    let (analysed, indexed, _) = inc.check(&site, "symptoms");
    assert_eq!((analysed, indexed), (1, 1), "symptoms");

    // A date: the story moves in site order, so doc ids shift.
    set_line(&mut site, D, "date: ", "date: \"2023-06\"");
    let (analysed, indexed, _) = inc.check(&site, "date");
    assert_eq!(analysed, 1, "date");
    assert!(indexed <= 2, "date: {indexed} chunks indexed");

    // A story removed, then one added.
    site.remove(E);
    let (analysed, indexed, _) = inc.check(&site, "removal");
    assert_eq!(analysed, 0, "removal");
    assert!(indexed <= 1, "removal: {indexed} chunks indexed");

    let copy = site.read(A).replace(
        "Every pod on one failing node (quokka)",
        "Pods piled onto one node again",
    );
    site.write("content/incidents/2021-moonlight-pile-up-again.md", copy);
    let (analysed, indexed, _) = inc.check(&site, "new story");
    assert_eq!(analysed, 1, "new story");
    assert!(indexed <= 2, "new story: {indexed} chunks indexed");

    // Site-wide inputs: a pattern's title (in every chain that names it) and the
    // symptom vocabulary (concepts, synonyms): everything is redone.
    let pattern = "content/patterns/noisy-neighbour.md";
    set_line(
        &mut site,
        pattern,
        "title: ",
        "title: Crowded node neighbours",
    );
    let (analysed, _, _) = inc.check(&site, "pattern title");
    assert_eq!(analysed, stories, "pattern title");

    site.replace(
        "content/symptoms.yaml",
        "\"sluggish\"]",
        "\"sluggish\", \"molasses\"]",
    );
    let (analysed, _, _) = inc.check(&site, "symptom synonyms");
    assert_eq!(analysed, stories, "symptom synonyms");

    // Nothing changed: nothing redone, same answers.
    let (analysed, indexed, _) = inc.check(&site, "no change");
    assert_eq!((analysed, indexed), (0, 0), "no change");
}

/// Percent-encode a query for a URL.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Poll until the server's `/api/search` answers every labelled query exactly as a
/// fresh full index of the content does (hits JSON, as `blameless search --json`),
/// and its `search/` files are that index's export.
fn assert_serves_a_full_index(site: &SiteTest, serve: &blameless::serve::Serve, step: &str) {
    let dir = site.tmp().join(format!("full-{step}"));
    let (files, searcher) = full_index(&site.root, serve.url(), &dir);
    let want = Answers {
        files,
        queries: ask(&searcher, search::Results::to_json),
    };
    let start = Instant::now();
    loop {
        let files: BTreeMap<String, Vec<u8>> = serve
            .files()
            .into_iter()
            // The export, not the search page.
            .filter(|(p, _)| p.starts_with("search/") && p != "search/index.html")
            .collect();
        let queries: Vec<(String, String)> = want
            .queries
            .iter()
            .map(|(q, _)| {
                let a = get(serve, &format!("/api/search?q={}&limit=20", encode(q)));
                let answer = if a.status == 200 {
                    a.body
                } else {
                    let json: serde_json::Value = serde_json::from_str(&a.body).unwrap_or_default();
                    format!("error: {}", json["error"].as_str().unwrap_or(&a.body))
                };
                (q.clone(), answer)
            })
            .collect();
        let got = Answers { files, queries };
        if got == want {
            return;
        }
        if start.elapsed() > DEADLINE {
            assert_same(step, &got, &want);
            panic!("{step}: answers differ");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn served_search_answers_like_a_full_index_after_edits() {
    let mut site = SiteTest::repo();
    let serve = start(&site);
    assert_serves_a_full_index(&site, &serve, "first index");
    set_line(
        &mut site,
        A,
        "title: ",
        "title: Every pod on one failing node (quokka)",
    );
    assert_serves_a_full_index(&site, &serve, "title");
    set_line(
        &mut site,
        C,
        "symptoms: ",
        "symptoms: [timeouts, high-latency]",
    );
    let body = format!("{}\nThe flux capacitor overheated twice.\n", site.read(B));
    site.write(B, body);
    assert_serves_a_full_index(&site, &serve, "symptoms and body");
    site.remove(E);
    let copy = site.read(D).replacen("title: ", "title: Again, ", 1);
    site.write("content/incidents/2017-again.md", copy);
    assert_serves_a_full_index(&site, &serve, "removal and new story");
    serve.stop();
}
