#!/usr/bin/env bash
# scripts/build.sh — builds pkg/ (the files a site serves, see docs/contract.md): wasm → wasm-bindgen → wasm-opt → bootstrap copy.
# The node programs for the steps that rewrite the wasm text or the glue live in scripts/build/.
#
# Needs what scripts/setup.sh installs. Env overrides:
#   WASM_OPT_FLAGS  extra flags for wasm-opt (default: none beyond the passes and the feature set below)
#   WASM_TOOLCHAIN  `nightly` (default) or `stable`; see "Toolchain" below
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

CRATE=consent-banner
# The pinned nightly (scripts/setup.sh installs the same one).
NIGHTLY=$(<scripts/nightly-toolchain)
OUT=pkg
WASM_OUT=$OUT/consent_banner_bg.wasm
WASM_OPT=tools/binaryen/node_modules/.bin/wasm-opt
# wasm-dis and wasm-as ship in the same binaryen package as wasm-opt.
WASM_DIS=tools/binaryen/node_modules/.bin/wasm-dis
WASM_AS=tools/binaryen/node_modules/.bin/wasm-as
TERSER=tools/terser/node_modules/.bin/terser

# The features rustc (≥1.82) enables by default on wasm32-unknown-unknown. wasm-opt reads them from
# the module's target_features section when present (profile strip="debuginfo" keeps it); passing
# them explicitly as well gives byte-identical output and keeps working if that section is stripped.
# The nightly build turns reference-types off in rustc (see "Toolchain"); allowing it here changes
# nothing for that module and keeps the stable fallback, which has it, valid.
WASM_FEATURES=(
  --enable-bulk-memory --enable-bulk-memory-opt --enable-nontrapping-float-to-int
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue
  --enable-call-indirect-overlong
)

step() { echo "build: $*"; }
fail() { echo "build: FAILED: $*" >&2; exit 1; }

# Disassembles $WASM_OUT, runs the node program in file $2 on the text form (the file is its last
# argument; it edits it in place) and assembles the result back. Binaryen's text form names every
# function, call, table entry and export, so an edit there cannot leave an index stale; the
# round trip alone is byte-identical. $1 names the step in errors.
rewrite_wat() {
  local what=$1 program=$2 wat
  wat=$(mktemp)
  "$WASM_DIS" "${WASM_FEATURES[@]}" "$WASM_OUT" -o "$wat" || { rm -f "$wat"; fail "$what: wasm-dis failed on $WASM_OUT"; }
  node "$program" "$wat" || { rm -f "$wat"; fail "$what: could not rewrite $WASM_OUT"; }
  "$WASM_AS" "${WASM_FEATURES[@]}" "$wat" -o "$WASM_OUT.opt" || { rm -f "$wat" "$WASM_OUT.opt"; fail "$what: wasm-as failed"; }
  rm -f "$wat"
  mv "$WASM_OUT.opt" "$WASM_OUT"
}

command -v wasm-bindgen >/dev/null 2>&1 || fail "wasm-bindgen not found; run scripts/setup.sh (or make setup)"
[[ -x $WASM_OPT ]] || fail "$WASM_OPT not found; run scripts/setup.sh (or make setup)"
[[ -x $WASM_DIS && -x $WASM_AS ]] || fail "$WASM_DIS or $WASM_AS not found; run scripts/setup.sh (or make setup)"
[[ -x $TERSER ]] || fail "$TERSER not found; run scripts/setup.sh (or make setup)"

# --- Toolchain ----------------------------------------------------------------------------------
# The shipped wasm is built with a pinned nightly that rebuilds std from source for size:
#   -Zbuild-std=std,panic_abort      std compiled with our profile (opt-level z, LTO across std)
#   -Cpanic=immediate-abort          a panic is a bare `unreachable`: no message formatting, no
#                                    location strings (the profile already aborts; this drops the
#                                    machinery that would have printed first)
#   optimize_for_size                std's own smaller-code variants (sorting, formatting, …)
#   -Zlocation-detail=none           no file/line strings for #[track_caller] sites
# Measured on the banner (wasm after wasm-opt, brotli -q 11): stable 44.9 KB → nightly 38.0 KB.
#   -Ctarget-feature=-reference-types
#                                    wasm-bindgen then keeps JS values in a JS-side array instead of
#                                    an externref table: no table-management code and no per-export
#                                    externref shims in the wasm (measured: wasm −715 B, glue +174 B
#                                    brotli; the glue's array is the classic wasm-bindgen mode)
# Behaviour is the same: nothing in the banner relies on a panic message (it is panic=abort anyway).
# Host tests (`cargo test`) and the browser tier stay on stable. If the pinned nightly (with
# rust-src and the wasm32 target) is missing, the build falls back to stable, says so, and the
# result is ~7 KB brotli larger. WASM_TOOLCHAIN=stable forces that path.
toolchain=${WASM_TOOLCHAIN:-nightly}
if [[ $toolchain == nightly ]]; then
  if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 \
    || ! grep -q '^rust-src' <<<"$(rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null)" \
    || ! grep -qx 'wasm32-unknown-unknown' <<<"$(rustup target list --toolchain "$NIGHTLY" --installed 2>/dev/null)"; then
    echo "build: WARNING: $NIGHTLY with rust-src + wasm32 target not installed (run scripts/setup.sh);" \
      "falling back to stable: the wasm will be ~15% larger" >&2
    toolchain=stable
  fi
fi
if [[ $toolchain == nightly ]]; then
  # Its own target dir, so stable and nightly artifacts never invalidate each other.
  TARGET_DIR=target/size
  step "cargo +$NIGHTLY build -Zbuild-std -p $CRATE --lib --target wasm32-unknown-unknown --profile wasm-release"
  RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Ctarget-feature=-reference-types" \
    cargo "+$NIGHTLY" build -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size \
      -p "$CRATE" --lib --target wasm32-unknown-unknown --profile wasm-release --target-dir "$TARGET_DIR" \
    || fail "cargo +$NIGHTLY build for wasm32 failed (see the compiler errors above; WASM_TOOLCHAIN=stable builds with stable)"
elif [[ $toolchain == stable ]]; then
  TARGET_DIR=target
  step "cargo build -p $CRATE --lib --target wasm32-unknown-unknown --profile wasm-release"
  cargo build -p "$CRATE" --lib --target wasm32-unknown-unknown --profile wasm-release \
    || fail "cargo build for wasm32 failed (see the compiler errors above)"
else
  fail "WASM_TOOLCHAIN must be nightly or stable (got '$toolchain')"
fi
WASM_IN=$TARGET_DIR/wasm32-unknown-unknown/wasm-release/consent_banner.wasm
[[ -f $WASM_IN ]] || fail "cargo succeeded but $WASM_IN is missing (is crate-type cdylib?)"

step "wasm-bindgen --target web → $OUT/"
rm -rf "$OUT"
# The name section stays for the next step, which finds functions by name; wasm-as drops it.
wasm-bindgen --target web --remove-producers-section --out-dir "$OUT" "$WASM_IN" \
  || fail "wasm-bindgen failed (its version must equal the wasm-bindgen crate's: run scripts/setup.sh)"

# --- js-sys's JSPI task waker ----------------------------------------------------------------------
# js-sys exports a raw `__wbg_jspi_task_poll` for tasks spawned under JS Promise Integration;
# wasm-bindgen drops that export when the module uses no JSPI, but the waker's vtable, a static in
# linear memory, still holds four functions in the table, and they keep the task's wake and drop
# code (~450 B). No task can exist without that export (the banner spawns no futures at all), so
# their bodies become `unreachable` and wasm-opt removes what only they called. The build fails
# if the export is still there, i.e. if something started using JSPI. Measured: −163 B brotli.
step "js-sys JSPI task waker stubbed (wasm-dis → stub → wasm-as)"
rewrite_wat "JSPI waker" scripts/build/stub-jspi-waker.mjs

# -Oz, then two rounds of --flatten --rereloop -Oz (flatten the control flow, rebuild it with the
# Relooper, shrink again: the rebuilt structure has fewer nested blocks and branches), then -Oz
# twice more. Measured against plain -Oz -Oz: −396 B brotli; one round gives −278 B, a third or
# fourth round or --converge gains nothing. --strip-target-features drops the ~150 B
# target_features section, which nothing reads after this step (the feature flags are explicit).
#
# --low-memory-unused: the first 1 KB of linear memory is never addressed (Rust's stack starts at
# 1 MiB and grows down, data and heap sit above it), so wasm-opt may fold `ptr + constant` into
# load/store offsets. Measured: −61 B brotli.
# -ocimfs=25 (--one-caller-inline-max-function-size): a function with one caller is inlined into
# it only when it is small. Unlimited (the default), `start` swallowed the config readers, the
# banner's build and the rest whole (17 KB); kept apart they compress better, though the raw wasm
# grows. Measured: −419 B brotli (values from 15 to 50 gave −285 to −419; 0 gave −157).
# --remove-exports: the glue passes strings with malloc alone and never frees one (see "The glue's
# loader" below); if it read wasm.__wbindgen_realloc or __wbindgen_free again, the short-names
# step would fail. Measured: −105 B brotli for realloc (wasm −93 B raw), −22 B raw for free.
# __abort_handler and __instance_terminated (the addresses of two wasm-bindgen statics) are for
# glue features this build does not emit; the glue never reads them (the same check): −31 B brotli.
step "wasm-opt -Oz (--flatten --rereloop -Oz)x2 -Oz --low-memory-unused -ocimfs=25 $WASM_OUT"
# shellcheck disable=SC2086  # WASM_OPT_FLAGS is a word list on purpose
"$WASM_OPT" --remove-exports=__wbindgen_realloc,__wbindgen_free,__abort_handler,__instance_terminated \
  -Oz --flatten --rereloop -Oz --flatten --rereloop -Oz -Oz --low-memory-unused -ocimfs=25 --strip-target-features \
  "${WASM_FEATURES[@]}" ${WASM_OPT_FLAGS:-} "$WASM_OUT" -o "$WASM_OUT.opt" \
  || { rm -f "$WASM_OUT.opt"; fail "wasm-opt failed on $WASM_OUT"; }
mv "$WASM_OUT.opt" "$WASM_OUT"

# --- Trapping table entries merged --------------------------------------------------------------
# After wasm-opt, about twenty functions are a bare `unreachable`, one per signature: wasm-bindgen
# closure shims for js_sys callback types the banner never uses (and the stubbed JSPI waker),
# kept only because the table lists them. Calling any of them traps, so the table entries may all
# name one of them; the others, referenced from nowhere else, are deleted, and with them the
# signatures only they used. Only functions whose whole body is `unreachable` are touched, so
# nothing that could run changes. Measured: −89 B brotli (wasm 28396 → 28306).
step "trapping table entries merged (wasm-dis → merge → wasm-as)"
rewrite_wat "trap merge" scripts/build/merge-trap-entries.mjs

# --- Functions grouped by signature ------------------------------------------------------------
# The code section keeps wasm-opt's function order, which follows rustc's and ignores how the
# bodies compress. Listed by signature (then by size within one), functions that open with the
# same parameter shuffles and share call patterns sit side by side, where brotli's window finds
# the repeats. Only the order changes: binaryen's text form names every call, table entry and
# export, so reordering them in `rewrite_wat` rewrites every index. Measured: wasm −315 B raw,
# −220 B brotli. Grouping without sorting by size inside a group gave −163; by size alone −74; by
# name (--reorder-functions-by-name) +377.
step "functions grouped by signature (wasm-dis → reorder → wasm-as)"
rewrite_wat "function order" scripts/build/order-functions.mjs

# --- The glue's loader, and code it never runs -------------------------------------------------------
# wasm-bindgen's loader accepts every way of passing the wasm (a URL, a Request, bytes, a Module,
# the older positional forms with their deprecation warnings, nothing at all) and adds `initSync`.
# The bootstrap always passes `{ module_or_path: <fetch Response> }`, and a bundler calls
# `default()` (docs/contract.md), so the loader is replaced by one for those two cases (nothing
# means a fetch of the .wasm beside the glue, in the `new URL(…, import.meta.url)` form bundlers
# recognise; measured +31 B brotli, kept so the glue stays importable as is), which keeps
# what wasm-bindgen does with a Response: the same error for a non-2xx one, and the fallback (with
# the same warning) to `instantiate` when the server does not send `application/wasm`. The loader is
# recognised by its exact text (the pinned wasm-bindgen's), so a new wasm-bindgen fails the build
# here until its loader has been read again. Strings are passed the way wasm-bindgen passes them
# to a module without `realloc` (TextEncoder.encode, one malloc of the exact length): the same
# bytes as its ASCII loop + encodeInto into a buffer grown by realloc, in a third of the code
# (checked by a hash of the function's text): −108 B brotli. The TextEncoder.encodeInto polyfill
# goes with it, as nothing calls encodeInto any more (checked).
# And each import that may throw gets its exception guard from one wrapper-maker rather than
# from a wrapper function of its own (the same try/catch around the same call): −25 B brotli.
# The imports returning an optional string share one function that writes it back: −27 B.
# Measured: glue −388 B brotli (2564 → 2176).
step "glue: loader for the bootstrap's Response only, dead branches dropped"
node scripts/build/trim-glue.mjs "$OUT/consent_banner.js" || fail "could not trim $OUT/consent_banner.js"

# --- Short import/export names ---------------------------------------------------------------------
# wasm-bindgen names every import `__wbg_<method>_<16 hex digits>` and spells each name twice, once
# in the wasm and once in the glue; random hex does not compress. Binaryen renames the imports,
# exports and the import module to one or two letters and prints the old→new map; the script
# below applies that map to the glue: the import object's keys and module key, and every
# `wasm.<export>` read. The public JS exports (start, accept, …) are the glue's own functions, so
# their names do not change. Any name it cannot place fails the build rather than ship a glue that
# does not match its wasm. Measured: wasm −1.9 KB brotli, glue −1.4 KB brotli (before terser).
step "short import/export names (wasm-opt --minify-imports-and-exports-and-modules)"
NAME_MAP=$(mktemp)
trap 'rm -f "$NAME_MAP"' EXIT
"$WASM_OPT" "${WASM_FEATURES[@]}" --minify-imports-and-exports-and-modules "$WASM_OUT" -o "$WASM_OUT.opt" >"$NAME_MAP" \
  || { rm -f "$WASM_OUT.opt"; fail "wasm-opt --minify-imports-and-exports-and-modules failed"; }
mv "$WASM_OUT.opt" "$WASM_OUT"
node scripts/build/short-names.mjs "$OUT/consent_banner.js" "$NAME_MAP" "$WASM_OUT" || fail "could not apply the short names to $OUT/consent_banner.js"

# --- Minified glue -------------------------------------------------------------------------------
# terser, not esbuild: measured 4437 vs 4489 B brotli on this glue. `--module` keeps the ES module's
# export names (www/consent.js imports `default`, start, accept, …) and `import.meta.url`.
# unsafe_methods writes the import object's `name: function (…) {…}` entries as methods, which
# cannot be called with `new`; the wasm only ever calls them. Measured: −24 B brotli.
step "terser $OUT/consent_banner.js"
"$TERSER" "$OUT/consent_banner.js" --module --ecma 2020 --compress passes=3,unsafe_methods=true --mangle -o "$OUT/consent_banner.min.js" \
  || { rm -f "$OUT/consent_banner.min.js"; fail "terser failed on $OUT/consent_banner.js"; }
mv "$OUT/consent_banner.min.js" "$OUT/consent_banner.js"

step "bootstrap www/consent.js → $OUT/consent.js (build hash, terser)"
[[ -f www/consent.js ]] || fail "www/consent.js (the bootstrap source) is missing"
# The build hash (wasm + glue + the bootstrap's source, which sets the Consent Mode defaults) goes
# into the bootstrap: with the config it makes the banner version every reported event carries, so
# each record can be tied to the exact code that was shown. The bootstrap is hashed before the hash
# is written into it.
BUILD_HASH=$(cat "$WASM_OUT" "$OUT/consent_banner.js" www/consent.js | sha256sum | cut -c1-32)
sed "s/__BUILD__/$BUILD_HASH/" www/consent.js >"$OUT/consent.src.js" || fail "cannot copy www/consent.js"
# Minified like the glue: the bootstrap is on every page's critical path (measured: 1,753 →
# 1,190 B brotli). The readable source stays in www/. unsafe_arrows turns the function
# expressions that use neither `this` nor `arguments` into arrows (no `prototype`; nothing
# constructs them, and every browser that parses the bootstrap's `import()` has arrows; gtag and
# the queueing stubs read `arguments`, so they stay functions). Measured: −20 B brotli.
"$TERSER" "$OUT/consent.src.js" --ecma 2020 --compress passes=3,unsafe_arrows=true --mangle --comments false -o "$OUT/consent.js" \
  || fail "terser failed on www/consent.js"
rm -f "$OUT/consent.src.js"
if [[ -f www/consent.d.ts ]]; then
  cp www/consent.d.ts "$OUT/consent.d.ts" || fail "cannot copy www/consent.d.ts"
fi

for f in consent.js consent_banner.js consent_banner_bg.wasm; do
  [[ -s $OUT/$f ]] || fail "$OUT/$f is missing or empty"
done
step "ok: $(wc -c <"$OUT/consent_banner_bg.wasm") B wasm, $(wc -c <"$OUT/consent_banner.js") B glue, $(wc -c <"$OUT/consent.js") B bootstrap"
