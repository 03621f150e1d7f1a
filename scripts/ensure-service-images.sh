#!/usr/bin/env bash
# Usage: scripts/ensure-service-images.sh
# Builds the tests' PostgreSQL and Redis images, unless they exist and are up to date.
# No registry is reachable from CI, so postgres:16 and redis:7 cannot be pulled: these are
# stand-ins with the official images' interface, built from Debian bookworm's postgresql-15 and
# redis-server 7.0 on the local base (test/support/services/images/). Each image carries a label
# with a hash of its build folder and of the base image's id: an edit or a new base rebuilds it.
# Names: PYDEPLOY_TEST_POSTGRES_IMAGE (pydeploy-test/postgres:15), PYDEPLOY_TEST_REDIS_IMAGE
# (pydeploy-test/redis:7); base: PYDEPLOY_BASE_IMAGE (pydeploy/python-base:bookworm).
set -euo pipefail

if [ $# -ne 0 ]; then
  echo "usage: $0   (image names from PYDEPLOY_TEST_POSTGRES_IMAGE, PYDEPLOY_TEST_REDIS_IMAGE)" >&2
  exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
images="$root/test/support/services/images"
base="${PYDEPLOY_BASE_IMAGE:-pydeploy/python-base:bookworm}"
label=pydeploy.test.source

PYDEPLOY_BASE_IMAGE="$base" bash "$root/scripts/ensure-base-image.sh" >/dev/null
base_id=$(docker image inspect --format '{{.Id}}' "$base")

ensure() { # tag folder
  local tag=$1 dir=$2 source current
  source=$(
    cd "$dir"
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    printf '%s\n' "$base_id"
  )
  source=$(printf '%s' "$source" | sha256sum | cut -c1-16)
  current=$(docker image inspect --format "{{index .Config.Labels \"$label\"}}" "$tag" 2>/dev/null || true)
  if [ "$current" = "$source" ]; then
    echo "service image $tag: present"
    return
  fi
  echo "service image $tag: building from $(basename "$dir")/ on $base (about a minute)"
  local log
  if ! log=$(DOCKER_BUILDKIT=0 docker build --force-rm --label "$label=$source" --build-arg "BASE_IMAGE=$base" -t "$tag" "$dir" 2>&1); then
    printf '%s\n' "$log" >&2
    echo "service image $tag: the build failed" >&2
    exit 1
  fi
  echo "service image $tag: built"
}

ensure "${PYDEPLOY_TEST_POSTGRES_IMAGE:-pydeploy-test/postgres:15}" "$images/postgres"
ensure "${PYDEPLOY_TEST_REDIS_IMAGE:-pydeploy-test/redis:7}" "$images/redis"
