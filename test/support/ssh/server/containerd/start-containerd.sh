#!/bin/sh
# containerd in the background (there is no systemd), before dockerd, which then uses it
# (/etc/docker/daemon.json names its socket) instead of starting a managed one; restarting
# dockerd therefore keeps containerd and its image store running.
set -eu
socket=/run/containerd/containerd.sock
nohup containerd >>/var/log/containerd.log 2>&1 &
i=0
until [ -S "$socket" ]; do
  i=$((i + 1))
  [ "$i" -le 300 ] || { echo "containerd did not create $socket within 30s" >&2; exit 1; }
  sleep 0.1
done
