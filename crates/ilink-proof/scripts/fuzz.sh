#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECONDS each (default 600) and prints
# executions and crashes per target. Needs the nightly toolchain (installed
# with rustup here) and cargo-fuzz (installed if missing).
#   crates/ilink-proof/scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../../../fuzz"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(message_decode key_parse pkcs7_unpad stream_decrypt state_files api_responses voice_decode)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# The SILK decoder is C: build it with clang, instrumented for coverage and
# AddressSanitizer as cargo-fuzz instruments the Rust code, plus
# UndefinedBehaviorSanitizer, every finding fatal (Debian: clang).
if command -v clang >/dev/null || command -v clang-14 >/dev/null; then
  export CC=$(command -v clang || command -v clang-14)
  export CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -g"
else
  echo "fuzz.sh: no clang; the SILK C code is built uninstrumented" >&2
fi
cargo +nightly fuzz build -O
printf '| target | seconds | executions | crashes |\n|---|---:|---:|---:|\n'
status=0
for t in "${targets[@]}"; do
  log=$(mktemp)
  if cargo +nightly fuzz run -O "$t" -- -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 >"$log" 2>&1; then
    crashes=0
  else
    crashes=1
    status=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  printf '| %s | %s | %s | %s |\n' "$t" "$seconds" "$runs" "$crashes"
  [ "$crashes" = 0 ] || { echo "crash in $t:"; grep -E 'panicked|SUMMARY|Test unit' "$log" | head -5; }
  rm -f "$log"
done
exit $status
