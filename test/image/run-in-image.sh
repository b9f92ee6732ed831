#!/usr/bin/env bash
# Runs a command inside a mounted container root filesystem roughly as a container runtime would:
# new mount and PID namespaces (the command is PID 1), the root file system read-only (as with
# readOnlyRootFilesystem: true), a fresh /proc, the host's /dev, chroot into ROOT, cd WORKDIR, and
# drop to UID:GID with no supplementary groups (chroot(2) + setgid/setuid via unshare --root/--setuid,
# the --userspec step of chroot(8), which needs no binary from the image).
# The network namespace is the host's, so the command's listeners are reachable on 127.0.0.1.
# --volume HOST_DIR:DIR mounts a host directory read-only over an existing DIR of the image, as a
# ConfigMap volume would be. The caller passes the environment (env -i ... run-in-image.sh ...).
# Usage: run-in-image.sh [--volume HOST_DIR:DIR] ROOT WORKDIR UID GID COMMAND [ARG...]
set -euo pipefail
volume=:
if [ "${1:-}" = --volume ]; then volume=$2; shift 2; fi
[ "$#" -ge 5 ] || { echo "usage: $0 [--volume HOST_DIR:DIR] ROOT WORKDIR UID GID COMMAND [ARG...]" >&2; exit 2; }
exec /usr/bin/unshare --mount --propagation private --pid --fork --kill-child=SIGKILL /bin/sh -ec '
  volume=$1 root=$2 wd=$3 uid=$4 gid=$5; shift 5
  mount --bind "$root" "$root"
  mount -o remount,bind,ro "$root"
  mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
  mount --rbind /dev "$root/dev"
  if [ "$volume" != : ]; then
    mount --bind "${volume%%:*}" "$root${volume#*:}"
    mount -o remount,bind,ro "$root${volume#*:}"
  fi
  exec /usr/bin/unshare --root="$root" --wd="$wd" --setgid="$gid" --setuid="$uid" -- "$@"
' run-in-image "$volume" "$@"
