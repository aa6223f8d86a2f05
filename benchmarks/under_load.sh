#!/bin/bash
# make test on a fresh clone of HEAD beside CPU-bound busy loops (issue 31: "make test
# passes 3 times in a row beside 4 busy loops"). Prints one line a run: its exit code and
# seconds. Usage: bash benchmarks/under_load.sh [RUNS=3] [LOOPS=4]   (PDK_ROOT as for CI)
set -u
runs=${1:-3}
loops=${2:-4}
repo=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
for i in $(seq "$loops"); do (while :; do :; done) & done
pids=$(jobs -p)
trap 'kill $pids 2>/dev/null; rm -rf "$work"' EXIT
for r in $(seq "$runs"); do
  rm -rf "$work/clone" && git clone -q "$repo" "$work/clone"
  start=$(date +%s)
  (cd "$work/clone" && make test > "$work/run$r.log" 2>&1)
  rc=$?
  echo "run $r: exit $rc, $(( $(date +%s) - start )) s, $(grep -E '[0-9]+ passed' "$work/run$r.log" | tail -1)"
  [ "$rc" -eq 0 ] || { tail -40 "$work/run$r.log"; exit "$rc"; }
done
