#!/usr/bin/env python3
"""Make the query set of the search benchmark for a generated site.

    search_queries.py --site SITE_ROOT [--eval eval/queries.yaml] [--seed S] [--out FILE]

Writes one query per line as `kind<TAB>query` (default: stdout), about 200 queries, the
same for every run with the same seed and site:

- eval:     the queries of eval/queries.yaml (what an SRE with a symptom in hand types:
            error strings, abbreviations, paraphrases, a few typos and filters), except
            those with filters only the CLI has (component:, organization:, impact:);
- symptom:  titles and synonyms of content/symptoms.yaml, alone or two together;
- vocab:    component names, pattern titles and tags the generator uses;
- body:     one or two words picked from the body of a random generated story (token
            sampling, so common words come up more often than rare ones, as when a
            person remembers words of a story they read);
- typo:     a word from the lists above with one edit (swap, drop, double, replace);
- filter:   words with pattern:, symptom:, platform: or year: filters, and filters alone
            (only the filters the static index has, so both engines can run them);
- syntax:   a phrase in quotes and an exclusion.

Python 3 standard library only. The site must come from bench/gen_site.py (it reads its
bench-manifest.json for the filter values).
"""

import argparse
import json
import os
import random
import re
import sys

FUNCTION = {"the", "of", "and", "to", "a", "in", "is", "that", "for", "it", "was", "on",
            "with", "as", "by", "at", "this", "we", "from", "be", "or", "not", "are", "had",
            "have", "but", "our", "which", "when", "were", "an", "after", "then", "so", "all",
            "they", "than", "into", "its", "no", "one", "there", "their", "been", "more",
            "only", "also", "because", "until", "before", "while", "every", "what", "how",
            "who", "why", "did", "does", "each", "any", "some", "over", "out", "up"}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def eval_queries(path):
    """The `q:` values of eval/queries.yaml (a small reader for its layout)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s*-\s+q:\s*(.+?)\s*$", line)
            if not m:
                continue
            v = m.group(1)
            if v.startswith('"'):
                v = json.loads(v)
            elif v.startswith("'") and v.endswith("'"):
                v = v[1:-1].replace("''", "'")
            out.append(v)
    return out


def symptom_phrases(path):
    """Titles and synonyms of symptoms.yaml, in file order."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s*(?:-\s+)?title:\s*(.+?)\s*$", line)
            if m:
                out.append(m.group(1).strip("\"'"))
                continue
            m = re.match(r"^\s*synonyms:\s*(\[.*\])\s*$", line)
            if m:
                try:
                    out.extend(json.loads(m.group(1)))
                except ValueError:
                    pass
    return out


def body_words(text):
    """Content words of a story body: no code, links, URLs or function words."""
    text = text.split("\n---\n", 1)[-1]
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"https?://\S+", " ", text)
    return [w for w in WORD.findall(text) if len(w) >= 3 and w.lower() not in FUNCTION]


def typo(rng, word):
    w = list(word.lower())
    i = rng.randrange(1, len(w) - 1)  # keep the first letter: the engines correct from it
    kind = rng.choice(["swap", "drop", "double", "replace"])
    if kind == "swap" and w[i] != w[i + 1]:
        w[i], w[i + 1] = w[i + 1], w[i]
    elif kind == "drop":
        del w[i]
    elif kind == "double":
        w.insert(i, w[i])
    else:
        w[i] = rng.choice([c for c in "aeioustrnl" if c != w[i]])
    return "".join(w)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", required=True, help="a site root made by bench/gen_site.py")
    ap.add_argument("--eval", default=os.path.join(os.path.dirname(here), "eval/queries.yaml"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="-")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    manifest_path = os.path.join(args.site, "bench-manifest.json")
    if not os.path.isfile(manifest_path):
        sys.exit(f"search_queries.py: {manifest_path} is missing; make the site with bench/gen_site.py")
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    incidents = manifest["incidents"]
    queries = []  # (kind, query)

    def add(kind, q):
        q = " ".join(q.split())
        if q and (kind, q) not in queries and len(q.encode()) <= 256:
            queries.append((kind, q))

    # 1. the labelled queries of the project (all of them)
    # (not those with component:, organization: or impact: filters, which only the CLI has)
    if os.path.isfile(args.eval):
        for q in eval_queries(args.eval):
            if not re.search(r"(^|\s)(component|organization|impact):\S", q):
                add("eval", q)

    # 2. symptom phrases, alone and in pairs, as typed (lowercase half of the time)
    phrases = symptom_phrases(os.path.join(args.site, "content/symptoms.yaml"))
    for _ in range(24):
        p = rng.choice(phrases)
        add("symptom", p.lower() if rng.random() < 0.5 else p)
    for _ in range(6):
        add("symptom", f"{rng.choice(phrases)} {rng.choice(phrases)}".lower())

    # 3. the generator's vocabulary: components, pattern titles, tags
    comps = sorted({c for i in incidents for c in i["front_matter"]["components"]})
    tags = sorted({t for i in incidents for t in i["front_matter"]["tags"]})
    pattern_titles = [t for _, t, _ in manifest["patterns"]]
    for _ in range(8):
        add("vocab", rng.choice(comps))
    for _ in range(6):
        add("vocab", rng.choice(pattern_titles).lower())
    for _ in range(6):
        add("vocab", f"{rng.choice(comps)} {rng.choice(tags)}")

    # 4. words from the bodies of random stories
    idir = os.path.join(args.site, "content/incidents")
    picked = []
    for _ in range(40):
        inc = rng.choice(incidents)
        with open(os.path.join(idir, inc["id"] + ".md"), encoding="utf-8") as f:
            words = body_words(f.read())
        if not words:
            continue
        if len(picked) < 25:
            w = rng.choice(words)
            picked.append(w)
            add("body", w.lower())
        else:
            add("body", f"{rng.choice(words)} {rng.choice(words)}".lower())

    # 5. typos of words a person would type
    sources = [w for w in picked if len(w) >= 5 and w.isalpha()]
    sources += [w for p in phrases for w in WORD.findall(p) if len(w) >= 5 and w.isalpha()]
    for _ in range(12):
        w = rng.choice(sources)
        t = typo(rng, w)
        if rng.random() < 0.4:
            t = f"{t} {rng.choice(['pods', 'nodes', 'errors', 'after deploy', 'cluster'])}"
        add("typo", t)

    # 6. filters the static index has (pattern, symptom, platform, year)
    for _ in range(12):
        inc = rng.choice(incidents)["front_matter"]
        kind = rng.choice(["pattern", "symptom", "platform", "year"])
        if kind == "pattern":
            f = f"pattern:{rng.choice(inc['contributing_failures'])['pattern']}"
        elif kind == "symptom":
            f = f"symptom:{rng.choice(inc['symptoms'])}"
        elif kind == "platform":
            f = f"platform:{rng.choice(inc['platforms'])}"
        else:
            f = f"year:{inc['date'][:4]}"
        words = rng.choice(["", rng.choice(phrases).lower(), rng.choice(picked).lower()])
        add("filter", f"{words} {f}" if rng.random() < 0.5 else f"{f} {words}")

    # 7. phrases and exclusions
    for _ in range(3):
        add("syntax", f'"{rng.choice(phrases).lower()}" {rng.choice(picked).lower()}')
        add("syntax", f"{rng.choice(phrases).lower()} -{rng.choice(comps).split()[0].lower()}")

    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    for kind, q in queries:
        out.write(f"{kind}\t{q}\n")
    if out is not sys.stdout:
        out.close()
    counts = {}
    for kind, _ in queries:
        counts[kind] = counts.get(kind, 0) + 1
    print(f"search_queries.py: {len(queries)} queries ("
          + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")", file=sys.stderr)


if __name__ == "__main__":
    main()
