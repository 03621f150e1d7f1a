#!/bin/sh
# dockerd in the background (there is no systemd); the container's init reaps it.
set -eu
nohup dockerd --host=unix:///var/run/docker.sock >>/var/log/dockerd.log 2>&1 &
