#!/bin/sh
# What `systemctl restart docker` does: stop dockerd (it stops the containers), start it again.
set -eu
pid=$(cat /var/run/docker.pid)
kill -TERM "$pid"
i=0
while [ -e "/proc/$pid" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
  i=$((i + 1))
  [ "$i" -le 600 ] || { echo "dockerd $pid did not stop within 60s" >&2; exit 1; }
  sleep 0.1
done
/usr/local/bin/start-dockerd.sh
i=0
until docker version >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -le 600 ] || { echo "dockerd did not come back within 60s" >&2; exit 1; }
  sleep 0.1
done
