//! The interactive `blameless new` on a terminal: asks for the title, organization,
//! date, source URL, symptoms and patterns, with completion from the site's
//! vocabularies, and fills a [`NewIncident`].
//!
//! Plain line prompts over any `BufRead`/`Write` (no terminal library), so the whole
//! dialogue is tested with in-memory input. Completion is by prefix: in a list
//! answer each comma-separated word may be the start of a slug; a unique prefix is
//! expanded, an ambiguous one lists its candidates and asks again, `?` lists every
//! value. Answers that `new` would refuse (a bad date or URL) are asked again with
//! the reason, so the dialogue ends with a file that can be created.

use std::io::{BufRead, Write};

use crate::model::PartialDate;
use crate::new::{NewIncident, Vocab};

/// Ask for every field of `start` that is still empty; end of input stops with an
/// error (nothing is created).
pub fn ask(
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    vocab: &Vocab,
    start: NewIncident,
) -> anyhow::Result<NewIncident> {
    let mut req = start;
    writeln!(
        out,
        "New failure story. Press Enter to skip optional answers; type `?` in a list for every value."
    )?;
    while req.title.trim().is_empty() {
        req.title = line(input, out, "Title (a short, specific headline)")?;
    }
    while req.organization.trim().is_empty() {
        req.organization = line(input, out, "Organization (`anonymous` is fine)")?;
    }
    if req.date.is_none() {
        loop {
            let d = line(input, out, "Date: YYYY, YYYY-MM or YYYY-MM-DD [this month]")?;
            if d.is_empty() {
                break;
            }
            if PartialDate::parse(&d).is_some() {
                req.date = Some(d);
                break;
            }
            writeln!(
                out,
                "  `{d}` is not a date: write 2019, 2019-06 or 2019-06-14"
            )?;
        }
    }
    if req.source_url.is_none() {
        loop {
            let u = line(input, out, "Source URL (the write-up, talk or thread)")?;
            if u.is_empty() {
                break;
            }
            if crate::schema::is_http_url(&u) {
                req.source_url = Some(u);
                break;
            }
            writeln!(out, "  `{u}` is not an http(s) URL")?;
        }
    }
    if req.symptoms.is_empty() && !vocab.symptoms.is_empty() {
        req.symptoms = slugs(input, out, "Symptoms people saw", &vocab.symptoms)?;
    }
    if req.patterns.is_empty() && !vocab.patterns.is_empty() {
        req.patterns = slugs(
            input,
            out,
            "Failure patterns, in causal order",
            &vocab.patterns,
        )?;
    }
    Ok(req)
}

/// One answer, trimmed. End of input is an error.
fn line(input: &mut dyn BufRead, out: &mut dyn Write, question: &str) -> anyhow::Result<String> {
    write!(out, "{question}: ")?;
    out.flush()?;
    let mut s = String::new();
    if input.read_line(&mut s)? == 0 {
        anyhow::bail!("no answer to `{question}` (end of input); nothing was created");
    }
    Ok(s.trim().to_string())
}

/// What a typed word completes to.
#[derive(Debug, PartialEq, Eq)]
pub enum Completion<'a> {
    /// Exactly one value.
    One(&'a str),
    /// Several values start with it.
    Ambiguous(Vec<&'a str>),
    /// Nothing starts with it.
    None,
}

/// Complete `word` against `values` by prefix; an exact match wins.
pub fn complete<'a>(word: &str, values: &'a [String]) -> Completion<'a> {
    if let Some(v) = values.iter().find(|v| *v == word) {
        return Completion::One(v);
    }
    let hits: Vec<&str> = values
        .iter()
        .filter(|v| v.starts_with(word))
        .map(String::as_str)
        .collect();
    match hits.as_slice() {
        [] => Completion::None,
        [one] => Completion::One(one),
        _ => Completion::Ambiguous(hits),
    }
}

/// A comma-separated list of slugs with completion; asks again until every word
/// resolves. Empty answer: none.
fn slugs(
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    question: &str,
    values: &[String],
) -> anyhow::Result<Vec<String>> {
    'ask: loop {
        let answer = line(input, out, &format!("{question} (comma-separated)"))?;
        if answer == "?" {
            writeln!(out, "  {}", values.join(", "))?;
            continue;
        }
        let mut chosen: Vec<String> = Vec::new();
        for word in answer
            .split([',', ' '])
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            match complete(word, values) {
                Completion::One(v) => {
                    if !chosen.iter().any(|c| c == v) {
                        chosen.push(v.to_string());
                    }
                }
                Completion::Ambiguous(hits) => {
                    writeln!(out, "  `{word}` could be: {}", hits.join(", "))?;
                    continue 'ask;
                }
                Completion::None => {
                    let near =
                        crate::suggest::did_you_mean(word, values.iter().map(String::as_str))
                            .map(|h| format!(" ({h})"))
                            .unwrap_or_default();
                    writeln!(
                        out,
                        "  no value starts with `{word}`{near}; type `?` to list them"
                    )?;
                    continue 'ask;
                }
            }
        }
        if !chosen.is_empty() {
            writeln!(out, "  → {}", chosen.join(", "))?;
        }
        return Ok(chosen);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocab {
        Vocab {
            symptoms: vec![
                "5xx-errors".into(),
                "oomkilled".into(),
                "pods-pending".into(),
            ],
            patterns: vec![
                "cpu-limit-throttling".into(),
                "cluster-dns-overload".into(),
                "etcd-failure".into(),
            ],
            base_url: None,
        }
    }

    fn empty() -> NewIncident {
        NewIncident {
            title: String::new(),
            organization: String::new(),
            date: None,
            source_url: None,
            symptoms: Vec::new(),
            patterns: Vec::new(),
        }
    }

    #[test]
    fn a_whole_dialogue_with_completion_and_corrections() {
        let answers = "Pods pile up\nExample Corp\nlast year\n2019-06\nexample.com\nhttps://example.com/post\noom, 5xx\nc\n?\ncpu, etcd\n";
        let mut input = answers.as_bytes();
        let mut out = Vec::new();
        let req = ask(&mut input, &mut out, &vocab(), empty()).expect("complete dialogue");
        assert_eq!(req.title, "Pods pile up");
        assert_eq!(req.organization, "Example Corp");
        assert_eq!(req.date.as_deref(), Some("2019-06"));
        assert_eq!(req.source_url.as_deref(), Some("https://example.com/post"));
        assert_eq!(req.symptoms, ["oomkilled", "5xx-errors"]);
        assert_eq!(req.patterns, ["cpu-limit-throttling", "etcd-failure"]);
        let shown = String::from_utf8(out).expect("UTF-8");
        for line in [
            "  `last year` is not a date: write 2019, 2019-06 or 2019-06-14\n",
            "  `example.com` is not an http(s) URL\n",
            "  → oomkilled, 5xx-errors\n",
            "  `c` could be: cpu-limit-throttling, cluster-dns-overload\n",
            "  cpu-limit-throttling, cluster-dns-overload, etcd-failure\n",
        ] {
            assert!(shown.contains(line), "shows `{line}`:\n{shown}");
        }
    }

    #[test]
    fn flags_already_given_are_not_asked_and_end_of_input_creates_nothing() {
        let start = NewIncident {
            title: "Given".into(),
            organization: "Org".into(),
            date: Some("2020".into()),
            ..empty()
        };
        let mut input = "\n\n\n".as_bytes();
        let mut out = Vec::new();
        let req = ask(&mut input, &mut out, &vocab(), start).expect("answers");
        assert_eq!(req.title, "Given");
        assert!(req.source_url.is_none() && req.symptoms.is_empty() && req.patterns.is_empty());
        let shown = String::from_utf8(out).expect("UTF-8");
        assert!(!shown.contains("Title"), "{shown}");

        let mut input = "Only a title\n".as_bytes();
        let err = ask(&mut input, &mut Vec::new(), &vocab(), empty()).expect_err("input ends");
        assert!(err.to_string().contains("end of input"), "{err}");
    }

    #[test]
    fn unknown_words_suggest_the_nearest_value() {
        let mut input = "oomkiled\noomkilled\n\n".as_bytes();
        let mut out = Vec::new();
        let start = NewIncident {
            title: "T".into(),
            organization: "O".into(),
            date: Some("2020".into()),
            source_url: Some("https://example.com/".into()),
            ..empty()
        };
        let req = ask(&mut input, &mut out, &vocab(), start).expect("answers");
        assert_eq!(req.symptoms, ["oomkilled"]);
        let shown = String::from_utf8(out).expect("UTF-8");
        assert!(
            shown.contains("no value starts with `oomkiled` (did you mean `oomkilled`?)"),
            "{shown}"
        );
    }
}
