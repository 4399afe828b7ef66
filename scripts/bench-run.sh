#!/usr/bin/env bash
# Conformance-run benchmark: what recording every exchange (and writing report.html, ctrf.json)
# costs a whole `nvcert run`, all figures from one run on this machine.
#
#   scripts/bench-run.sh                                   # the current build: wall, CPU, peak RSS
#   BASELINE_BIN=path/to/old/nvcert scripts/bench-run.sh   # and current/baseline ratios
#   REPEAT=9 BASELINE_BIN=… scripts/bench-run.sh           # more rounds, steadier medians
#   CURRENT_BIN=path/to/nvcert …                            # measure that build instead of building
#
# A measurement is `nvcert run --quiet --report-dir TMP` against the embedded reference provider
# (the whole built-in suite, provider in the same process), under /usr/bin/time: wall seconds,
# CPU seconds (user + system) and peak resident memory (the process's maximum RSS). With a
# baseline, each round measures both binaries back to back (odd rounds the baseline first, even
# rounds second), the ratios current/baseline are taken within a round and the median round is
# reported. Targets (issue #11): wall ratio < 1.10, peak RSS < 64 MB. About 1.1 s of a run is
# waiting (the expiry checks wait out a 1 s code and token, CIBA a 1 s interval), so the CPU
# ratio is the more sensitive figure; it is reported, not judged.
# Only 127.0.0.1 is contacted (the embedded provider); every run ends on its own.
set -euo pipefail
shopt -s inherit_errexit
BASELINE_BIN=${BASELINE_BIN:-}
CURRENT_BIN=${CURRENT_BIN:-}
for var in BASELINE_BIN CURRENT_BIN; do   # made absolute before the cd below
  if [ -n "${!var}" ]; then
    resolved=$(realpath -e -- "${!var}" 2>/dev/null) && [ -x "$resolved" ] ||
      { echo "$var is not an executable file" >&2; exit 2; }
    printf -v "$var" '%s' "$resolved"
  fi
done
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-5}
for tool in /usr/bin/time python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing" >&2; exit 2; }
done

if [ -z "$CURRENT_BIN" ]; then
  cargo build --release --quiet
  CURRENT_BIN=$(realpath target/release/nvcert)
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# measure NAME BIN ROUND: one run; appends "name round wall cpu rss_kb exit" to $WORK/figures.
measure() {
  local name=$1 bin=$2 round=$3 dir="$WORK/$1-$3" code=0
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" \
    "$bin" run --quiet --report-dir "$dir" >/dev/null 2>"$WORK/stderr" || code=$?
  if [ "$code" -ne 0 ]; then
    echo "$name run (round $round) exited $code:" >&2; cat "$WORK/stderr" >&2; exit 1
  fi
  read -r wall user sys rss < <(tail -n 1 "$WORK/time")
  echo "$name $round $wall $(python3 -c "print($user + $sys)") $rss" >> "$WORK/figures"
  rm -rf "$dir"
}

echo "rounds: $REPEAT; current: $CURRENT_BIN${BASELINE_BIN:+; baseline: $BASELINE_BIN}"
for round in $(seq 1 "$REPEAT"); do
  if [ -n "$BASELINE_BIN" ] && [ $((round % 2)) -eq 1 ]; then
    measure baseline "$BASELINE_BIN" "$round"
    measure current "$CURRENT_BIN" "$round"
  else
    measure current "$CURRENT_BIN" "$round"
    [ -n "$BASELINE_BIN" ] && measure baseline "$BASELINE_BIN" "$round"
  fi
  echo "round $round done"
done

python3 - "$WORK/figures" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
by = {}
for name, rnd, wall, cpu, rss in rows:
    by.setdefault(name, {})[int(rnd)] = (float(wall), float(cpu), int(rss) / 1024)
print(f"{'binary':<9} {'round':>5} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12}")
for name in sorted(by):
    for rnd in sorted(by[name]):
        w, c, r = by[name][rnd]
        print(f"{name:<9} {rnd:>5} {w:>8.2f} {c:>8.2f} {r:>12.1f}")
cur = by["current"]
med = lambda xs: statistics.median(xs)
peak = max(r for _, _, r in cur.values())
print()
print(f"current: median wall {med([w for w, _, _ in cur.values()]):.2f} s, "
      f"median CPU {med([c for _, c, _ in cur.values()]):.2f} s, peak RSS {peak:.1f} MB (max over rounds)")
ok = peak < 64
print(f"peak RSS < 64 MB: {'yes' if peak < 64 else 'NO'}")
if "baseline" in by:
    base = by["baseline"]
    rounds = sorted(set(cur) & set(base))
    wall = med([cur[r][0] / base[r][0] for r in rounds])
    cpu = med([cur[r][1] / base[r][1] for r in rounds])
    rss = med([cur[r][2] / base[r][2] for r in rounds])
    print(f"current/baseline (median of per-round ratios): wall {wall:.3f}, CPU {cpu:.3f}, peak RSS {rss:.3f}")
    print(f"wall ratio < 1.10: {'yes' if wall < 1.10 else 'NO'}")
    ok = ok and wall < 1.10
sys.exit(0 if ok else 1)
PY
