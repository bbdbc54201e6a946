#!/usr/bin/env bash
# Fuzzes the vendored SILK decoder (C) under AddressSanitizer and
# UndefinedBehaviorSanitizer, every finding fatal, with libFuzzer.
#   crates/ilink-silk/fuzz/run.sh [SECONDS]    (default 120)
# Prints `silk fuzz: N executions in S s, 0 crashes` and exits 0, or the
# finding and exits 1. Installs clang if missing (Debian/Ubuntu apt-get).
# SILK_SRC=DIR builds DIR/{interface,src} instead of the vendored silk/
# (to check that the harness finds what the unchecked reference does).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
crate=$(dirname "$here")
seconds=${1:-120}
silk=${SILK_SRC:-$crate/silk}
out=${SILK_FUZZ_OUT:-$crate/../../target/silk-fuzz}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if ! command -v clang >/dev/null; then
  if ! apt-get install -y clang >/dev/null 2>&1; then
    apt-get update >/dev/null
    apt-get install -y clang >/dev/null
  fi
fi

bin=$out/decode_fuzz
clang -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -w -I "$silk/interface" -I "$silk/src" \
  "$silk"/src/*.c "$here/decode_fuzz.c" -o "$bin"

# A working corpus seeded from the checked-in one (which new inputs do not
# touch), and the findings beside it.
corpus=$out/corpus
mkdir -p "$corpus" "$out/artifacts"
cp "$here"/corpus/* "$corpus"/
log=$out/decode_fuzz.log
start=$(date +%s)
status=0
"$bin" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
  -max_len=8192 -print_final_stats=1 -artifact_prefix="$out/artifacts/" \
  >"$log" 2>&1 || status=$?
elapsed=$(( $(date +%s) - start ))
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
if [ "$status" = 0 ]; then
  echo "silk fuzz: ${runs:-?} executions in ${elapsed} s, 0 crashes"
else
  grep -E 'ERROR: |runtime error|SUMMARY|Test unit written|artifact_prefix|deadly signal' "$log" | head -8 || true
  artifact=$(grep -o "Test unit written to [^ ]*" "$log" | head -1 | sed "s/Test unit written to //" || true)
  echo "silk fuzz: ${runs:-?} executions in ${elapsed} s, 1 crash${artifact:+ ($artifact)}; log $log"
  exit 1
fi
