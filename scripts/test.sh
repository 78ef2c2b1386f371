#!/usr/bin/env bash
# npm test — installs what is missing, brings the local stack up, then build, type check, lint and every jest
# test, stopping at the first failure. Extra arguments go to jest (npm test -- -t approve).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

step() { printf '\n[test] ==> %s\n' "$*"; }

if [[ ! -d node_modules ]] ||
  { [[ -f package-lock.json ]] && { [[ ! -f node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; }; }; then
  if [[ -f package-lock.json ]]; then
    step "npm ci (node_modules missing or older than package-lock.json)"
    npm ci --no-audit --no-fund
  else
    step "npm install (no package-lock.json)"
    npm install --no-audit --no-fund
  fi
fi

step "local stack (scripts/stack-up.sh)"
bash "$ROOT/scripts/stack-up.sh"

step "Temporal time-skipping test server"
ensure_test_server
ensure_temporal_cli
printf '[test] TEMPORAL_TEST_SERVER_PATH=%s\n[test] TEMPORAL_CLI=%s\n' "$TEMPORAL_TEST_SERVER_PATH" "$TEMPORAL_CLI"

step "build (npm run build)"
npm run -s build

step "type check (npm run typecheck)"
npm run -s typecheck

step "lint (npm run lint)"
npm run -s lint

step "jest${*:+ $*}"
results="$STACK_DIR/jest-results.json"
mkdir -p "$STACK_DIR"
status=0
npx --no-install jest --ci --json --outputFile="$results" "$@" || status=$?
# One plain closing line that any reader (people, CI) understands, whatever jest's own summary looks like.
if [[ -f "$results" ]]; then
  node -e 'const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`);' "$results"
fi
exit "$status"
