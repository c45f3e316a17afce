//! The k8s.af list format (hjacobs/kubernetes-failure-stories):
//!
//! ```text
//! * [Title - Organization - medium year](url)
//!     * involved: EKS, AWS CNI Plugin,
//!     * impact: Frequent connection failures
//! ```
//!
//! Tolerated, because real lists contain them: titles that contain ` - ` themselves,
//! an organization fused with the year (`Grafana Labs 2019`), dates such as
//! `Medium post January 2019` or `Meetup Sep 2018`, trailing commas, inline code,
//! Markdown escapes, curly quotes, blank lines between entries (loose lists), `*`,
//! `-` or `+` bullets, any sub-bullet indentation, keys in any case, and misspelt keys
//! (`impace:` is read as `impact:`, with a warning). Items that are not stories (a
//! link in a "Thanks" section) are reported and skipped.

use super::{link, strip_quotes, unescape, year_in_url, Entry, Parsed};
use crate::diagnostics::Diagnostic;
use crate::model::{PartialDate, SourceType};
use crate::suggest;

const KEYS: &[&str] = &["involved", "impact"];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A list item: its indentation, and the text after the bullet.
fn item(line: &str) -> Option<(usize, &str)> {
    let indent = line.len() - line.trim_start().len();
    let rest = line.trim_start();
    let body = rest
        .strip_prefix("* ")
        .or_else(|| rest.strip_prefix("- "))
        .or_else(|| rest.strip_prefix("+ "))?;
    Some((indent, body.trim_start()))
}

/// Parse a k8s.af-style list.
pub fn parse(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    // The entry being read, and whether its link text had the ` - Org - medium year`
    // structure; an item with neither that nor sub-bullets is not a story (a link in
    // a "Thanks" section) and is skipped with a warning.
    let mut current: Option<(Entry, bool)> = None;
    let finish = |cur: Option<(Entry, bool)>, out: &mut Parsed| match cur {
        Some((e, false)) if e.components.is_empty() && e.impact.is_none() => {
            out.diagnostics.push(
                Diagnostic::warning(path, e.line, 1, format!("`{}` does not look like a story: skipped", e.title))
                    .with_help("story entries are `[Title - Organization - medium year](url)` with `involved:` and `impact:` sub-bullets"),
            );
        }
        Some((e, _)) => out.entries.push(e),
        None => {}
    };
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        if line.trim().is_empty() {
            continue; // loose lists: blank lines between entries and sub-bullets
        }
        let Some((indent, body)) = item(line) else {
            // A paragraph or heading ends the current entry.
            finish(current.take(), &mut out);
            continue;
        };
        let col = indent + 1;
        if indent < 2 {
            finish(current.take(), &mut out);
            if !body.starts_with('[') {
                continue;
            }
            current = entry(path, line_no, col + 2, body, &mut out.diagnostics);
            continue;
        }
        // A sub-bullet: `key: value`.
        let Some((entry, _)) = current.as_mut() else {
            continue;
        };
        let Some((key, value)) = body.split_once(':') else {
            out.diagnostics.push(
                Diagnostic::warning(
                    path,
                    line_no,
                    col,
                    format!("sub-bullet without a `key:` in `{}`", entry.title),
                )
                .with_help("expected `involved: ...` or `impact: ...`; the line was ignored"),
            );
            continue;
        };
        let key_l = key.trim().to_lowercase();
        let key = if KEYS.contains(&key_l.as_str()) {
            key_l
        } else if let Some(near) = suggest::nearest(&key_l, KEYS.iter().copied()) {
            out.diagnostics.push(
                Diagnostic::warning(
                    path,
                    line_no,
                    col + 2,
                    format!("unknown key `{}`; read as `{near}`", key.trim()),
                )
                .with_help(format!(
                    "fix the list, or check `{near}` in the imported story"
                )),
            );
            near.to_string()
        } else {
            out.diagnostics.push(
                Diagnostic::warning(
                    path,
                    line_no,
                    col + 2,
                    format!("unknown key `{}` ignored", key.trim()),
                )
                .with_help("known keys are: involved, impact"),
            );
            continue;
        };
        if key == "involved" {
            for c in split_terms(value) {
                if c.chars().count() > 80 {
                    out.diagnostics.push(Diagnostic::warning(
                        path,
                        line_no,
                        col,
                        format!("component `{c}` is longer than 80 characters and was left out"),
                    ));
                } else if !entry.components.iter().any(|x| x.eq_ignore_ascii_case(&c)) {
                    entry.components.push(c);
                }
            }
        } else {
            let impact = unescape(value).trim_end_matches([',', ' ']).to_string();
            if !impact.is_empty() {
                entry.impact = Some(impact.chars().take(400).collect());
            }
        }
    }
    finish(current, &mut out);
    for e in &out.entries {
        let mut missing = Vec::new();
        if e.components.is_empty() {
            missing.push("`involved:`");
        }
        if e.impact.is_none() {
            missing.push("`impact:`");
        }
        if !missing.is_empty() {
            out.diagnostics.push(
                Diagnostic::warning(
                    path,
                    e.line,
                    1,
                    format!("`{}` has no {}", e.title, missing.join(" and ")),
                )
                .with_help("fill the field in the imported story from the source"),
            );
        }
    }
    out
}

/// Split an `involved:` value on commas outside code spans; trim, unquote, drop
/// empty items (trailing commas).
fn split_terms(value: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut cur = String::new();
    let mut in_code = false;
    for c in value.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                cur.push(c);
            }
            ',' if !in_code => terms.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    terms.push(cur);
    terms
        .iter()
        .map(|t| strip_quotes(&unescape(t)).to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// One top-level item: `[Title - Org - medium year](url)`.
fn entry(
    path: &str,
    line: usize,
    col: usize,
    body: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Entry, bool)> {
    let Some((text, url, _rest)) = link(body) else {
        diags.push(
            Diagnostic::warning(
                path,
                line,
                col,
                "list item starts with `[` but is not a `[title](url)` link",
            )
            .with_help("the entry was skipped; fix its Markdown link"),
        );
        return None;
    };
    if !crate::schema::is_http_url(url) {
        diags.push(
            Diagnostic::warning(
                path,
                line,
                col,
                format!("the link of this entry is not an http(s) URL: `{url}`"),
            )
            .with_help("the entry was skipped"),
        );
        return None;
    }
    let text = unescape(text);
    let parts: Vec<&str> = text.split(" - ").map(str::trim).collect();
    let mut e = Entry {
        line,
        url: url.to_string(),
        ..Entry::default()
    };
    let (last, head) = parts.split_last().expect("split yields at least one part");
    let structured = !head.is_empty();
    match head.len() {
        0 => {
            // Not `Title - Org - medium year`: a story only if sub-bullets follow,
            // which `finish` decides; the date warnings below would be noise.
            e.title = text.clone();
            diags.push(
                Diagnostic::warning(
                    path,
                    line,
                    col,
                    format!("`{text}` has no ` - Organization - medium year`"),
                )
                .with_help(
                    "if it is a story, fill in its organization and date in the imported file",
                ),
            );
            e.date = year_in_url(url);
            e.source_type = medium_kind("", url).0;
            return Some((e, structured));
        }
        1 => {
            // `Title - Grafana Labs 2019`: the organization fused with the year.
            e.title = head[0].to_string();
            let (org, date) = split_date(last);
            e.organization = (!org.is_empty()).then(|| org.to_string());
            e.date = date;
            diags.push(
                Diagnostic::warning(
                    path,
                    line,
                    col,
                    format!("`{last}` fuses the organization with the date; read as organization `{org}`, no medium"),
                )
                .with_help("check the organization and add the source `type` in the imported story"),
            );
        }
        _ => {
            e.title = head[..head.len() - 1].join(" - ");
            e.organization = Some(head[head.len() - 1].to_string());
            let (medium, date) = split_date(last);
            e.date = date;
            if !medium.is_empty() {
                let (kind, venue) = medium_kind(medium, url);
                e.source_type = kind;
                e.venue = venue;
                if kind.is_none() {
                    diags.push(
                        Diagnostic::warning(
                            path,
                            line,
                            col,
                            format!("unknown medium `{medium}`; no source type"),
                        )
                        .with_help("set the source `type` in the imported story"),
                    );
                }
            }
        }
    }
    if e.source_type.is_none() {
        e.source_type = medium_kind("", url).0;
    }
    if e.date.is_none() {
        e.date = year_in_url(url);
        let how = match e.date {
            Some(d) => format!("; the year {} was taken from the URL", d.year),
            None => String::new(),
        };
        diags.push(
            Diagnostic::warning(path, line, col, format!("no date in `{text}`{how}"))
                .with_help("put the publication date in the imported story"),
        );
    }
    if e.title.is_empty() {
        e.title = text;
    }
    Some((e, structured))
}

/// `Medium post January 2019` → (`Medium post`, 2019-01); `blog post 2020` →
/// (`blog post`, 2020); `2019-06` → (``, 2019-06); no year → (whole, None).
fn split_date(s: &str) -> (&str, Option<PartialDate>) {
    let s = s.trim().trim_end_matches([',', '.', ')']);
    let (head, last) = s.rsplit_once(' ').unwrap_or(("", s));
    if let Some(d) = PartialDate::parse(last) {
        // A month name before the year: `January 2019`, `Sep 2018`.
        if let Some((before, word)) = head.trim().rsplit_once(' ').or(Some(("", head.trim()))) {
            let w = word.to_lowercase().trim_end_matches('.').to_string();
            if w.len() >= 3 {
                if let Some(m) = MONTHS
                    .iter()
                    .position(|m| m.starts_with(&w) && (w.len() == 3 || *m == w))
                {
                    let date = PartialDate {
                        month: d.month.or(Some(m as u8 + 1)),
                        ..d
                    };
                    return (before.trim(), Some(date));
                }
            }
        }
        return (head.trim(), Some(d));
    }
    (s, None)
}

/// The source type and venue a medium (`blog post`, `KubeCon Barcelona`,
/// `Medium post`) and the URL's host imply.
pub(crate) fn medium_kind(medium: &str, url: &str) -> (Option<SourceType>, Option<String>) {
    let m = medium.to_lowercase();
    let host = url
        .split_once("://")
        .map_or("", |(_, r)| r.split(['/', '?', '#']).next().unwrap_or(""))
        .to_lowercase();
    let has = |w: &str| m.contains(w);
    let kind = if has("postmortem") || has("post-mortem") || has("post mortem") {
        Some(SourceType::Postmortem)
    } else if has("incident report") {
        Some(SourceType::IncidentReport)
    } else if has("status page") {
        Some(SourceType::StatusPage)
    } else if has("podcast") {
        Some(SourceType::Podcast)
    } else if has("slides") || host.contains("slideshare") || host.contains("speakerdeck") {
        Some(SourceType::Slides)
    } else if has("thread") || host.contains("twitter.com") || host == "x.com" {
        Some(SourceType::Thread)
    } else if has("blog") || has(" post") || m == "post" || has("article") || has("medium") {
        Some(SourceType::BlogPost)
    } else if [
        "talk",
        "kubecon",
        "meetup",
        "conference",
        "containerdays",
        "devopscon",
        "summit",
        "user group",
        "youtube",
        "webinar",
        "fosdem",
        "srecon",
    ]
    .iter()
    .any(|w| has(w))
        || host.contains("youtube.com")
        || host == "youtu.be"
        || host.contains("vimeo.com")
    {
        Some(SourceType::Talk)
    } else {
        None
    };
    // The venue is the medium unless it only names the kind of write-up.
    let generic = [
        "blog post",
        "blog",
        "post",
        "postmortem",
        "post-mortem",
        "incident report",
        "talk",
        "slides",
        "podcast",
        "thread",
        "article",
        "status page",
    ];
    let venue = if m.is_empty() || generic.contains(&m.as_str()) {
        None
    } else if let Some(v) = medium
        .strip_suffix(" post")
        .or_else(|| medium.strip_suffix(" Post"))
    {
        Some(v.trim().to_string())
    } else {
        Some(medium.trim().to_string())
    };
    (kind, venue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_mediums() {
        let iso = |s: &str| {
            let (m, d) = split_date(s);
            (m.to_string(), d.map(|d| d.iso()))
        };
        assert_eq!(
            iso("blog post 2020"),
            ("blog post".into(), Some("2020".into()))
        );
        assert_eq!(
            iso("Medium post January 2019"),
            ("Medium post".into(), Some("2019-01".into()))
        );
        assert_eq!(
            iso("Cloud Native Meetup Sep 2018"),
            ("Cloud Native Meetup".into(), Some("2018-09".into()))
        );
        assert_eq!(iso("2019-06"), ("".into(), Some("2019-06".into())));
        assert_eq!(
            iso("Grafana Labs 2019"),
            ("Grafana Labs".into(), Some("2019".into()))
        );
        assert_eq!(iso("KubeCon Europe"), ("KubeCon Europe".into(), None));
        // `May` is a month, `Mayday` is not.
        assert_eq!(iso("Mayday 2019"), ("Mayday".into(), Some("2019".into())));
    }

    #[test]
    fn mediums_map_to_source_types() {
        assert_eq!(
            medium_kind("blog post", "https://x.io/"),
            (Some(SourceType::BlogPost), None)
        );
        assert_eq!(
            medium_kind("KubeCon Barcelona", "https://x.io/"),
            (Some(SourceType::Talk), Some("KubeCon Barcelona".into()))
        );
        assert_eq!(
            medium_kind("Medium post", "https://medium.com/x"),
            (Some(SourceType::BlogPost), Some("Medium".into()))
        );
        assert_eq!(
            medium_kind("", "https://www.slideshare.net/x").0,
            Some(SourceType::Slides)
        );
        assert_eq!(
            medium_kind("", "https://youtu.be/x").0,
            Some(SourceType::Talk)
        );
        assert_eq!(medium_kind("zine", "https://x.io/").0, None);
    }

    #[test]
    fn involved_terms() {
        assert_eq!(
            split_terms(" EKS, AWS CNI Plugin,"),
            ["EKS", "AWS CNI Plugin"]
        );
        assert_eq!(
            split_terms("`ndots:5`, “graceful shutdown”, `a, b`"),
            ["ndots:5", "graceful shutdown", "a, b"]
        );
    }
}
