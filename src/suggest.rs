//! "Did you mean ...?": the nearest known word to a misspelt one.
//!
//! Used by schema validation for unknown fields, enum values, pattern and symptom
//! slugs. Pure; no dependencies.

/// Edit distance between `a` and `b` in characters, counting an insertion, a
/// deletion, a substitution or a swap of two neighbours as one edit (optimal string
/// alignment), so `titel` is one edit from `title`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    // Three rows: i-2, i-1, i.
    let mut rows = vec![0usize; 3 * w];
    for (j, cell) in rows[..w].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        let (cur, prev, prev2) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        rows[cur * w] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[prev * w + j - 1] + cost)
                .min(rows[prev * w + j] + 1)
                .min(rows[cur * w + j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[prev2 * w + j - 2] + 1);
            }
            rows[cur * w + j] = d;
        }
    }
    rows[(a.len() % 3) * w + b.len()]
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
        assert_eq!(edit_distance("titel", "title"), 1);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("ca", "abc"), 3);
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
