#!/usr/bin/env bash
# scripts/setup.sh — installs the build/test toolchain (wasm target, wasm-bindgen-cli, wasm-opt, browser, npm deps); idempotent.
#
# Usage: scripts/setup.sh [--browser] [--size]
#   (no flag)  rustup wasm32 target, the pinned nightly (+ rust-src, wasm32) for the size build,
#              wasm-bindgen-cli (version from Cargo.lock), wasm-opt (npm binaryen), terser (npm)
#   --size     also brotli (apt), needed by `make size` / bench/size.sh
#   --browser  also chromium + chromium-driver + brotli (apt), and `npm ci` in tests/e2e/ and bench/
# Prints one line per thing it installs; a second run with everything present installs nothing.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$PATH"

BINARYEN_VERSION="${BINARYEN_VERSION:-132.0.0}"
WASM_OPT="$ROOT/tools/binaryen/node_modules/.bin/wasm-opt"
TERSER_VERSION="${TERSER_VERSION:-5.51.4}"
TERSER="$ROOT/tools/terser/node_modules/.bin/terser"
# The nightly scripts/build.sh uses for the shipped wasm (-Zbuild-std, immediate-abort panics).
# Pinned so the bytes we measure are the bytes we ship; the one place it is written is
# scripts/nightly-toolchain, which build.sh reads too.
NIGHTLY=$(<scripts/nightly-toolchain)

want_browser=0
want_size=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --size) want_size=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup: unknown argument: $arg (expected --browser and/or --size)" >&2; exit 2 ;;
  esac
done

installed=0
say()  { echo "setup: $*"; }
die()  { echo "setup: ERROR: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH; $2"; }

need cargo  "install Rust with rustup (https://rustup.rs)"
# The build and every test run on Node (terser, the e2e and bench harnesses); playwright-core
# needs 20 or newer, and Debian 12's own package is 18.
need node "install Node.js 20 or newer (with npm)"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
(( node_major >= 20 )) || die "Node.js $(node --version 2>/dev/null) is too old: install Node.js 20 or newer (with npm)"
need rustup "install Rust with rustup (https://rustup.rs)"

# --- wasm32 target -----------------------------------------------------------------------------
# rustup's output is captured before grep reads it: `rustup … | grep -q` under pipefail can fail
# at random when grep exits first and rustup dies on the closed pipe.
has_line() { grep -qx -- "$1" <<<"$2"; }
if ! has_line wasm32-unknown-unknown "$(rustup target list --installed)"; then
  say "installing rustup target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown || die "rustup target add wasm32-unknown-unknown failed"
  installed=1
fi

# --- pinned nightly for the size build (host tests stay on stable) ------------------------------
# A failure here is not fatal: scripts/build.sh then builds with stable and says so (larger wasm).
nightly_ok() {
  rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 \
    && grep -q '^rust-src' <<<"$(rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null)" \
    && has_line wasm32-unknown-unknown "$(rustup target list --toolchain "$NIGHTLY" --installed 2>/dev/null)"
}
if ! nightly_ok; then
  say "installing $NIGHTLY (minimal, rust-src, wasm32 target) for the size build"
  if rustup toolchain install "$NIGHTLY" --profile minimal -c rust-src -t wasm32-unknown-unknown && nightly_ok; then
    installed=1
  else
    say "WARNING: could not install $NIGHTLY; scripts/build.sh will fall back to stable (wasm ~15% larger)"
  fi
fi

# --- wasm-bindgen-cli, exactly the version the crate links against -----------------------------
wb_version=""
if [[ -f Cargo.lock ]]; then
  # [[package]] blocks: name line followed by version line.
  wb_version=$(awk '
    /^\[\[package\]\]/ { name = "" }
    /^name = /         { name = $3 }
    /^version = / && name == "\"wasm-bindgen\"" { gsub(/"/, "", $3); print $3; exit }
  ' Cargo.lock)
fi
if [[ -z "$wb_version" ]]; then
  # Fallback: the `=X.Y.Z` pin in Cargo.toml (plain or table form).
  wb_version=$(sed -nE 's/^[[:space:]]*wasm-bindgen[[:space:]]*=[^"]*"=([0-9][^"]*)".*/\1/p' Cargo.toml | head -n1)
fi
[[ -n "$wb_version" ]] || die "cannot find the wasm-bindgen version (no wasm-bindgen package in Cargo.lock, no '=X' pin in Cargo.toml)"

have_wb=""
if command -v wasm-bindgen >/dev/null 2>&1; then
  have_wb=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')
fi
if [[ "$have_wb" != "$wb_version" ]] || ! command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
  say "installing wasm-bindgen-cli $wb_version (found: ${have_wb:-none}); takes 2-3 minutes"
  # No --locked: the CLI's own lockfile pins a crate version the registry mirror may lack.
  cargo install wasm-bindgen-cli --version "$wb_version" --force \
    || die "cargo install wasm-bindgen-cli --version $wb_version failed"
  installed=1
fi

# --- npm-packaged build tools, each pinned in its own tools/<pkg>/ ------------------------------
# npm_tool PKG VERSION BIN WHY: installs PKG@VERSION into tools/PKG unless exactly that version is there.
npm_tool() {
  local pkg=$1 version=$2 bin=$3 why=$4 have=""
  if [[ -x "$bin" && -f "tools/$pkg/node_modules/$pkg/package.json" ]]; then
    have=$(node -p "require('./tools/$pkg/node_modules/$pkg/package.json').version" 2>/dev/null || true)
  fi
  [[ "$have" == "$version" ]] && return 0
  need npm "install Node.js 20 + npm"
  say "installing $why (npm $pkg@$version) into tools/$pkg"
  mkdir -p "tools/$pkg"
  npm install --prefix "tools/$pkg" --no-audit --no-fund --loglevel=error "$pkg@$version" \
    || die "npm install $pkg@$version failed (check 'npm view $pkg version')"
  [[ -x "$bin" ]] || die "$pkg installed but $bin is missing"
  installed=1
}
# binaryen from npm: current, and a 3 s install (Debian's wasm-opt is old).
npm_tool binaryen "$BINARYEN_VERSION" "$WASM_OPT" "wasm-opt"
npm_tool terser "$TERSER_VERSION" "$TERSER" "the glue and bootstrap minifier"

# --- apt packages: chromium + chromedriver (--browser), brotli (--browser or --size) -------------
apt_pkgs=()
if (( want_browser )); then
  [[ -x /usr/bin/chromium ]]     || apt_pkgs+=(chromium)
  [[ -x /usr/bin/chromedriver ]] || apt_pkgs+=(chromium-driver)
fi
if (( want_browser || want_size )); then
  command -v brotli >/dev/null 2>&1 || apt_pkgs+=(brotli)
fi
if (( ${#apt_pkgs[@]} )); then
  say "installing apt packages: ${apt_pkgs[*]}"
  SUDO=""
  if (( EUID != 0 )); then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install ${apt_pkgs[*]}"
    SUDO="sudo"
  fi
  APT=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)
  "${APT[@]}" update -q || die "apt-get update failed"
  if ! "${APT[@]}" install -y -q --no-install-recommends "${apt_pkgs[@]}"; then
    say "apt-get install failed; running apt-get --fix-broken install and retrying"
    "${APT[@]}" -y --fix-broken install || true
    "${APT[@]}" install -y -q --no-install-recommends "${apt_pkgs[@]}" \
      || die "apt-get install ${apt_pkgs[*]} failed"
  fi
  installed=1
fi

# --- npm dependencies of the browser tiers ------------------------------------------------------
# Install when node_modules is missing or older than package.json / package-lock.json.
npm_deps() {
  local dir=$1
  [[ -f "$dir/package.json" ]] || return 0
  local stale=0
  if [[ ! -d "$dir/node_modules" ]]; then
    stale=1
  elif [[ "$dir/package.json" -nt "$dir/node_modules" ]]; then
    stale=1
  elif [[ -f "$dir/package-lock.json" && "$dir/package-lock.json" -nt "$dir/node_modules" ]]; then
    stale=1
  fi
  (( stale )) || return 0
  need npm "install Node.js 20 + npm"
  if [[ -f "$dir/package-lock.json" ]]; then
    say "installing npm dependencies in $dir (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in $dir failed"
  else
    say "installing npm dependencies in $dir (npm install; no package-lock.json — commit one)"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error) || die "npm install in $dir failed"
  fi
  touch "$dir/node_modules"   # npm does not always bump the directory's mtime
  installed=1
}
if (( want_browser )); then
  npm_deps tests/e2e
  npm_deps bench
fi

if (( installed )); then
  say "done"
else
  say "everything present (wasm-bindgen $wb_version, binaryen $BINARYEN_VERSION, terser $TERSER_VERSION, $NIGHTLY)"
fi
