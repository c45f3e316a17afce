//! `check --links` against a local HTTP server on 127.0.0.1 (never the network):
//! 200, 404, 500, a slow answer, a redirect, a server that refuses `HEAD`, a flaky
//! one that needs a retry; diagnostics at each URL's line; the cache.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use blameless::links::{self, Settings, Stats};

use crate::harness::SiteTest;

/// A tiny HTTP/1.1 server on 127.0.0.1 that answers by path and records every
/// request. Stops when dropped (and after a minute at most).
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<(String, String)>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (reqs, flag) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let reqs = reqs.clone();
                        std::thread::spawn(move || serve(stream, &reqs));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Server {
            port,
            requests,
            stop,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// How many requests each path received.
    fn counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for (_, path) in self.requests.lock().expect("lock").iter() {
            *out.entry(path.clone()).or_insert(0) += 1;
        }
        out
    }

    fn methods(&self, path: &str) -> Vec<String> {
        self.requests
            .lock()
            .expect("lock")
            .iter()
            .filter(|(_, p)| p == path)
            .map(|(m, _)| m.clone())
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(mut stream: TcpStream, requests: &Mutex<Vec<(String, String)>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 16 * 1024 {
            return;
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut parts = head.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let seen = {
        let mut r = requests.lock().expect("lock");
        r.push((method.clone(), path.clone()));
        r.iter().filter(|(_, p)| *p == path).count()
    };
    let (code, extra) = match path.as_str() {
        "/ok" | "/archive" => (200, String::new()),
        "/gone" => (404, String::new()),
        "/error" => (500, String::new()),
        "/flaky" if seen == 1 => (503, String::new()),
        "/flaky" => (200, String::new()),
        "/slow" => {
            std::thread::sleep(Duration::from_secs(2));
            (200, String::new())
        }
        "/moved" => (301, "Location: /ok\r\n".to_string()),
        "/no-head" if method == "HEAD" => (405, String::new()),
        "/no-head" => (200, String::new()),
        _ => (404, String::new()),
    };
    let body = if method == "HEAD" { "" } else { "body" };
    let _ = write!(
        stream,
        "HTTP/1.1 {code} X\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        if method == "HEAD" { 4 } else { body.len() }
    );
}

fn fast(cache: Option<std::path::PathBuf>) -> Settings {
    Settings {
        timeout: Duration::from_millis(500),
        retries: 1,
        backoff: Duration::from_millis(10),
        concurrency: 4,
        max_age: Duration::from_secs(3600),
        cache,
    }
}

/// The `valid` fixture with every source URL pointing at `server`'s `/ok`, and one
/// story whose sources exercise every case.
fn site_for(server: &Server) -> SiteTest {
    let mut site = SiteTest::fixture("valid");
    let dir = site.path("content/incidents");
    for entry in std::fs::read_dir(&dir).expect("incidents") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        let text: Vec<String> = text
            .lines()
            .map(|l| match l.find("url: ") {
                Some(i) => format!("{}url: {}", &l[..i], server.url("/ok")),
                None => l.to_string(),
            })
            .collect();
        std::fs::write(&path, text.join("\n") + "\n").expect("write");
    }
    let rel = "content/incidents/2020-alpha-node-oom.md";
    let ok = server.url("/ok");
    let sources = [
        ("/gone", None),
        ("/gone", Some("/archive")),
        ("/error", None),
        ("/slow", None),
        ("/moved", None),
        ("/no-head", None),
        ("/flaky", None),
    ]
    .iter()
    .enumerate()
    .map(|(n, (path, archive))| {
        // `/gone` twice: once plain, once with an archived copy (distinct query
        // strings keep them distinct URLs with the same behaviour).
        let url = if n == 1 {
            server.url("/gone?2")
        } else {
            server.url(path)
        };
        let mut s = format!("  - url: {url}\n");
        if let Some(a) = archive {
            s.push_str(&format!("    archive_url: {}\n", server.url(a)));
        }
        s
    })
    .collect::<String>();
    site.replace(rel, &format!("  - url: {ok}\n"), &sources);
    site
}

#[test]
fn dead_links_are_reported_at_their_lines_and_transient_ones_as_warnings() {
    let server = Server::start();
    let site = site_for(&server);
    let (diags, stats) = links::check(&site.root, &fast(None)).expect("no environment error");
    let report: Vec<String> = diags
        .iter()
        .map(|d| {
            format!(
                "{}:{}:{}: {}: {}",
                d.path,
                d.line,
                d.col,
                d.level.as_str(),
                d.message
                    .replace(&format!("127.0.0.1:{}", server.port), "HOST")
            )
        })
        .collect();
    let p = "content/incidents/2020-alpha-node-oom.md";
    assert_eq!(
        report,
        [
            format!("{p}:7:10: error: dead link: the source `http://HOST/gone` answers HTTP 404"),
            format!(
                "{p}:8:10: warning: dead link: the source `http://HOST/gone?2` answers HTTP 404"
            ),
            format!("{p}:10:10: warning: the source `http://HOST/error` answers HTTP 500"),
            format!("{p}:11:10: warning: could not reach the source `http://HOST/slow`: timed out"),
        ]
    );
    assert_eq!(
        diags[0].help.as_deref().map(|h| h.replace(&format!("127.0.0.1:{}", server.port), "HOST")),
        Some("if the write-up moved, update `url`; otherwise add an `archive_url`, e.g. from https://web.archive.org/web/*/http://HOST/gone".to_string())
    );
    assert_eq!(
        stats,
        Stats {
            urls: 9,
            cached: 0,
            broken: 4
        }
    );
    // HEAD first, GET when HEAD is refused; retries only for what may be transient.
    assert_eq!(server.methods("/no-head"), ["HEAD", "GET"]);
    assert_eq!(
        server.methods("/ok"),
        ["HEAD", "HEAD"],
        "redirect target and the /ok URL"
    );
    let counts = server.counts();
    assert_eq!(counts["/flaky"], 2, "503 once, then a retry that succeeds");
    assert_eq!(counts["/error"], 4, "HEAD+GET, retried once");
    assert_eq!(counts["/gone"], 2, "404 is not retried: HEAD, then GET");
}

#[test]
fn successes_are_cached_and_failures_checked_again() {
    let server = Server::start();
    let site = site_for(&server);
    let cache = site.path(".blameless/links.json");
    let settings = Settings {
        concurrency: 2,
        ..fast(Some(cache.clone()))
    };
    let (_, first) = links::check(&site.root, &settings).expect("first run");
    assert_eq!(first.cached, 0);
    let before = server.counts();
    let (diags, second) = links::check(&site.root, &settings).expect("second run");
    assert_eq!(second.urls, first.urls);
    assert_eq!(second.cached, 5, "ok, moved, no-head, flaky, archive");
    assert_eq!(second.broken, 4);
    assert_eq!(diags.len(), 4);
    let after = server.counts();
    assert_eq!(after["/ok"], before["/ok"], "cached: not asked again");
    assert_eq!(after["/no-head"], before["/no-head"]);
    assert!(
        after["/gone"] > before["/gone"],
        "failures are checked again"
    );

    // An expired cache is ignored; a corrupt one too.
    let expired = Settings {
        max_age: Duration::ZERO,
        ..settings.clone()
    };
    assert_eq!(links::check(&site.root, &expired).expect("run").1.cached, 0);
    std::fs::write(&cache, "{ not json").expect("corrupt the cache");
    assert_eq!(
        links::check(&site.root, &settings).expect("run").1.cached,
        0
    );
}

#[test]
fn check_links_on_the_command_line_exits_one_for_a_dead_link() {
    let server = Server::start();
    let mut site = SiteTest::fixture("valid");
    // Only local URLs: rewrite every source, then break one.
    let ok = server.url("/ok");
    for entry in std::fs::read_dir(site.path("content/incidents")).expect("incidents") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        let text: Vec<String> = text
            .lines()
            .map(|l| match l.find("url: ") {
                Some(i) => format!("{}url: {ok}", &l[..i]),
                None => l.to_string(),
            })
            .collect();
        std::fs::write(&path, text.join("\n") + "\n").expect("write");
    }
    let run = site.bin().args(["check", "--links"]).run();
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("links: 1 source URLs, 0 from the cache, 0 broken\n"),
        "{}",
        run.stderr
    );
    assert!(
        site.path(".blameless/links.json").is_file(),
        "the cache is written"
    );

    let gone = server.url("/gone");
    site.replace(
        "content/incidents/2018-beta-scheduler-pileup.md",
        &format!("  - url: {ok}"),
        &format!("  - url: {gone}"),
    );
    let run = site
        .bin()
        .args(["check", "--links", "--format", "github"])
        .run();
    run.assert_code(1);
    assert!(
        run.stdout.starts_with(&format!(
            "::error file=content/incidents/2018-beta-scheduler-pileup.md,line=7,col=10,title=blameless::dead link: the source `{gone}` answers HTTP 404"
        )),
        "{}",
        run.stdout
    );
    // Without --links, nothing touches the network.
    let before = server.counts().values().sum::<usize>();
    site.bin().arg("check").run().assert_code(0);
    assert_eq!(server.counts().values().sum::<usize>(), before);
}
