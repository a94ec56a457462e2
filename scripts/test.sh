#!/usr/bin/env bash
# The test command (`npm test`): type-check, lint, check for import cycles, then every test file
# with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit -p .
npx tsc --noEmit -p web
npx eslint .
node scripts/check-cycles.mjs
# Build the web UI now (when web/ changed), rather than in the middle of a test that starts a manager.
node --import tsx scripts/build-web.ts
# Let the shell expand the list: node 20's --test does not expand a quoted glob for .ts files.
mapfile -t files < <(find src test -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
