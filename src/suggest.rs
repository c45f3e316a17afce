//! "Did you mean ...?": the nearest known word to a misspelt one.
//!
//! Used by schema validation for unknown fields, enum values, pattern and symptom
//! slugs. Pure; no dependencies.

/// Levenshtein distance between `a` and `b`, counted in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a likely typo:
/// within an edit distance of a third of the word's length (at least 1, at most 3),
/// or a candidate that contains the word, is contained in it, or has all its
/// hyphenated parts (`cpu-throttling` → `cpu-limit-throttling`). Ties go to the earliest candidate, so results are
/// deterministic for a sorted candidate list.
pub fn nearest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word_lc = word.to_lowercase();
    let limit = (word_lc.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    let mut containing: Option<&'a str> = None;
    for cand in candidates {
        let d = edit_distance(&word_lc, cand);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
        if containing.is_none() && word_lc.len() >= 4 && overlaps(&word_lc, cand) {
            containing = Some(cand);
        }
    }
    best.map(|(_, c)| c).or(containing)
}

/// One contains the other, or every hyphenated part of `word` is a part of `cand`.
fn overlaps(word: &str, cand: &str) -> bool {
    cand.contains(word)
        || (cand.len() >= 4 && word.contains(cand))
        || (word.contains('-') && word.split('-').all(|w| cand.split('-').any(|c| c == w)))
}

/// `did you mean `x`?`, or `None` when nothing is close.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    nearest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("titel", "title"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn nearest_finds_typos_and_fragments() {
        let fields = ["title", "organization", "date", "summary", "symptoms"];
        assert_eq!(nearest("titel", fields), Some("title"));
        assert_eq!(nearest("organisation", fields), Some("organization"));
        assert_eq!(nearest("symptom", fields), Some("symptoms"));
        assert_eq!(nearest("zzzzzz", fields), None);
        let patterns = ["cpu-limit-throttling", "etcd-failure"];
        assert_eq!(
            nearest("cpu-throttling", patterns),
            Some("cpu-limit-throttling")
        );
    }
}
