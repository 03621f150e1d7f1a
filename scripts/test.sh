#!/usr/bin/env bash
# The test command (`npm test`): type-check, then every test file under test/ with node's runner.
# `npm test -- unit` runs only the files that need no Docker engine (*.test.ts that are not
# *.integration.test.ts or *.e2e.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

npx tsc --noEmit -p .

if [ "${1:-all}" = unit ]; then
  mapfile -t files < <(find test -name '*.test.ts' ! -name '*.integration.test.ts' ! -name '*.e2e.test.ts' | sort)
else
  bash scripts/ensure-base-image.sh
  mapfile -t files < <(find test -name '*.test.ts' | sort)
fi
exec node --import tsx --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
