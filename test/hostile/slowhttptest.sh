#!/usr/bin/env bash
# Slow-client attacks against a built Outrigger (run `npm run build` first):
# slowhttptest in slow headers (-H, slowloris), slow body (-B) and slow read
# (-X) modes on 127.0.0.1, while a bounded loop of normal curl requests checks
# that ordinary clients are still served: every curl must get 200 within
# CURL_MAX_S seconds. Prints a summary; exits non-zero on any failure.
#
#   bash test/hostile/slowhttptest.sh
#   CONNECTIONS=500 LENGTH_S=15 bash test/hostile/slowhttptest.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

CONNECTIONS="${CONNECTIONS:-500}"   # slowhttptest -c
LENGTH_S="${LENGTH_S:-15}"          # slowhttptest -l
CURL_MAX_S="${CURL_MAX_S:-2}"       # every normal request must finish within this
CURL_GAP_S="${CURL_GAP_S:-0.5}"     # pause between normal requests
MODES="${MODES:-slow-headers slow-body slow-read}"
WORK="$(mktemp -d)"

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "slowhttptest.sh: $*" >&2; exit 1; }

[ -f dist/main.js ] && [ -f dist/demo/backend.js ] || fail "dist/ is missing: run npm run build first"
command -v curl >/dev/null || fail "curl is required"
if ! command -v slowhttptest >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing slowhttptest"
    apt-get install -y -qq slowhttptest >/dev/null || { apt-get update -qq && apt-get install -y -qq slowhttptest >/dev/null; }
  fi
  command -v slowhttptest >/dev/null || fail "slowhttptest is not installed (apt-get install slowhttptest)"
fi
# Each slowhttptest connection is one file descriptor here and two in Outrigger.
ulimit -n 4096 2>/dev/null || true

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() { # url, seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

BACKEND_PORT="$(free_port)"
PROXY_PORT="$(free_port)"
ADMIN_PORT="$(free_port)"
node dist/demo/backend.js "$BACKEND_PORT" 127.0.0.1 >"$WORK/backend.log" 2>&1 &
pids+=($!)
BACKENDS="127.0.0.1:$BACKEND_PORT" PROXY_HOST=127.0.0.1 PROXY_PORT="$PROXY_PORT" ADMIN_HOST=127.0.0.1 ADMIN_PORT="$ADMIN_PORT" \
  CLIENT_HEADERS_TIMEOUT_MS=2000 IDLE_TIMEOUT_MS=3000 HEALTH_CHECK_INTERVAL_MS=1000 ACCESS_LOG=false LOG_LEVEL=warn \
  SHUTDOWN_DELAY_MS=0 DRAIN_TIMEOUT_MS=1000 node dist/main.js >"$WORK/outrigger.log" 2>&1 &
OUTRIGGER_PID=$!
pids+=("$OUTRIGGER_PID")
wait_http "http://127.0.0.1:$ADMIN_PORT/readyz" 15 || { cat "$WORK/outrigger.log" >&2; fail "Outrigger did not become ready"; }
wait_http "http://127.0.0.1:$PROXY_PORT/ping" 5 || fail "Outrigger does not serve /ping"
echo "== backend :$BACKEND_PORT, Outrigger :$PROXY_PORT (admin :$ADMIN_PORT); $CONNECTIONS connections for ${LENGTH_S}s per mode"

# Normal requests for `seconds`, one every CURL_GAP_S; writes "ok bad slowest_ms direct_slowest_ms" to $2.
normal_clients() { # seconds, result file
  local until=$((SECONDS + $1)) ok=0 bad=0 slowest=0 direct=0 code ms
  local max=$(( $1 * 4 + 8 )) n=0
  while ((SECONDS < until && n < max)); do
    n=$((n + 1))
    read -r code ms < <(curl -s -o /dev/null --max-time "$CURL_MAX_S" -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$PROXY_PORT/ping" 2>/dev/null || echo "000 $CURL_MAX_S")
    ms=$(awk -v t="$ms" 'BEGIN { printf "%d", t * 1000 }')
    ((ms > slowest)) && slowest=$ms
    if [ "$code" = 200 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "  normal request got $code after ${ms} ms" >&2; fi
    # The same request straight to the backend, for the record: is a slow answer Outrigger's doing?
    ms=$(curl -s -o /dev/null --max-time "$CURL_MAX_S" -w '%{time_total}' "http://127.0.0.1:$BACKEND_PORT/ping" 2>/dev/null || echo "$CURL_MAX_S")
    ms=$(awk -v t="$ms" 'BEGIN { printf "%d", t * 1000 }')
    ((ms > direct)) && direct=$ms
    sleep "$CURL_GAP_S"
  done
  echo "$ok $bad $slowest $direct" >"$2"
}

declare -A MODE_FLAGS=(
  [slow-headers]="-H -i 1 -r 200 -x 24"
  [slow-body]="-B -i 1 -r 200 -s 8192 -x 10"
  [slow-read]="-X -r 200 -w 1 -y 32 -n 2 -z 32 -k 3"
)
declare -A MODE_PATH=([slow-headers]=/ping [slow-body]=/echo [slow-read]="${SLOW_READ_PATH:-/bytes?n=65536}")
summary=()
failed=0
for mode in $MODES; do
  [ -n "${MODE_FLAGS[$mode]:-}" ] || fail "unknown mode $mode"
  echo "== $mode: slowhttptest ${MODE_FLAGS[$mode]}"
  normal_clients $((LENGTH_S + 3)) "$WORK/$mode.normal" &
  normal_pid=$!
  pids+=("$normal_pid")
  # shellcheck disable=SC2086 # the flags are meant to split
  timeout $((LENGTH_S + 30)) slowhttptest ${MODE_FLAGS[$mode]} -c "$CONNECTIONS" -l "$LENGTH_S" -p 3 \
    -u "http://127.0.0.1:$PROXY_PORT${MODE_PATH[$mode]}" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >"$WORK/$mode.out" || true
  wait "$normal_pid" || true
  read -r ok bad slowest direct <"$WORK/$mode.normal" || { ok=0; bad=1; slowest=-1; direct=-1; }
  # slowhttptest's own verdict: its probe connection found the service available or not.
  verdict="$(grep -a -o 'Exit status: .*' "$WORK/$mode.out" | tail -1 || true)"
  unavailable="$(grep -a -c 'service available: *NO' "$WORK/$mode.out" || true)"
  line="$mode: normal requests $ok ok, $bad failed, slowest ${slowest} ms (straight to the backend: ${direct} ms); slowhttptest reported the service unavailable $unavailable times; ${verdict:-no exit status}"
  if ((bad > 0 || ok == 0)) || ! kill -0 "$OUTRIGGER_PID" 2>/dev/null; then
    line="FAIL $line"
    failed=1
    tail -20 "$WORK/$mode.out" >&2
  else
    line="ok   $line"
  fi
  summary+=("$line")
  echo "   $line"
  sleep 4 # let the attack's connections be cut before the next mode
done

kill -0 "$OUTRIGGER_PID" 2>/dev/null || { failed=1; summary+=("FAIL Outrigger exited: $(tail -5 "$WORK/outrigger.log")"); }
echo "== slowhttptest summary"
printf '   %s\n' "${summary[@]}"
if ((failed)); then
  echo "== FAILED: normal clients were not served throughout" >&2
  exit 1
fi
echo "== passed: normal clients were served throughout every attack"
