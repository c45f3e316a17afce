//! The `valid` fixture: a small, complete site served under a sub-path
//! (`https://example.org/kb/`). Five incidents share six patterns in different amounts so
//! that the related-incident ranking, the pattern pages and every index can be asserted
//! exactly.
//!
//! The incidents, newest first, and their chains:
//!
//! | id | date | patterns |
//! |---|---|---|
//! | E `2021-anonymous-manual-oom` | 2021 | untracked-manual-change, node-memory-exhaustion |
//! | D `2020-alpha-node-oom` | 2020-01-15 | noisy-neighbour, node-memory-exhaustion |
//! | C `2019-gamma-silent-rollout` | 2019-06 | untracked-manual-change, noisy-neighbour, monitoring-blind-spot |
//! | A `2019-alpha-cpu-throttling-cascade` | 2019-03-10 | cpu-limit-throttling, noisy-neighbour, scheduling-spof, monitoring-blind-spot |
//! | B `2018-beta-scheduler-pileup` | 2018 | cpu-limit-throttling, noisy-neighbour, scheduling-spof |

use std::collections::{BTreeMap, BTreeSet};

use crate::harness::{self, between, SiteTest};

const A: &str = "2019-alpha-cpu-throttling-cascade";
const B: &str = "2018-beta-scheduler-pileup";
const C: &str = "2019-gamma-silent-rollout";
const D: &str = "2020-alpha-node-oom";
const E: &str = "2021-anonymous-manual-oom";

const BASE_URL: &str = "https://example.org/kb/";
const BASE_PATH: &str = "/kb/";

fn page(id: &str) -> String {
    format!("incidents/{id}/index.html")
}

fn built() -> SiteTest {
    let mut site = SiteTest::fixture("valid");
    site.build();
    site
}

/// The output files as text.
fn output(site: &SiteTest) -> BTreeMap<String, String> {
    harness::files(&harness::snapshot(&site.out))
}

/// Incident ids linked from `<h3 class="card-title">`s (cards), in order.
fn card_ids(html: &str) -> Vec<String> {
    html.match_indices("class=\"card-title\"><a href=\"/kb/incidents/")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('/').expect("id ends with /")].to_string()
        })
        .collect()
}

/// `(pattern slug or "see-also", incident ids in order)` of an incident page's related
/// section.
fn related_groups(html: &str) -> Vec<(String, Vec<String>)> {
    let section = between(html, "<section class=\"related\"", "</section>");
    section
        .split("<div class=\"related-group\">")
        .skip(1)
        .map(|group| {
            let heading = between(group, "<h3", "</h3>");
            let key = match harness::tags(heading)
                .iter()
                .find_map(|t| t.attr("data-slug").map(str::to_string))
            {
                Some(slug) => slug,
                None => {
                    assert!(heading.contains("See also"), "{heading}");
                    "see-also".to_string()
                }
            };
            let list = between(group, "<ul class=\"ref-list\">", "</ul>");
            let ids = harness::links(list)
                .into_iter()
                .filter_map(|l| {
                    l.strip_prefix("/kb/incidents/")
                        .map(|s| s.trim_end_matches('/').to_string())
                })
                .collect();
            (key, ids)
        })
        .collect()
}

fn group(key: &str, ids: &[&str]) -> (String, Vec<String>) {
    (
        key.to_string(),
        ids.iter().map(|s| (*s).to_string()).collect(),
    )
}

#[test]
fn checks_clean() {
    let site = SiteTest::fixture("valid");
    let outcome = site.run();
    assert_eq!(
        blameless::diagnostics::render_human(&outcome.diagnostics),
        ""
    );
    assert_eq!(outcome.counts, (5, 6, 2));
}

#[test]
fn every_expected_page_exists() {
    let site = built();
    let files = output(&site);
    let mut expected: Vec<String> = [
        "index.html",
        "404.html",
        "feed.xml",
        "sitemap.xml",
        "robots.txt",
        "style.css",
        "syntax.css",
        "favicon.svg",
        ".blameless-output",
        "about/index.html",
        "contributing/index.html",
        "patterns/index.html",
        "symptoms/index.html",
        "components/index.html",
        "organizations/index.html",
        "platforms/index.html",
        "years/index.html",
        "search/index.html",
        "search.js",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    for id in [A, B, C, D, E] {
        expected.push(page(id));
    }
    let terms: &[(&str, &[&str])] = &[
        (
            "patterns",
            &[
                "cpu-limit-throttling",
                "monitoring-blind-spot",
                "node-memory-exhaustion",
                "noisy-neighbour",
                "scheduling-spof",
                "untracked-manual-change",
            ],
        ),
        (
            "symptoms",
            &["5xx-errors", "high-latency", "node-notready", "oomkilled"],
        ),
        (
            "components",
            &[
                "cfs-quota",
                "elasticsearch",
                "grafana",
                "kube-scheduler",
                "kubelet",
                "linux-kernel",
                "prometheus",
                "redis",
            ],
        ),
        (
            "organizations",
            &["alpha-corp", "anonymous", "beta", "gamma-inc"],
        ),
        ("platforms", &["aws", "eks", "gke", "on-prem"]),
        ("years", &["2018", "2019", "2020", "2021"]),
    ];
    for (kind, slugs) in terms {
        for slug in *slugs {
            expected.push(format!("{kind}/{slug}/index.html"));
        }
    }
    let missing: Vec<&String> = expected
        .iter()
        .filter(|p| !files.contains_key(*p))
        .collect();
    assert!(missing.is_empty(), "missing output files: {missing:?}");
    // No term page that the content does not call for (a stray slug would show here).
    let unexpected: Vec<&String> = files
        .keys()
        .filter(|p| p.ends_with("/index.html") && !expected.contains(p))
        .collect();
    assert!(unexpected.is_empty(), "unexpected pages: {unexpected:?}");
}

#[test]
fn every_link_respects_the_base_path_and_resolves() {
    let site = built();
    let files = output(&site);
    let problems = harness::broken_links(&files, BASE_URL, BASE_PATH);
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
    // The checker did see links: every page links the stylesheets, home and the feed.
    let home_links = harness::links(&files["index.html"]);
    for want in [
        "/kb/",
        "/kb/feed.xml",
        "/kb/favicon.svg",
        "/kb/patterns/",
        "/kb/symptoms/",
        "/kb/components/",
        "/kb/organizations/",
        "/kb/platforms/",
        "/kb/years/",
        "/kb/about/",
        "/kb/contributing/",
    ] {
        assert!(home_links.iter().any(|l| l == want), "home links {want}");
    }
    assert!(home_links.iter().any(|l| l.starts_with("/kb/style.css?v=")));
    assert!(home_links
        .iter()
        .any(|l| l.starts_with("/kb/syntax.css?v=")));
    // No link anywhere assumes the site is served at `/`.
    for (path, text) in &files {
        for link in harness::links(text) {
            assert!(
                !link.starts_with('/') || link.starts_with(BASE_PATH),
                "{path}: `{link}`"
            );
        }
    }
}

#[test]
fn ids_are_unique_in_every_page() {
    let site = built();
    for (path, text) in output(&site).iter().filter(|(p, _)| p.ends_with(".html")) {
        let mut seen = BTreeSet::new();
        for id in harness::ids(text) {
            assert!(seen.insert(id.clone()), "{path}: duplicate id `{id}`");
        }
    }
}

#[test]
fn failure_chain_is_in_order_and_links_patterns() {
    let site = built();
    let html = site.out_text(&page(A));
    let chain = between(&html, "<ol class=\"chain\">", "</ol>");
    harness::assert_in_order(
        chain,
        &[
            "Trigger",
            "Traffic spike",
            "TRIGGER-ALPHA",
            "Contributing failure 1",
            "CHAIN-ALPHA-1",
            "Contributing failure 2",
            "CHAIN-ALPHA-2",
            "Contributing failure 3",
            "CHAIN-ALPHA-3",
            "Contributing failure 4",
            "CHAIN-ALPHA-4",
            "Impact",
            "Checkout requests took seconds and many failed with 503.",
            "href=\"/kb/symptoms/high-latency/\"",
            "href=\"/kb/symptoms/5xx-errors/\"",
            "Resolutions",
            "status-done",
            "RESOLUTION-ALPHA-1",
            "status-planned",
            "RESOLUTION-ALPHA-2",
            "status-considered",
            "RESOLUTION-ALPHA-3",
        ],
        "the failure chain",
    );
    // Each contributing failure links its own pattern page.
    let steps: Vec<&str> = chain
        .split("<li class=\"chain-step chain-failure\">")
        .skip(1)
        .collect();
    let patterns = [
        "cpu-limit-throttling",
        "noisy-neighbour",
        "scheduling-spof",
        "monitoring-blind-spot",
    ];
    assert_eq!(steps.len(), patterns.len());
    for (n, (step, slug)) in steps.iter().zip(patterns).enumerate() {
        let step = &step[..step.find("</li>").expect("step ends")];
        assert!(
            step.contains(&format!("href=\"/kb/patterns/{slug}/\"")),
            "step {} links {slug}: {step}",
            n + 1
        );
        assert!(step.contains(&format!("CHAIN-ALPHA-{}", n + 1)));
    }
    // The chain comes before the body, the body before lessons, sources, edit, related.
    harness::assert_in_order(
        &html,
        &[
            "class=\"chain\"",
            "class=\"prose incident-body\"",
            "LESSON-ALPHA",
            "class=\"sources\"",
            "Edit this page",
            "class=\"related\"",
        ],
        "the incident page",
    );
}

#[test]
fn related_incidents_are_grouped_by_pattern_and_ranked_by_shared_patterns() {
    let site = built();
    // A: B shares 3 patterns, C 2, D 1; the dates alone would give D, C, B.
    assert_eq!(
        related_groups(&site.out_text(&page(A))),
        vec![
            group("cpu-limit-throttling", &[B]),
            group("noisy-neighbour", &[B, C, D]),
            group("scheduling-spof", &[B]),
            group("monitoring-blind-spot", &[C]),
            group("see-also", &[E]),
        ]
    );
    // C: A shares 2; D and B share 1 each, and the tie goes to the newer (D).
    assert_eq!(
        related_groups(&site.out_text(&page(C))),
        vec![
            group("untracked-manual-change", &[E]),
            group("noisy-neighbour", &[A, D, B]),
            group("monitoring-blind-spot", &[A]),
        ]
    );
    assert_eq!(
        related_groups(&site.out_text(&page(E))),
        vec![
            group("untracked-manual-change", &[C]),
            group("node-memory-exhaustion", &[D]),
            group("see-also", &[A]),
        ]
    );
    // The group heading names the pattern; the count of shared patterns is shown.
    site.check_file_contains(
        &page(A),
        &[
            "Also involving <a class=\"chip chip-pattern\" href=\"/kb/patterns/noisy-neighbour/\"",
            "shares 3 patterns",
            "shares 2 patterns",
        ],
    );
}

#[test]
fn pattern_page_lists_incidents_accounts_resolutions_and_co_occurring_patterns() {
    let site = built();
    let html = site.out_text("patterns/noisy-neighbour/index.html");
    // The pattern's prose.
    assert!(html.contains("Several busy pods on one node slow each other down."));
    // Every incident in which it contributed, newest first, each with its own account.
    let incidents = between(&html, "<section class=\"pattern-incidents\"", "</section>");
    assert_eq!(card_ids(incidents), [D, C, A, B]);
    harness::assert_in_order(
        incidents,
        &[
            D,
            "CHAIN-DELTA-1",
            C,
            "CHAIN-GAMMA-2",
            A,
            "CHAIN-ALPHA-2",
            B,
            "CHAIN-BETA-2",
        ],
        "the pattern's incidents",
    );
    assert!(
        !incidents.contains("CHAIN-ALPHA-1"),
        "only this pattern's accounts"
    );
    // The resolutions aimed at it, and no other.
    let responses = between(&html, "<section class=\"pattern-responses\"", "</section>");
    assert!(responses.contains("RESOLUTION-ALPHA-2"));
    assert!(responses.contains(&format!("href=\"/kb/incidents/{A}/\"")));
    for other in [
        "RESOLUTION-ALPHA-1",
        "RESOLUTION-BETA-1",
        "RESOLUTION-DELTA-1",
    ] {
        assert!(!responses.contains(other), "{other} does not address it");
    }
    // Co-occurring patterns, most frequent first, ties by slug, with counts.
    let co = between(&html, "<section class=\"co-occurring\"", "</section>");
    let found: Vec<(String, String)> = co
        .split("<li>")
        .skip(1)
        .map(|li| {
            let slug = harness::tags(li)
                .iter()
                .find_map(|t| t.attr("data-slug").map(str::to_string))
                .expect("chip slug");
            let count = between(li, "<span class=\"chip-count\"", "</span>");
            let count = count[count.find('>').expect("tag end") + 1..count.len() - 7].to_string();
            (slug, count)
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("cpu-limit-throttling", "2"),
        ("monitoring-blind-spot", "2"),
        ("scheduling-spof", "2"),
        ("node-memory-exhaustion", "1"),
        ("untracked-manual-change", "1"),
    ]
    .iter()
    .map(|(s, n)| ((*s).to_string(), (*n).to_string()))
    .collect();
    assert_eq!(found, want);
}

#[test]
fn pattern_page_shows_done_resolutions_first() {
    let site = built();
    let html = site.out_text("patterns/scheduling-spof/index.html");
    let responses = between(&html, "<section class=\"pattern-responses\"", "</section>");
    // A (newer) planned ALPHA-2, B (older) did BETA-1: done comes first.
    harness::assert_in_order(
        responses,
        &[
            "status-done",
            "RESOLUTION-BETA-1",
            "status-planned",
            "RESOLUTION-ALPHA-2",
        ],
        "the pattern's responses",
    );
}

#[test]
fn patterns_index_is_grouped_by_category_with_counts() {
    let site = built();
    site.check_in_order(
        "patterns/index.html",
        &[
            "id=\"resources\"",
            "/kb/patterns/cpu-limit-throttling/",
            "2 incidents",
            "/kb/patterns/node-memory-exhaustion/",
            "2 incidents",
            "/kb/patterns/noisy-neighbour/",
            "4 incidents",
            "id=\"scheduling\"",
            "/kb/patterns/scheduling-spof/",
            "2 incidents",
            "id=\"observability\"",
            "/kb/patterns/monitoring-blind-spot/",
            "2 incidents",
            "id=\"change-management\"",
            "/kb/patterns/untracked-manual-change/",
            "2 incidents",
        ],
    );
}

#[test]
fn home_lists_every_incident_newest_first() {
    let site = built();
    let html = site.out_text("index.html");
    let all = between(&html, "<section class=\"all-incidents\"", "</main>");
    assert_eq!(card_ids(all), [E, D, C, A, B]);
    // A card: title, organization, date, impact, symptom and pattern chips.
    let card = between(all, &format!("/kb/incidents/{A}/"), "</article>");
    harness::assert_in_order(
        card,
        &[
            "CPU throttling cascade at Alpha Corp",
            "/kb/organizations/alpha-corp/",
            "10 March 2019",
            "Checkout requests took seconds",
            "/kb/symptoms/high-latency/",
            "/kb/patterns/cpu-limit-throttling/",
        ],
        "the home card",
    );
}

#[test]
fn taxonomy_pages_list_their_incidents_newest_first() {
    let site = built();
    let cases: &[(&str, &[&str])] = &[
        ("symptoms/high-latency", &[A, B]),
        ("symptoms/oomkilled", &[E, D]),
        ("components/kubelet", &[D, A, B]),
        ("organizations/alpha-corp", &[D, A]),
        ("platforms/aws", &[D, A]),
        ("years/2019", &[C, A]),
        ("patterns/untracked-manual-change", &[E, C]),
    ];
    for (term, ids) in cases {
        let html = site.out_text(&format!("{term}/index.html"));
        assert_eq!(&card_ids(&html), ids, "{term}");
    }
    // A symptom page shows its description and synonyms.
    let html = site.out_text("symptoms/5xx-errors/index.html");
    assert!(html.contains("Clients get HTTP 502, 503 or 504 responses."));
    assert!(html.contains("bad gateway"));
    // The taxonomy indexes link every term.
    let html = site.out_text("organizations/index.html");
    for org in ["alpha-corp", "anonymous", "beta", "gamma-inc"] {
        assert!(
            html.contains(&format!("href=\"/kb/organizations/{org}/\"")),
            "{org}"
        );
    }
}

#[test]
fn incident_page_shows_every_optional_field() {
    let site = built();
    site.check_file_contains(
        &page(A),
        &[
            // Header card.
            "<dd><a href=\"/kb/organizations/alpha-corp/\">Alpha Corp</a></dd>",
            "<time datetime=\"2019-03-10\">10 March 2019</time>",
            "Partial outage",
            "2 h 30 min",
            "href=\"/kb/platforms/aws/\"",
            "href=\"/kb/platforms/eks/\"",
            // `kubernetes_version: 1.30` unquoted stays 1.30, not 1.3.
            "<code>1.30</code>",
            "Production",
            "Customer report",
            // Sources with their type, venue, date, language and archive.
            "href=\"https://blog.example.com/alpha/throttling\"",
            "How CPU limits took down checkout",
            "Postmortem",
            "Alpha engineering blog",
            "<time datetime=\"2019-04\">April 2019</time>",
            "href=\"https://web.archive.org/web/2019/https://blog.example.com/alpha/throttling\"",
            "hreflang=\"de\"",
            "Talk",
            // Untitled source: its host.
            ">talks.example.com</a>",
            // Components, tags, lessons.
            "href=\"/kb/components/cfs-quota/\"",
            "<li class=\"tag\">checkout</li>",
            "LESSON-ALPHA limits protect neighbours",
            // Edit link.
            "href=\"https://github.com/example/kb/edit/main/content/incidents/2019-alpha-cpu-throttling-cascade.md\"",
        ],
    );
    // A year-only date and a month date.
    site.check_file_contains(&page(B), &["<time datetime=\"2018\">2018</time>"]);
    site.check_file_contains(&page(C), &["<time datetime=\"2019-06\">June 2019</time>"]);
    // `date: 2021` unquoted (a YAML number) works.
    site.check_file_contains(&page(E), &["<time datetime=\"2021\">2021</time>"]);
}

#[test]
fn body_has_highlighted_code_heading_anchors_and_resolved_links() {
    let site = built();
    site.check_file_contains(
        &page(A),
        &[
            // `# Summary` in the body becomes an h2: the page owns the one h1.
            "<h2 id=\"summary\"><a class=\"anchor\" href=\"#summary\" aria-hidden=\"true\" tabindex=\"-1\">#</a>Summary</h2>",
            "<h2 id=\"timeline\"><a class=\"anchor\" href=\"#timeline\"",
            "<h3 id=\"details\"><a class=\"anchor\" href=\"#details\"",
            // The table of contents.
            "<a href=\"#analysis\">Analysis</a>",
            // Highlighted with CSS classes, no inline styles.
            "<pre class=\"hl\" tabindex=\"0\"><code class=\"language-yaml\">",
            "class=\"hl-",
            // `other.md` and `../patterns/x.md#frag` became site URLs.
            "<a href=\"/kb/incidents/2018-beta-scheduler-pileup/\">scheduler pile-up at Beta</a>",
            "<a href=\"/kb/patterns/noisy-neighbour/#what-happens\">noisy neighbour pattern</a>",
            // External links and mail.
            "href=\"https://docs.kernel.org/scheduler/sched-bwc.html\"",
            "href=\"mailto:sre@example.com\"",
        ],
    );
    let html = site.out_text(&page(A));
    assert_eq!(html.matches("<h1").count(), 1, "one h1 per page");
    assert!(!html.contains("style=\""), "no inline styles");
    // A page links a story from `content/pages/`: `../incidents/x.md`.
    site.check_file_contains(
        "about/index.html",
        &["<a href=\"/kb/incidents/2019-alpha-cpu-throttling-cascade/\">the throttling story</a>"],
    );
    // The syntax stylesheet has the classes, for light and dark.
    let css = site.out_text("syntax.css");
    assert!(css.contains(".hl-"), "syntax.css has hl- rules");
    assert!(
        css.contains("prefers-color-scheme: dark"),
        "syntax.css has a dark theme"
    );
}

#[test]
fn feed_has_absolute_urls_newest_first() {
    let site = built();
    let feed = site.out_text("feed.xml");
    let entry_links: Vec<String> = harness::tags(&feed)
        .iter()
        .filter(|t| t.name == "link" && t.attr("rel") == Some("alternate"))
        .filter_map(|t| t.attr("href").map(str::to_string))
        .collect();
    let mut want = vec![BASE_URL.to_string()];
    want.extend(
        [E, D, C, A, B]
            .iter()
            .map(|id| format!("{BASE_URL}incidents/{id}/")),
    );
    assert_eq!(entry_links, want);
    let ids: Vec<&str> = feed
        .split("<id>")
        .skip(1)
        .map(|s| &s[..s.find("</id>").expect("id ends")])
        .collect();
    assert_eq!(ids.len(), 6, "the feed id and five entries");
    for id in ids {
        assert!(id.starts_with(BASE_URL), "absolute id {id}");
    }
    assert!(feed.contains(&format!("href=\"{BASE_URL}feed.xml\"")));
    // Deterministic: updated is the newest story's date, not the build time.
    assert!(feed.contains("<updated>2021-01-01T00:00:00Z</updated>"));
}

#[test]
fn sitemap_lists_every_page_with_absolute_urls() {
    let site = built();
    let files = output(&site);
    let sitemap = &files["sitemap.xml"];
    let locs: BTreeSet<String> = sitemap
        .split("<loc>")
        .skip(1)
        .map(|s| s[..s.find("</loc>").expect("loc ends")].to_string())
        .collect();
    // Every page but the search page, which is `noindex` (what it shows depends on the
    // query) and so must not be offered to crawlers.
    let pages: BTreeSet<String> = files
        .keys()
        .filter_map(|p| p.strip_suffix("index.html"))
        .filter(|dir| *dir != "search/")
        .map(|dir| format!("{BASE_URL}{dir}"))
        .collect();
    assert_eq!(locs, pages);
    assert!(files["search/index.html"].contains("<meta name=\"robots\" content=\"noindex\">"));
    assert!(locs.contains(&format!("{BASE_URL}incidents/{A}/")));
    assert!(files["robots.txt"].contains(&format!("Sitemap: {BASE_URL}sitemap.xml")));
    // A story with a full date has a lastmod.
    assert!(sitemap.contains("<lastmod>2019-03-10</lastmod>"));
}

#[test]
fn not_found_page_works_from_any_depth() {
    let site = built();
    let html = site.out_text("404.html");
    // Served for any missing URL, so its links must be absolute paths under the base.
    for link in harness::links(&html) {
        assert!(
            link.starts_with(BASE_PATH) || link.starts_with('#') || link.starts_with("https://"),
            "404 link `{link}`"
        );
    }
}

/// BUG: a body heading's id can equal an id of the theme (`main`, `chain-title`,
/// `related-title`, `toc-title`…): the page then has duplicate ids, and "Skip to
/// content" or `aria-labelledby` point at the wrong element. Expected: ids stay unique
/// (e.g. `main-1`, or a prefix for body headings).
#[test]
fn body_heading_ids_do_not_collide_with_the_theme() {
    let mut site = SiteTest::fixture("valid");
    let rel = "content/incidents/2018-beta-scheduler-pileup.md";
    let text = site.read(rel);
    site.write(
        rel,
        text + "\n## Main\n\n## Chain title\n\n## Related title\n\n## Sources title\n",
    );
    site.build();
    let html = site.out_text(&page(B));
    let mut seen = BTreeSet::new();
    let dups: Vec<String> = harness::ids(&html)
        .into_iter()
        .filter(|id| !seen.insert(id.clone()))
        .collect();
    assert!(dups.is_empty(), "duplicate ids: {dups:?}");
}

#[test]
fn the_link_checker_reports_what_it_should() {
    let files: BTreeMap<String, String> = [
        (
            "index.html",
            "<a href=\"/kb/a/\">ok</a><a href=\"/kb/a/#x\">ok</a><a href=\"#top\">ok</a>\
             <p id=\"top\"></p><a href=\"/b/\">no base</a><a href=\"/kb/missing/\">gone</a>\
             <a href=\"/kb/a/#nope\">no id</a><a href=\"a/\">relative</a>\
             <img src=\"/kb/img.png?v=1\"><a href=\"https://example.org/kb/zzz\">abs</a>\
             <a href=\"https://elsewhere.example/\">external</a><a href=\"mailto:a@b\">m</a>",
        ),
        ("a/index.html", "<h2 id=\"x\">x</h2>"),
        ("img.png", ""),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
    .collect();
    assert_eq!(
        harness::broken_links(&files, BASE_URL, BASE_PATH),
        [
            "index.html: `/b/` ignores the base path",
            "index.html: `/kb/missing/` → missing `missing/index.html`",
            "index.html: `/kb/a/#nope` → no id `nope` in a/index.html",
            "index.html: `a/` is neither internal nor external",
            "index.html: `https://example.org/kb/zzz` → missing `zzz`",
        ]
    );
}

#[test]
fn long_lists_are_paginated_and_every_page_link_resolves() {
    let mut site = SiteTest::fixture("valid");
    let story = site.read(&format!("content/incidents/{E}.md"));
    for n in 1..=7 {
        site.write(
            &format!("content/incidents/2021-anonymous-copy-{n}.md"),
            &story,
        );
    }
    site.replace("site.yaml", "base_url:", "paginate_by: 5\nbase_url:");
    site.build();
    let files = output(&site);
    // 12 incidents at 5 per page: the home has pages 1..=3, newest first across pages.
    assert!(files.contains_key("page/2/index.html"));
    assert!(files.contains_key("page/3/index.html"));
    assert!(!files.contains_key("page/4/index.html"));
    let on_page = |p: &str| card_ids(&files[p]);
    assert_eq!(on_page("index.html").len(), 5);
    assert_eq!(on_page("page/3/index.html").len(), 2);
    let all: Vec<String> = ["index.html", "page/2/index.html", "page/3/index.html"]
        .iter()
        .flat_map(|p| on_page(p))
        .collect();
    assert_eq!(all.len(), 12);
    assert_eq!(
        all.iter().collect::<BTreeSet<_>>().len(),
        12,
        "no story twice"
    );
    assert_eq!(all[11], B, "the oldest story is last on the last page");
    // node-memory-exhaustion is in D, E and the 7 copies: two pages.
    assert!(files.contains_key("patterns/node-memory-exhaustion/page/2/index.html"));
    let p2 = &files["patterns/node-memory-exhaustion/page/2/index.html"];
    assert!(p2.contains(r#"rel="prev""#) && !p2.contains(r#"rel="next""#));
    // The year 2021 has E and the copies: a term page 2 exists too.
    assert!(files.contains_key("years/2021/page/2/index.html"));
    let problems = harness::broken_links(&files, BASE_URL, BASE_PATH);
    assert!(problems.is_empty(), "{problems:#?}");
    // Page 2 of a pattern lists incidents but not the explanation again.
    let p1 = &files["patterns/node-memory-exhaustion/index.html"];
    assert!(p1.contains("prose pattern-body") && !p2.contains("prose pattern-body"));
}

#[test]
fn every_page_has_a_search_box_that_works_under_the_base_path() {
    let site = built();
    let files = output(&site);
    let header_form =
        "<form class=\"site-search\" role=\"search\" action=\"/kb/search/\" method=\"get\">";
    for (path, text) in files.iter().filter(|(p, _)| p.ends_with(".html")) {
        let (_, scripts) = harness::without_theme_script(text, BASE_PATH);
        assert_eq!(scripts, 1, "{path}: the search module");
        assert!(
            text.contains("data-search-index=\"/kb/search/\""),
            "{path}: where the index is"
        );
        // The search page has its own box; every other page has the header's.
        let header_boxes = text.matches(header_form).count();
        let expected = usize::from(path != "search/index.html");
        assert_eq!(header_boxes, expected, "{path}: header search box");
    }
    assert!(files["index.html"].contains(
        "<input id=\"bl_site-search-q\" class=\"site-search-input\" type=\"search\" name=\"q\""
    ));

    // Without script, the search page still takes `?q=`, says why there are no results
    // and offers ways to browse; example queries run a search.
    let search = &files["search/index.html"];
    harness::assert_in_order(
        search,
        &[
            "<form class=\"search-form\" role=\"search\" action=\"/kb/search/\" method=\"get\"",
            "<input id=\"bl_search-q\" class=\"search-input\" type=\"search\" name=\"q\"",
            "<noscript>",
            "role=\"status\" aria-live=\"polite\"",
            "<a class=\"search-example\" href=\"/kb/search/?q=NotReady\">NotReady</a>",
            "<a class=\"chip chip-symptom\" href=\"/kb/symptoms/node-notready/\"",
        ],
        "search page",
    );
    assert!(search.contains("<title>Search · "));
}
