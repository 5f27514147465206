#!/usr/bin/env bash
# bench/size.sh — first-visit byte budget: raw / gzip -9 / brotli -q 11 of the files in pkg/; fails over budget.
#
# Usage: bench/size.sh [pkg-dir]      (default: pkg)
# Env:   SIZE_BUDGET  brotli total budget in bytes (default 30720 = 30 KiB)
# Exit:  0 within budget, 1 over budget, 2 a file or tool is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
DIR=${1:-pkg}
BUDGET=${SIZE_BUDGET:-30720}
# What a first visit downloads. The CSS is compiled into the wasm.
FILES=(consent.js consent_banner.js consent_banner_bg.wasm)

for tool in gzip brotli; do
  command -v "$tool" >/dev/null 2>&1 || { echo "size: '$tool' not found; run scripts/setup.sh --size" >&2; exit 2; }
done

missing=0
tot_raw=0 tot_gz=0 tot_br=0
printf '%-26s %10s %10s %10s\n' file raw gzip-9 brotli-11
printf '%-26s %10s %10s %10s\n' -------------------------- ---------- ---------- ----------
for f in "${FILES[@]}"; do
  p=$DIR/$f
  if [[ ! -f $p ]]; then
    printf '%-26s %10s %10s %10s\n' "$f" missing - -
    missing=1
    continue
  fi
  raw=$(wc -c <"$p")
  gz=$(gzip -9 -c "$p" | wc -c)
  br=$(brotli -q 11 -c "$p" | wc -c)
  tot_raw=$((tot_raw + raw)) tot_gz=$((tot_gz + gz)) tot_br=$((tot_br + br))
  printf '%-26s %10d %10d %10d\n' "$f" "$raw" "$gz" "$br"
done
printf '%-26s %10s %10s %10s\n' -------------------------- ---------- ---------- ----------
printf '%-26s %10d %10d %10d\n' total "$tot_raw" "$tot_gz" "$tot_br"

if (( missing )); then
  echo "size: FAILED: file(s) missing in $DIR/ — run \`make build\` first" >&2
  exit 2
fi
pct=$(( tot_br * 100 / BUDGET ))
if (( tot_br > BUDGET )); then
  echo "size: FAILED: brotli total $tot_br B exceeds the budget of $BUDGET B ($pct%)" >&2
  exit 1
fi
echo "size: ok: brotli total $tot_br B of $BUDGET B budget ($pct%), $((BUDGET - tot_br)) B to spare"
