//! `blameless serve` in-process on an ephemeral port of 127.0.0.1: pages, live
//! reload after an edit, the error overlay, requests that must be refused, the
//! search API, and incremental rebuilds leaving exactly the bytes of a full build.
//! Every wait polls with a deadline; no sleep is an assertion.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use blameless::pipeline::{self, Options};
use blameless::serve::{Serve, Settings};

use crate::harness::SiteTest;

pub(crate) const DEADLINE: Duration = Duration::from_secs(30);
const STORY: &str = "content/incidents/2018-beta-scheduler-pileup.md";

pub(crate) fn start(site: &SiteTest) -> Serve {
    let serve = Serve::start(
        &site.root,
        &Settings {
            bind: "127.0.0.1".parse().expect("an address"),
            port: 0,
            verbose: false,
        },
    )
    .expect("serve starts");
    // The first build runs in the background: wait for the home page.
    wait_for(&serve, "/", |status, _| status == 200);
    serve
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    head: String,
    pub(crate) body: String,
}

/// Send raw request bytes and read the whole answer (the request asks to close).
fn raw(addr: SocketAddr, request: &[u8]) -> Answer {
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // The server may answer (and close) before reading an oversized request whole.
    let _ = conn.write_all(request);
    let mut bytes = Vec::new();
    let _ = conn.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    Answer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn get_with(serve: &Serve, target: &str, extra: &str) -> Answer {
    let addr = serve.addr();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{extra}Connection: close\r\n\r\n",
        addr.port()
    );
    raw(addr, request.as_bytes())
}

pub(crate) fn get(serve: &Serve, target: &str) -> Answer {
    get_with(serve, target, "")
}

/// Poll `target` until `ok(status, body)`, failing after [`DEADLINE`].
fn wait_for(serve: &Serve, target: &str, ok: impl Fn(u16, &str) -> bool) -> Answer {
    let start = Instant::now();
    loop {
        let a = get(serve, target);
        if ok(a.status, &a.body) {
            return a;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{target} never became as expected; last answer {}:\n{}",
            a.status,
            a.body
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An open live-reload stream.
struct Live(BufReader<TcpStream>);

impl Live {
    fn open(serve: &Serve) -> Live {
        let addr = serve.addr();
        let mut conn = TcpStream::connect(addr).expect("connect");
        conn.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        write!(
            conn,
            "GET /__blameless/live HTTP/1.1\r\nHost: localhost:{}\r\nAccept: text/event-stream\r\n\r\n",
            addr.port()
        )
        .expect("send");
        let mut live = Live(BufReader::new(conn));
        let head = live.until(|line| line.is_empty());
        assert!(head.contains("text/event-stream"), "{head}");
        let hello = live.until(|line| line.starts_with("data:"));
        assert!(hello.contains("event: hello"), "{hello}");
        live
    }

    /// Lines read until one satisfies `done` (inclusive).
    fn until(&mut self, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        let mut seen = String::new();
        let mut line = String::new();
        loop {
            match self.0.read_line(&mut line) {
                Ok(0) => panic!("the live stream closed; read:\n{seen}"),
                Ok(_) if line.ends_with('\n') => {
                    let l = line.trim_end().to_string();
                    seen.push_str(&l);
                    seen.push('\n');
                    line.clear();
                    if done(&l) {
                        return seen;
                    }
                }
                _ => assert!(
                    start.elapsed() < DEADLINE,
                    "no matching line on the live stream; read:\n{seen}"
                ),
            }
        }
    }
}

#[test]
fn serves_pages_and_reloads_them_after_an_edit() {
    let mut site = SiteTest::fixture("valid");
    let serve = start(&site);
    assert!(serve.url().starts_with("http://127.0.0.1:"));
    let page = "/incidents/2018-beta-scheduler-pileup/";
    let a = get(&serve, page);
    assert_eq!(a.status, 200);
    assert!(a.head.contains("Content-Type: text/html"), "{}", a.head);
    assert!(a.body.contains("Scheduler pile-up at Beta"));
    // The live script is added to served pages, as a file (the CSP allows no inline
    // script), and links use the server's own URL.
    assert!(a.body.contains("<script src=\"/__blameless/live.js?g="));
    assert!(a
        .body
        .contains(&format!("href=\"{}incidents/", serve.url())));
    let js = get(&serve, "/__blameless/live.js");
    assert_eq!(js.status, 200);
    assert!(js.body.contains("EventSource"));
    // Never a wildcard CORS header.
    assert!(!a
        .head
        .to_ascii_lowercase()
        .contains("access-control-allow-origin"));

    let mut live = Live::open(&serve);
    site.replace(
        STORY,
        "title: Scheduler pile-up at Beta",
        "title: Scheduler stampede at Beta",
    );
    let event = live.until(|line| line.starts_with("data:") && line.contains(page));
    assert!(event.contains("event: reload"), "{event}");
    let a = get(&serve, page);
    assert!(a.body.contains("Scheduler stampede at Beta"), "{}", a.body);
    // Lists the story appears on changed too.
    let pattern = get(&serve, "/patterns/scheduling-spof/");
    assert!(pattern.body.contains("Scheduler stampede at Beta"));
    assert!(!pattern.body.contains("Scheduler pile-up at Beta"));
    // Nothing was written to the deployable output directory.
    assert!(!site.root.join("public").exists());
    serve.stop();
}

#[test]
fn content_errors_show_an_escaped_overlay_until_fixed() {
    let mut site = SiteTest::fixture("valid");
    let serve = start(&site);
    let page = "/incidents/2018-beta-scheduler-pileup/";
    site.replace(
        STORY,
        "symptoms: [high-latency]",
        "symptoms: [\"<script>alert(1)</script>\"]",
    );
    let a = wait_for(&serve, page, |_, body| body.contains("blameless-overlay"));
    // The last good page is still served, under the overlay.
    assert_eq!(a.status, 200);
    assert!(a.body.contains("Scheduler pile-up at Beta"));
    let overlay = a
        .body
        .split("<div id=\"blameless-overlay\"")
        .nth(1)
        .expect("the overlay")
        .split("</div></div>")
        .next()
        .expect("its end");
    assert!(
        overlay.contains(
            "content/incidents/2018-beta-scheduler-pileup.md:13:12: error: unknown symptom"
        ),
        "{overlay}"
    );
    assert!(
        overlay.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{overlay}"
    );
    assert!(!overlay.contains("<script>"), "{overlay}");
    // Every page shows it.
    let home = get(&serve, "/");
    assert!(home.body.contains("blameless-overlay"));

    site.replace(
        STORY,
        "symptoms: [\"<script>alert(1)</script>\"]",
        "symptoms: [high-latency]",
    );
    wait_for(&serve, page, |_, body| !body.contains("blameless-overlay"));
    serve.stop();
}

#[test]
fn fragment_links_into_pages_a_rebuild_keeps_are_still_checked() {
    let mut site = SiteTest::fixture("valid");
    let serve = start(&site);
    let page = "/incidents/2018-beta-scheduler-pileup/";
    wait_for(&serve, page, |s, _| s == 200);
    // Only this story changes: the page it links into is kept, not rendered again.
    site.replace(
        STORY,
        "A short story.",
        "A short story. See [the other one](2020-alpha-node-oom.md#what-happend).",
    );
    let a = wait_for(&serve, page, |_, body| body.contains("blameless-overlay"));
    assert!(
        a.body
            .contains("has no heading or element with the id `what-happend`")
            && a.body.contains("did you mean `#what-happened`?"),
        "{}",
        a.body
    );
    site.replace(STORY, "#what-happend)", "#what-happened)");
    let b = wait_for(&serve, page, |_, body| !body.contains("blameless-overlay"));
    assert!(
        b.body.contains("2020-alpha-node-oom/#what-happened"),
        "{}",
        b.body
    );
    serve.stop();
}

#[test]
fn refuses_traversal_oversize_and_foreign_requests() {
    let site = SiteTest::fixture("valid");
    let serve = start(&site);
    let addr = serve.addr();
    let port = addr.port();
    for target in [
        "/../site.yaml",
        "/incidents/../../site.yaml",
        "/%2e%2e/site.yaml",
        "/%2E%2E%2Fsite.yaml",
        "/incidents%2f2018-beta-scheduler-pileup/",
        "/..%5csite.yaml",
        "/incidents\\..\\site.yaml",
        "/index.html%00.txt",
        "/%zz",
    ] {
        let a = get(&serve, target);
        assert_eq!(a.status, 400, "{target}: {}", a.body);
    }
    assert_eq!(get(&serve, "/no/such/page/").status, 404);
    assert_eq!(get(&serve, "/about").status, 301);

    let long = format!("/{}", "a".repeat(9_000));
    assert_eq!(get(&serve, &long).status, 414);
    let long_query = format!("/api/search?q={}", "a".repeat(3_000));
    assert_eq!(get(&serve, &long_query).status, 414);
    let big_header = format!("X-Big: {}\r\n", "b".repeat(20_000));
    assert_eq!(get_with(&serve, "/", &big_header).status, 431);
    let many: String = (0..100).map(|i| format!("X-H{i}: 1\r\n")).collect();
    assert_eq!(get_with(&serve, "/", &many).status, 431);
    let post = format!("POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let a = raw(addr, post.as_bytes());
    assert_eq!(a.status, 405);
    assert!(a.head.contains("Allow: GET, HEAD"));
    assert_eq!(get_with(&serve, "/", "Content-Length: 5\r\n").status, 413);
    assert_eq!(raw(addr, b"GARBAGE\r\n\r\n").status, 400);

    // DNS rebinding: only this server's own names are answered.
    let evil = format!("GET / HTTP/1.1\r\nHost: evil.example:{port}\r\nConnection: close\r\n\r\n");
    assert_eq!(raw(addr, evil.as_bytes()).status, 403);
    let other_port = "GET / HTTP/1.1\r\nHost: 127.0.0.1:1\r\nConnection: close\r\n\r\n";
    assert_eq!(raw(addr, other_port.as_bytes()).status, 403);
    let no_host = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
    assert_eq!(raw(addr, no_host.as_bytes()).status, 403);
    let localhost =
        format!("GET / HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n");
    assert_eq!(raw(addr, localhost.as_bytes()).status, 200);
    // Pages of other origins may not listen to the live stream or use the API.
    let foreign = "Origin: http://evil.example\r\n";
    assert_eq!(get_with(&serve, "/__blameless/live", foreign).status, 403);
    assert_eq!(get_with(&serve, "/api/search?q=oom", foreign).status, 403);
    let own = format!("Origin: http://127.0.0.1:{port}\r\n");
    wait_for(&serve, "/api/search?q=oom", |status, _| status == 200);
    assert_eq!(get_with(&serve, "/api/search?q=oom", &own).status, 200);

    // HEAD has the headers and no body; keep-alive serves two requests on one
    // connection.
    let head = format!("HEAD / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let a = raw(addr, head.as_bytes());
    assert_eq!(a.status, 200);
    assert!(a.body.is_empty());
    let two = format!(
        "GET /style.css HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\nGET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    let a = raw(addr, two.as_bytes());
    assert_eq!(a.body.matches("HTTP/1.1 200 OK").count(), 1, "{}", a.body);
    serve.stop();
}

#[test]
fn search_api_answers_like_the_cli_and_rejects_bad_queries() {
    let site = SiteTest::fixture("valid");
    let serve = start(&site);
    let a = wait_for(&serve, "/api/search?q=oom&limit=3", |status, _| {
        status == 200
    });
    assert!(a.head.contains("Content-Type: application/json"));
    let api: serde_json::Value = serde_json::from_str(&a.body).expect("JSON");
    // The same results as `blameless search --json` (URLs under the server's own
    // base URL instead of the site's).
    let cli = site
        .bin()
        .args(["search", "--json", "--limit", "3", "oom"])
        .run();
    let mut cli: serde_json::Value =
        serde_json::from_str(&cli.stdout).expect("the CLI prints JSON");
    let hits = cli["results"].as_array_mut().expect("an array of results");
    assert!(!hits.is_empty(), "the fixture has OOM stories");
    for hit in hits.iter_mut() {
        let url = hit["url"].as_str().expect("a url").to_string();
        hit["url"] = url.replace("https://example.org/kb/", serve.url()).into();
    }
    assert_eq!(api, cli);

    // Facet filters as parameters: the same as filters written in the query (but for
    // the query echoed back), and every facet's counts ignore that facet's own filter.
    let year = api["facets"]["year"][0]["value"]
        .as_str()
        .expect("a year facet")
        .to_string();
    let a = get(
        &serve,
        &format!("/api/search?q=oom&year={year}&year={year}"),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let mut filtered: serde_json::Value = serde_json::from_str(&a.body).expect("JSON");
    let run = site
        .bin()
        .args(["search", "--json", &format!("oom year:{year}")])
        .run();
    let mut cli: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    for v in [&mut filtered, &mut cli] {
        v["query"] = serde_json::Value::Null;
        for hit in v["results"].as_array_mut().expect("results") {
            hit["url"] = serde_json::Value::Null;
        }
    }
    assert_eq!(filtered, cli);
    assert_eq!(filtered["facets"]["year"], api["facets"]["year"]);
    assert_eq!(
        filtered["total"], api["facets"]["year"][0]["count"],
        "a value's count is the total once it is chosen"
    );

    for (target, status, message) in [
        ("/api/search?q=oom&limit=0", 400, "limit must be 1 to 100"),
        (
            "/api/search?q=oom&limit=ten",
            400,
            "`limit` must be a number",
        ),
        (
            "/api/search?q=oom&offset=-1",
            400,
            "`offset` must be a number",
        ),
        (
            "/api/search?limit=3",
            400,
            "missing the query parameter `q`",
        ),
        (
            "/api/search?q=oom&x=1",
            400,
            "unknown parameter `x`; expected q, limit, offset, pattern, symptom, platform, year",
        ),
        ("/api/search?q=%ff", 400, "malformed query string"),
    ] {
        let a = get(&serve, target);
        assert_eq!(a.status, status, "{target}: {}", a.body);
        let json: serde_json::Value = serde_json::from_str(&a.body).expect("a JSON error");
        assert_eq!(json["error"], message, "{target}");
    }
    serve.stop();
}

/// Poll until the served files are exactly those of a fresh full build of the same
/// content with the server's base URL (the search export follows on its own thread).
fn assert_matches_full_build(site: &SiteTest, serve: &Serve, step: &str) {
    let outcome = pipeline::build(
        &site.root,
        &site.out,
        &Options {
            base_url: Some(serve.url().to_string()),
        },
    )
    .expect("a full build");
    assert!(!outcome.has_errors(), "{step}: the content has errors");
    let full: BTreeMap<String, Vec<u8>> = crate::harness::snapshot(&site.out)
        .into_iter()
        .filter_map(|(p, e)| match e {
            crate::harness::Entry::File(bytes) => Some((p, bytes)),
            _ => None,
        })
        .filter(|(p, _)| p != blameless::output::MARKER)
        .collect();
    let start = Instant::now();
    loop {
        let served: BTreeMap<String, Vec<u8>> = serve.files().into_iter().collect();
        if served == full {
            return;
        }
        if start.elapsed() > DEADLINE {
            let differ: Vec<&String> = full
                .keys()
                .chain(served.keys())
                .filter(|p| full.get(*p) != served.get(*p))
                .collect();
            panic!("{step}: served files differ from a full build: {differ:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn incremental_rebuilds_leave_the_bytes_of_a_full_build() {
    let mut site = SiteTest::fixture("valid");
    // Short pages, so that lists paginate once the copies below exist.
    site.replace("site.yaml", "language: en", "language: en\npaginate_by: 5");
    let serve = start(&site);
    let story = "/incidents/2018-beta-scheduler-pileup/";
    assert_matches_full_build(&site, &serve, "first build");
    // A title: cards on lists and in other stories' related sections.
    site.replace(
        STORY,
        "title: Scheduler pile-up at Beta",
        "title: Pile-up at Beta",
    );
    wait_for(&serve, story, |_, b| b.contains("Pile-up at Beta"));
    assert_matches_full_build(&site, &serve, "title");
    // A date: the story moves in every list and in the related rankings.
    site.replace(STORY, "date: \"2018\"", "date: \"2022-03\"");
    wait_for(&serve, story, |_, b| b.contains("March 2022"));
    assert_matches_full_build(&site, &serve, "date");
    // A pattern of its chain: it leaves one pattern's pages and joins another's.
    site.replace(
        STORY,
        "pattern: noisy-neighbour",
        "pattern: node-memory-exhaustion",
    );
    wait_for(&serve, "/patterns/node-memory-exhaustion/", |_, b| {
        b.contains("Pile-up at Beta")
    });
    assert_matches_full_build(&site, &serve, "pattern membership");
    // A symptom.
    site.replace(STORY, "symptoms: [high-latency]", "symptoms: [oomkilled]");
    wait_for(&serve, "/symptoms/oomkilled/", |_, b| {
        b.contains("Pile-up at Beta")
    });
    assert_matches_full_build(&site, &serve, "symptom");
    // A pattern's title: every story of its chain shows it.
    site.replace(
        "content/patterns/cpu-limit-throttling.md",
        "title: CPU limit throttling",
        "title: CPU quota throttling",
    );
    wait_for(&serve, story, |_, b| b.contains("CPU quota throttling"));
    assert_matches_full_build(&site, &serve, "pattern title");
    // A new story, then its removal; a body.
    let new_story = site
        .read(STORY)
        .replace("Pile-up at Beta", "Second pile-up at Beta");
    site.write("content/incidents/2018-beta-second-pileup.md", new_story);
    wait_for(&serve, "/incidents/2018-beta-second-pileup/", |s, _| {
        s == 200
    });
    assert_matches_full_build(&site, &serve, "new story");
    site.remove("content/incidents/2018-beta-second-pileup.md");
    wait_for(&serve, "/incidents/2018-beta-second-pileup/", |s, _| {
        s == 404
    });
    site.replace(STORY, "A short story.", "A short story, edited.");
    wait_for(&serve, story, |_, b| b.contains("A short story, edited."));
    assert_matches_full_build(&site, &serve, "removal and body");
    // More stories share a pattern than a related section shows: one that is not
    // shown leaving the pattern still changes the "and N more" of the others.
    let text = site.read(STORY);
    for n in 0..9 {
        let copy = text.replace("Pile-up at Beta", &format!("Copy {n} at Beta"));
        site.write(&format!("content/incidents/2017-copy-{n}.md"), copy);
    }
    wait_for(&serve, "/incidents/2017-copy-8/", |s, _| s == 200);
    assert_matches_full_build(&site, &serve, "copies");
    for n in [0, 8] {
        // Out of every pattern the other copies have.
        let path = format!("content/incidents/2017-copy-{n}.md");
        let moved = site
            .read(&path)
            .replace("cpu-limit-throttling", "monitoring-blind-spot")
            .replace("node-memory-exhaustion", "untracked-manual-change")
            .replace("scheduling-spof", "noisy-neighbour");
        site.write(&path, moved);
        let marker = format!("Copy {n} at Beta");
        wait_for(&serve, "/patterns/noisy-neighbour/", |_, b| {
            b.contains(&marker)
        });
    }
    assert_matches_full_build(&site, &serve, "a story not shown leaves a pattern");
    // Its body alone: only its own page shows it.
    site.replace(
        STORY,
        "A short story, edited.",
        "A short story, edited twice.",
    );
    wait_for(&serve, story, |_, b| b.contains("edited twice"));
    assert_matches_full_build(&site, &serve, "body only");
    // A summary: the cards of every list it is on, and other stories' related
    // sections, but no ranking.
    let copy = "content/incidents/2017-copy-3.md";
    let summary = "summary: Throttled pods that all ran on one busy node";
    site.replace(
        copy,
        summary,
        "summary: SUMMARY-COPY-3 throttled pods on one node",
    );
    wait_for(&serve, "/incidents/2017-copy-3/", |_, b| {
        b.contains("SUMMARY-COPY-3")
    });
    assert_matches_full_build(&site, &serve, "summary");
    // A date that moves a story across the pages of every paginated list.
    site.replace(copy, "date: \"2022-03\"", "date: \"2023-06-01\"");
    wait_for(&serve, "/incidents/2017-copy-3/", |_, b| b.contains("2023"));
    assert_matches_full_build(&site, &serve, "date across pages");
    // An explicit `related` link: that story's page shows the other one.
    site.replace(
        "content/incidents/2017-copy-5.md",
        "tags: [scheduler]",
        "tags: [scheduler]\nrelated: [2020-alpha-node-oom]",
    );
    wait_for(&serve, "/incidents/2017-copy-5/", |_, b| {
        b.contains("/incidents/2020-alpha-node-oom/")
    });
    assert_matches_full_build(&site, &serve, "related");
    // A pattern no story names yet, then its title: its own pages and the
    // patterns index show it, no story does.
    site.write(
        "content/patterns/quota-exhaustion.md",
        "---\ntitle: Quota exhaustion\nsummary: A quota ran out.\ncategory: resources\n---\n\nBody.\n",
    );
    wait_for(&serve, "/patterns/quota-exhaustion/", |s, _| s == 200);
    assert_matches_full_build(&site, &serve, "new pattern");
    site.replace(
        "content/patterns/quota-exhaustion.md",
        "title: Quota exhaustion",
        "title: Quota ran dry",
    );
    wait_for(&serve, "/patterns/", |_, b| b.contains("Quota ran dry"));
    assert_matches_full_build(&site, &serve, "title of a pattern no story names");
    serve.stop();
}

/// Every file a cached run renders, in the order the sink got them.
fn rendered(
    site: &SiteTest,
    cache: &pipeline::Cache,
    first: Option<&blameless::render::First<'_>>,
    log: &std::sync::Mutex<Vec<String>>,
) -> BTreeMap<String, Vec<u8>> {
    let files = std::sync::Mutex::new(BTreeMap::new());
    let outcome = pipeline::run_cached_first(
        &site.root,
        &Options::default(),
        &|file| {
            log.lock().expect("log").push(file.path.clone());
            files.lock().expect("files").insert(file.path, file.bytes);
            Ok(())
        },
        cache,
        first,
    )
    .expect("a run");
    assert!(!outcome.has_errors(), "{:?}", outcome.diagnostics);
    files.into_inner().expect("files")
}

#[test]
fn pages_open_in_a_browser_are_rendered_first_and_nothing_else_changes() {
    let mut site = SiteTest::fixture("valid");
    let (plain, early) = (pipeline::Cache::default(), pipeline::Cache::default());
    let log = std::sync::Mutex::new(Vec::new());
    rendered(&site, &plain, None, &log);
    rendered(&site, &early, None, &log);
    // A pattern's title is on its pages and on every story of its chain.
    site.replace(
        "content/patterns/cpu-limit-throttling.md",
        "title: CPU limit throttling",
        "title: CPU quota throttling",
    );
    let open: std::collections::BTreeSet<String> = [
        "patterns/cpu-limit-throttling/index.html",
        "incidents/2019-alpha-cpu-throttling-cascade/index.html",
        "about/index.html", // open, but unchanged: not rendered at all
    ]
    .map(String::from)
    .into();
    let before_then = std::sync::Mutex::new(None);
    let log = std::sync::Mutex::new(Vec::new());
    let then = || *before_then.lock().expect("mark") = Some(log.lock().expect("log").clone());
    let first = blameless::render::First {
        pages: &open,
        then: &then,
    };
    let with_first = rendered(&site, &early, Some(&first), &log);
    let without = rendered(&site, &plain, None, &std::sync::Mutex::new(Vec::new()));
    assert_eq!(with_first, without, "the same files, the same bytes");
    let mut early_files = before_then
        .into_inner()
        .expect("mark")
        .expect("then was called");
    early_files.sort();
    assert_eq!(
        early_files,
        [
            "incidents/2019-alpha-cpu-throttling-cascade/index.html",
            "patterns/cpu-limit-throttling/index.html",
        ]
    );
    assert!(
        log.into_inner().expect("log").len() > 2 + 5,
        "the rest came after"
    );
}
