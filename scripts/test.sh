#!/usr/bin/env bash
# Usage: scripts/test.sh [unit|real-engine|all]   (npm test = all, npm run test:unit = unit)
# Type-check, lint (asserts have messages, .sh files pass shellcheck, .py files compile), then run the tests in parts and
# say how long each took:
#   unit         *.test.ts              pure TypeScript in this process, in parallel, 60 s per test
#   mocks        *.mock.test.ts         the Pulumi program and components under Pulumi's mocks
#   scripts      *.script.test.ts       generated scripts and the CLI run by bash, dash, python3, shellcheck
#   integration  *.integration.test.ts  the local Docker engine, one file at a time
#   e2e          *.e2e.test.ts          Docker-in-Docker servers over SSH, one file at a time
#   real-engine  *.realengine.test.ts   the real pulumi CLI (built from Go modules) running index.ts,
#                                       with the stand-in docker, command and random plugins
set -euo pipefail
cd "$(dirname "$0")/.."

part=${1:-all}
case $part in
  unit | real-engine | all) ;;
  *) echo "usage: $0 [unit|real-engine|all]" >&2; exit 2 ;;
esac

timed() { # name command...
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "test part ${name}: $((SECONDS - start)) s"
}

timed typecheck npx tsc --noEmit -p .
lint() {
  npx tsx scripts/lint-asserts.ts test bench
  # Every shell script of the project is shellcheck-clean.
  find components scripts test -name '*.sh' -print0 | xargs -0 shellcheck
  # Every Python program compiles (its bytecode goes to a scratch folder); pyflakes3, where
  # Debian's package is installed, also finds undefined and unused names.
  local pycache status=0
  pycache=$(mktemp -d)
  find components scripts test -name '*.py' -print0 | PYTHONPYCACHEPREFIX=$pycache xargs -0 python3 -m py_compile || status=$?
  rm -rf "$pycache"
  if [ "$status" -ne 0 ]; then return "$status"; fi
  if command -v pyflakes3 >/dev/null; then find components -name '*.py' -print0 | xargs -0 pyflakes3; fi
}
timed lint lint

files() { # suffix-pattern [exclude-pattern...]
  local include=$1
  shift
  local args=(test bench -name "$include")
  for exclude in "$@"; do args+=(! -name "$exclude"); done
  find "${args[@]}" | sort
}

# The real CLI and language host (built once per machine and version), the stand-in plugins.
real_engine() {
  local start=$SECONDS pulumi_cli
  pulumi_cli=$(bash scripts/ensure-pulumi.sh)
  echo "test part pulumi-build: $((SECONDS - start)) s"
  bash test/support/engine/plugin/install-standin-plugins.sh "$pulumi_cli"
  npx pulumi version
  mapfile -t realEngine < <(files '*.realengine.test.ts')
  timed real-engine node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-timeout=2700000 "${realEngine[@]}"
}
if [ "$part" = real-engine ]; then
  bash scripts/ensure-base-image.sh
  real_engine
  exit 0
fi

mapfile -t unit < <(files '*.test.ts' '*.mock.test.ts' '*.script.test.ts' '*.integration.test.ts' '*.e2e.test.ts' '*.realengine.test.ts')
timed unit node --import tsx --test --test-reporter=spec --test-concurrency=2 --test-timeout=60000 "${unit[@]}"
[ "$part" = unit ] && exit 0

mapfile -t mocks < <(files '*.mock.test.ts')
timed mocks node --import tsx --test --test-reporter=spec --test-concurrency=2 --test-timeout=120000 "${mocks[@]}"
mapfile -t scripts < <(files '*.script.test.ts')
timed scripts node --import tsx --test --test-reporter=spec --test-concurrency=2 --test-timeout=120000 "${scripts[@]}"

bash scripts/ensure-base-image.sh
mapfile -t integration < <(files '*.integration.test.ts')
timed integration node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-timeout=900000 "${integration[@]}"
mapfile -t e2e < <(files '*.e2e.test.ts')
timed e2e node --import tsx --test --test-reporter=spec --test-concurrency=1 --test-timeout=900000 "${e2e[@]}"

real_engine
