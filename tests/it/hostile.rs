//! Content arrives through pull requests: nothing a story contains may run script on the
//! site. The `hostile` fixture puts `<script>alert(1)</script>`,
//! `"><img src=x onerror=alert(1)>` and `</script>` into every string field (and into
//! site.yaml, a pattern, a page and the symptom vocabulary), and its body holds raw
//! HTML, `javascript:` and other scheme links, an unclosed `<!--` and heading
//! attributes.

use std::collections::BTreeMap;

use blameless::diagnostics;

use crate::harness::{self, snapshot, SiteTest};

const STORY: &str = "content/incidents/2019-hostile-everything.md";

/// The body lines with links that must be refused, each an error at column 1.
const REFUSED_LINKS: &[(&str, &str)] = &[
    ("[plain javascript](javascript:alert(1))", "javascript"),
    ("[mixed case](JaVaScRiPt:alert(1))", "javascript"),
    ("[entity encoded](&#106;avascript:alert(1))", "javascript"),
    ("[with whitespace]( javascript:alert(1))", "javascript"),
    ("![image](javascript:alert(1))", "javascript"),
    ("<javascript:alert(1)>", "javascript"),
    (
        "[data url](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "data",
    ),
    ("[vbscript](vbscript:msgbox(1))", "vbscript"),
    ("[reference link][evil]", "javascript"),
];

/// Line numbers (1-based) of `needle` lines in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == needle)
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "`{needle}` is one line of the story");
    hits[0]
}

#[test]
fn dangerous_links_are_errors_at_their_position() {
    let site = SiteTest::fixture("hostile");
    let text = site.read(STORY);
    let outcome = site.run();
    let errors: Vec<String> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}:{}:{}: {}", d.path, d.line, d.col, d.message))
        .collect();
    let expected: Vec<String> = REFUSED_LINKS
        .iter()
        .map(|(line, scheme)| {
            format!(
                "{STORY}:{}:1: link scheme `{scheme}` is not allowed",
                line_of(&text, line)
            )
        })
        .collect();
    assert_eq!(errors, expected);
    // Raw HTML is a warning each time (block, inline, the unclosed comment), never
    // silently dropped.
    let warnings = outcome
        .diagnostics
        .iter()
        .filter(|d| !d.is_error() && d.message == "raw HTML is not allowed and was escaped")
        .count();
    assert!(
        warnings >= 8,
        "{}",
        diagnostics::render_human(&outcome.diagnostics)
    );
}

/// The fixture with the refused link lines removed: it builds.
fn built_without_the_links() -> SiteTest {
    let mut site = SiteTest::fixture("hostile");
    let text = site.read(STORY);
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !REFUSED_LINKS.iter().any(|(bad, _)| l == bad))
        .collect();
    assert_eq!(text.lines().count() - kept.len(), REFUSED_LINKS.len());
    site.write(STORY, kept.join("\n") + "\n");
    let outcome = site.try_build().expect("no environment error");
    assert!(
        !outcome.has_errors(),
        "{}",
        diagnostics::render_human(&outcome.diagnostics)
    );
    site
}

/// Every problem in one output document: script elements, event-handler attributes,
/// and links or sources with a scheme other than http(s)/mailto.
fn script_vectors(doc: &str) -> Vec<String> {
    let mut found = Vec::new();
    if doc.to_ascii_lowercase().contains("<script") {
        found.push("`<script`".to_string());
    }
    for tag in harness::tags(doc) {
        if matches!(
            tag.name.as_str(),
            "script" | "iframe" | "object" | "embed" | "base"
        ) {
            found.push(format!("<{}> element", tag.name));
        }
        for (name, value) in &tag.attrs {
            if name.starts_with("on") {
                found.push(format!("<{} {name}=…>", tag.name));
            }
            if matches!(
                name.as_str(),
                "href" | "src" | "action" | "formaction" | "xlink:href"
            ) {
                let v: String = value
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                let scheme_ok = !v.contains(':')
                    || v.starts_with("http://")
                    || v.starts_with("https://")
                    || v.starts_with("mailto:")
                    || matches!(
                        (v.find(':'), v.find(['/', '?', '#'])),
                        (Some(colon), Some(sep)) if sep < colon
                    );
                if !scheme_ok || v.contains("javascript:") {
                    found.push(format!("<{} {name}=\"{value}\">", tag.name));
                }
            }
        }
    }
    found
}

#[test]
fn nothing_in_the_output_can_run_script() {
    let site = built_without_the_links();
    let files: BTreeMap<String, String> = harness::files(&snapshot(&site.out));
    let mut checked = 0;
    for (path, text) in &files {
        if !(path.ends_with(".html") || path.ends_with(".xml") || path.ends_with(".txt")) {
            continue;
        }
        checked += 1;
        // The theme's own search module is the one script allowed, once per HTML page
        // and exactly as the theme writes it; anything else is a finding.
        let (text, theme_scripts) = harness::without_theme_script(text, "/");
        let expected = usize::from(path.ends_with(".html"));
        assert_eq!(theme_scripts, expected, "{path}: the theme's search script");
        let found = script_vectors(&text);
        assert!(found.is_empty(), "{path}: {found:?}");
    }
    assert!(checked > 10, "checked {checked} documents");
}

#[test]
fn hostile_text_is_shown_escaped_not_dropped() {
    let site = built_without_the_links();
    let page = "incidents/2019-hostile-everything/index.html";
    let payload = "<script>alert(1)</script> \"><img src=x onerror=alert(1)> </script>";
    site.check_file_contains(
        page,
        &[
            // Front-matter strings, escaped where they are shown.
            &harness::escape(&format!("Title {payload}")),
            &harness::escape(&format!("Impact {payload}")),
            &harness::escape(&format!("Trigger {payload}")),
            &harness::escape(&format!("Failure {payload}")),
            &harness::escape(&format!("Action {payload}")),
            &harness::escape(&format!("Lesson {payload}")),
            &harness::escape(&format!("Source {payload}")),
            &harness::escape(&format!("Venue {payload}")),
            // Body HTML, shown as text.
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "&lt;img src=x onerror=alert(1)&gt;",
            // Heading attributes are literal text, not attributes.
            "Heading {#x onclick=alert(1)}",
            // An unclosed comment does not swallow the rest of the story.
            "AFTER-COMMENT-VISIBLE this paragraph must not be swallowed.",
            // The fence info string does not reach a class attribute unescaped.
            "code with a hostile info string",
            // A safe link keeps its query, escaped.
            "href=\"https://example.com/?a=1&amp;b=%22%3E%3Cscript%3E\"",
        ],
    );
    // The source URL with `&` is escaped in its attribute.
    site.check_file_contains(page, &["href=\"https://example.com/a?x=1&amp;y=2\""]);
    // The feed escapes the same strings (XML).
    site.check_file_contains("feed.xml", &[&harness::escape(&format!("Title {payload}"))]);
    // Components and tags from hostile text get safe slugs and pages.
    let html = site.out_text(page);
    for link in harness::links(&html) {
        if let Some(rest) = link.strip_prefix("/components/") {
            assert!(
                rest.trim_end_matches('/')
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "component slug `{rest}`"
            );
        }
    }
}

#[test]
fn only_the_theme_script_is_set_aside() {
    let theme = "<script type=\"module\" src=\"/kb/search.js?v=0123abcd\"></script>";
    assert_eq!(
        harness::without_theme_script(&format!("<head>{theme}</head>"), "/kb/"),
        ("<head></head>".to_string(), 1)
    );
    // Another source, another base path, a longer or non-hex hash, attributes after
    // `src`: not the theme's element, so still there for the scanner.
    for other in [
        "<script type=\"module\" src=\"/kb/evil.js?v=0123abcd\"></script>",
        "<script type=\"module\" src=\"/search.js?v=0123abcd\"></script>",
        "<script type=\"module\" src=\"/kb/search.js?v=0123abcdef\"></script>",
        "<script type=\"module\" src=\"/kb/search.js?v=0123abcz\"></script>",
        "<script type=\"module\" src=\"/kb/search.js?v=0123abcd\" onload=\"x()\"></script>",
        "<script type=\"module\" src=\"/kb/search.js?v=0123abcd\">alert(1)</script>",
    ] {
        let (rest, n) = harness::without_theme_script(other, "/kb/");
        assert_eq!((rest.as_str(), n), (other, 0));
        assert!(!script_vectors(&rest).is_empty(), "{other}");
    }
}

#[test]
fn the_scanner_finds_script_vectors() {
    // Escaped text is harmless and not reported.
    assert_eq!(
        script_vectors("<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;img onerror=x&gt;</p>"),
        Vec::<String>::new()
    );
    assert_eq!(
        script_vectors("<a href=\"https://x.org/a:b\">a</a><a href=\"/p/#a:b\">b</a>"),
        Vec::<String>::new()
    );
    for bad in [
        "<script>alert(1)</script>",
        "<SCRIPT src=x></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<h1 id=\"x\" onclick=\"alert(1)\">t</h1>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\" JaVaScRiPt:alert(1)\">x</a>",
        "<a href=\"&#106;avascript:alert(1)\">x</a>",
        "<a href='java\tscript:alert(1)'>x</a>",
        "<iframe src=\"https://x.org\"></iframe>",
        "<img src=\"data:image/svg+xml;base64,PHN2Zz4=\">",
    ] {
        assert!(!script_vectors(bad).is_empty(), "not found in {bad}");
    }
}

#[test]
fn hidden_characters_in_a_body_are_errors_at_their_position() {
    // A bidi override can make a line read differently from what it is ("Trojan
    // source"); an ESC can rewrite a terminal. Neither may reach the page.
    let mut site = SiteTest::fixture("valid");
    let rel = "content/incidents/2019-gamma-silent-rollout.md";
    let text = site.read(rel);
    // The file ends with a newline; a blank line, then the new line.
    let body_line = text.lines().count() + 2;
    site.write(
        rel,
        format!("{text}\nSafe text \u{202E}desrever\u{202C} and \u{1b}[31mred\n"),
    );
    let outcome = site.run();
    let got: Vec<String> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.path == rel)
        .map(|d| format!("{}:{}: {}", d.line, d.col, d.message))
        .collect();
    assert_eq!(
        got,
        vec![
            format!("{body_line}:11: invisible bidirectional control U+202E is not allowed"),
            format!("{body_line}:20: invisible bidirectional control U+202C is not allowed"),
            format!("{body_line}:26: control character U+001B is not allowed"),
        ]
    );
}
