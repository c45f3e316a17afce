//! The `kb_en` analyzer, the concept table, the query language, typo distance rules
//! and snippets: everything of search that is plain text processing, specified in
//! `docs/search.md` §1–3, 5 and 7 and mirrored line for line by
//! `static/search-core.js`. No tantivy here (the tantivy adapter is in `index.rs`);
//! this module owns rust-stemmers.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};

/// Analyzer name and version, written into both indexes; the browser client refuses
/// an index whose analyzer it does not implement.
pub const ANALYZER: &str = "kb_en-1";
/// The stemmer both sides use (rust-stemmers here, npm porter2 in the browser).
pub const STEMMER: &str = "porter2 (rust-stemmers 1.2.0)";
/// Tokens of this many UTF-8 bytes or more are dropped (tantivy's RemoveLongFilter).
const MAX_TOKEN_BYTES: usize = 40;
/// Longest query accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 256;
/// Most words a query may have (plain, phrase and excluded words).
pub const MAX_QUERY_WORDS: usize = 16;

static STEMMER_EN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// One analyzed token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The term: lowercased and stemmed.
    pub text: String,
    /// Position in the token sequence (split parts and their whole share the last).
    pub position: usize,
    /// Byte offset where the token starts in the analyzed text.
    pub from: usize,
    /// Byte offset just past the token.
    pub to: usize,
}

/// Analyze `text` into tokens (docs/search.md §1).
pub fn analyze(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut position = 0usize;
    for (start, run) in runs(text) {
        let parts = split_identifier(run);
        let last = position + parts.len().saturating_sub(1);
        if parts.len() > 1 {
            for (i, (from, part)) in parts.iter().enumerate() {
                push_token(&mut out, part, position + i, start + from);
            }
        }
        push_token(&mut out, run, last, start);
        position = last + 1;
    }
    out
}

/// The terms of `text`, in order (the `text` of [`analyze`]'s tokens).
pub fn terms(text: &str) -> Vec<String> {
    analyze(text).into_iter().map(|t| t.text).collect()
}

fn push_token(out: &mut Vec<Token>, raw: &str, position: usize, from: usize) {
    if raw.len() >= MAX_TOKEN_BYTES {
        return;
    }
    out.push(Token {
        text: cached_term(raw),
        position,
        from,
        to: from + raw.len(),
    });
}

/// Maximal runs of alphanumeric characters, with their byte offsets.
fn runs(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while let Some(&(_, c)) = chars.peek() {
            if c.is_alphanumeric() {
                break;
            }
            chars.next();
        }
        let (start, _) = *chars.peek()?;
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        }
        Some((start, &text[start..end]))
    })
}

/// The parts of an identifier-like run (`OOMKilled` → `OOM`, `Killed`), or the whole
/// run alone when it does not split into two or more parts of two or more characters.
fn split_identifier(run: &str) -> Vec<(usize, &str)> {
    let chars: Vec<(usize, char)> = run.char_indices().collect();
    let mut bounds = vec![0usize];
    for i in 1..chars.len() {
        let (prev, cur) = (chars[i - 1].1, chars[i].1);
        let next = chars.get(i + 1).map(|&(_, c)| c);
        let lower_upper = prev.is_lowercase() && cur.is_uppercase();
        let acronym_end =
            prev.is_uppercase() && cur.is_uppercase() && next.is_some_and(char::is_lowercase);
        if lower_upper || acronym_end {
            bounds.push(i);
        }
    }
    bounds.push(chars.len());
    let whole = vec![(0, run)];
    if bounds.len() < 3 || bounds.windows(2).any(|w| w[1] - w[0] < 2) {
        return whole;
    }
    let byte = |i: usize| chars.get(i).map_or(run.len(), |&(b, _)| b);
    bounds
        .windows(2)
        .map(|w| (byte(w[0]), &run[byte(w[0])..byte(w[1])]))
        .collect()
}

/// Lowercase character by character, without context rules (tantivy's LowerCaser).
pub fn lowercase(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars().flat_map(char::to_lowercase).collect()
}

fn stem(word: &str) -> String {
    STEMMER_EN.stem(word).into_owned()
}

/// Most words a thread's stem cache holds before it starts over.
const STEM_CACHE_WORDS: usize = 1 << 18;

thread_local! {
    /// Raw word → term: indexing analyzes millions of tokens of a few hundred thousand
    /// distinct words, and Porter2 was most of the analyzer's time.
    static STEMS: std::cell::RefCell<std::collections::HashMap<String, String>> =
        std::cell::RefCell::default();
}

/// `stem(lowercase(raw))`, remembered per thread.
fn cached_term(raw: &str) -> String {
    STEMS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(term) = cache.get(raw) {
            return term.clone();
        }
        let term = stem(&lowercase(raw));
        if cache.len() >= STEM_CACHE_WORDS {
            cache.clear();
        }
        cache.insert(raw.to_string(), term.clone());
        term
    })
}

/// The surface words of `text` (its runs, lowercased) that can be typo corrections:
/// alphabetic, 3 to 32 characters.
pub fn surface_words(text: &str) -> impl Iterator<Item = String> + '_ {
    runs(text).filter_map(|(_, run)| {
        let n = run.chars().count();
        ((3..=32).contains(&n) && run.chars().all(char::is_alphabetic)).then(|| lowercase(run))
    })
}

/// The concept table: every symptom with its phrases, analyzed (docs/search.md §2).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Concepts {
    /// In vocabulary order.
    pub concepts: Vec<Concept>,
}

/// One concept (a symptom of the vocabulary).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Concept {
    /// The symptom slug.
    pub id: String,
    /// The symptom's title.
    pub title: String,
    /// Analyzed phrases (slug words, title, synonyms), without duplicates.
    pub phrases: Vec<Vec<String>>,
    /// Surface words of the title and synonyms (typo corrections can reach them).
    pub words: Vec<String>,
}

impl Concepts {
    /// Build the table from `(slug, title, synonyms)` of each symptom.
    pub fn new<'a>(symptoms: impl IntoIterator<Item = (&'a str, &'a str, &'a [String])>) -> Self {
        let concepts = symptoms
            .into_iter()
            .map(|(slug, title, synonyms)| {
                let mut phrases: Vec<Vec<String>> = Vec::new();
                let mut words: Vec<String> = Vec::new();
                let spelled = slug.replace('-', " ");
                let names = [spelled.as_str(), title]
                    .into_iter()
                    .chain(synonyms.iter().map(String::as_str));
                for name in names {
                    for w in surface_words(name) {
                        if !words.contains(&w) {
                            words.push(w);
                        }
                    }
                    let p = terms(name);
                    if !p.is_empty() && !phrases.contains(&p) {
                        phrases.push(p);
                    }
                }
                Concept {
                    id: slug.to_string(),
                    title: title.to_string(),
                    phrases,
                    words,
                }
            })
            .collect();
        Concepts { concepts }
    }

    /// Phrases by their first term: `(concept index, phrase)`, in table order.
    fn by_first_term(&self) -> HashMap<&str, Vec<(usize, &[String])>> {
        let mut map: HashMap<&str, Vec<(usize, &[String])>> = HashMap::new();
        for (ci, c) in self.concepts.iter().enumerate() {
            for p in &c.phrases {
                map.entry(p[0].as_str())
                    .or_default()
                    .push((ci, p.as_slice()));
            }
        }
        map
    }

    /// Concepts of a query's term sequence: greedy, longest phrase first (ties: the
    /// concept listed first), in order of first match, without duplicates.
    pub fn match_query(&self, seq: &[String]) -> Vec<String> {
        let index = self.by_first_term();
        let mut found: Vec<String> = Vec::new();
        let mut i = 0;
        while i < seq.len() {
            let best = index.get(seq[i].as_str()).and_then(|cands| {
                cands
                    .iter()
                    .filter(|(_, p)| seq[i..].starts_with(p))
                    // max_by_key keeps the last maximum; reverse to keep the first.
                    .rev()
                    .max_by_key(|(_, p)| p.len())
            });
            match best {
                Some((ci, p)) => {
                    let id = &self.concepts[*ci].id;
                    if !found.contains(id) {
                        found.push(id.clone());
                    }
                    i += p.len();
                }
                None => i += 1,
            }
        }
        found
    }

    /// A reusable matcher for many documents.
    pub fn matcher(&self) -> ConceptMatcher<'_> {
        ConceptMatcher {
            concepts: self,
            index: self.by_first_term(),
        }
    }
}

/// Finds every concept whose phrase occurs in a term sequence (documents).
pub struct ConceptMatcher<'a> {
    concepts: &'a Concepts,
    index: HashMap<&'a str, Vec<(usize, &'a [String])>>,
}

impl ConceptMatcher<'_> {
    /// Add to `found` (concept indexes) every concept with a phrase in `seq`.
    pub fn find(&self, seq: &[String], found: &mut std::collections::BTreeSet<usize>) {
        for i in 0..seq.len() {
            if let Some(cands) = self.index.get(seq[i].as_str()) {
                for (ci, p) in cands {
                    if seq[i..].starts_with(p) {
                        found.insert(*ci);
                    }
                }
            }
        }
    }

    /// The concept id of index `i`.
    pub fn id(&self, i: usize) -> &str {
        &self.concepts.concepts[i].id
    }
}

/// Fields a query can filter on (`pattern:cpu-limit-throttling`).
pub const FILTER_FIELDS: &[&str] = &[
    "pattern",
    "symptom",
    "platform",
    "component",
    "organization",
    "year",
    "impact",
];

/// One item of a parsed query, in query order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A plain word (may hold several runs: `kube-proxy`).
    Word(String),
    /// A quoted phrase.
    Phrase(String),
    /// `-word`.
    Exclude(String),
    /// `field:value`, value lowercased.
    Filter(String, String),
}

/// A query as written, parsed (docs/search.md §3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedQuery {
    /// Items in query order.
    pub items: Vec<Item>,
}

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryError {}

/// Parse a query: flat, left to right, on whitespace; never recursive.
pub fn parse_query(q: &str) -> Result<ParsedQuery, QueryError> {
    if q.len() > MAX_QUERY_BYTES {
        return Err(QueryError(format!(
            "query too long ({} bytes; at most {MAX_QUERY_BYTES})",
            q.len()
        )));
    }
    let mut items = Vec::new();
    let mut words = 0usize;
    let mut rest = q;
    loop {
        rest = rest.trim_start();
        let Some(first) = rest.chars().next() else {
            break;
        };
        if first == '"' {
            let body = &rest[1..];
            let (phrase, next) = match body.find('"') {
                Some(end) => (&body[..end], &body[end + 1..]),
                None => (body, ""),
            };
            words += phrase.split_whitespace().count();
            items.push(Item::Phrase(phrase.to_string()));
            rest = next;
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let item = &rest[..end];
        rest = &rest[end..];
        if let Some(word) = item.strip_prefix('-').filter(|w| !w.is_empty()) {
            words += 1;
            items.push(Item::Exclude(word.to_string()));
        } else if let Some((field, value)) = item
            .split_once(':')
            .filter(|(f, v)| FILTER_FIELDS.contains(f) && !v.is_empty())
        {
            items.push(Item::Filter(field.to_string(), lowercase(value)));
        } else {
            words += 1;
            items.push(Item::Word(item.to_string()));
        }
    }
    if words > MAX_QUERY_WORDS {
        return Err(QueryError(format!(
            "query has too many words ({words}; at most {MAX_QUERY_WORDS})"
        )));
    }
    Ok(ParsedQuery { items })
}

impl ParsedQuery {
    /// The term sequence of plain words and phrases, in query order (not de-duplicated).
    pub fn term_sequence(&self) -> Vec<String> {
        self.items
            .iter()
            .flat_map(|item| match item {
                Item::Word(w) | Item::Phrase(w) => terms(w),
                _ => Vec::new(),
            })
            .collect()
    }

    /// Scoring terms: [`Self::term_sequence`] without duplicates, first occurrence kept.
    pub fn scoring_terms(&self) -> Vec<String> {
        distinct(&self.term_sequence())
    }

    /// Filters by field; values in query order, without duplicates.
    pub fn filters(&self) -> BTreeMap<String, Vec<String>> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for item in &self.items {
            if let Item::Filter(f, v) = item {
                let values = map.entry(f.clone()).or_default();
                if !values.contains(v) {
                    values.push(v.clone());
                }
            }
        }
        map
    }

    /// The query written back, with `fix` applied to each run of each plain word.
    pub fn rewrite(&self, fix: &dyn Fn(&str) -> Option<String>) -> String {
        let mut parts = Vec::new();
        for item in &self.items {
            parts.push(match item {
                Item::Word(w) => {
                    let mut out = String::new();
                    let mut last = 0;
                    for (start, run) in runs(w) {
                        out.push_str(&w[last..start]);
                        match fix(run) {
                            Some(f) => out.push_str(&f),
                            None => out.push_str(run),
                        }
                        last = start + run.len();
                    }
                    out.push_str(&w[last..]);
                    out
                }
                Item::Phrase(p) => format!("\"{p}\""),
                Item::Exclude(w) => format!("-{w}"),
                Item::Filter(f, v) => format!("{f}:{v}"),
            });
        }
        parts.join(" ")
    }

    /// Runs of plain words that may be typos: alphabetic, 3 characters or more.
    pub fn typo_candidates(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for item in &self.items {
            if let Item::Word(w) = item {
                for (_, run) in runs(w) {
                    if run.chars().count() >= 3 && run.chars().all(char::is_alphabetic) {
                        out.push(run);
                    }
                }
            }
        }
        out
    }
}

/// `seq` without repeated terms, first occurrences kept in order.
pub fn distinct(seq: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in seq {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

/// Largest edit distance accepted for a typo correction of a word of `n` characters.
pub fn typo_distance(n: usize) -> usize {
    if n <= 5 {
        1
    } else {
        2
    }
}

/// The correction of a (lowercased) word from `vocab` entries `(word, df)`: smallest
/// Damerau (OSA) distance within [`typo_distance`], then highest df, then smallest
/// word; only words starting with the same character.
pub fn correct<'a>(word: &str, vocab: impl IntoIterator<Item = (&'a str, u32)>) -> Option<String> {
    let first = word.chars().next()?;
    let max = typo_distance(word.chars().count());
    let n = word.chars().count();
    let mut best: Option<(usize, u32, &str)> = None;
    for (cand, df) in vocab {
        if cand == word {
            // A known word is not a typo, whatever its frequency.
            return None;
        }
        if !cand.starts_with(first) {
            continue;
        }
        if cand.chars().count().abs_diff(n) > max {
            continue;
        }
        let d = crate::suggest::edit_distance(word, cand);
        if d == 0 || d > max {
            continue;
        }
        let better = match best {
            None => true,
            Some((bd, bdf, bw)) => {
                (d, std::cmp::Reverse(df), cand) < (bd, std::cmp::Reverse(bdf), bw)
            }
        };
        if better {
            best = Some((d, df, cand));
        }
    }
    best.map(|(_, _, w)| w.to_string())
}

/// A piece of a snippet: text and whether it matched.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Piece {
    /// The text.
    pub text: String,
    /// Whether it is a match to highlight.
    pub mark: bool,
}

/// Longest snippet, in bytes.
pub const SNIPPET_BYTES: usize = 150;

/// A stretch of a snippet's text to highlight, and what it counts as when windows are
/// compared (a term, or a concept phrase).
struct Mark {
    from: usize,
    to: usize,
    key: String,
}

/// What to highlight in `tokens` (docs/search.md §7), in text order: scanning left to
/// right, the longest concept phrase that starts at a token is one mark from its first
/// token to its last, and the scan moves past it; otherwise a token whose term is a
/// scoring term is a mark.
fn marks(tokens: &[Token], terms: &[String], phrases: &[&[String]]) -> Vec<Mark> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let longest = phrases
            .iter()
            .filter(|p| {
                !p.is_empty()
                    && i + p.len() <= tokens.len()
                    && tokens[i..i + p.len()]
                        .iter()
                        .zip(p.iter())
                        .all(|(t, w)| t.text == *w)
            })
            .max_by_key(|p| p.len());
        if let Some(p) = longest {
            let within = &tokens[i..i + p.len()];
            out.push(Mark {
                from: within[0].from,
                to: within.iter().map(|t| t.to).max().unwrap_or(within[0].to),
                key: format!("{}\u{0}", p.join(" ")),
            });
            i += p.len();
            continue;
        }
        if terms.contains(&tokens[i].text) {
            out.push(Mark {
                from: tokens[i].from,
                to: tokens[i].to,
                key: tokens[i].text.clone(),
            });
        }
        i += 1;
    }
    out
}

/// The best window of `text` for the query's scoring `terms` and the phrases of its
/// concepts (docs/search.md §7).
pub fn snippet(text: &str, terms: &[String], phrases: &[&[String]]) -> Vec<Piece> {
    let marked = marks(&analyze(text), terms, phrases);
    let mut best: Option<(usize, usize)> = None; // (distinct terms, index into marked)
    for (i, start) in marked.iter().enumerate() {
        let mut distinct: Vec<&str> = Vec::new();
        for t in &marked[i..] {
            if t.to - start.from > SNIPPET_BYTES {
                break;
            }
            if !distinct.contains(&t.key.as_str()) {
                distinct.push(&t.key);
            }
        }
        if best.is_none_or(|(n, _)| distinct.len() > n) {
            best = Some((distinct.len(), i));
        }
    }
    let (start, end) = match best {
        Some((_, i)) => {
            let from = marked[i].from;
            // A little context before the first match, from a word boundary.
            let mut s = floor_char(text, from.saturating_sub(30));
            if s > 0 {
                s = text[s..from]
                    .char_indices()
                    .find(|(_, c)| c.is_whitespace())
                    .map_or(from, |(k, c)| s + k + c.len_utf8());
            }
            (s, cut_end(text, s))
        }
        None => (0, cut_end(text, 0)),
    };
    let mut pieces: Vec<Piece> = Vec::new();
    let mut at = start;
    let push = |pieces: &mut Vec<Piece>, s: &str, mark: bool| {
        if s.is_empty() {
            return;
        }
        match pieces.last_mut() {
            Some(p) if p.mark == mark => p.text.push_str(s),
            _ => pieces.push(Piece {
                text: s.to_string(),
                mark,
            }),
        }
    };
    for t in &marked {
        if t.from < at || t.to > end {
            continue;
        }
        push(&mut pieces, &text[at..t.from], false);
        push(&mut pieces, &text[t.from..t.to], true);
        at = t.to;
    }
    // Overlapping marks (a part inside its whole) were skipped above only when
    // already covered.
    push(&mut pieces, &text[at.min(end)..end], false);
    if start > 0 {
        match pieces.first_mut() {
            Some(first) if !first.mark => first.text.insert(0, '…'),
            // The ellipsis is never inside a highlight (the browser's rule too).
            _ => pieces.insert(
                0,
                Piece {
                    text: "…".into(),
                    mark: false,
                },
            ),
        }
    }
    if end < text.len() {
        if let Some(last) = pieces.last_mut() {
            if last.mark {
                pieces.push(Piece {
                    text: "…".into(),
                    mark: false,
                });
            } else {
                last.text.push('…');
            }
        }
    }
    for p in &mut pieces {
        if !p.mark {
            p.text = p.text.replace(['\n', '\r', '\t'], " ");
        }
    }
    pieces
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// End of a window starting at `start`: at most [`SNIPPET_BYTES`], on a word boundary.
fn cut_end(text: &str, start: usize) -> usize {
    let limit = start + SNIPPET_BYTES;
    if limit >= text.len() {
        return text.len();
    }
    let hard = floor_char(text, limit);
    text[start..hard]
        .rfind(char::is_whitespace)
        .map_or(hard, |k| start + k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Vec<(String, usize)> {
        analyze(s)
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect()
    }

    fn owned(v: &[(&str, usize)]) -> Vec<(String, usize)> {
        v.iter().map(|(s, p)| (s.to_string(), *p)).collect()
    }

    #[test]
    fn identifiers_split_and_keep_the_whole() {
        assert_eq!(
            t("OOMKilled pods"),
            owned(&[("oom", 0), ("kill", 1), ("oomkil", 1), ("pod", 2)])
        );
        assert_eq!(
            t("NotReady"),
            owned(&[("not", 0), ("readi", 1), ("notreadi", 1)])
        );
        assert_eq!(
            terms("CrashLoopBackOff"),
            ["crash", "loop", "back", "off", "crashloopbackoff"]
        );
        // Parts shorter than two characters: no split.
        assert_eq!(
            t("IPv4 iOS eBPF"),
            owned(&[("ipv4", 0), ("io", 1), ("ebpf", 2)])
        );
    }

    #[test]
    fn separators_long_tokens_and_case() {
        assert_eq!(
            terms("kube-proxy 10.0.0.1"),
            ["kube", "proxi", "10", "0", "0", "1"]
        );
        let long = "a".repeat(40);
        assert_eq!(t(&format!("x {long} y")), owned(&[("x", 0), ("y", 2)]));
        assert_eq!(terms(&"b".repeat(39)), ["b".repeat(39)]);
        // Per-character lowercasing: no final sigma.
        assert_eq!(lowercase("ΟΔΟΣ"), "οδοσ");
        assert_eq!(lowercase("İ").chars().count(), 2);
    }

    #[test]
    fn queries_parse_flat() {
        let q = parse_query(r#"502 "bad gateway" -canary pattern:DNS-ndots x:y"#).expect("parses");
        assert_eq!(
            q.items,
            vec![
                Item::Word("502".into()),
                Item::Phrase("bad gateway".into()),
                Item::Exclude("canary".into()),
                Item::Filter("pattern".into(), "dns-ndots".into()),
                Item::Word("x:y".into()),
            ]
        );
        assert_eq!(q.scoring_terms(), ["502", "bad", "gateway", "x", "y"]);
        assert!(parse_query(&"a ".repeat(17)).is_err());
        assert!(parse_query(&"(".repeat(257)).is_err());
        assert_eq!(
            parse_query(&"(".repeat(256))
                .expect("parses")
                .scoring_terms()
                .len(),
            0
        );
        assert_eq!(
            parse_query("\"open").expect("parses").items,
            vec![Item::Phrase("open".into())]
        );
    }

    #[test]
    fn concepts_match_longest_first() {
        let syn = vec!["OOM".to_string(), "exit code 137".to_string()];
        let syn2 = vec!["exit code".to_string()];
        let c = Concepts::new([
            ("oomkilled", "Out-of-memory kills", syn.as_slice()),
            ("exits", "Exits", syn2.as_slice()),
        ]);
        assert_eq!(c.match_query(&terms("pods exit code 137")), ["oomkilled"]);
        assert_eq!(c.match_query(&terms("exit code 1")), ["exits"]);
        assert_eq!(c.match_query(&terms("OOMKilled")), ["oomkilled"]);
    }

    #[test]
    fn typo_correction_prefers_close_then_frequent() {
        let vocab = [("throttling", 3), ("throttled", 9), ("crashloopbackoff", 1)];
        assert_eq!(correct("throtling", vocab).as_deref(), Some("throttling"));
        assert_eq!(
            correct("crashlopbackoff", vocab).as_deref(),
            Some("crashloopbackoff")
        );
        assert_eq!(correct("xyz", vocab), None);
        assert_eq!(correct("throttled", vocab), None);
    }

    #[test]
    fn snippets_mark_the_best_window() {
        let text = "Intro words here. Later the pods were OOMKilled on every node.";
        let marked = |p: Vec<Piece>| -> Vec<String> {
            p.into_iter().filter(|p| p.mark).map(|p| p.text).collect()
        };
        assert_eq!(
            marked(snippet(text, &terms("oom node"), &[])),
            ["OOM", "node"]
        );
        // A window that starts at a match puts the ellipsis before the highlight.
        let long = format!(
            "{}{}, Later the pods failed.",
            "filler ".repeat(10),
            "y".repeat(35)
        );
        let p = snippet(&long, &terms("later"), &[]);
        assert_eq!(
            p[0],
            Piece {
                text: "…".into(),
                mark: false
            }
        );
        assert_eq!(
            p[1],
            Piece {
                text: "Later".into(),
                mark: true
            }
        );
        // Wide whitespace before the window start does not split a character.
        let text = format!("bytes, w{}\u{a0}zqx happened\u{3000}zqx.", "a".repeat(40));
        let p = snippet(&text, &terms("zqx"), &[]);
        assert!(p.iter().any(|p| p.mark));
    }

    #[test]
    fn snippets_mark_concept_phrases_whole() {
        let text = "The cache ran out of memory twice; memory was fine after.";
        let phrase = terms("out of memory");
        let p = snippet(text, &terms("oom"), &[&terms("oom"), &phrase]);
        let marked: Vec<&str> = p
            .iter()
            .filter(|p| p.mark)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(marked, ["out of memory"]);
        // A scoring term inside the phrase is part of the phrase's mark.
        let p = snippet(text, &terms("memory"), &[&phrase]);
        let marked: Vec<&str> = p
            .iter()
            .filter(|p| p.mark)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(marked, ["out of memory", "memory"]);
    }
}
