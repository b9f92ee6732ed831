#!/usr/bin/env bash
# Fixed-count A/B of CPU per request: several Outrigger builds started side by
# side (each alone on CPU 1), three h2c NGINX backends (one worker, CPU 0), and
# rounds whose order rotates; each round sends N requests to each build with
# h2load (-c10 -m10, on CPU 0) and reads the build's utime + stime from
# /proc/PID/stat before and after. A label containing "h1" gets an HTTP/1.1
# NGINX backend and `h2load --h1 -c64` instead (Outrigger's HTTP/1.1 figure).
# NODE=/path/to/node picks the runtime. RPS=R holds every target to about R
# requests per second in the measured batches (h2load --rps, spread over its
# connections) instead of saturating it: CPU per request at one rate for all.
# BODY=file makes every request a POST of that file (h2load -d; the warm-up too).
# Needs nginx, h2load, curl, taskset.
#
#   bench/fixed-count-ab.sh ROUNDS N label=path/to/dist/main.js ...
#   bench/fixed-count-ab.sh 7 20000 before=/tmp/before/dist/main.js after=dist/main.js h1=dist/main.js
set -euo pipefail
ROUNDS=$1; N=$2; shift 2
W=$(mktemp -d)
HZ=$(getconf CLK_TCK)
# NGINX ports below the ephemeral range, so that no client connection holds them
BASEPORT=$((21000 + RANDOM % 8000))
P1=$BASEPORT; P2=$((BASEPORT+1)); P3=$((BASEPORT+2)); P4=$((BASEPORT+3))
cat > "$W/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $W/nginx.pid;
error_log $W/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $W/cb; proxy_temp_path $W/pt; fastcgi_temp_path $W/ft; uwsgi_temp_path $W/ut; scgi_temp_path $W/st;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$P1 http2; location / { default_type text/plain; return 200 "hello world\n"; } }
  server { listen 127.0.0.1:$P2 http2; location / { default_type text/plain; return 200 "hello world\n"; } }
  server { listen 127.0.0.1:$P3 http2; location / { default_type text/plain; return 200 "hello world\n"; } }
  server { listen 127.0.0.1:$P4; location / { default_type text/plain; return 200 "hello world\n"; } }
}
EOF
taskset -c 0 nginx -c "$W/nginx.conf" -p "$W" >/dev/null 2>&1 &
NGINX=$!
PIDS=(); LABELS=(); PORTS=(); ADMINS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; kill "$NGINX" 2>/dev/null || true; echo "logs and results: $W"; }
trap cleanup EXIT
i=0
for spec in "$@"; do
  label=${spec%%=*}; main=${spec#*=}
  backends="h2c://127.0.0.1:$P1,h2c://127.0.0.1:$P2,h2c://127.0.0.1:$P3"; case $label in *h1*) backends="http://127.0.0.1:$P4";; esac
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  admin=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"); ADMINS+=($admin)
  env -i PATH="$PATH" BACKENDS="$backends" LB_ALGORITHM=round-robin \
    PROXY_HOST=127.0.0.1 PROXY_PORT=$port ADMIN_HOST=127.0.0.1 ADMIN_PORT=$admin HEALTH_CHECK_TYPE=tcp ACCESS_LOG=true LOG_LEVEL=info \
    taskset -c 1 ${NODE:-node} "$main" >"$W/$label.log" 2>&1 &
  PIDS+=($!); LABELS+=("$label"); PORTS+=($port)
  i=$((i+1))
done
for k in "${!PIDS[@]}"; do
  for t in $(seq 1 100); do curl -sf "http://127.0.0.1:${ADMINS[k]}/readyz" >/dev/null && break; sleep 0.1; done
done
sleep 1; curl -sf --http2-prior-knowledge "http://127.0.0.1:$P1/" >/dev/null || { echo "nginx not answering"; cat $W/nginx-error.log; exit 1; }
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
RATED=0
# --rps is per client connection: 64 of them for HTTP/1.1, 10 for HTTP/2. The warm-up is never held.
rate() { [ "$RATED" = 1 ] && [ -n "${RPS:-}" ] && echo "--rps $(awk -v r="$RPS" -v c="$1" 'BEGIN{printf "%.2f", r/c}')"; return 0; }
data() { [ -n "${BODY:-}" ] && echo "-d $BODY"; return 0; }
load() { case ${LABELS[$1]} in *h1*) taskset -c 0 h2load --h1 -n "$2" -c 64 $(rate 64) $(data) "http://127.0.0.1:${PORTS[$1]}/ping" 2>&1;; *) taskset -c 0 h2load -n "$2" -c 10 -m 10 $(rate 10) $(data) "http://127.0.0.1:${PORTS[$1]}/ping" 2>&1;; esac; }
for k in "${!PIDS[@]}"; do load $k 20000 >/dev/null; done
RATED=1
n=${#PIDS[@]}
for r in $(seq 1 "$ROUNDS"); do
  line="round $r (load $(cut -d' ' -f1 /proc/loadavg)):"
  for j in $(seq 0 $((n-1))); do
    k=$(( (j + r) % n ))
    a=$(ticks "${PIDS[k]}")
    out=$(load $k "$N")
    b=$(ticks "${PIDS[k]}")
    ok=$(echo "$out" | grep -o '[0-9]* succeeded' | cut -d' ' -f1)
    us=$(awk -v d=$((b-a)) -v n="$N" -v hz="$HZ" 'BEGIN{printf "%.1f", d*1000000/hz/n}')
    line="$line ${LABELS[k]}=$us"
    [ "$ok" = "$N" ] || line="$line(!$ok ok)"
    echo "${LABELS[k]} $us" >> "$W/results"
  done
  echo "$line"
done
echo "medians:"
for l in "${LABELS[@]}"; do
  grep "^$l " "$W/results" | awk '{print $2}' | sort -n | awk -v l="$l" '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%s median %.1f range %s-%s (n=%d)\n", l, m, a[1], a[NR], NR}'
done
