//! Robustness: a valid story, mangled many ways (deterministically), never makes
//! `check` panic or hang, and every diagnostic for it points inside the file.
//!
//! A cheap, always-on cousin of fuzzing: each mutation is one of the shapes that
//! broken contributions take (a deleted range, a duplicated or swapped line, a
//! hostile character, a truncation, a stray indicator), applied at positions drawn
//! from a fixed-seed generator, so a failure is reproducible from its seed.

use std::time::Duration;

use crate::harness::SiteTest;

const STORY: &str = "content/incidents/2019-alpha-cpu-throttling-cascade.md";

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Snap `i` down to a char boundary of `s`.
fn boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

const INSERTS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a",
    "!!binary ",
    "|",
    ">",
    ": ",
    "- ",
    "#",
    "\"",
    "'",
    "\t",
    "\r",
    "\u{0}",
    "\u{1b}",
    "\u{202e}",
    "\u{feff}",
    "---\n",
    "...\n",
    "? ",
    "%YAML 1.2\n",
    "<script>",
    "](javascript:x)",
    "[[[[[[[[[[",
    "é",
    "日本",
    "\n\n",
    "    ",
];

fn mutate(original: &str, rng: &mut Rng) -> String {
    let mut s = original.to_string();
    for _ in 0..1 + rng.below(3) {
        let at = boundary(&s, rng.below(s.len() + 1));
        match rng.below(6) {
            0 => {
                let end = boundary(&s, at + rng.below(40));
                s.replace_range(at..end, "");
            }
            1 => {
                let ins = INSERTS[rng.below(INSERTS.len())];
                s.insert_str(at, ins);
            }
            2 => s.truncate(at),
            3 => {
                let mut lines: Vec<&str> = s.lines().collect();
                if lines.len() > 2 {
                    let i = rng.below(lines.len());
                    let j = rng.below(lines.len());
                    lines.swap(i, j);
                }
                s = lines.join("\n");
            }
            4 => {
                let lines: Vec<&str> = s.lines().collect();
                let i = rng.below(lines.len());
                let mut out: Vec<&str> = lines.clone();
                out.insert(i, lines[i]);
                s = out.join("\n");
            }
            _ => {
                // Re-indent a line: YAML structure errors.
                let lines: Vec<String> = s.lines().map(str::to_string).collect();
                let i = rng.below(lines.len());
                let mut out = lines.clone();
                out[i] = format!("{}{}", " ".repeat(rng.below(9)), lines[i].trim_start());
                s = out.join("\n");
            }
        }
    }
    s
}

#[test]
fn mangled_stories_never_panic_and_diagnostics_point_inside_the_file() {
    let mut site = SiteTest::fixture("valid");
    let original = site.read(STORY);
    let mut rng = Rng(0x5eed_b1a3_e1e5_5001);
    let mut errors_seen = 0;
    for round in 0..250 {
        let text = mutate(&original, &mut rng);
        site.write(STORY, &text);
        let outcome = site.run_within(Duration::from_secs(20));
        // What the loader sees: one BOM removed, CRLF folded, lone CR kept.
        let decoded = text
            .strip_prefix('\u{feff}')
            .unwrap_or(&text)
            .replace("\r\n", "\n");
        let lines: Vec<&str> = decoded.split('\n').collect();
        for d in outcome.diagnostics.iter().filter(|d| d.path == STORY) {
            assert!(
                d.line >= 1 && d.line <= lines.len(),
                "round {round}: line {} outside 1..={} for {d}\n--- input ---\n{text}",
                d.line,
                lines.len()
            );
            let width = lines[d.line - 1].chars().count();
            assert!(
                d.col >= 1 && d.col <= width + 1,
                "round {round}: column {} outside 1..={} on line {} for {d}\n--- input ---\n{text}",
                d.col,
                width + 1,
                d.line
            );
            errors_seen += usize::from(d.is_error());
        }
    }
    // The mutations must actually break things, or this test proves nothing.
    assert!(
        errors_seen > 100,
        "only {errors_seen} errors over 250 mangled stories"
    );
}
