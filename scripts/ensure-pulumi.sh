#!/usr/bin/env bash
# Usage: scripts/ensure-pulumi.sh [PULUMI_HOME]
# Builds the real pulumi CLI and Node.js language host from their Go modules (tools/pulumi/*),
# unless this machine already has them for this version, and puts them where `npx pulumi`
# looks first: PULUMI_HOME/versions/<version>/bin (PULUMI_HOME defaults to ~/.pulumi).
# The cache is keyed by the version and by the go.mod/go.sum of each tool, so a later run
# reuses the binaries and a changed pin rebuilds them. Prints the CLI's path.
set -euo pipefail
cd "$(dirname "$0")/.."

pulumi_home=${1:-${PULUMI_HOME:-$HOME/.pulumi}}
version=$(node -p 'require("pulumi/package.json").version')
cli_pin=$(awk '$1 == "require" && $2 == "github.com/pulumi/pulumi/pkg/v3" { print $3 }' tools/pulumi/cli/go.mod)
if [ "$cli_pin" != "v$version" ]; then
  echo "ensure-pulumi: the pulumi devDependency is $version but tools/pulumi/cli/go.mod pins pkg/v3 $cli_pin; make them equal" >&2
  exit 1
fi

bin="$pulumi_home/versions/$version/bin"
mkdir -p "$bin"

# build NAME TOOL_DIR PACKAGE MODULE: go build PACKAGE in TOOL_DIR's module into $bin/NAME, stamped
# with MODULE's pinned version, unless the binary's stamp matches.
build() {
  local name=$1 dir=$2 package=$3 module=$4 stamp key tool_version start=$SECONDS
  stamp="$bin/.$name.stamp"
  key=$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-16)
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
    echo "ensure-pulumi: $name $version: cached in $bin" >&2
    return
  fi
  tool_version=$(awk -v m="$module" '$1 == "require" && $2 == m { print $3 }' "$dir/go.mod")
  echo "ensure-pulumi: building $name $tool_version from $package (first run on a machine: a few minutes)" >&2
  (cd "$dir" && go build -trimpath -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$tool_version" -o "$bin/$name.tmp" "$package")
  mv "$bin/$name.tmp" "$bin/$name"
  echo "$key" >"$stamp"
  echo "ensure-pulumi: built $name in $((SECONDS - start)) s" >&2
}

build pulumi tools/pulumi/cli github.com/pulumi/pulumi/pkg/v3/cmd/pulumi github.com/pulumi/pulumi/pkg/v3
build pulumi-language-nodejs tools/pulumi/language-nodejs github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs github.com/pulumi/pulumi/sdk/v3
echo "$bin/pulumi"
