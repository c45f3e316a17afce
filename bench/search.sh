#!/usr/bin/env bash
# Benchmark of search: index build, index size, CLI query latency and, for the browser,
# bytes per query and time to results; Pagefind beside it on the same generated site.
#
#   bench/search.sh                  # N = 10000 and 100000
#   BENCH_SIZES="10000" bench/search.sh
#
# For each N:
#  1. generate a site with bench/gen_site.py --prose zipf (fixed seed; bodies mixed with
#     free sentences over a realistic Zipf vocabulary) and a query set of ~200 queries
#     with bench/search_queries.py;
#  2. `blameless build` with BLAMELESS_TIMINGS=1 under /usr/bin/time -v: wall, CPU, peak
#     RSS, the search stages s-docs/s-index/s-export; the tantivy index size
#     (du -sb <root>/.blameless/index) and the static export (search/: files, raw and
#     gzip bytes); then the index alone, as `blameless search` rebuilds it after a change;
#  3. CLI latency (bench/search_cli.py): one process per query, and per query inside one
#     process (--batch);
#  4. browser bytes per query and time to results in node (bench/browser_bytes.mjs), and
#     in headless Chromium (bench/browser_chromium.mjs);
#  5. Pagefind (npm, installed here into bench/work/npm only, never a dependency of
#     blameless) on the incident pages of the same built site: indexing time, peak RSS,
#     size, and the same queries in Chromium;
#  6. a summary (bench/search_report.py), also in bench/work/search/summary.md.
# Figures only, no assertion on them. Every step runs under `timeout` (BENCH_TIMEOUT,
# 900 s) and Pagefind under a memory cap (BENCH_PAGEFIND_MEM_GB, 12 GiB of address
# space), so the script stops by itself; a step that hits a limit is reported as such.
#
# Environment: BENCH_SIZES ("10000 100000"), BENCH_SEED (42, the site), BENCH_QSEED (7, the
# queries), BENCH_REPEAT (20, in-process repeats per query), BENCH_TIMEOUT (900),
# BENCH_PAGEFIND (1), BENCH_CHROMIUM (1; needs /usr/bin/chromium, installed with apt-get if
# missing), BENCH_PAGEFIND_MEM_GB (12), BENCH_BIN (a blameless binary to use instead of
# `cargo build --release`), BENCH_DIR (where sites and outputs go; default
# /dev/shm/blameless-search-bench for N <= 20000 and /tmp/blameless-search-bench above,
# since a 100k site with its pages and Pagefind's index takes about 9 GB), BENCH_KEEP (0:
# remove each N's site and output when done).
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
WORK=$BENCH/work
RES=$WORK/search
SIZES=(${BENCH_SIZES:-10000 100000})
SEED=${BENCH_SEED:-42}
QSEED=${BENCH_QSEED:-7}
REPEAT=${BENCH_REPEAT:-20}
TMO=${BENCH_TIMEOUT:-900}
PAGEFIND=${BENCH_PAGEFIND:-1}
CHROMIUM=${BENCH_CHROMIUM:-1}
PF_MEM_GB=${BENCH_PAGEFIND_MEM_GB:-12}
KEEP=${BENCH_KEEP:-0}
CHROME=/usr/bin/chromium
for n in "${SIZES[@]}"; do
    if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 100 ] || [ "$n" -gt 100000 ]; then
        echo "search.sh: sizes must be integers from 100 to 100000, got '$n'" >&2
        exit 2
    fi
done
log() { printf '== %s\n' "$*" >&2; }
mkdir -p "$RES"
rm -f "$RES"/*.json "$RES"/*.tsv "$RES"/*.log "$RES"/*.time "$RES"/*.tv "$RES"/*.txt "$RES"/summary.md

# --- tools ---------------------------------------------------------------------------
if [ ! -x /usr/bin/time ]; then
    log "installing GNU time"
    apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
if [ "$CHROMIUM" = 1 ] && [ ! -x "$CHROME" ]; then
    log "installing chromium (Debian package)"
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
NPM=$WORK/npm
if [ ! -d "$NPM/node_modules/playwright-core" ] || { [ "$PAGEFIND" = 1 ] && [ ! -d "$NPM/node_modules/pagefind" ]; }; then
    log "npm install --no-save pagefind playwright-core into ${NPM#"$ROOT"/}"
    mkdir -p "$NPM"
    [ -f "$NPM/package.json" ] || echo '{"private": true}' >"$NPM/package.json"
    (cd "$NPM" && timeout "$TMO" npm install --no-save --no-audit --no-fund --loglevel=error pagefind playwright-core >&2)
fi
PAGEFIND_BIN=$NPM/node_modules/.bin/pagefind

STAMP=$(date +%s)
if [ -n "${BENCH_BIN:-}" ]; then
    SRC_BL=$BENCH_BIN
else
    log "cargo build --release"
    (cd "$ROOT" && timeout "$TMO" cargo build --release --quiet)
    TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    SRC_BL=$TARGET_DIR/release/blameless
fi
# A copy, so that another build in the same tree cannot swap the binary mid-run.
BL=$WORK/blameless-search-bench
cp "$SRC_BL" "$BL"

# --- machine -------------------------------------------------------------------------
{
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    free -g | sed -n '1,2p'
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ -n "${BENCH_BIN:-}" ]; then
        echo "blameless: $("$BL" --version 2>/dev/null), binary $BENCH_BIN${BENCH_BIN_REV:+ built from $BENCH_BIN_REV}"
    else
        echo "blameless: $("$BL" --version 2>/dev/null) at $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src static templates Cargo.toml Cargo.lock build.rs 2>/dev/null || echo ' (tree with uncommitted changes)')"
    fi
    echo "node: $(node --version)"
    [ -x "$CHROME" ] && echo "chromium: $("$CHROME" --version 2>/dev/null)"
    [ -x "$PAGEFIND_BIN" ] && echo "pagefind: $("$PAGEFIND_BIN" --version 2>/dev/null)"
    echo "python: $(python3 --version 2>&1)"
} | tee "$RES/machine.txt" >&2

# --- helpers ---------------------------------------------------------------------------
# timed NAME LOG -- CMD...: runs CMD under timeout and /usr/bin/time -v; writes
# $RES/NAME.time (wall_s cpu_s rss_mb rc) and keeps CMD's stderr in LOG.
timed() {
    local name=$1 logf=$2; shift 3
    local t0 t1 rc=0
    t0=$EPOCHREALTIME
    timeout "$TMO" /usr/bin/time -v -o "$RES/$name.tv" "$@" >/dev/null 2>"$logf" || rc=$?
    t1=$EPOCHREALTIME
    python3 - "$RES/$name.tv" "$t0" "$t1" "$rc" >"$RES/$name.time" <<'EOF'
import re, sys
text = open(sys.argv[1]).read() if sys.argv[1] else ""
get = lambda k: float(re.search(re.escape(k) + r": (\S+)", text).group(1)) if k in text else 0.0
print(f"{float(sys.argv[3]) - float(sys.argv[2]):.3f} "
      f"{get('User time (seconds)') + get('System time (seconds)'):.2f} "
      f"{int(get('Maximum resident set size (kbytes)') / 1024)} {sys.argv[4]}")
EOF
    [ "$rc" = 0 ] || log "  $name: exit code $rc (124 = timeout after ${TMO}s); see ${logf#"$ROOT"/}"
    return 0
}
# stages LOG: the BLAMELESS_TIMINGS lines as JSON {stage: ms}
stages() {
    python3 -c '
import json, re, sys
print(json.dumps({m.group(1): float(m.group(2)) for m in
      re.finditer(r"^timing: (\S+)\s+([0-9.]+) ms", open(sys.argv[1]).read(), re.M)}))' "$1"
}
# sizes DIR: {files, raw, gzip} of a directory tree; gzip = level 6 per file, files that
# already are gzip (Pagefind's) counted as they are
sizes() {
    python3 - "$1" <<'EOF'
import json, os, sys, zlib
files = raw = gz = 0
for base, _, names in os.walk(sys.argv[1]):
    for n in names:
        b = open(os.path.join(base, n), "rb").read()
        files += 1
        raw += len(b)
        if b[:2] == b"\x1f\x8b":
            gz += len(b)
        else:
            c = zlib.compressobj(6, zlib.DEFLATED, 31)
            gz += len(c.compress(b) + c.flush())
print(json.dumps({"files": files, "raw": raw, "gzip": gz}))
EOF
}

for n in "${SIZES[@]}"; do
    if [ -n "${BENCH_DIR:-}" ]; then DIR=$BENCH_DIR
    elif [ "$n" -le 20000 ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then DIR=/dev/shm/blameless-search-bench
    else DIR=/tmp/blameless-search-bench; fi
    mkdir -p "$DIR"
    site=$DIR/site-$n out=$DIR/out-$n
    # 1. site and queries (the site is reused when the generator, seed and N are the same)
    want="$n $SEED $(sha1sum "$BENCH/gen_site.py" | cut -c1-12) $(git -C "$ROOT" log -1 --format=%h -- content/symptoms.yaml content/patterns content/incidents content/pages)"
    if [ "$(cat "$site/.bench-stamp" 2>/dev/null)" != "$want" ]; then
        log "N=$n: generating the site in $site"
        rm -rf "$site"
        timeout "$TMO" python3 "$BENCH/gen_site.py" --incidents "$n" --out "$site" --from "$ROOT" \
            --seed "$SEED" --prose zipf >&2
        echo "$want" >"$site/.bench-stamp"
    fi
    python3 "$BENCH/search_queries.py" --site "$site" --seed "$QSEED" --out "$RES/queries-$n.tsv"
    input_bytes=$(du -sb "$site/content" | cut -f1)

    # 2. build, sizes, index alone
    log "N=$n: blameless build (BLAMELESS_TIMINGS=1)"
    rm -rf "$out" "$site/.blameless"
    sync
    timed build-$n "$RES/build-$n.log" -- env BLAMELESS_TIMINGS=1 "$BL" --root "$site" build --output "$out"
    log "  $(tail -n 1 "$RES/build-$n.log")"
    stages "$RES/build-$n.log" >"$RES/build-$n.stages.json"
    index_bytes=$(du -sb "$site/.blameless/index" | cut -f1)
    sizes "$out/search" >"$RES/export-$n.json"
    log "N=$n: the index alone (blameless search after removing .blameless/)"
    rm -rf "$site/.blameless"
    head -n 1 "$RES/queries-$n.tsv" | cut -f2 >"$RES/one-query.txt"
    timed index-$n "$RES/index-$n.log" -- env BLAMELESS_TIMINGS=1 "$BL" --root "$site" search --batch "$RES/one-query.txt"
    stages "$RES/index-$n.log" >"$RES/index-$n.stages.json"
    python3 -c 'import json, sys; print(json.dumps({"n": int(sys.argv[1]), "input_bytes": int(sys.argv[2]), "index_bytes": int(sys.argv[3])}))' \
        "$n" "$input_bytes" "$index_bytes" >"$RES/site-$n.json"

    # 3. CLI latency
    log "N=$n: CLI latency ($(wc -l <"$RES/queries-$n.tsv") queries, per process and in process x$REPEAT)"
    timeout "$TMO" python3 "$BENCH/search_cli.py" --bin "$BL" --root "$site" --queries "$RES/queries-$n.tsv" \
        --repeat "$REPEAT" --out "$RES/cli-$n.json" || log "  CLI latency failed or timed out"

    # 4. browser: node, then Chromium
    log "N=$n: browser bytes and time in node"
    timeout "$TMO" node "$BENCH/browser_bytes.mjs" --site "$out" --queries "$RES/queries-$n.tsv" \
        --out "$RES/node-$n.json" || log "  node measurement failed or timed out"
    timeout "$TMO" node "$BENCH/browser_bytes.mjs" --site "$out" --queries "$RES/queries-$n.tsv" \
        --facets --out "$RES/node-facets-$n.json" || log "  node measurement (facets) failed or timed out"
    if [ "$CHROMIUM" = 1 ]; then
        log "N=$n: blameless in headless Chromium"
        timeout "$TMO" node "$BENCH/browser_chromium.mjs" --site "$out" --queries "$RES/queries-$n.tsv" \
            --engine blameless --modules "$NPM/node_modules" --chromium "$CHROME" \
            --out "$RES/chromium-blameless-$n.json" || log "  Chromium measurement failed or timed out"
    fi

    # 5. Pagefind on the incident pages of the same output
    if [ "$PAGEFIND" = 1 ]; then
        log "N=$n: pagefind --site (incident pages, article only; memory cap ${PF_MEM_GB} GiB)"
        rm -rf "$out/pagefind"
        sync
        timed pagefind-$n "$RES/pagefind-$n.log" -- bash -c 'ulimit -v $(($1 * 1024 * 1024)); shift; exec "$@"' _ "$PF_MEM_GB" \
            "$PAGEFIND_BIN" --site "$out" --glob 'incidents/*/index.html' --root-selector 'article.incident' \
            --exclude-selectors 'section.related' --exclude-selectors 'nav.breadcrumb' --exclude-selectors 'nav.toc'
        if [ "$(cut -d' ' -f4 "$RES/pagefind-$n.time")" = 0 ] && [ -f "$out/pagefind/pagefind.js" ]; then
            sizes "$out/pagefind" >"$RES/pagefind-size-$n.json"
            sizes "$out/pagefind/index" >"$RES/pagefind-index-$n.json"
            sizes "$out/pagefind/fragment" >"$RES/pagefind-fragment-$n.json"
            if [ "$CHROMIUM" = 1 ]; then
                log "N=$n: Pagefind in headless Chromium"
                timeout "$TMO" node "$BENCH/browser_chromium.mjs" --site "$out" --queries "$RES/queries-$n.tsv" \
                    --engine pagefind --modules "$NPM/node_modules" --chromium "$CHROME" \
                    --out "$RES/chromium-pagefind-$n.json" || log "  Chromium measurement failed or timed out"
            fi
        else
            log "  pagefind did not finish; last lines of its log:"
            tail -n 5 "$RES/pagefind-$n.log" >&2
        fi
    fi
    [ "$KEEP" = 1 ] || { rm -rf "$site" "$out" "$DIR/.out-$n.lock"; rmdir "$DIR" 2>/dev/null || true; }
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/machine.txt"

# --- report --------------------------------------------------------------------------
python3 "$BENCH/search_report.py" "$RES" | tee "$RES/summary.md"
echo
echo "Raw figures: ${RES#"$ROOT"/}/ (JSON per step; logs *.log)."
