#!/usr/bin/env bash
# ilink-rs next to the official client (@tencent-weixin/openclaw-weixin, its
# compiled dist/ modules under Node), both against the standalone
# ilink-simulator, in one run:
#
#   1. send rate: messages per second at concurrency 1, 16 and 256 across
#      ILINK_BENCH_SEND_USERS conversations (1,000 users with context
#      tokens; message n to user n % users): our Bot::send_text with
#      Pacing::unlimited() on the SQLite file store and in memory, vs the
#      official api.js sendMessage from N async loops to the same users;
#      goal at 256 on the SQLite file: ≥ 5× the official client and ≥ 50 %
#      of our transport alone (Bot::raw, no outbox, no pacer, no retries),
#      measured beside them. Also one conversation on the SQLite file (sent
#      in order, one message at a time, as it must be)
#   2. a 1 GiB file send: wall time and peak RSS (our send_file, streamed,
#      vs the official upload.js + send.js pipeline); goal ≤ 64 MiB
#   3. idle accounts: 100, 1,000 and 10,000 accounts long-polling from one
#      process (our run_until per account over one pool vs the official
#      getUpdates loop per account): RSS per account and CPU while idle;
#      goal ≤ 12 KiB per account at 10,000 on h2, HTTP/1.1 ≤ a third of
#      the official figure, no CPU when idle
#   4. latency: an echo bot on the SQLite file (ours, run_until with
#      ctx.reply) and the official client's getUpdates/sendMessage loop
#      (node/echo.mjs), each on its own account; texts pushed to 1 and to
#      100 conversations at a time; push-to-reply-accepted p50 and p99 by
#      the simulator's clock
#   5. crypto: the AES and MD5 ratios from docs/performance.md (measured by
#      crates/ilink-proof/scripts/bench-crypto.sh; not re-measured here)
#
# and prints the tables (Markdown). Every figure is the median of
# ILINK_BENCH_RUNS runs (default 3), ours and the official client taking
# turns, each run on a freshly started simulator (a separate process).
# Every run checks through the simulator's control API that everything was
# accepted. Logs: target/bench/logs.
#
# Usage: crates/ilink-proof/scripts/bench-compare.sh [--quick]
#   --quick   CI smoke mode: tiny counts (send 300 messages at concurrency 1
#             and 16, a 16 MiB file, 100 idle accounts), one run, no Node;
#             exits non-zero when a run fails its checks.
#
# The Node parts print `SKIP: ...` and are left out when node, npm or the
# package cannot be had (the package is fetched with `npm pack` into
# target/bench/official by crates/ilink-proof/node/official.sh).
#
# Over TLS by default, as users run it: the simulator serves HTTPS with a
# test authority made for the run (--tls --ca-out), which ours trusts with
# --ca and Node with NODE_EXTRA_CA_CERTS; verification stays on. Our idle
# accounts run twice, offering h2 (the simulator takes it) and offering only
# HTTP/1.1. ILINK_BENCH_TLS=0 measures plain HTTP instead (no h2 then).
#
# Environment: ILINK_BENCH_TLS (1), ILINK_BENCH_RUNS (3), ILINK_BENCH_FILE (/tmp/ilink-bench-1g.bin,
# created when missing, shared with crates/ilink-proof/scripts/bench-crypto.sh),
# ILINK_BENCH_SEND_MESSAGES (messages per run at concurrency ≥ 16; 20000),
# ILINK_BENCH_SEND_USERS (conversations the sends go to; 1000),
# ILINK_BENCH_PARTS (which parts run; "send file idle latency"),
# ILINK_BENCH_IDLE (idle account counts; "100 1000 10000"),
# ILINK_BENCH_WAIT (seconds to wait for running builds before measuring; 900).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
ROOT=$PWD
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$TARGET/bench
LOGS=$WORK/logs

QUICK=0
case ${1:-} in
--quick) QUICK=1 ;;
"") ;;
-h | --help)
	sed -n '2,/^set -uo/p' "$ROOT/crates/ilink-proof/scripts/bench-compare.sh" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: crates/ilink-proof/scripts/bench-compare.sh [--quick]" >&2
	exit 2
	;;
esac

if ((QUICK)); then
	RUNS=1
	SEND_CONCURRENCY="1 16"
	SEND_MESSAGES_C1=300
	SEND_MESSAGES=300
	SEND_USERS=50
	PARTS="send file idle latency"
	FILE=$WORK/quick-16m.bin
	FILE_MIB=16
	IDLE_COUNTS="100"
	IDLE_WINDOW=2
	IDLE_SETTLE=1
	HOLD=30
else
	RUNS=${ILINK_BENCH_RUNS:-3}
	SEND_CONCURRENCY="1 16 256"
	SEND_MESSAGES_C1=3000
	SEND_MESSAGES=${ILINK_BENCH_SEND_MESSAGES:-20000}
	SEND_USERS=${ILINK_BENCH_SEND_USERS:-1000}
	PARTS=${ILINK_BENCH_PARTS:-send file idle latency}
	FILE=${ILINK_BENCH_FILE:-/tmp/ilink-bench-1g.bin}
	FILE_MIB=1024
	IDLE_COUNTS=${ILINK_BENCH_IDLE:-100 1000 10000}
	IDLE_WINDOW=10
	IDLE_SETTLE=12
	HOLD=300
fi

log() { printf '==> %s\n' "$*" >&2; }
FAILED=0

# --- build --------------------------------------------------------------------
log "building release binaries"
cargo build --release --locked -p ilink-testkit --bin ilink-simulator -p ilink-proof --bin bench_ilink ||
	{ echo "cargo build failed" >&2; exit 1; }
SIM=$TARGET/release/ilink-simulator
OURS_BIN=$TARGET/release/bench_ilink
TLS=${ILINK_BENCH_TLS:-1}
CA=$WORK/ca.pem
if ((TLS)); then
	SIM_TLS=(--tls --ca-out "$CA")
	OURS_TLS=(--ca "$CA")
	NODE_TLS=("NODE_EXTRA_CA_CERTS=$CA")
	IDLE_PROTOCOLS="2 1"
	WIRE="HTTPS (rustls on both sides for ours, Node's TLS for the official client)"
else
	SIM_TLS=()
	OURS_TLS=()
	NODE_TLS=()
	IDLE_PROTOCOLS="1"
	WIRE="plain HTTP"
fi

rm -rf "$LOGS"
mkdir -p "$LOGS"

# --- the official client --------------------------------------------------------
NODE_OK=0
NODE_SKIP=
if ((QUICK)); then
	NODE_SKIP="official client left out in --quick mode"
else
	setup=$("$ROOT/crates/ilink-proof/node/official.sh" "$WORK/official" --reuse 2>&1)
	case $? in
	0) NODE_OK=1 ;;
	3) NODE_SKIP="official client: $(grep '^SKIP: ' <<<"$setup" | sed 's/^SKIP: //')" ;;
	*) NODE_SKIP="official client: setup failed: $(tail -n 1 <<<"$setup")" ;;
	esac
fi
[[ -n $NODE_SKIP ]] && echo "SKIP: $NODE_SKIP"
PKG=$WORK/official/package
mkdir -p "$WORK/official-state" "$WORK/official-tmp"
# The official client's scripts write state and logs to scratch directories.
OFFICIAL=(env "OPENCLAW_STATE_DIR=$WORK/official-state" "OPENCLAW_TMP_DIR=$WORK/official-tmp" "${NODE_TLS[@]}" node)

# --- helpers ----------------------------------------------------------------------
# Waits while a build (rustc) runs: measurements on the 2-core machine would
# otherwise share it.
wait_quiet() {
	local limit=${ILINK_BENCH_WAIT:-900} waited=0
	while pgrep -x rustc >/dev/null 2>&1; do
		((waited == 0)) && log "a build is running; waiting for it to finish before measuring"
		if ((waited >= limit)); then
			log "WARNING: still building after ${limit} s; measuring anyway"
			return
		fi
		sleep 5
		waited=$((waited + 5))
	done
}

SIM_PID=
stop_sim() {
	if [[ -n $SIM_PID ]]; then
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
		SIM_PID=
	fi
}
trap stop_sim EXIT

# Starts a fresh simulator (extra flags as arguments) and sets URLS.
start_sim() {
	stop_sim
	"$SIM" "${SIM_TLS[@]}" "$@" >"$WORK/sim.out" 2>"$WORK/sim.err" &
	SIM_PID=$!
	URLS=
	for _ in $(seq 1 100); do
		if [[ $(wc -l <"$WORK/sim.out") -ge 1 ]]; then
			URLS=$(head -n 1 "$WORK/sim.out")
			return 0
		fi
		kill -0 "$SIM_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "the simulator did not start: $(tail -n 3 "$WORK/sim.err")" >&2
	exit 1
}

# run NAME CMD...: one measurement; its RESULT line in $RESULT (empty when
# the run failed its checks; the reason is in the log).
run() {
	local name=$1
	shift
	wait_quiet
	log "$name"
	if "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err"; then
		RESULT=$(grep '^RESULT ' "$LOGS/$name.out" | tail -n 1)
	else
		RESULT=
		log "FAILED: $name (see $LOGS/$name.err): $(tail -n 1 "$LOGS/$name.err")"
	fi
}

# field RESULT KEY
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

# median VALUE... (empty values ignored; "n/a" when none)
median() {
	printf '%s\n' "$@" | grep -v '^$' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B [digits]: A/B, "n/a" when either is missing
ratio() {
	awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN {
		if (a == "n/a" || b == "n/a" || a == "" || b == "" || b + 0 == 0) print "n/a";
		else printf "%.*f\n", d, a / b }'
}

fmt() { awk -v v="$1" -v d="${2:-1}" 'BEGIN { if (v == "n/a" || v == "") print "n/a"; else printf "%.*f\n", d, v }'; }

# Whether ours goes first in run $1 (they alternate).
ours_first() { (($1 % 2 == 1)); }

TABLES=$WORK/tables.md
: >"$TABLES"
out() { printf '%s\n' "$*" | tee -a "$TABLES"; }

# --- machine ------------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
node_version=$( ((NODE_OK)) && node --version || echo "not used")
MACHINE="$(nproc) cores ($cpu), Linux $(uname -r), $(rustc --version | cut -d' ' -f1-2), node $node_version; $RUNS run(s) per figure, median; every figure over $WIRE"

# --- 1. send rate -------------------------------------------------------------------------
part() { [[ " $PARTS " == *" $1 "* ]]; }
declare -A SEND_SQLITE SEND_MEMORY SEND_OFFICIAL SEND_RAW SEND_ONE
declare -A SEND_SQLITE_RUNS SEND_MEMORY_RUNS SEND_OFFICIAL_RUNS SEND_RAW_RUNS SEND_ONE_RUNS
part send && for c in $SEND_CONCURRENCY; do
	msgs=$SEND_MESSAGES
	((c == 1)) && msgs=$SEND_MESSAGES_C1
	sqlite=() memory=() theirs=() raw=() one=()
	many=(--concurrency "$c" --messages "$msgs" --users "$SEND_USERS")
	for r in $(seq 1 "$RUNS"); do
		for side in $(ours_first "$r" && echo "ours official" || echo "official ours"); do
			if [[ $side == ours ]]; then
				start_sim
				run "send-c$c-sqlite-$r" "$OURS_BIN" send "${OURS_TLS[@]}" --urls "$URLS" --store sqlite "${many[@]}"
				[[ -n $RESULT ]] || FAILED=1
				sqlite+=("$(field "$RESULT" rate)")
				start_sim
				run "send-c$c-memory-$r" "$OURS_BIN" send "${OURS_TLS[@]}" --urls "$URLS" --store memory "${many[@]}"
				[[ -n $RESULT ]] || FAILED=1
				memory+=("$(field "$RESULT" rate)")
				start_sim
				run "send-c$c-raw-$r" "$OURS_BIN" send "${OURS_TLS[@]}" --via raw --urls "$URLS" "${many[@]}"
				[[ -n $RESULT ]] || FAILED=1
				raw+=("$(field "$RESULT" rate)")
				start_sim
				run "send-c$c-one-$r" "$OURS_BIN" send "${OURS_TLS[@]}" --urls "$URLS" --store sqlite --concurrency "$c" --messages "$SEND_MESSAGES_C1" --users 1
				[[ -n $RESULT ]] || FAILED=1
				one+=("$(field "$RESULT" rate)")
			elif ((NODE_OK)); then
				start_sim
				run "send-c$c-official-$r" "${OFFICIAL[@]}" "$ROOT/crates/ilink-proof/node/send.mjs" --pkg "$PKG" --urls "$URLS" "${many[@]}"
				theirs+=("$(field "$RESULT" rate)")
			fi
			stop_sim
		done
	done
	SEND_SQLITE[$c]=$(median "${sqlite[@]}")
	SEND_MEMORY[$c]=$(median "${memory[@]}")
	SEND_RAW[$c]=$(median "${raw[@]}")
	SEND_ONE[$c]=$(median "${one[@]}")
	SEND_OFFICIAL[$c]=$( ((NODE_OK)) && median "${theirs[@]}" || echo n/a)
	SEND_SQLITE_RUNS[$c]="${sqlite[*]}"
	SEND_MEMORY_RUNS[$c]="${memory[*]}"
	SEND_RAW_RUNS[$c]="${raw[*]}"
	SEND_ONE_RUNS[$c]="${one[*]}"
	SEND_OFFICIAL_RUNS[$c]="${theirs[*]:-}"
done

# --- 2. file send ---------------------------------------------------------------------------
if part file; then
want=$((FILE_MIB * 1024 * 1024))
if [[ ! -f $FILE || $(stat -c %s "$FILE") -ne $want ]]; then
	log "creating $FILE ($FILE_MIB MiB of random bytes)"
	head -c "$want" /dev/urandom >"$FILE.tmp" && mv "$FILE.tmp" "$FILE"
fi
cat "$FILE" >/dev/null # page cache warm for both sides
# Peak RSS as /usr/bin/time -v reports it, else the process's own VmHWM figure.
timed() {
	local name=$1
	shift
	if [[ -x /usr/bin/time ]]; then
		run "$name" /usr/bin/time -v -o "$LOGS/$name.time" "$@"
		local kib
		kib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$LOGS/$name.time" 2>/dev/null)
		[[ -n $RESULT && -n $kib ]] && RESULT="$RESULT time_v_peak_kib=$kib"
	else
		run "$name" "$@"
		[[ -n $RESULT ]] && RESULT="$RESULT time_v_peak_kib=$(field "$RESULT" peak_rss_kib)"
	fi
}
file_ours_secs=() file_ours_rss=() file_theirs_secs=() file_theirs_rss=()
for r in $(seq 1 "$RUNS"); do
	for side in $(ours_first "$r" && echo "ours official" || echo "official ours"); do
		if [[ $side == ours ]]; then
			start_sim
			timed "file-ours-$r" "$OURS_BIN" file "${OURS_TLS[@]}" --urls "$URLS" --path "$FILE"
			[[ -n $RESULT ]] || FAILED=1
			file_ours_secs+=("$(field "$RESULT" secs)")
			file_ours_rss+=("$(field "$RESULT" time_v_peak_kib)")
		elif ((NODE_OK)); then
			start_sim
			timed "file-official-$r" "${OFFICIAL[@]}" "$ROOT/crates/ilink-proof/node/upload.mjs" --pkg "$PKG" --urls "$URLS" --path "$FILE"
			file_theirs_secs+=("$(field "$RESULT" secs)")
			file_theirs_rss+=("$(field "$RESULT" time_v_peak_kib)")
		fi
		stop_sim
	done
done
FILE_OURS_SECS=$(median "${file_ours_secs[@]}")
FILE_OURS_RSS=$(median "${file_ours_rss[@]}")
FILE_THEIRS_SECS=$(median "${file_theirs_secs[@]:-}")
FILE_THEIRS_RSS=$(median "${file_theirs_rss[@]:-}")
fi

# --- 3. idle accounts -------------------------------------------------------------------------
# One socket per account in the client, one per held poll in the simulator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
FD_LIMIT=$(ulimit -n)
declare -A IDLE_OURS_KIB IDLE_OURS_CPU IDLE_OURS_CONNS IDLE_THEIRS_KIB IDLE_THEIRS_CPU IDLE_OURS_RUNS IDLE_THEIRS_RUNS
THEIRS_MAX_OK=0
THEIRS_FAILED_AT=
part idle && for n in $IDLE_COUNTS; do
	if [[ $FD_LIMIT != unlimited ]] && ((n + 200 > FD_LIMIT)); then
		log "SKIP: $n idle accounts need more than the fd limit of $FD_LIMIT"
		continue
	fi
	declare -A ours_kib=() ours_cpu=() ours_conns=()
	theirs_kib=() theirs_cpu=()
	node_here=$NODE_OK
	[[ -n $THEIRS_FAILED_AT ]] && node_here=0
	for r in $(seq 1 "$RUNS"); do
		for side in $(ours_first "$r" && echo "ours official" || echo "official ours"); do
			if [[ $side == ours ]]; then
				for h in $IDLE_PROTOCOLS; do
					start_sim --hold "${HOLD}s"
					run "idle-$n-ours-h$h-$r" "$OURS_BIN" idle "${OURS_TLS[@]}" --http "$h" --urls "$URLS" --accounts "$n" \
						--window-secs "$IDLE_WINDOW" --settle-secs "$IDLE_SETTLE" --hold-secs "$HOLD"
					[[ -n $RESULT ]] || FAILED=1
					ours_kib[$h]+=" $(field "$RESULT" per_account_kib)"
					ours_cpu[$h]+=" $(field "$RESULT" idle_cpu_ms)"
					ours_conns[$h]=$(($(field "$RESULT" conns_http1) + $(field "$RESULT" conns_http2)))
					stop_sim
				done
			elif ((node_here)); then
				start_sim --hold "${HOLD}s"
				run "idle-$n-official-$r" "${OFFICIAL[@]}" --expose-gc "$ROOT/crates/ilink-proof/node/idle.mjs" --pkg "$PKG" --urls "$URLS" \
					--accounts "$n" --window-secs "$IDLE_WINDOW" --settle-secs "$IDLE_SETTLE" --hold-secs "$HOLD"
				if [[ -n $RESULT ]]; then
					theirs_kib+=("$(field "$RESULT" per_account_kib)")
					theirs_cpu+=("$(field "$RESULT" idle_cpu_ms)")
				else
					THEIRS_FAILED_AT=$n
					node_here=0
				fi
				stop_sim
			fi
		done
	done
	for h in $IDLE_PROTOCOLS; do
		# shellcheck disable=SC2086 # the runs are space-separated on purpose
		IDLE_OURS_KIB[$n,$h]=$(median ${ours_kib[$h]})
		# shellcheck disable=SC2086
		IDLE_OURS_CPU[$n,$h]=$(median ${ours_cpu[$h]})
		IDLE_OURS_CONNS[$n,$h]=${ours_conns[$h]}
		IDLE_OURS_RUNS[$n,$h]="${ours_kib[$h]# }"
	done
	IDLE_OURS_KIB[$n]=${IDLE_OURS_KIB[$n,1]}
	if ((NODE_OK)) && [[ $THEIRS_FAILED_AT != "$n" ]] && ((${#theirs_kib[@]})); then
		IDLE_THEIRS_KIB[$n]=$(median "${theirs_kib[@]}")
		IDLE_THEIRS_CPU[$n]=$(median "${theirs_cpu[@]}")
		IDLE_THEIRS_RUNS[$n]="${theirs_kib[*]}"
		THEIRS_MAX_OK=$n
	else
		IDLE_THEIRS_KIB[$n]=n/a
		IDLE_THEIRS_CPU[$n]=n/a
		IDLE_THEIRS_RUNS[$n]=
	fi
	unset ours_kib ours_cpu ours_conns
done

# --- 4. latency -------------------------------------------------------------------------------
declare -A LAT_OURS_P50 LAT_OURS_P99 LAT_THEIRS_P50 LAT_THEIRS_P99
LAT_USERS="1 100"
part latency && for u in $LAT_USERS; do
	msgs=$((u == 1 ? 300 : 3000))
	((QUICK)) && msgs=$((u == 1 ? 30 : 200))
	o50=() o99=() t50=() t99=()
	for r in $(seq 1 "$RUNS"); do
		start_sim
		run "latency-u$u-ours-$r" "$OURS_BIN" latency "${OURS_TLS[@]}" --urls "$URLS" --bot ours --store sqlite --users "$u" --messages "$msgs"
		[[ -n $RESULT ]] || FAILED=1
		o50+=("$(field "$RESULT" p50_ms)") o99+=("$(field "$RESULT" p99_ms)")
		if ((NODE_OK)); then
			start_sim
			run "latency-u$u-official-$r" env "OPENCLAW_STATE_DIR=$WORK/official-state" "OPENCLAW_TMP_DIR=$WORK/official-tmp" \
				"$OURS_BIN" latency "${OURS_TLS[@]}" --urls "$URLS" --bot node --script "$ROOT/crates/ilink-proof/node/echo.mjs" --pkg "$PKG" --users "$u" --messages "$msgs"
			t50+=("$(field "$RESULT" p50_ms)") t99+=("$(field "$RESULT" p99_ms)")
		fi
		stop_sim
	done
	LAT_OURS_P50[$u]=$(median "${o50[@]}")
	LAT_OURS_P99[$u]=$(median "${o99[@]}")
	LAT_THEIRS_P50[$u]=$(median "${t50[@]:-}")
	LAT_THEIRS_P99[$u]=$(median "${t99[@]:-}")
done

# --- tables ----------------------------------------------------------------------------------------
verdict() { # verdict OK-CONDITION-AS-AWK VALUE
	awk -v v="$2" "BEGIN { if (v == \"n/a\" || v == \"\") print \"n/a\"; else if ($1) print \"ok\"; else print \"MISSED\" }"
}

out ""
out "Machine: $MACHINE."
out ""
if part send; then
out "### Send rate across $SEND_USERS conversations (messages/s, \`send_text\` vs official \`sendMessage\`)"
out ""
out "| concurrency | messages per run | ours, SQLite file | ours, memory | official | SQLite/official | goal | | ours, transport only (\`Bot::raw\`) | SQLite/transport | goal | | one conversation, SQLite file |"
out "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|"
for c in $SEND_CONCURRENCY; do
	msgs=$SEND_MESSAGES
	((c == 1)) && msgs=$SEND_MESSAGES_C1
	x=$(ratio "${SEND_SQLITE[$c]}" "${SEND_OFFICIAL[$c]}")
	t=$(ratio "${SEND_SQLITE[$c]}" "${SEND_RAW[$c]}")
	goal="" ok="" tgoal="" tok=""
	if ((c == 256)); then
		goal="≥ 5.00"
		ok=$(verdict "v >= 5" "$x")
		tgoal="≥ 0.50"
		tok=$(verdict "v >= 0.5" "$t")
	fi
	out "| $c | $msgs | $(fmt "${SEND_SQLITE[$c]}" 0) | $(fmt "${SEND_MEMORY[$c]}" 0) | $(fmt "${SEND_OFFICIAL[$c]}" 0) | $x | $goal | $ok | $(fmt "${SEND_RAW[$c]}" 0) | $t | $tgoal | $tok | $(fmt "${SEND_ONE[$c]}" 0) |"
done
out ""
for c in $SEND_CONCURRENCY; do
	out "- concurrency $c, runs: SQLite ${SEND_SQLITE_RUNS[$c]}; memory ${SEND_MEMORY_RUNS[$c]}; official ${SEND_OFFICIAL_RUNS[$c]:-n/a}; transport only ${SEND_RAW_RUNS[$c]}; one conversation ${SEND_ONE_RUNS[$c]} ($SEND_MESSAGES_C1 messages)"
done
out ""
fi

if part file; then
out "### File send, $FILE_MIB MiB from disk (getuploadurl, CDN upload, sendmessage)"
out ""
out "| figure | ours | official | official/ours | goal | |"
out "|---|---:|---:|---:|---:|---|"
out "| wall time (s) | $(fmt "$FILE_OURS_SECS" 2) | $(fmt "$FILE_THEIRS_SECS" 2) | $(ratio "$FILE_THEIRS_SECS" "$FILE_OURS_SECS") | | |"
ours_mib=$(awk -v k="$FILE_OURS_RSS" 'BEGIN { if (k == "n/a") print "n/a"; else printf "%.1f\n", k / 1024 }')
theirs_mib=$(awk -v k="$FILE_THEIRS_RSS" 'BEGIN { if (k == "n/a") print "n/a"; else printf "%.1f\n", k / 1024 }')
out "| peak RSS (MiB) | $ours_mib | $theirs_mib | $(ratio "$FILE_THEIRS_RSS" "$FILE_OURS_RSS" 1) | ≤ 64 | $(verdict "v <= 64" "$ours_mib") |"
out ""
out "- runs (s): ours ${file_ours_secs[*]}; official ${file_theirs_secs[*]:-n/a}"
out "- runs (peak KiB): ours ${file_ours_rss[*]}; official ${file_theirs_rss[*]:-n/a}"
out ""
fi
out "### Idle accounts over $WIRE (long-polls held ${HOLD} s; CPU over ${IDLE_WINDOW} s)"
out ""
out "| accounts | protocol (ours) | ours KiB/account | ours connections | ours idle CPU (ms) | official KiB/account (HTTP/1.1) | official idle CPU (ms) | official/ours (memory) | goal | |"
out "|---:|---|---:|---:|---:|---:|---:|---:|---|---|"
for n in $IDLE_COUNTS; do
	[[ -n ${IDLE_OURS_KIB[$n]:-} ]] || continue
	for h in $IDLE_PROTOCOLS; do
		goal="" ok=""
		kib=${IDLE_OURS_KIB[$n,$h]}
		if ((n == 10000)) && [[ $h == 2 ]]; then
			goal="≤ 12 KiB, 0 ms"
			ok="memory $(verdict "v <= 12" "$kib"), CPU $(verdict "v <= 10" "${IDLE_OURS_CPU[$n,$h]}")"
		elif ((n == 10000)); then
			goal="≤ official/3, 0 ms"
			half=$(awk -v t="${IDLE_THEIRS_KIB[$n]}" 'BEGIN { if (t == "n/a") print "n/a"; else print t / 3 }')
			ok="memory $(verdict "v <= $half" "$kib"), CPU $(verdict "v <= 10" "${IDLE_OURS_CPU[$n,$h]}")"
			[[ $half == n/a ]] && ok="memory n/a, CPU $(verdict "v <= 10" "${IDLE_OURS_CPU[$n,$h]}")"
		fi
		proto=$([[ $h == 2 ]] && echo "h2" || echo "HTTP/1.1")
		out "| $n | $proto | $(fmt "$kib" 1) | ${IDLE_OURS_CONNS[$n,$h]} | ${IDLE_OURS_CPU[$n,$h]} | $(fmt "${IDLE_THEIRS_KIB[$n]}" 1) | ${IDLE_THEIRS_CPU[$n]} | $(ratio "${IDLE_THEIRS_KIB[$n]}" "$kib" 1) | $goal | $ok |"
	done
done
out ""
for n in $IDLE_COUNTS; do
	[[ -n ${IDLE_OURS_KIB[$n]:-} ]] || continue
	for h in $IDLE_PROTOCOLS; do
		out "- $n accounts, runs (KiB/account): ours (offering HTTP/$h) ${IDLE_OURS_RUNS[$n,$h]}; official ${IDLE_THEIRS_RUNS[$n]:-n/a}"
	done
done
if ((NODE_OK)); then
	if [[ -n $THEIRS_FAILED_AT ]]; then
		out "- the official client failed at $THEIRS_FAILED_AT accounts (largest count it managed: $THEIRS_MAX_OK; see $LOGS)"
	else
		out "- the official client managed every count up to $THEIRS_MAX_OK"
	fi
fi

if part latency; then
out ""
out "### Latency: push at the simulator to the reply accepted (ms, echo bot)"
out ""
out "| conversations at a time | ours p50 (SQLite file) | ours p99 | official p50 | official p99 |"
out "|---:|---:|---:|---:|---:|"
for u in $LAT_USERS; do
	out "| $u | ${LAT_OURS_P50[$u]} | ${LAT_OURS_P99[$u]} | ${LAT_THEIRS_P50[$u]} | ${LAT_THEIRS_P99[$u]} |"
done
fi

out ""
out "### Crypto (from docs/performance.md, measured by crates/ilink-proof/scripts/bench-crypto.sh; not re-measured here)"
out ""
out "| figure | ours | openssl | ours/openssl | goal |"
out "|---|---:|---:|---:|---:|"
for row in "AES-128-ECB encrypt, 16 KiB, in place" "AES-128-ECB decrypt, 16 KiB, in place" "MD5, 16 KiB" \
	"1 GiB file: MD5 pass + encrypt pass"; do
	line=$(grep -F "| $row" docs/performance.md | head -n 1)
	if [[ -n $line ]]; then
		out "$(awk -F'|' '{ printf "|%s|%s|%s|%s|%s|\n", $2, $3, $4, $5, $6 }' <<<"$line")"
	else
		out "| $row | n/a | n/a | n/a | |"
	fi
done
out ""
[[ -n $NODE_SKIP ]] && out "SKIP: $NODE_SKIP"
log "tables written to $TABLES"
if ((FAILED)); then
	echo "bench-compare: FAIL: a run of ours failed its checks (logs in $LOGS)" >&2
	exit 1
fi
