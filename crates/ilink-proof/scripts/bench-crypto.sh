#!/usr/bin/env bash
# Measures ilink-crypto against OpenSSL on this machine, in one run:
#   - AES-128-ECB encrypt/decrypt over 16 KiB buffers vs `openssl speed`
#   - MD5 over 16 KiB buffers vs `openssl speed -evp md5`
#     (each pair alternates, twice, so both sides see the same machine)
#   - a 1 GiB file (kept in /tmp, page cache warmed): `openssl md5 FILE`
#     vs our MD5 pass alone and vs our whole upload pipeline
#     (pass 1 size+MD5, pass 2 streaming encryption to /dev/null)
#   - peak RSS of that pipeline (/usr/bin/time -v, else VmHWM)
# and prints a table with ratios ours/openssl against the goals.
#
# Usage: crates/ilink-proof/scripts/bench-crypto.sh
# Environment: ILINK_BENCH_FILE (default /tmp/ilink-bench-1g.bin),
#              ILINK_BENCH_MIB (file size, default 1024),
#              ILINK_BENCH_RUNS (timed runs per file figure, best counts; default 5)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

FILE=${ILINK_BENCH_FILE:-/tmp/ilink-bench-1g.bin}
MIB=${ILINK_BENCH_MIB:-1024}
RUNS=${ILINK_BENCH_RUNS:-5}
SECONDS_PER_SPEED=3

log() { printf '==> %s\n' "$*" >&2; }

# --- build -----------------------------------------------------------------
log "building (release)"
cargo build --release -p ilink-crypto --examples
BENCH=$(cargo bench -p ilink-crypto --bench crypto --no-run 2>&1 |
	tee /dev/stderr | sed -n 's/^ *Executable .*(\(.*\))$/\1/p')
ENCRYPT_FILE=target/release/examples/encrypt_file
[[ -x $BENCH && -x $ENCRYPT_FILE ]] || { echo "build products not found" >&2; exit 1; }

# --- in-memory throughput, openssl and ours taking turns ---------------------
# `openssl speed` prints the last figure in thousands of bytes per second;
# our bench binary measures the same way (3 s over one 16 KiB buffer).
openssl_speed() {
	openssl speed "$@" -bytes 16384 -seconds "$SECONDS_PER_SPEED" 2>/dev/null |
		tail -n 1 | awk '{ v = $NF; sub(/k$/, "", v); printf "%.1f", v / 1000 }'
}
ours_speed() { "$BENCH" --only "$1" | sed -n "s/^$1_mb_s=//p"; }
maxf() { awk -v a="${1:-0}" -v b="$2" 'BEGIN { printf "%.1f", (a > b ? a : b) }'; }
OSSL_ENC='' OSSL_DEC='' OSSL_MD5=''
OURS_ENC='' OURS_DEC='' OURS_ENC_STREAM='' OURS_DEC_STREAM='' OURS_MD5=''
for round in 1 2; do
	log "in-memory throughput, round $round of 2 (${SECONDS_PER_SPEED} s per figure)"
	OSSL_ENC=$(maxf "$OSSL_ENC" "$(openssl_speed -evp aes-128-ecb)")
	OURS_ENC=$(maxf "$OURS_ENC" "$(ours_speed aes_ecb_encrypt_in_place)")
	OURS_ENC_STREAM=$(maxf "$OURS_ENC_STREAM" "$(ours_speed encryptor_update)")
	OSSL_DEC=$(maxf "$OSSL_DEC" "$(openssl_speed -decrypt -evp aes-128-ecb)")
	OURS_DEC=$(maxf "$OURS_DEC" "$(ours_speed aes_ecb_decrypt_in_place)")
	OURS_DEC_STREAM=$(maxf "$OURS_DEC_STREAM" "$(ours_speed decryptor_update)")
	OSSL_MD5=$(maxf "$OSSL_MD5" "$(openssl_speed -evp md5)")
	OURS_MD5=$(maxf "$OURS_MD5" "$(ours_speed md5)")
done

# --- the test file -----------------------------------------------------------
want=$((MIB * 1024 * 1024))
if [[ ! -f $FILE || $(stat -c %s "$FILE") -ne $want ]]; then
	log "creating $FILE ($MIB MiB of random bytes)"
	head -c "$want" /dev/urandom >"$FILE.tmp"
	mv "$FILE.tmp" "$FILE"
fi
log "warming the page cache"
cat "$FILE" >/dev/null

# --- the upload pipeline inside one process (for the breakdown) ---------------
log "upload pipeline in the bench binary"
PIPELINE=$("$BENCH" --only none --file "$FILE" | grep '^file pipeline')

# --- whole-process wall times on the file -------------------------------------
# The three commands take turns, $RUNS rounds, and each keeps its best time
# (ms), so a burst of other work on the machine hits them alike.
wall_ms() {
	local start end
	start=$(date +%s%N)
	"$@" >/dev/null
	end=$(date +%s%N)
	printf '%s' $(((end - start) / 1000000))
}
min() { if [[ -z $1 || $2 -lt $1 ]]; then printf '%s' "$2"; else printf '%s' "$1"; fi; }
log "timing openssl md5 vs ours on $FILE (best of $RUNS, interleaved)"
T_OSSL_MD5='' T_OURS_SCAN='' T_OURS_PIPE=''
for _ in $(seq "$RUNS"); do
	T_OSSL_MD5=$(min "$T_OSSL_MD5" "$(wall_ms openssl md5 "$FILE")")
	T_OURS_SCAN=$(min "$T_OURS_SCAN" "$(wall_ms "$ENCRYPT_FILE" --scan-only "$FILE")")
	T_OURS_PIPE=$(min "$T_OURS_PIPE" "$(wall_ms "$ENCRYPT_FILE" "$FILE")")
done
OSSL_SUM=$(openssl md5 -r "$FILE" | cut -d' ' -f1)
OURS_SUM=$("$ENCRYPT_FILE" --scan-only "$FILE" | sed -n 's/^md5=//p')
if [[ $OSSL_SUM != "$OURS_SUM" ]]; then
	echo "MD5 mismatch: openssl $OSSL_SUM, ours $OURS_SUM" >&2
	exit 1
fi

# --- peak RSS -----------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
	log "installing GNU time"
	apt-get install -y -qq time >/dev/null 2>&1 || true
fi
if [[ -x /usr/bin/time ]]; then
	RSS_KIB=$(/usr/bin/time -v "$ENCRYPT_FILE" "$FILE" 2>&1 >/dev/null |
		sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p')
	RSS_HOW='/usr/bin/time -v'
else
	RSS_KIB=$("$ENCRYPT_FILE" "$FILE" | sed -n 's/^vm_hwm_kib=//p')
	RSS_HOW='VmHWM'
fi

# --- table ----------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r >= g ? "ok" : "MISSED") }'; }
mbs() { awk -v ms="$1" -v bytes="$want" 'BEGIN { printf "%.1f", bytes / 1e6 / (ms / 1000) }'; }

R_ENC=$(ratio "$OURS_ENC" "$OSSL_ENC")
R_DEC=$(ratio "$OURS_DEC" "$OSSL_DEC")
R_ENC_STREAM=$(ratio "$OURS_ENC_STREAM" "$OSSL_ENC")
R_DEC_STREAM=$(ratio "$OURS_DEC_STREAM" "$OSSL_DEC")
R_MD5=$(ratio "$OURS_MD5" "$OSSL_MD5")
R_SCAN=$(ratio "$T_OSSL_MD5" "$T_OURS_SCAN")
R_PIPE=$(ratio "$T_OSSL_MD5" "$T_OURS_PIPE")
RSS_MIB=$(awk -v k="$RSS_KIB" 'BEGIN { printf "%.1f", k / 1024 }')
RSS_OK=$(awk -v k="$RSS_KIB" 'BEGIN { print (k <= 16384 ? "ok" : "MISSED") }')

echo
echo "ilink-crypto vs OpenSSL ($(openssl version | cut -d' ' -f1-2)), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| figure | ours | openssl | ours/openssl | goal | |"
echo "|---|---:|---:|---:|---:|---|"
echo "| AES-128-ECB encrypt, 16 KiB, in place (MB/s) | $OURS_ENC | $OSSL_ENC | $R_ENC | ≥ 0.90 | $(verdict "$R_ENC" 0.9) |"
echo "| AES-128-ECB decrypt, 16 KiB, in place (MB/s) | $OURS_DEC | $OSSL_DEC | $R_DEC | ≥ 0.90 | $(verdict "$R_DEC" 0.9) |"
echo "| Encryptor::update, 16 KiB (MB/s) | $OURS_ENC_STREAM | $OSSL_ENC | $R_ENC_STREAM | | |"
echo "| Decryptor::update, 16 KiB (MB/s) | $OURS_DEC_STREAM | $OSSL_DEC | $R_DEC_STREAM | | |"
echo "| MD5, 16 KiB (MB/s) | $OURS_MD5 | $OSSL_MD5 | $R_MD5 | | |"
echo "| $MIB MiB file: MD5 pass alone vs \`openssl md5\` (s) | $(awk -v m="$T_OURS_SCAN" 'BEGIN{printf "%.3f", m/1000}') ($(mbs "$T_OURS_SCAN") MB/s) | $(awk -v m="$T_OSSL_MD5" 'BEGIN{printf "%.3f", m/1000}') ($(mbs "$T_OSSL_MD5") MB/s) | $R_SCAN | | |"
echo "| $MIB MiB file: MD5 pass + encrypt pass vs \`openssl md5\` (s) | $(awk -v m="$T_OURS_PIPE" 'BEGIN{printf "%.3f", m/1000}') | $(awk -v m="$T_OSSL_MD5" 'BEGIN{printf "%.3f", m/1000}') | $R_PIPE | ≥ 0.80 | $(verdict "$R_PIPE" 0.8) |"
echo "| peak RSS, streaming encryption of $MIB MiB ($RSS_HOW) | $RSS_MIB MiB | | | ≤ 16 MiB | $RSS_OK |"
echo
echo "In-memory figures: best of 2 alternating 3-second runs each. File figures: whole-process"
echo "wall times, best of $RUNS interleaved runs; for times the ratio is openssl/ours (higher is better)."
echo "Breakdown, $PIPELINE"
