#!/usr/bin/env bash
# CPU per request of the proxy, per thread (main thread and V8's worker
# threads), at a fixed count: Outrigger (or MAIN=path/to/a/proxy.js) alone on
# CPU 1, NGINX (three h2c servers and one HTTP/1.1 one, `return 200`) and
# h2load on CPU 0, loopback only. utime + stime of every thread from
# /proc/PID/task/*/stat before and after N requests (a warm-up of 20000 first).
# OLOG=file keeps the proxy's output (e.g. with --trace-gc); OUTRIGGER_ENV="A=1 B=2" adds
# environment (it overrides the defaults below).
#
#   bench/thread-cpu.sh NODE h1|h2 N [node flags…]
#   bench/thread-cpu.sh "$(command -v node)" h2 40000 --trace-gc
set -euo pipefail
NODEBIN=$1; MODE=$2; N=$3; shift 3
W=$(mktemp -d)
B=$((21000 + RANDOM % 8000)); P1=$B; P2=$((B+1)); P3=$((B+2)); P4=$((B+3))
cat > $W/nginx.conf <<EOC
worker_processes 1; daemon off; pid $W/nginx.pid; error_log $W/e.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $W/cb; proxy_temp_path $W/pt; fastcgi_temp_path $W/ft; uwsgi_temp_path $W/ut; scgi_temp_path $W/st; keepalive_requests 1000000;
  server { listen 127.0.0.1:$P1 http2; location / { return 200 "hello world\n"; } }
  server { listen 127.0.0.1:$P2 http2; location / { return 200 "hello world\n"; } }
  server { listen 127.0.0.1:$P3 http2; location / { return 200 "hello world\n"; } }
  server { listen 127.0.0.1:$P4; location / { return 200 "hello world\n"; } } }
EOC
taskset -c 0 nginx -c $W/nginx.conf -p $W >/dev/null 2>&1 & NG=$!
backends="h2c://127.0.0.1:$P1,h2c://127.0.0.1:$P2,h2c://127.0.0.1:$P3"; [ $MODE = h1 ] && backends="http://127.0.0.1:$P4"
PORT=$((B+10)); ADMIN=$((B+11))
env -i PATH="$PATH" BACKENDS="$backends" LB_ALGORITHM=round-robin PROXY_HOST=127.0.0.1 PROXY_PORT=$PORT ADMIN_HOST=127.0.0.1 ADMIN_PORT=$ADMIN HEALTH_CHECK_TYPE=tcp ACCESS_LOG=true LOG_LEVEL=info ${OUTRIGGER_ENV:-} \
  taskset -c 1 $NODEBIN "$@" ${MAIN:-$(dirname "$0")/../dist/main.js} > ${OLOG:-$W/o.log} 2>&1 & PID=$!
trap 'kill $PID $NG 2>/dev/null; wait $PID $NG 2>/dev/null; rm -rf "$W"' EXIT
for t in $(seq 1 100); do curl -sf http://127.0.0.1:$ADMIN/readyz >/dev/null && break; sleep 0.1; done
load() { if [ $MODE = h1 ]; then taskset -c 0 h2load --h1 -n $1 -c 64 http://127.0.0.1:$PORT/ping; else taskset -c 0 h2load -n $1 -c 10 -m 10 http://127.0.0.1:$PORT/ping; fi; }
load 20000 >/dev/null
snap() { for f in /proc/$PID/task/*/stat; do awk '{gsub(/[()]/,"",$2); print $2, $14+$15}' $f; done | awk '{a[$1]+=$2} END{for(k in a) print k, a[k]}' | sort; }
snap > $W/a
load $N | grep -E "succeeded|requests:" | head -2 >&2
snap > $W/b
HZ=$(getconf CLK_TCK)
join $W/a $W/b | awk -v n=$N -v hz=$HZ '{d=$3-$2; t+=d; if(d>0) printf "%-20s %7.1f us/req\n", $1, d*1e6/hz/n} END{printf "%-20s %7.1f us/req\n", "TOTAL", t*1e6/hz/n}'
