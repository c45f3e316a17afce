//! The danluu/post-mortems list format: one paragraph per entry,
//! `[Company](url). One to three sentences.`, grouped under `## Category` headings,
//! with no titles and no dates.
//!
//! The company becomes the organization, the heading a note in the body, the
//! description is quoted in the body for a person to rewrite (never copied into the
//! summary), the title is the description's first sentence (shortened), and the date
//! is the year in the URL when there is one.

use super::k8s_af::medium_kind;
use super::{link, unescape, year_in_url, Entry, Parsed};
use crate::diagnostics::Diagnostic;

/// Longest title taken from a description, in characters.
const MAX_TITLE: usize = 100;

/// Parse a danluu/post-mortems-style list.
pub fn parse(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut category: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let trimmed = line.trim_start();
        if let Some(h) = trimmed.strip_prefix("## ") {
            category = Some(unescape(h.trim().trim_end_matches('#').trim()));
            continue;
        }
        if trimmed.starts_with('#') {
            category = None;
            continue;
        }
        let indent = line.len() - trimmed.len();
        let body = trimmed
            .strip_prefix("* ")
            .or_else(|| trimmed.strip_prefix("- "))
            .unwrap_or(trimmed);
        if !body.starts_with('[') {
            continue;
        }
        let col = indent + 1 + (trimmed.len() - body.len());
        let Some((org, url, rest)) = link(body) else {
            out.diagnostics.push(
                Diagnostic::warning(
                    path,
                    line_no,
                    col,
                    "line starts with `[` but is not a `[Company](url)` link",
                )
                .with_help("the entry was skipped"),
            );
            continue;
        };
        if !crate::schema::is_http_url(url) {
            out.diagnostics.push(
                Diagnostic::warning(
                    path,
                    line_no,
                    col,
                    format!("the link of this entry is not an http(s) URL: `{url}`"),
                )
                .with_help("the entry was skipped"),
            );
            continue;
        }
        let org = unescape(org);
        let description = unescape(rest.trim_start_matches(['.', ':', ',']).trim());
        let title = if description.is_empty() {
            out.diagnostics.push(
                Diagnostic::warning(path, line_no, col, format!("`{org}` has no description"))
                    .with_help("imported with the organization as its title; write a real title"),
            );
            format!("{org} incident")
        } else {
            first_sentence(&description)
        };
        let date = year_in_url(url);
        if date.is_none() {
            out.diagnostics.push(
                Diagnostic::warning(
                    path,
                    line_no,
                    col,
                    format!("no date for `{org}`: the list has none and the URL names no year"),
                )
                .with_help("put the incident or publication date in the imported story"),
            );
        }
        out.entries.push(Entry {
            line: line_no,
            title,
            organization: Some(org),
            date,
            url: url.to_string(),
            source_type: medium_kind("", url).0,
            venue: None,
            components: Vec::new(),
            impact: None,
            description: (!description.is_empty()).then_some(description),
            category: category.clone(),
        });
    }
    out
}

/// The first sentence, cut at a word boundary to at most [`MAX_TITLE`] characters.
fn first_sentence(s: &str) -> String {
    let end = s
        .char_indices()
        .find(|&(i, c)| c == '.' && s[i + 1..].starts_with(' '))
        .map_or(s.len(), |(i, _)| i);
    let sentence = s[..end].trim_end_matches('.');
    if sentence.chars().count() <= MAX_TITLE {
        return sentence.to_string();
    }
    let cut: String = sentence.chars().take(MAX_TITLE).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
    format!("{}…", cut.trim_end_matches([',', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_first_sentences() {
        assert_eq!(
            first_sentence("A bad config took it down. Then more."),
            "A bad config took it down"
        );
        let long = "word ".repeat(40);
        let t = first_sentence(long.trim());
        assert!(
            t.chars().count() <= MAX_TITLE + 1 && t.ends_with('…'),
            "{t}"
        );
    }
}
