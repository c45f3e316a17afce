//! Fragment links checked against the pages they point at: `#timeline` within a
//! story, `other-story.md#impact` or `../patterns/x.md#what-helps` across files.
//!
//! Owns: deciding which rendered pages must be read for their `id`s, reading those
//! ids as the pages stream to the sink, and the diagnostics for fragments no element
//! has. A heading's id depends on the heading text and on the theme (which adds its
//! own `bl_*` section ids), so the only honest place to check is the rendered page.
//! Links whose target page is not rendered (the file has errors of its own, or the
//! run renders nothing) are not checked: that file's own error is the report.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use crate::diagnostics::Diagnostic;
use crate::markdown::FragmentLink;
use crate::output::OutputFile;
use crate::pipeline::resolve_link;
use crate::suggest;

/// The fragment links of a run and the ids of the pages they target.
#[derive(Debug, Default)]
pub struct Anchors {
    /// `(file the link is in, the link, output path of the target page)`.
    links: Vec<(String, FragmentLink, String)>,
    /// Output path → content path of every page a link targets.
    wanted: BTreeMap<String, String>,
    /// Output path → the `id`s of the rendered page.
    seen: Mutex<BTreeMap<String, BTreeSet<String>>>,
}

impl Anchors {
    /// Plan the check. `links` pairs each content file with its fragment links;
    /// `urls` maps content paths to site URLs, which start with `base_path`.
    pub fn new<'a>(
        links: impl IntoIterator<Item = (&'a str, &'a [FragmentLink])>,
        urls: &BTreeMap<String, String>,
        base_path: &str,
    ) -> Anchors {
        let mut anchors = Anchors::default();
        for (from, file_links) in links {
            for link in file_links {
                let target = match &link.target {
                    None => Some(from.to_owned()),
                    Some(path) => resolve_link(from, path),
                };
                let Some(target) = target else { continue };
                let Some(output) = urls
                    .get(&target)
                    .and_then(|url| url.strip_prefix(base_path))
                    .map(|dir| format!("{dir}index.html"))
                else {
                    continue; // an unknown `.md` link is already an error
                };
                anchors.wanted.insert(output.clone(), target);
                anchors.links.push((from.to_owned(), link.clone(), output));
            }
        }
        anchors
    }

    /// Read the ids of `file` if a link targets it. Called for every output file,
    /// from any thread.
    pub fn record(&self, file: &OutputFile) {
        if !self.wanted.contains_key(&file.path) {
            return;
        }
        let ids = element_ids(&String::from_utf8_lossy(&file.bytes));
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert(file.path.clone(), ids);
        }
    }

    /// The ids of the wanted pages that did not pass [`Anchors::record`] (a
    /// long-lived process keeps the pages whose inputs did not change), from `known`.
    pub fn fill(&self, known: impl Fn(&str) -> Option<BTreeSet<String>>) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        for output in self.wanted.keys() {
            if !seen.contains_key(output) {
                if let Some(ids) = known(output) {
                    seen.insert(output.clone(), ids);
                }
            }
        }
    }

    /// One error per fragment that no element of its (rendered) target has.
    pub fn check(self) -> Vec<Diagnostic> {
        let seen = self.seen.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut diags = Vec::new();
        for (from, link, output) in &self.links {
            let Some(ids) = seen.get(output) else {
                continue;
            };
            if ids.contains(&link.fragment) {
                continue;
            }
            let page = match &link.target {
                None => "this page".to_string(),
                Some(_) => format!("`{}`", self.wanted[output]),
            };
            let help = match suggest::nearest(&link.fragment, ids.iter().map(String::as_str)) {
                Some(id) => format!("did you mean `#{id}`?"),
                None => format!(
                    "headings on {page}: {}",
                    heading_list(ids.iter().filter(|id| !id.starts_with("bl_")))
                ),
            };
            diags.push(
                Diagnostic::error(
                    from,
                    link.line,
                    link.col,
                    format!(
                        "link `{}`: {page} has no heading or element with the id `{}`",
                        link.written, link.fragment
                    ),
                )
                .with_help(help),
            );
        }
        diags
    }
}

/// `#a`, `#b`, … (at most 12), or a note that there are none.
fn heading_list<'a>(ids: impl Iterator<Item = &'a String>) -> String {
    let ids: Vec<String> = ids.map(|id| format!("`#{id}`")).collect();
    match ids.len() {
        0 => "none; link to the page without a fragment".to_string(),
        n if n > 12 => format!("{} and {} more", ids[..12].join(", "), n - 12),
        _ => ids.join(", "),
    }
}

/// Every `id="…"` attribute value of an HTML page. Text and attribute values are
/// escaped by the renderer (`"` is `&quot;`), so ` id="` only occurs in markup.
pub fn element_ids(html: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut rest = html;
    while let Some(at) = rest.find(" id=\"") {
        let value = &rest[at + 5..];
        let Some(end) = value.find('"') else { break };
        ids.insert(value[..end].to_owned());
        rest = &value[end..];
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_markup_only() {
        let html = "<h2 id=\"impact\">Impact</h2><p>say id=&quot;x&quot;</p><section id=\"bl_chain-title\" class=\"a\">";
        let ids: Vec<String> = element_ids(html).into_iter().collect();
        assert_eq!(ids, ["bl_chain-title", "impact"]);
    }
}
