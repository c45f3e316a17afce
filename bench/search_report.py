#!/usr/bin/env python3
"""Summary tables of bench/search.sh (Markdown on stdout) from its results directory.

    search_report.py bench/work/search

Sizes are in KB = 1,000 bytes and MB = 10^6 bytes. Percentiles: nearest rank.
"""

import glob
import json
import os
import re
import sys


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def timing(path):
    """(wall s, cpu s, rss MB, exit code) of a `timed` step, or None."""
    try:
        w, c, r, rc = open(path).read().split()
        return float(w), float(c), int(r), int(rc)
    except (OSError, ValueError):
        return None


def pct(values, p):
    v = sorted(values)
    if not v:
        return None
    return v[min(len(v) - 1, max(0, round(p / 100 * (len(v) - 1))))]


def kb(b):
    return "n/a" if b is None else f"{b / 1000:.1f}"


def mb(b):
    return "n/a" if b is None else f"{b / 1e6:.1f}"


def ms(x):
    return "n/a" if x is None else (f"{x:.1f}" if x < 100 else f"{x:.0f}")


def ratio(a, b):
    return "n/a" if a is None or b in (None, 0) else f"{a / b:.2f}"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def total(q, skip=()):
    return sum(c["gzip"] for k, c in q["bytes"].items() if k not in skip)


def main():
    res = sys.argv[1] if len(sys.argv) > 1 else "bench/work/search"
    sizes = sorted(int(re.search(r"site-(\d+)\.json$", p).group(1))
                   for p in glob.glob(os.path.join(res, "site-*.json")))
    print("# Search benchmark\n")
    machine = os.path.join(res, "machine.txt")
    if os.path.exists(machine):
        print("```\n" + open(machine).read().strip() + "\n```\n")

    # --- build and index ---------------------------------------------------------------
    rows, rows2 = [], []
    for n in sizes:
        site = load(os.path.join(res, f"site-{n}.json")) or {}
        b = timing(os.path.join(res, f"build-{n}.time"))
        st = load(os.path.join(res, f"build-{n}.stages.json")) or {}
        ix = timing(os.path.join(res, f"index-{n}.time"))
        ist = load(os.path.join(res, f"index-{n}.stages.json")) or {}
        ex = load(os.path.join(res, f"export-{n}.json")) or {}
        pf = timing(os.path.join(res, f"pagefind-{n}.time"))
        pfs = load(os.path.join(res, f"pagefind-size-{n}.json"))
        search_ms = sum(ist.get(k, 0) for k in ("s-docs", "s-index", "s-export"))
        rows.append([
            n, mb(site.get("input_bytes")),
            f"{b[0]:.1f}" if b else "n/a", f"{b[1]:.1f}" if b else "n/a", b[2] if b else "n/a",
            " / ".join(ms(st.get(k)) for k in ("s-docs", "s-index", "s-export")),
            f"{ix[0]:.1f}" if ix else "n/a", f"{ix[1]:.1f}" if ix else "n/a", ix[2] if ix else "n/a",
            " / ".join(ms(ist.get(k)) for k in ("s-docs", "s-index", "s-export")) + f" (Σ {search_ms / 1000:.1f} s)",
            mb(site.get("index_bytes")),
            f'{ex.get("files", "n/a")}', mb(ex.get("raw")), mb(ex.get("gzip")),
        ])
        pf_ok = pf and pf[3] == 0 and pfs
        rows2.append([
            n,
            (f"{pf[0]:.1f}" if pf_ok else (f"failed (exit {pf[3]}, {pf[0]:.0f} s, {pf[2]} MB)" if pf else "not run")),
            f"{pf[1]:.1f}" if pf_ok else "n/a", pf[2] if pf_ok else "n/a",
            f'{mb(pfs["raw"])} ({pfs["files"]})' if pf_ok else "n/a",
            ratio(pf[0], ix[0]) if pf_ok and ix else "n/a",
            ratio(pf[0], search_ms / 1000) if pf_ok and search_ms else "n/a",
        ])
    print("## Index build and size\n")
    print("`build`: the whole `blameless build` (pages and search). `index alone`: `blameless search` "
          "with no index, which loads, validates and converts the Markdown, then builds the index "
          "(no pages). Stages in ms (wall) from BLAMELESS_TIMINGS; in `build` they run beside "
          "page rendering on the same cores.\n")
    print(table(["N", "input MB", "build wall s", "build CPU s", "build peak RSS MB",
                 "build s-docs / s-index / s-export ms", "index alone wall s", "CPU s",
                 "peak RSS MB", "index alone s-docs / s-index / s-export ms",
                 "tantivy index MB", "export files", "export MB", "export MB gzip"], rows))
    print()
    print(table(["N", "pagefind wall s", "CPU s", "peak RSS MB", "pagefind MB (files)",
                 "ratio pagefind / blameless index alone", "ratio pagefind / blameless search stages"], rows2))
    print()

    # --- CLI ----------------------------------------------------------------------------
    rows = []
    for n in sizes:
        c = load(os.path.join(res, f"cli-{n}.json"))
        if not c:
            rows.append([n] + ["n/a"] * 8)
            continue
        pp, ip, bt = c["per_process"], c["in_process"], c["batch"]
        rows.append([
            n, pp["wall_ms"]["n"],
            ms(pp["wall_ms"]["p50"]), ms(pp["wall_ms"]["p95"]), ms(pp["cpu_ms"]["p50"]),
            ms(ip["wall_ms"]["p50"]), ms(ip["wall_ms"]["p95"]), ms(ip["cpu_ms"]["p50"]),
            f'{ms(bt["mean_wall_ms"])} ({ms(bt["mean_cpu_ms"])} CPU)',
        ])
    print("## CLI query latency (ms)\n")
    print("Per process: `blameless search QUERY --limit 10 --json`, one process per query, warm page "
          "cache. In process: one query inside `search --batch` (the query repeated R times against "
          "once). Wall time; CPU = user + sys.\n")
    print(table(["N", "queries", "per process p50", "p95", "CPU p50", "in process p50", "p95",
                 "CPU p50", "batch mean"], rows))
    print()

    # --- browser, node ----------------------------------------------------------------------
    rows, kinds_rows = [], []
    for n in sizes:
        d = load(os.path.join(res, f"node-{n}.json"))
        df = load(os.path.join(res, f"node-facets-{n}.json"))
        if not d:
            continue
        qs = [q for q in d["queries"] if not q.get("error")]
        tot = [total(q) for q in qs]
        nometa = [total(q, ("meta",)) for q in qs]
        engine = sum(v["gzip"] for v in d["engine"].values())
        cls = lambda c: [q["bytes"][c]["gzip"] for q in qs]
        facets_extra = None
        if df:
            fq = [q for q in df["queries"] if not q.get("error")]
            facets_extra = pct([q["bytes"]["facets"]["gzip"] for q in fq], 50)
        rows.append([
            n, len(qs), kb(engine), kb(d["meta"]["gzip"]),
            kb(pct(tot, 50)), kb(pct(tot, 95)), kb(max(tot)),
            kb(pct(nometa, 50)), kb(pct(nometa, 95)),
            kb(pct(cls("chunks"), 50)), kb(pct(cls("norms"), 50)), kb(pct(cls("fragments"), 50)),
            kb(pct(cls("vocab"), 95)), kb(facets_extra),
            f'{ms(pct([q["ms"]["cold"] for q in qs], 50))} / {ms(pct([q["ms"]["cold"] for q in qs], 95))}',
            f'{ms(pct([q["ms"]["warm"] for q in qs], 50))} / {ms(pct([q["ms"]["warm"] for q in qs], 95))}',
            f'{ms(pct([q["ms"]["cached"] for q in qs], 50))} / {ms(pct([q["ms"]["cached"] for q in qs], 95))}',
        ])
        kinds = sorted({q["kind"] for q in qs})
        kinds_rows.append([n] + [f'{kb(pct([total(q) for q in qs if q["kind"] == k], 50))} '
                                 f'({sum(1 for q in qs if q["kind"] == k)})' for k in kinds])
    print("## Browser: blameless's static index, measured in node (cold cache per query)\n")
    print("gzip KB per query: meta.json + term chunks + norms + typo vocabulary (when a word is "
          "unknown) + the 10 fragments of the shown results, `facets: false`; the engine code "
          "(search-core.js + porter2.js) is a fixed cost, not included. `facets`: what the "
          "results page adds with facet counts on (`facets: true`), p50. Times in ms, p50 / p95: "
          "cold = new index (meta.json again) + query + fragments; warm = same query on an index "
          "that ran all earlier queries; cached = the same query again.\n")
    print(table(["N", "queries", "engine js KB", "meta KB", "p50 KB", "p95 KB", "max KB",
                 "p50 w/o meta", "p95 w/o meta", "chunks p50", "norms p50", "fragments p50",
                 "vocab p95", "facets (results page)", "cold ms", "warm ms", "cached ms"], rows))
    print()
    if kinds_rows:
        d = load(os.path.join(res, f"node-{sizes[0]}.json"))
        kinds = sorted({q["kind"] for q in d["queries"] if not q.get("error")})
        print("p50 gzip KB per query by kind of query (count):\n")
        print(table(["N"] + kinds, kinds_rows))
        print()

    # --- browser, Chromium, beside Pagefind ---------------------------------------------------
    rows = []
    for n in sizes:
        bl = load(os.path.join(res, f"chromium-blameless-{n}.json"))
        pf = load(os.path.join(res, f"chromium-pagefind-{n}.json"))
        both = None
        if bl and pf:
            ran = {q["query"] for q in pf["queries"] if not q.get("skipped") and not q.get("error")}
            both = ran & {q["query"] for q in bl["queries"] if not q.get("error")}
        for name, d, fixed_classes in (("blameless", bl, ("js", "meta")),
                                       ("pagefind", pf, ("js", "wasm", "entry", "meta"))):
            if not d:
                continue
            qs = [q for q in d["queries"] if not q.get("skipped") and not q.get("error")]
            if both is not None:
                qs = [q for q in qs if q["query"] in both]
            tot = [total(q) for q in qs]
            var = [total(q, fixed_classes) for q in qs]
            fixed = pct([total(q) - total(q, fixed_classes) for q in qs], 50)
            cold = [q["ms"]["cold"] for q in qs]
            warm = [q["ms"]["warm"] for q in qs]
            rows.append([n, name, len(qs), kb(fixed), kb(pct(tot, 50)), kb(pct(tot, 95)), kb(max(tot)),
                         kb(pct(var, 50)), kb(pct(var, 95)),
                         f"{ms(pct(cold, 50))} / {ms(pct(cold, 95))}", f"{ms(pct(warm, 50))} / {ms(pct(warm, 95))}"])
        if bl and pf and both:
            b = [q for q in bl["queries"] if q["query"] in both]
            p = [q for q in pf["queries"] if q["query"] in both]
            rows.append([n, "**ratio pagefind / blameless**", len(b), "",
                         f"**{ratio(pct([total(q) for q in p], 50), pct([total(q) for q in b], 50))}**",
                         ratio(pct([total(q) for q in p], 95), pct([total(q) for q in b], 95)), "",
                         f"**{ratio(pct([total(q, ('js', 'wasm', 'entry', 'meta')) for q in p], 50), pct([total(q, ('js', 'meta')) for q in b], 50))}**",
                         ratio(pct([total(q, ('js', 'wasm', 'entry', 'meta')) for q in p], 95), pct([total(q, ('js', 'meta')) for q in b], 95)),
                         ratio(pct([q["ms"]["cold"] for q in p], 50), pct([q["ms"]["cold"] for q in b], 50)),
                         ratio(pct([q["ms"]["warm"] for q in p], 50), pct([q["ms"]["warm"] for q in b], 50))])
    if rows:
        print("## Browser: headless Chromium, blameless beside Pagefind (cold cache per query)\n")
        print("A fresh browser context per query; gzip KB of every file fetched from loading the "
              "engine to the 10th result's data (Pagefind's files are already gzip and count as they "
              "are). Fixed = engine code + wasm + meta (p50). Only the queries both engines ran "
              "(Pagefind gets the words of each query, without filters, exclusions or quotes; "
              "filter-only queries are left out). Time to results in ms, p50 / p95: cold = engine "
              "load + query + results' data; warm = the next query on the same page.\n")
        print(table(["N", "engine", "queries", "fixed KB", "total p50 KB", "p95", "max",
                     "w/o fixed p50 KB", "p95", "cold ms", "warm ms"], rows))
        print()


if __name__ == "__main__":
    main()
