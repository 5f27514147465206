#!/usr/bin/env bash
# scripts/test.sh — runs the test tiers after a build: host (cargo test), browser (wasm-bindgen-test in Chromium), e2e (node --test), size (the budget).
#
# Usage: scripts/test.sh [host] [browser] [e2e] [size]     (default: all four, in that order)
# Every tier runs even when an earlier one fails; exits 1 if any tier failed.
# A tier is reported as SKIPPED only when its tests do not exist yet (e2e: no tests/e2e/**/*.test.mjs).
set -uo pipefail

cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

tiers=("$@")
(( ${#tiers[@]} )) || tiers=(host browser e2e size)

declare -a summary=()
failed=0

run_tier() {
  local name=$1; shift
  echo
  echo "=== test tier: $name: $*"
  local start=$SECONDS
  if "$@"; then
    summary+=("$(printf '%-8s PASS  (%ds)' "$name" $((SECONDS - start)))")
  else
    summary+=("$(printf '%-8s FAIL  (%ds)' "$name" $((SECONDS - start)))")
    failed=1
  fi
}
skip_tier() {
  echo
  echo "=== test tier: $1: SKIPPED ($2)"
  summary+=("$(printf '%-8s SKIP  (%s)' "$1" "$2")")
}

for tier in "${tiers[@]}"; do
  case "$tier" in
    host)
      run_tier host cargo test --workspace
      ;;
    browser)
      # Runner, CHROMEDRIVER and WASM_BINDGEN_TEST_TIMEOUT come from .cargo/config.toml; webdriver.json
      # (repo root) pins /usr/bin/chromium.
      run_tier browser cargo test -p consent-banner --target wasm32-unknown-unknown
      ;;
    e2e)
      if [[ -n "$(find tests/e2e -name node_modules -prune -o -name '*.test.mjs' -print -quit 2>/dev/null)" ]]; then
        # Node 20 takes no glob: run from the directory so it finds *.test.mjs itself.
        # The reporting tests drive the real endpoint binary.
        # A hung browser must not eat CI's 90 minutes: the tier takes ~3 minutes.
        run_tier e2e timeout 40m bash -c 'cargo build -q -p consent-endpoint --bin consent-endpoint && cd tests/e2e && node --test'
      else
        skip_tier e2e "no tests/e2e/**/*.test.mjs yet"
      fi
      ;;
    size)
      # The first-visit bytes of the built pkg/ against the 30 KiB brotli budget: a byte count,
      # not a timing, and the build is pinned (nightly, wasm-bindgen, binaryen, terser), so a
      # fresh clone measures the same bytes. Over budget fails the run.
      run_tier size bash bench/size.sh
      ;;
    *)
      echo "test: unknown tier '$tier' (expected host, browser, e2e, size)" >&2
      exit 2
      ;;
  esac
done

echo
echo "=== test summary"
printf '  %s\n' "${summary[@]}"
if (( failed )); then
  echo "test: FAILED" >&2
  exit 1
fi
echo "test: ok"
