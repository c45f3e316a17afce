#!/usr/bin/env python3
"""CLI query latency of `blameless search` over a query set, two ways.

    search_cli.py --bin BLAMELESS --root SITE_ROOT --queries QUERIES.tsv
                  [--repeat R] [--limit 10] [--out FILE.json]

- **per process**: `blameless --root SITE search --limit 10 --json -- QUERY` once per
  query, as a person at a terminal runs it (process start, the content-stamp check of
  every file under content/, opening the index, the query, snippets, JSON). Warm page
  cache: one untimed run first. Wall time around the spawn, and the child's CPU time
  (user + sys, from getrusage), which a busy machine inflates less.
- **in process**: `search --batch FILE --limit 10`, where FILE holds the query R times
  against once; (time(R) - time(1)) / (R - 1) is the time of one query inside a running
  process (query, snippets, JSON line), without the process start and index open. Also
  the mean over the whole set: the set R times against once.

The index must be fresh (run `build` first): a stale one would be rebuilt by the first
call. Python 3 standard library only. Prints (or writes) JSON; figures only.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def timed(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (wall s, child CPU s, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    rc = subprocess.run(cmd, stdout=stdout, stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, rc


def pct(values, p):
    v = sorted(values)
    if not v:
        return None
    return v[min(len(v) - 1, max(0, round(p / 100 * (len(v) - 1))))]


def summary(values):
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95),
            "max": max(values) if values else None,
            "mean": sum(values) / len(values) if values else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--out", default="-")
    args = ap.parse_args()
    with open(args.queries, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]
    queries = [q for _, q in rows]
    base = [args.bin, "--root", args.root, "search", "--limit", str(args.limit)]

    # Warm-up: page cache, and a fresh index (fails loudly if the site does not validate).
    _, _, rc = timed(base + ["--json", "--", queries[0]])
    if rc != 0:
        sys.exit(f"search_cli.py: `blameless search` exited {rc} on {args.root}")

    per_process = []
    for kind, q in rows:
        wall, cpu, rc = timed(base + ["--json", "--", q])
        per_process.append({"kind": kind, "query": q, "wall_ms": wall * 1e3, "cpu_ms": cpu * 1e3,
                            "exit": rc})

    in_process = []
    errors = 0
    with tempfile.TemporaryDirectory() as tmp:
        one, many = os.path.join(tmp, "one.txt"), os.path.join(tmp, "many.txt")
        for (kind, q), pp in zip(rows, per_process):
            with open(one, "w", encoding="utf-8") as f:
                f.write(q + "\n")
            with open(many, "w", encoding="utf-8") as f:
                f.write((q + "\n") * args.repeat)
            w1, c1, _ = timed(base + ["--batch", one])
            wr, cr, _ = timed(base + ["--batch", many])
            in_process.append({"kind": kind, "query": q,
                               "wall_ms": max(0.0, (wr - w1) / (args.repeat - 1) * 1e3),
                               "cpu_ms": max(0.0, (cr - c1) / (args.repeat - 1) * 1e3)})
        # The whole set, once and R times: the mean cost of one query in a batch.
        with open(one, "w", encoding="utf-8") as f:
            f.write("".join(q + "\n" for q in queries))
        with open(many, "w", encoding="utf-8") as f:
            f.write("".join(q + "\n" for q in queries) * args.repeat)
        out_one = os.path.join(tmp, "out.jsonl")
        with open(out_one, "w") as sink:
            w1, c1, _ = timed(base + ["--batch", one], stdout=sink)
        with open(out_one, encoding="utf-8") as f:
            results = [json.loads(line) for line in f]
        errors = sum(1 for r in results if "error" in r)
        totals = [r.get("total", 0) for r in results]
        wr, cr, _ = timed(base + ["--batch", many])
        batch = {"queries": len(queries), "repeat": args.repeat,
                 "once_wall_s": w1, "once_cpu_s": c1, "repeated_wall_s": wr, "repeated_cpu_s": cr,
                 "mean_wall_ms": (wr - w1) / ((args.repeat - 1) * len(queries)) * 1e3,
                 "mean_cpu_ms": (cr - c1) / ((args.repeat - 1) * len(queries)) * 1e3,
                 "errors": errors, "median_total": pct(totals, 50)}

    doc = {
        "root": args.root, "limit": args.limit,
        "per_process": {"wall_ms": summary([r["wall_ms"] for r in per_process]),
                        "cpu_ms": summary([r["cpu_ms"] for r in per_process]),
                        "failed": sum(1 for r in per_process if r["exit"] != 0)},
        "in_process": {"wall_ms": summary([r["wall_ms"] for r in in_process]),
                       "cpu_ms": summary([r["cpu_ms"] for r in in_process])},
        "batch": batch,
        "queries": [dict(p, in_process_wall_ms=i["wall_ms"], in_process_cpu_ms=i["cpu_ms"])
                    for p, i in zip(per_process, in_process)],
    }
    text = json.dumps(doc)
    if args.out == "-":
        print(text)
    else:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
