#!/bin/bash
# The test pebble container's command: waits until the test wrote pebble's listener certificate
# (made for this container's address, known only once it runs) and the ready file, then serves
# the given names on 127.0.0.1:5353 with dnsmasq, when any, and runs pebble resolving through it.
# Usage: pebble-entrypoint.sh CONFIG_DIR [NAME=ADDRESS ...]
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 CONFIG_DIR [NAME=ADDRESS ...]" >&2
  exit 2
fi
config_dir=$1
shift

for _ in $(seq 600); do
  [ -e "$config_dir/ready" ] && break
  sleep 0.1
done
if [ ! -e "$config_dir/ready" ]; then
  echo "pebble-entrypoint: no $config_dir/ready after 60 s" >&2
  exit 1
fi

resolver=()
if [ $# -gt 0 ]; then
  addresses=()
  for pair in "$@"; do
    addresses+=("--address=/${pair%%=*}/${pair#*=}")
  done
  # Only these names resolve; anything else is NXDOMAIN (no upstream, no /etc/hosts).
  dnsmasq --no-resolv --no-hosts --user=root --listen-address=127.0.0.1 --bind-interfaces --port=5353 "${addresses[@]}"
  resolver=(-dnsserver 127.0.0.1:5353)
fi
exec pebble -config "$config_dir/pebble-config.json" "${resolver[@]}"
