#!/usr/bin/env bash
# The test command README.md gives (`npm test`). Runs every suite with node's test runner.
# Suites that need services start them themselves (see test/support/).
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(find test/unit test/contract test/api test/e2e -name '*.test.ts' 2>/dev/null | sort)
exec node --import tsx --test --test-concurrency=1 $files
