#!/usr/bin/env bash
# Builds the local Python base image the tests and benchmarks use, unless it exists.
# No container registry is reachable from CI, so python:*-slim cannot be pulled: this is
# a Debian bookworm minbase with python3 (the same Debian release python:3.11-slim uses),
# made with debootstrap and imported into the local Docker engine.
set -euo pipefail

tag="${PYDEPLOY_BASE_IMAGE:-pydeploy/python-base:bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag: present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "base image $tag is missing and debootstrap needs root: run 'sudo $0' once" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }

rootfs=$(mktemp -d /var/tmp/pydeploy-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "base image $tag: building with debootstrap (about 2 minutes)"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" "$mirror" >/dev/null
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
tar -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' - "$tag" >/dev/null
echo "base image $tag: built"
