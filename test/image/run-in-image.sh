#!/usr/bin/env bash
# Runs a command inside a mounted container root filesystem roughly as a container runtime would:
# new mount and PID namespaces (the command is PID 1), the root file system read-only (as with
# readOnlyRootFilesystem: true), a fresh /proc, the host's /dev, chroot into ROOT, cd WORKDIR, and
# drop to UID:GID with no supplementary groups (chroot(2) + setgid/setuid via unshare --root/--setuid,
# the --userspec step of chroot(8), which needs no binary from the image).
# The network namespace is the host's, so the command's listeners are reachable on 127.0.0.1.
# The caller passes the environment (env -i ... run-in-image.sh ...).
# Usage: run-in-image.sh ROOT WORKDIR UID GID COMMAND [ARG...]
set -euo pipefail
[ "$#" -ge 5 ] || { echo "usage: $0 ROOT WORKDIR UID GID COMMAND [ARG...]" >&2; exit 2; }
exec /usr/bin/unshare --mount --propagation private --pid --fork --kill-child=SIGKILL /bin/sh -ec '
  root=$1 wd=$2 uid=$3 gid=$4; shift 4
  mount --bind "$root" "$root"
  mount -o remount,bind,ro "$root"
  mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
  mount --rbind /dev "$root/dev"
  exec /usr/bin/unshare --root="$root" --wd="$wd" --setgid="$gid" --setuid="$uid" -- "$@"
' run-in-image "$@"
