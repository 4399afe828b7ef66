#!/usr/bin/env bash
# Multi-provider benchmark (`nvcert run --providers DIR`), all figures from one run on this machine.
#
#   scripts/bench-providers.sh                 # 10 providers, 3 rounds (~1 min with a release build)
#   PROVIDERS=20 REPEAT=5 scripts/bench-providers.sh
#   NVCERT=target/debug/nvcert scripts/bench-providers.sh   # measure another binary (no build)
#
# Starts PROVIDERS reference providers (`nvcert serve`, one process each, on ports PORT..) and
# writes one profile per provider. Each round measures, back to back and in alternating order:
#   1. one provider alone: `nvcert run --provider one.toml` (the single-provider path);
#   2. all providers: `nvcert run --providers DIR` with the default --parallel-providers,
#      min(PROVIDERS, 8): with more than 8 providers the rest start as the first ones finish, so
#      the run takes at least two suites' time by construction (reported, not held to the 2x
#      target);
#   3. all providers at once: the same with --parallel-providers PROVIDERS (the 2x target).
# Per measurement: wall time and peak RSS of the nvcert process (/usr/bin/time; the providers are
# separate processes and not counted), and the suite's own wall time (results.json duration_ms).
# The report gives the median over the rounds of: the wall time of one provider, of all of them
# (both ways), their ratios to one (target: under 2), the peak RSS of the multi-provider runs
# (target: under 200 MB),
# and one provider's full-suite wall time (target: under 1.5 s). The machine's load average is
# printed before and after: other work on the machine inflates every figure.
# Traffic goes to 127.0.0.1 only; every provider's run is bounded by the profile's timeouts.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

PROVIDERS=${PROVIDERS:-10}
REPEAT=${REPEAT:-3}
PORT=${PORT:-19300}

for tool in /usr/bin/time python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool is missing" >&2; exit 2; }
done

if [ -z "${NVCERT:-}" ]; then
  cargo build --release --quiet
  NVCERT=$PWD/target/release/nvcert
fi
NVCERT=$(realpath -e -- "$NVCERT")
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/all" "$WORK/one"
for i in $(seq 1 "$PROVIDERS"); do
  port=$((PORT + i))
  "$NVCERT" serve --addr "127.0.0.1:$port" >"$WORK/serve-$i.log" 2>&1 &
  PIDS+=("$!")
  sed -e "s#http://127.0.0.1:9091#http://127.0.0.1:$port#g" \
      -e "s#file:\.\./keys/#file:$PWD/fixtures/keys/#g" \
      -e "s#^name = .*#name = \"bench provider $i\"#" \
      fixtures/providers/reference.toml > "$WORK/all/provider-$i.toml"
done
cp "$WORK/all/provider-1.toml" "$WORK/one/"
for i in $(seq 1 "$PROVIDERS"); do
  for _ in $(seq 1 100); do
    grep -q "listening on" "$WORK/serve-$i.log" 2>/dev/null && continue 2
    sleep 0.05
  done
  echo "provider $i did not start:" >&2
  cat "$WORK/serve-$i.log" >&2
  exit 1
done

# measure NAME ARGS...: runs `nvcert run ARGS` and prints "NAME wall_s rss_kb suite_ms" (suite_ms:
# the largest duration_ms of the results.json files written).
measure() {
  local name=$1
  shift
  rm -rf "$WORK/reports"
  /usr/bin/time -o "$WORK/time" -f "%e %M" \
    "$NVCERT" run --quiet --report-dir "$WORK/reports" "$@" >"$WORK/out" 2>&1 || {
      echo "nvcert run $* failed:" >&2
      cat "$WORK/out" >&2
      exit 1
    }
  local suite
  suite=$(python3 - "$WORK/reports" <<'EOF'
import json, pathlib, sys
print(max(json.loads(p.read_text())["duration_ms"] for p in pathlib.Path(sys.argv[1]).rglob("results.json")))
EOF
)
  echo "$name $(cat "$WORK/time") $suite"
  if [ "$name" = one ]; then
    # What bounds one provider's suite: its slowest scenarios (they run at once, so the suite
    # cannot end before the slowest).
    python3 - "$WORK/reports/results.json" >>"$WORK/slowest" <<'EOF'
import json, sys
scenarios = json.load(open(sys.argv[1]))["scenarios"]
for s in sorted(scenarios, key=lambda s: -s["duration_ms"])[:4]:
    print(f'{s["duration_ms"]:>6} ms  {s["feature"]} › {s["name"]}')
print()
EOF
  fi
}

echo "nvcert: $NVCERT"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "measuring: $PROVIDERS providers, $REPEAT rounds"
: >"$WORK/rounds"
: >"$WORK/slowest"
for round in $(seq 1 "$REPEAT"); do
  if [ $((round % 2)) = 1 ]; then
    measure one --provider "$WORK/one/provider-1.toml" >>"$WORK/rounds"
    measure all --providers "$WORK/all" >>"$WORK/rounds"
    measure wide --providers "$WORK/all" --parallel-providers "$PROVIDERS" >>"$WORK/rounds"
  else
    measure wide --providers "$WORK/all" --parallel-providers "$PROVIDERS" >>"$WORK/rounds"
    measure all --providers "$WORK/all" >>"$WORK/rounds"
    measure one --provider "$WORK/one/provider-1.toml" >>"$WORK/rounds"
  fi
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

echo "slowest scenarios of one provider, per round:"
sed 's/^/  /' "$WORK/slowest"

python3 - "$WORK/rounds" "$PROVIDERS" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
n = int(sys.argv[2])
one = [r for r in rows if r[0] == "one"]
runs = {"all": [r for r in rows if r[0] == "all"], "wide": [r for r in rows if r[0] == "wide"]}
names = {"all": f"{n} providers, default parallelism ({min(n, 8)})",
         "wide": f"{n} providers, --parallel-providers {n}"}
print("round  one: wall s  RSS MB  suite s" + "".join(f"   {k}: wall s  RSS MB  ratio" for k in runs))
for i, o in enumerate(one):
    line = f"{i + 1:>5}  {float(o[1]):>11.2f}  {int(o[2]) / 1024:>6.1f}  {int(o[3]) / 1000:>7.2f}"
    for k, rs in runs.items():
        r = rs[i]
        line += f"  {float(r[1]):>9.2f}  {int(r[2]) / 1024:>6.1f}  {float(r[1]) / float(o[1]):>5.2f}"
    print(line)
med = statistics.median
ok = lambda c: "ok" if c else "MISSED"
one_wall = med([float(o[1]) for o in one])
print(f"one provider: {one_wall:.2f} s wall (median)")
for k, rs in runs.items():
    wall = med([float(r[1]) for r in rs])
    ratio = med([float(r[1]) / float(o[1]) for o, r in zip(one, rs)])
    rss = max(int(r[2]) for r in rs) / 1024
    if k == "all" and n > 8:
        # Providers 9.. start when the first ones end: suites back to back, so at least 2x by
        # construction. The wall-time target is for the providers running at once ("wide").
        verdict = f"{-(-n // 8)} waves of at most 8: not held to the target"
    else:
        verdict = f"target < 2: {ok(ratio < 2)}"
    print(f"{names[k]}: {wall:.2f} s wall; ratio to one {ratio:.2f} (median of rounds; {verdict}); "
          f"peak RSS {rss:.1f} MB (target < 200 MB): {ok(rss < 200)}")
suite = med([int(o[3]) / 1000 for o in one])
print(f"one provider's full suite: {suite:.2f} s wall (results.json duration_ms, median; "
      f"target < 1.5 s): {ok(suite < 1.5)}")
EOF
