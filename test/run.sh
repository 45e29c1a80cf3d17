#!/usr/bin/env bash
# The test command README.md gives (`npm test`). Runs every suite with node's test runner.
# Suites that need services start them themselves (see test/support/).
#
# Arguments (`npm test -- …`) pass through: files or directories pick what runs instead of
# everything (`npm test -- test/api/operations.test.ts`, `npm test -- test/unit`), anything
# starting with `-` goes to `node --test` (`npm test -- --test-name-pattern=HTTPS`).
set -euo pipefail
cd "$(dirname "$0")/.."
paths=()
options=()
for arg in "$@"; do
  if [[ $arg == -* ]]; then options+=("$arg"); else paths+=("$arg"); fi
done
((${#paths[@]} > 0)) || paths=(test/unit test/contract test/api test/e2e)
files=()
for path in "${paths[@]}"; do
  if [[ -d $path ]]; then
    while IFS= read -r file; do files+=("$file"); done < <(find "$path" -name '*.test.ts' | sort)
  elif [[ -f $path ]]; then
    files+=("$path")
  else
    echo "npm test: no such test file or directory: $path" >&2
    exit 2
  fi
done
((${#files[@]} > 0)) || { echo "npm test: no *.test.ts under ${paths[*]}" >&2; exit 2; }
exec node --import tsx --test --test-concurrency=1 "${options[@]}" "${files[@]}"
