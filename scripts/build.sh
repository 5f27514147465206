#!/usr/bin/env bash
# scripts/build.sh — builds pkg/ (the files a site serves, see docs/contract.md): wasm → wasm-bindgen → wasm-opt → bootstrap copy.
#
# Needs what scripts/setup.sh installs. Env overrides:
#   WASM_OPT_FLAGS  extra flags for wasm-opt (default: none beyond -Oz and the feature set below)
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

CRATE=consent-banner
WASM_IN=target/wasm32-unknown-unknown/wasm-release/consent_banner.wasm
OUT=pkg
WASM_OUT=$OUT/consent_banner_bg.wasm
WASM_OPT=tools/binaryen/node_modules/.bin/wasm-opt

# The features rustc (≥1.82) enables by default on wasm32-unknown-unknown. wasm-opt reads them from
# the module's target_features section when present (profile strip="debuginfo" keeps it); passing
# them explicitly as well gives byte-identical output and keeps working if that section is stripped.
WASM_FEATURES=(
  --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue
  --enable-call-indirect-overlong
)

step() { echo "build: $*"; }
fail() { echo "build: FAILED: $*" >&2; exit 1; }

command -v wasm-bindgen >/dev/null 2>&1 || fail "wasm-bindgen not found; run scripts/setup.sh (or make setup)"
[[ -x $WASM_OPT ]] || fail "$WASM_OPT not found; run scripts/setup.sh (or make setup)"

step "cargo build -p $CRATE --lib --target wasm32-unknown-unknown --profile wasm-release"
cargo build -p "$CRATE" --lib --target wasm32-unknown-unknown --profile wasm-release \
  || fail "cargo build for wasm32 failed (see the compiler errors above)"
[[ -f $WASM_IN ]] || fail "cargo succeeded but $WASM_IN is missing (is crate-type cdylib?)"

step "wasm-bindgen --target web → $OUT/"
rm -rf "$OUT"
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir "$OUT" "$WASM_IN" \
  || fail "wasm-bindgen failed (its version must equal the wasm-bindgen crate's: run scripts/setup.sh)"

step "wasm-opt -Oz $WASM_OUT"
# shellcheck disable=SC2086  # WASM_OPT_FLAGS is a word list on purpose
"$WASM_OPT" -Oz "${WASM_FEATURES[@]}" ${WASM_OPT_FLAGS:-} "$WASM_OUT" -o "$WASM_OUT.opt" \
  || { rm -f "$WASM_OUT.opt"; fail "wasm-opt failed on $WASM_OUT"; }
mv "$WASM_OUT.opt" "$WASM_OUT"

step "copy bootstrap www/consent.js → $OUT/consent.js"
[[ -f www/consent.js ]] || fail "www/consent.js (the bootstrap source) is missing"
# The build hash (wasm + glue) goes into the bootstrap: with the config it makes the banner version
# every reported event carries, so each record can be tied to the exact code that was shown.
BUILD_HASH=$(cat "$WASM_OUT" "$OUT/consent_banner.js" | sha256sum | cut -c1-32)
sed "s/__BUILD__/$BUILD_HASH/" www/consent.js >"$OUT/consent.js" || fail "cannot copy www/consent.js"
if [[ -f www/consent.d.ts ]]; then
  cp www/consent.d.ts "$OUT/consent.d.ts" || fail "cannot copy www/consent.d.ts"
fi

for f in consent.js consent_banner.js consent_banner_bg.wasm; do
  [[ -s $OUT/$f ]] || fail "$OUT/$f is missing or empty"
done
step "ok: $(wc -c <"$OUT/consent_banner_bg.wasm") B wasm, $(wc -c <"$OUT/consent_banner.js") B glue, $(wc -c <"$OUT/consent.js") B bootstrap"
