#!/usr/bin/env bash
# Load-generator and provider benchmark, all figures from one run on this machine.
#
#   scripts/bench-load.sh                # 10 s per measurement, 16 connections, best of 3
#   DURATION=5 CONNECTIONS=64 REPEAT=1 scripts/bench-load.sh
#
# The reference provider (`nvcert serve --bench-endpoints`) is pinned to core 0 and every
# generator (wrk, nvcert load) to core 1 with taskset; /usr/bin/time measures the generator's CPU.
# It prints, with the ratios the README's "Performance" section quotes:
#   1. wrk vs `nvcert load --scenario verify` on POST /verify, same connection count, one reusable
#      token (from `nvcert load --print-token`): requests/s and generator CPU µs per request;
#   2. the provider's POST /verify vs GET /bench/noop of the same server (both driven by wrk);
#   3. `nvcert load --scenario journey` (authorize → token → verify → share) journeys/s.
# Traffic goes to 127.0.0.1 only; every run is bounded by DURATION.
set -euo pipefail
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
SERVER_PID=
MAIN_SERVER_PID=
cleanup() {
  for pid in $SERVER_PID $MAIN_SERVER_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

load_avg=$(cut -d' ' -f1 /proc/loadavg)
echo "machine: $(nproc --all) cores, load average $load_avg before the run (other work skews every figure)"

# A reference profile for a server on port $1, with its key files made absolute.
profile_for() {
  sed -e "s#http://127.0.0.1:9091#http://127.0.0.1:$1#g" \
      -e "s#file:\.\./keys/#file:$PWD/fixtures/keys/#g" \
      fixtures/providers/reference.toml > "$WORK/profile-$1.toml"
  echo "$WORK/profile-$1.toml"
}

# Starts `nvcert serve --bench-endpoints` on port $1, pinned to the server core; sets SERVER_PID.
start_server() {
  taskset -c "$SERVER_CORE" "$NVCERT" serve --addr "127.0.0.1:$1" --bench-endpoints >"$WORK/serve-$1.log" 2>&1 &
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

BASE=http://127.0.0.1:$PORT
PROFILE=$(profile_for "$PORT")
start_server "$PORT"
MAIN_SERVER_PID=$SERVER_PID

VERIFY_URL=$BASE/number-verification/v2/verify
NOOP_URL=$BASE/bench/noop
cat > "$WORK/verify.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"phoneNumber":"+34600000001"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("NVCERT_BENCH_TOKEN")
LUA

# A fresh token for each measurement (the reference provider's tokens live 300 s).
token() { "$NVCERT" load --provider "$PROFILE" --print-token; }

# wrk: prints "RPS CPU_US_PER_REQUEST NON_2XX".
run_wrk() { # URL [lua script]
  local script=()
  [ $# -ge 2 ] && script=(-s "$2")
  NVCERT_BENCH_TOKEN=$(token) /usr/bin/time -f "%U %S" -o "$WORK/time" \
    taskset -c "$GENERATOR_CORE" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "${script[@]}" "$1" >"$WORK/wrk.out"
  python3 - "$WORK/wrk.out" "$WORK/time" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
user, sys_ = map(float, open(sys.argv[2]).read().split()[-2:])
reqs = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
print(f"{rps:.0f} {(user + sys_) * 1e6 / reqs:.2f} {bad.group(1) if bad else 0}")
PY
}

# nvcert load: prints "RPS CPU_US_PER_REQUEST FAILURES" for the scenario's last transaction
# (journey: share, so RPS is journeys/s). CPU covers the whole process: start, ramp-up, token,
# reports; the users all start at once so the ramp-up is negligible.
run_nvcert() { # SCENARIO PROFILE
  rm -rf "$WORK/reports"
  if ! /usr/bin/time -f "%U %S" -o "$WORK/time" \
      taskset -c "$GENERATOR_CORE" "$NVCERT" load --provider "$2" --scenario "$1" \
        --users "$CONNECTIONS" --increase-rate 100000 --run-time "${DURATION}s" \
        --report-dir "$WORK/reports" --quiet; then
    echo "nvcert load --scenario $1 failed; no figures" >&2
    exit 1
  fi
  python3 - "$WORK/reports/load-summary.json" "$WORK/time" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
user, sys_ = map(float, open(sys.argv[2]).read().split()[-2:])
t = s["transactions"]
reqs = sum(x["requests"] for x in t)
fails = sum(x["failures"] for x in t)
# Requests made while users started or stopped are not in the summary: the CPU per request is
# slightly overstated, never understated.
print(f"{t[-1]['rps']:.0f} {(user + sys_) * 1e6 / reqs:.2f} {fails}")
PY
}

# The journey gets a fresh server each time: the reference provider keeps every authorization
# code and client-assertion jti until it expires (60 s), at most 100,000 of each, and thousands of
# journeys a second would fill them across back-to-back runs.
run_journey() {
  local port=$((PORT + 1))
  start_server "$port"
  run_nvcert journey "$(profile_for "$port")"
  stop_server
}

best() { # "RPS CPU FAIL" lines on stdin -> the line with the highest RPS
  sort -k1,1nr | head -1
}


echo "measuring: ${DURATION}s per run, $CONNECTIONS connections, best of $REPEAT; server on core $SERVER_CORE, generator on core $GENERATOR_CORE"
# Interleaved so that drift in machine load hits every figure alike.
for _ in $(seq "$REPEAT"); do
  run_wrk "$VERIFY_URL" "$WORK/verify.lua" >> "$WORK/wrk_verify.all"
  run_nvcert verify "$PROFILE" >> "$WORK/nvcert_verify.all"
  run_wrk "$NOOP_URL" >> "$WORK/wrk_noop.all"
  run_journey >> "$WORK/nvcert_journey.all"
done
for f in wrk_verify nvcert_verify wrk_noop nvcert_journey; do best < "$WORK/$f.all" > "$WORK/$f"; done

python3 - "$WORK" <<'PY'
import sys
d = sys.argv[1]
def read(name):
    rps, cpu, bad = open(f"{d}/{name}").read().split()
    return float(rps), float(cpu), int(bad)
wv, nv, wn, nj = (read(n) for n in ("wrk_verify", "nvcert_verify", "wrk_noop", "nvcert_journey"))
print()
print(f"{'generator / endpoint':<40} {'req/s':>10} {'CPU µs/req':>11} {'failures':>9}")
print(f"{'wrk -> POST /verify':<40} {wv[0]:>10.0f} {wv[1]:>11.2f} {wv[2]:>9}")
print(f"{'nvcert load verify -> POST /verify':<40} {nv[0]:>10.0f} {nv[1]:>11.2f} {nv[2]:>9}")
print(f"{'wrk -> GET /bench/noop':<40} {wn[0]:>10.0f} {wn[1]:>11.2f} {wn[2]:>9}")
print(f"{'nvcert load journey (journeys/s)':<40} {nj[0]:>10.0f} {nj[1]:>11.2f} {nj[2]:>9}")
print()
def verdict(ok): return "met" if ok else "NOT MET"
r1 = nv[0] / wv[0]
r2 = wv[0] / wn[0]
print(f"nvcert load / wrk requests/s on verify:      {r1:.2f}  (target >= 0.70: {verdict(r1 >= 0.70)})")
print(f"nvcert load generator CPU per request:       {nv[1]:.2f} µs (wrk {wv[1]:.2f} µs; target <= 18: {verdict(nv[1] <= 18)})")
print(f"provider verify / trivial endpoint:          {r2:.2f}  (target >= 0.50: {verdict(r2 >= 0.50)})")
print(f"journeys per second on 2 cores:              {nj[0]:.0f}  (target >= 1000: {verdict(nj[0] >= 1000)})")
PY
