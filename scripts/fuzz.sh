#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for SECONDS each, JOBS targets at a time, with tight
# limits so that a slow or greedy input counts as a failure (libFuzzer -timeout=2 s per
# input, -rss_limit_mb=512), and prints one line per target: executions, coverage,
# corpus size, duration. Exits 1 if any target found a crash, timeout or OOM; the
# reproducer is in fuzz/artifacts/<target>/.
#
#   bash scripts/fuzz.sh 600 2      # the campaign docs/ASSURANCE.md asks for
#   bash scripts/fuzz.sh 20 2       # a smoke run
#   FUZZ_TARGETS="text_fallback qr_parts" bash scripts/fuzz.sh 60 2
#
# FUZZ_TARGET_DIR sets cargo's target folder; FUZZ_CMIN=1 minimizes each grown corpus
# (`cargo fuzz cmin`) after its run. fuzz/corpus/<target>/ is the committed, minimized
# corpus each run starts from and grows; hand-written seeds are under fuzz/seeds/.
#
# Needs cargo-fuzz; uses the nightly toolchain when installed, else the stable one with
# RUSTC_BOOTSTRAP=1 (libFuzzer's sanitizer flags are nightly-only options).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-20}
jobs=${2:-2}
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly)
else
  toolchain=()
  export RUSTC_BOOTSTRAP=1
fi
targets=${FUZZ_TARGETS:-$(cargo "${toolchain[@]}" fuzz list)}
tdir=""
[ -n "${FUZZ_TARGET_DIR:-}" ] && tdir="--target-dir=$FUZZ_TARGET_DIR"
logs=$(mktemp -d /tmp/glasskeep-fuzz.XXXXXX)

echo "== building the fuzz targets"
start=$(date +%s)
cargo "${toolchain[@]}" fuzz build $tdir
echo "built in $(( $(date +%s) - start )) s"

run_one() {
  local target=$1
  mkdir -p "corpus/$target"
  local t0=$(date +%s)
  # The committed corpus is read and grown in place (`cargo fuzz cmin` minimizes it);
  # hand-written seeds, when a target has them, are read too but never written.
  local extra=()
  [ -d "seeds/$target" ] && extra=("seeds/$target")
  if cargo "${toolchain[@]}" fuzz run $tdir "$target" "corpus/$target" "${extra[@]}" -- \
      -max_total_time="$seconds" -timeout=2 -rss_limit_mb=512 -print_final_stats=1 \
      >"$logs/$target.log" 2>&1; then
    status=ok
  else
    status=FAILED
  fi
  local execs cov corp
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$logs/$target.log" | grep -oE '[0-9]+$' || echo "?")
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$logs/$target.log" | tail -1 || echo "cov: ?")
  if [ "${FUZZ_CMIN:-0}" = 1 ] && [ "$status" = ok ]; then
    cargo "${toolchain[@]}" fuzz cmin $tdir "$target" "corpus/$target" >>"$logs/$target.log" 2>&1
  fi
  corp=$(find "corpus/$target" -type f | wc -l)
  echo "$target $status execs=$execs $cov corpus=$corp seconds=$(( $(date +%s) - t0 ))"
}
export -f run_one
export seconds logs tdir
export TOOLCHAIN="${toolchain[*]:-}"

echo "== running $(wc -w <<<"$targets") targets, ${seconds}s each, $jobs at a time (logs in $logs)"
# shellcheck disable=SC2016
results=$(printf '%s\n' $targets | xargs -P "$jobs" -I{} bash -c 'toolchain=($TOOLCHAIN); run_one {}')
echo "$results" | sort
if grep -q ' FAILED ' <<<"$results"; then
  echo "a fuzz target failed: see fuzz/artifacts/ and the logs in $logs"
  exit 1
fi
