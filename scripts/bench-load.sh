#!/usr/bin/env bash
# Load-generator and provider benchmark, all figures from one run on this machine.
#
#   scripts/bench-load.sh                # 10 s per measurement, 16 connections, 3 rounds (~3 min)
#   DURATION=5 CONNECTIONS=64 REPEAT=1 scripts/bench-load.sh
#   BASELINE_BIN=path/to/old/nvcert scripts/bench-load.sh   # also compare with an older build (~4 min)
#
# The reference provider (`nvcert serve --bench-endpoints`) is pinned to core 0 and every
# generator (wrk, nvcert load) to core 1 with taskset; /usr/bin/time measures the generator's CPU.
# Each round measures, back to back:
#   1. wrk and `nvcert load --scenario verify` on POST /verify, same connection count, one reusable
#      token (`nvcert load --print-token`): requests/s and generator CPU µs per request;
#   2. wrk on GET /bench/noop of the same server (the provider's verify / trivial endpoint ratio);
#   3. `nvcert load --scenario journey` (authorize → token → verify → share): journeys/s.
# Ratios are taken within a round (the measurements of a ratio are seconds apart) and the median
# round is reported. Every measurement also reports "other": the CPU that processes other than the
# server and the generator used meanwhile, in cores; rounds where it exceeds 0.1 core anywhere are
# left out of the medians when at least one round was undisturbed.
#
# With BASELINE_BIN=/path/to/an/older/nvcert, each round also measures, each back to back with its
# current counterpart: the baseline's `nvcert load --scenario verify` and `--scenario journey`
# against the CURRENT binary's server (same pinning, so only the generator differs), and wrk on
# POST /verify of the baseline binary's own `serve --bench-endpoints` (started once, on PORT+2),
# since the provider changes too. Odd rounds measure the baseline second in each pair, even rounds
# first. The report then gives, per figure, the median over the rounds of current/baseline and
# whether it is within 5% (or better). BASELINE_BIN=target/release/nvcert (the current binary
# against itself) shows how far apart two identical builds measure on this machine.
# Traffic goes to 127.0.0.1 only; every run is bounded by DURATION.
set -euo pipefail
shopt -s inherit_errexit   # a failure inside $(...) fails the run, not just the subshell
BASELINE_BIN=${BASELINE_BIN:-}
if [ -n "$BASELINE_BIN" ]; then   # made absolute before the cd below
  BASELINE_BIN=$(realpath -e -- "$BASELINE_BIN" 2>/dev/null) && [ -x "$BASELINE_BIN" ] ||
    { echo "BASELINE_BIN is not an executable file" >&2; exit 2; }
fi
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
REPEAT=${REPEAT:-3}
PORT=${PORT:-19091}
SERVER_CORE=${SERVER_CORE:-0}
GENERATOR_CORE=${GENERATOR_CORE:-1}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then
  if [ "$(id -u)" = 0 ] && need apt-get; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else
    echo "wrk is missing: apt-get install wrk" >&2; exit 2
  fi
fi
for tool in taskset /usr/bin/time python3; do
  need "$tool" || { echo "$tool is missing" >&2; exit 2; }
done
if [ "$(nproc --all)" -lt 2 ]; then
  echo "needs 2 cores (server on one, generator on the other)" >&2; exit 2
fi

cargo build --release --quiet
NVCERT=$PWD/target/release/nvcert
WORK=$(mktemp -d)
SERVER_PID=         # the server being measured
MAIN_SERVER_PID=    # the server of the verify and noop measurements
BASE_SERVER_PID=    # the baseline binary's server (with BASELINE_BIN)
cleanup() {
  for pid in $SERVER_PID $MAIN_SERVER_PID $BASE_SERVER_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
HZ=$(getconf CLK_TCK)

# A reference profile for a server on port $1, with its key files made absolute.
profile_for() {
  sed -e "s#http://127.0.0.1:9091#http://127.0.0.1:$1#g" \
      -e "s#file:\.\./keys/#file:$PWD/fixtures/keys/#g" \
      fixtures/providers/reference.toml > "$WORK/profile-$1.toml"
  echo "$WORK/profile-$1.toml"
}

# Starts `nvcert serve --bench-endpoints` on port $1 (binary $2, default the current one), pinned
# to the server core; sets SERVER_PID.
start_server() {
  taskset -c "$SERVER_CORE" "${2:-$NVCERT}" serve --addr "127.0.0.1:$1" --bench-endpoints >"$WORK/serve-$1.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$WORK/serve-$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$WORK/serve-$1.log" >&2
  exit 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# "uptime busy_ticks server_ticks": the machine's busy CPU and the server's CPU, in clock ticks.
snapshot() {
  local busy server
  busy=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat)
  server=$(awk '{print $14+$15}' "/proc/$SERVER_PID/stat")
  echo "$(cut -d' ' -f1 /proc/uptime) $busy $server"
}

# CPU (cores) used by other processes between two snapshots, given the generator's CPU seconds.
other_cores() { # BEFORE AFTER GENERATOR_SECONDS
  python3 - "$1" "$2" "$3" "$HZ" <<'PY'
import sys
t0, b0, s0 = map(float, sys.argv[1].split())
t1, b1, s1 = map(float, sys.argv[2].split())
gen, hz = float(sys.argv[3]), float(sys.argv[4])
print(f"{max(0.0, ((b1 - b0) - (s1 - s0)) / hz - gen) / (t1 - t0):.2f}")
PY
}

PORT_MAIN=$PORT
PROFILE=$(profile_for "$PORT_MAIN")
start_server "$PORT_MAIN"
MAIN_SERVER_PID=$SERVER_PID
VERIFY_URL=http://127.0.0.1:$PORT_MAIN/number-verification/v2/verify
NOOP_URL=http://127.0.0.1:$PORT_MAIN/bench/noop
cat > "$WORK/verify.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"phoneNumber":"+34600000001"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("NVCERT_BENCH_TOKEN")
LUA

# wrk on URL [lua script]: prints "RPS CPU_US_PER_REQUEST NON_2XX OTHER_CORES".
run_wrk() {
  local script=() token before after
  [ $# -ge 2 ] && script=(-s "$2")
  # A fresh token each time (the reference provider's tokens live 300 s).
  token=$("$NVCERT" load --provider "$PROFILE" --print-token)
  before=$(snapshot)
  NVCERT_BENCH_TOKEN=$token /usr/bin/time -f "%U %S" -o "$WORK/time" \
    taskset -c "$GENERATOR_CORE" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "${script[@]}" "$1" >"$WORK/wrk.out"
  after=$(snapshot)
  python3 - "$WORK/wrk.out" "$WORK/time" "$(other_cores "$before" "$after" "$(awk '{print $1+$2}' "$WORK/time")")" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
user, sys_ = map(float, open(sys.argv[2]).read().split()[-2:])
reqs = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
print(f"{rps:.0f} {(user + sys_) * 1e6 / reqs:.2f} {bad.group(1) if bad else 0} {sys.argv[3]}")
PY
}

# nvcert load SCENARIO PROFILE: prints "RPS CPU_US_PER_REQUEST FAILURES OTHER_CORES" for the
# scenario's last transaction (journey: share, so RPS is journeys/s); optional third argument:
# the nvcert binary generating the load (default the current one). The CPU covers the whole
# process (start, token, reports) but is divided by the requests of the measured window only:
# overstated a little, never understated. Users all start at once.
run_nvcert() {
  local before after
  rm -rf "$WORK/reports"
  before=$(snapshot)
  if ! /usr/bin/time -f "%U %S" -o "$WORK/time" \
      taskset -c "$GENERATOR_CORE" "${3:-$NVCERT}" load --provider "$2" --scenario "$1" \
        --users "$CONNECTIONS" --increase-rate 100000 --run-time "${DURATION}s" \
        --report-dir "$WORK/reports" --quiet; then
    echo "${3:-nvcert} load --scenario $1 failed; no figures" >&2
    return 1
  fi
  after=$(snapshot)
  python3 - "$WORK/reports/load-summary.json" "$WORK/time" "$(other_cores "$before" "$after" "$(awk '{print $1+$2}' "$WORK/time")")" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
user, sys_ = map(float, open(sys.argv[2]).read().split()[-2:])
t = s["transactions"]
reqs = sum(x["requests"] for x in t)
fails = sum(x["failures"] for x in t)
print(f"{t[-1]['rps']:.0f} {(user + sys_) * 1e6 / reqs:.2f} {fails} {sys.argv[3]}")
PY
}

# The journey gets a fresh server each time: the reference provider keeps every authorization
# code and client-assertion jti until it expires (60 s), at most 100,000 of each, and thousands of
# journeys a second would fill them across back-to-back runs.
# Called as $(run_journey [GENERATOR_BINARY]): its server (always the current binary's) and trap
# live in that subshell.
run_journey() {
  local port=$((PORT_MAIN + 1))
  start_server "$port"
  trap stop_server EXIT
  run_nvcert journey "$(profile_for "$port")" "${1:-$NVCERT}"
}

if [ -n "$BASELINE_BIN" ]; then
  PORT_BASE=$((PORT_MAIN + 2))
  BASE_PROFILE=$(profile_for "$PORT_BASE")
  start_server "$PORT_BASE" "$BASELINE_BIN"
  BASE_SERVER_PID=$SERVER_PID
  # The measurements watch the main server unless they say otherwise ("other" excludes it).
  SERVER_PID=$MAIN_SERVER_PID
  BASE_VERIFY_URL=http://127.0.0.1:$PORT_BASE/number-verification/v2/verify
fi

# wrk on POST /verify of the baseline binary's server, with a token the baseline binary obtains.
# Called as $(run_wrk_baseline_provider): the overrides live in that subshell.
run_wrk_baseline_provider() {
  SERVER_PID=$BASE_SERVER_PID PROFILE=$BASE_PROFILE NVCERT=$BASELINE_BIN \
    run_wrk "$BASE_VERIFY_URL" "$WORK/verify.lua"
}

# Runs measurement $1 of round $round and appends "ROUND NAME FIGURES" to $WORK/all.
measure() {
  local figures
  case $1 in
    wrk_verify)          figures=$(run_wrk "$VERIFY_URL" "$WORK/verify.lua") ;;
    nvcert_verify)       figures=$(run_nvcert verify "$PROFILE") ;;
    wrk_noop)            figures=$(run_wrk "$NOOP_URL") ;;
    nvcert_journey)      figures=$(run_journey) ;;
    base_wrk_verify)     figures=$(run_wrk_baseline_provider) ;;
    base_nvcert_verify)  figures=$(run_nvcert verify "$PROFILE" "$BASELINE_BIN") ;;
    base_nvcert_journey) figures=$(run_journey "$BASELINE_BIN") ;;
  esac
  echo "$round $1 $figures" >> "$WORK/all"
}

echo "machine: $(nproc --all) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
echo "measuring: ${DURATION}s per run, $CONNECTIONS connections, $REPEAT rounds; server on core $SERVER_CORE, generator on core $GENERATOR_CORE"
[ -z "$BASELINE_BIN" ] ||
  echo "baseline: $BASELINE_BIN (its load generator against the current server; its own server on port $PORT_BASE)"
for round in $(seq "$REPEAT"); do
  if [ -z "$BASELINE_BIN" ]; then
    order="wrk_verify nvcert_verify wrk_noop nvcert_journey"
  elif [ $((round % 2)) = 1 ]; then   # each current/baseline pair adjacent, baseline second
    order="base_wrk_verify wrk_verify nvcert_verify base_nvcert_verify wrk_noop nvcert_journey base_nvcert_journey"
  else                                # and baseline first
    order="base_nvcert_verify nvcert_verify wrk_verify base_wrk_verify wrk_noop base_nvcert_journey nvcert_journey"
  fi
  for name in $order; do
    measure "$name"
  done
done

python3 - "$WORK/all" "$BASELINE_BIN" <<'PY'
import statistics, sys
rounds = {}
for line in open(sys.argv[1]):
    r, name, rps, cpu, bad, other = line.split()
    rounds.setdefault(int(r), {})[name] = (float(rps), float(cpu), int(bad), float(other))
print()
print(f"{'round':<6}{'generator -> endpoint':<38}{'req/s':>9}{'CPU µs/req':>12}{'failed':>8}{'other':>7}")
labels = {"wrk_verify": "wrk -> POST /verify", "nvcert_verify": "nvcert load verify -> POST /verify",
          "wrk_noop": "wrk -> GET /bench/noop", "nvcert_journey": "nvcert load journey (journeys/s)"}
baseline = sys.argv[2]
if baseline:
    labels.update({"base_wrk_verify": "wrk -> baseline serve POST /verify",
                   "base_nvcert_verify": "baseline load verify -> POST /verify",
                   "base_nvcert_journey": "baseline load journey (journeys/s)"})
for r, m in sorted(rounds.items()):
    for name, label in labels.items():
        rps, cpu, bad, other = m[name]
        print(f"{r:<6}{label:<38}{rps:>9.0f}{cpu:>12.2f}{bad:>8}{other:>7.2f}")
# Rounds in which other processes stayed under 0.1 core during every measurement; the medians
# use them when there are any (a busy machine's figures measure the machine, not nvcert).
clean = {r: m for r, m in rounds.items() if all(v[3] <= 0.10 for v in m.values())}
if clean:
    print(f"\n{len(clean)} of {len(rounds)} rounds undisturbed (other <= 0.10 core); figures below from those")
    rounds = clean
else:
    print(f"\nWARNING: every round was disturbed by other work (other > 0.10 core); figures below are skewed")
def ratio(a, b): return [m[a][0] / m[b][0] for m in rounds.values()]
med = statistics.median
gen = ratio("nvcert_verify", "wrk_verify")
prov = ratio("wrk_verify", "wrk_noop")
cpu = [m["nvcert_verify"][1] for m in rounds.values()]
wcpu = [m["wrk_verify"][1] for m in rounds.values()]
jour = [m["nvcert_journey"][0] for m in rounds.values()]
rng = lambda xs, f: f"{f.format(min(xs))}–{f.format(max(xs))}"
def verdict(ok): return "met" if ok else "NOT MET"
print("median of the rounds (range):")
cpur = [m["nvcert_verify"][1] / m["wrk_verify"][1] for m in rounds.values()]
print(f"  nvcert load / wrk requests/s on verify:  {med(gen):.2f} ({rng(gen, '{:.2f}')})  target >= 0.90: {verdict(med(gen) >= 0.90)}")
print(f"  nvcert load / wrk CPU per request:       {med(cpur):.2f} ({rng(cpur, '{:.2f}')})  target <= 1.50: {verdict(med(cpur) <= 1.50)}")
print(f"  nvcert load generator CPU per request:   {med(cpu):.2f} µs ({rng(cpu, '{:.2f}')}; wrk {med(wcpu):.2f})  target <= 18: {verdict(med(cpu) <= 18)}")
print(f"  provider verify / trivial endpoint:      {med(prov):.2f} ({rng(prov, '{:.2f}')})  target >= 0.50: {verdict(med(prov) >= 0.50)}")
print(f"  journeys per second on 2 cores:          {med(jour):.0f} ({rng(jour, '{:.0f}')})  target >= 1000: {verdict(med(jour) >= 1000)}")
# Current against baseline: per round current/baseline (the figures of a pair are measured back to
# back), median over the rounds. "Within 5%": |current/baseline - 1| <= 0.05; beyond that in the
# good direction is "better", in the bad one a regression.
if baseline:
    def per_round(name, i): return [m[name][i] / m["base_" + name][i] for m in rounds.values()]
    def figure(name, i): return [m[name][i] for m in rounds.values()]
    def base_gen(): return [m["base_nvcert_verify"][0] / m["wrk_verify"][0] for m in rounds.values()]
    rows = [  # label, current figures, baseline figures, current/baseline per round, higher is better
        ("nvcert load / wrk requests/s on verify", gen, base_gen(), per_round("nvcert_verify", 0), True, "{:.2f}"),
        ("nvcert load generator CPU per request", cpu, figure("base_nvcert_verify", 1), per_round("nvcert_verify", 1), False, "{:.2f} µs"),
        ("provider verify requests/s (wrk)", figure("wrk_verify", 0), figure("base_wrk_verify", 0), per_round("wrk_verify", 0), True, "{:.0f}"),
        ("journeys per second on 2 cores", jour, figure("base_nvcert_journey", 0), per_round("nvcert_journey", 0), True, "{:.0f}"),
    ]
    print(f"\ncurrent / baseline ({baseline}), median of the rounds (range):")
    regressions = []
    for label, cur, base, q, higher, f in rows:
        mq = med(q)
        change = (mq - 1) if higher else (1 - mq)   # > 0: current is better
        if abs(mq - 1) <= 0.05:
            v = "within 5%"
        elif change > 0:
            v = f"better by {abs(mq - 1) * 100:.1f}%"
        else:
            v = f"REGRESSION, worse by {abs(mq - 1) * 100:.1f}%"
            regressions.append(label)
        print(f"  {label + ':':<41}{mq:.3f} ({rng(q, '{:.3f}')})  current {f.format(med(cur))}, baseline {f.format(med(base))}: {v}")
    print("  (generator CPU per request / wrk's, current over baseline, is the same figure: the pair shares its wrk run;")
    print("   provider verify / trivial endpoint has no baseline figure: the baseline server's /bench/noop is not measured)")
    print(f"  no regression beyond 5%: {verdict(not regressions)}" + (f" ({', '.join(regressions)})" if regressions else ""))
PY
