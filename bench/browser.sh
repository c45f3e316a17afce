#!/usr/bin/env bash
# Browser benchmark for BENCHMARKS.md ("Browser"): in headless Chromium (Debian's
# /usr/bin/chromium, driven by playwright-core from the repo's npm dev dependencies),
#  1. page weight of each page type of this repository's own site: the HTML, CSS and JS a
#     first visit downloads, gzip (and the search index a query fetches);
#  2. time to first search result on a generated site of N stories (bench/gen_site.py
#     --prose zipf, as bench/search.sh), served on 127.0.0.1: header box cold and warm,
#     search page opened with ?q=.
# Figures only, no assertion. Both sites are built with --base-url http://127.0.0.1/ so
# they can be served at `/` on any port.
#
#   bench/browser.sh                       # N = 10000
#   BENCH_N=1000 bench/browser.sh
#
# Environment: BENCH_N (10000), BENCH_SEED (42), BENCH_RUNS (5 queries), BENCH_BIN (a
# blameless binary instead of `cargo build --release`), BENCH_DIR (/dev/shm/blameless-
# browser-bench; removed at the end unless BENCH_KEEP=1), BENCH_TIMEOUT (900 s a step).
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
N=${BENCH_N:-10000}
SEED=${BENCH_SEED:-42}
RUNS=${BENCH_RUNS:-5}
TMO=${BENCH_TIMEOUT:-900}
DIR=${BENCH_DIR:-/dev/shm/blameless-browser-bench}
log() { printf '== %s\n' "$*" >&2; }

if ! [[ $N =~ ^[0-9]+$ ]] || [ "$N" -lt 10 ] || [ "$N" -gt 100000 ]; then
    echo "browser.sh: BENCH_N must be an integer from 10 to 100000, got '$N'" >&2
    exit 2
fi
if [ ! -x /usr/bin/chromium ]; then
    log "installing chromium (Debian package)"
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d "$ROOT/node_modules/playwright-core" ]; then
    log "npm ci"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
if [ -n "${BENCH_BIN:-}" ]; then
    BL=$BENCH_BIN
else
    log "cargo build --release"
    (cd "$ROOT" && timeout "$TMO" cargo build --release --quiet)
    BL=$ROOT/target/release/blameless
fi
rm -rf "$DIR"
mkdir -p "$DIR"
[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$DIR"' EXIT

echo "blameless: $("$BL" --version) at $(git -C "$ROOT" rev-parse --short HEAD); $(/usr/bin/chromium --version 2>/dev/null); node $(node --version); playwright-core $(node -p "require('$ROOT/node_modules/playwright-core/package.json').version")"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"

log "this repository's site: page weight"
"$BL" --root "$ROOT" build -o "$DIR/repo" --base-url http://127.0.0.1/ >/dev/null 2>&1
echo
echo "### Page weight, this repository's site ($(ls "$ROOT"/content/incidents/*.md | wc -l) stories)"
echo
timeout "$TMO" node "$BENCH/browser.mjs" weight --site "$DIR/repo"

log "generating $N stories (seed $SEED, --prose zipf)"
timeout "$TMO" python3 "$BENCH/gen_site.py" --incidents "$N" --seed "$SEED" --prose zipf --out "$DIR/site" --from "$ROOT" >/dev/null
log "building $N stories"
timeout "$TMO" "$BL" --root "$DIR/site" build -o "$DIR/out" --base-url http://127.0.0.1/ >/dev/null 2>&1
echo
echo "### Page weight, generated site of $N stories"
echo
timeout "$TMO" node "$BENCH/browser.mjs" weight --site "$DIR/out"
echo
echo "### Time to first search result, generated site of $N stories"
echo
timeout "$TMO" node "$BENCH/browser.mjs" first-result --site "$DIR/out" --runs "$RUNS"
