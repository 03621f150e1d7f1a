#!/usr/bin/env bash
# Bundles the stand-in provider plugins (main.ts) once and installs them for a pulumi CLI as
# pulumi-resource-docker 5.2.0, pulumi-resource-command 1.2.1 and pulumi-resource-random 4.21.2
# (the versions of the installed SDKs, which they ask the engine for): small wrappers that exec node
# on the bundle (the engine starts each plugin on every run, so no TypeScript compile at start).
# Usage: install-standin-plugins.sh PULUMI [CACHE_DIR]
#   PULUMI     the pulumi CLI, e.g. ~/.pulumi/versions/3.259.0/bin/pulumi
#   CACHE_DIR  where the bundle and the wrappers go
#              (default: ${XDG_CACHE_HOME:-$HOME/.cache}/pydeploy/standin-plugins)
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 PULUMI [CACHE_DIR]" >&2
  exit 2
fi
pulumi=$1
cache=${2:-${XDG_CACHE_HOME:-$HOME/.cache}/pydeploy/standin-plugins}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
node=$(command -v node) || { echo "$0: node is not on PATH" >&2; exit 1; }

quote() { # a single-quoted sh word
  printf "'%s'" "${1//\'/\'\\\'\'}"
}

mkdir -p "$cache"
bundle=$cache/standin-plugins.js
"$repo/node_modules/.bin/esbuild" "$here/main.ts" --bundle --platform=node --target=node20 --format=cjs \
  --log-level=warning --outfile="$bundle"

for plugin in "docker 5.2.0" "command 1.2.1" "random 4.21.2"; do
  read -r name version <<<"$plugin"
  wrapper=$cache/pulumi-resource-$name
  {
    echo '#!/bin/sh'
    echo "exec $(quote "$node") $(quote "$bundle") $name \"\$@\""
  } >"$wrapper.tmp"
  chmod 755 "$wrapper.tmp"
  mv "$wrapper.tmp" "$wrapper"
  "$pulumi" plugin install resource "$name" "$version" --file "$wrapper" --reinstall
done
