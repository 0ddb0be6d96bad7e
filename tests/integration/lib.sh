# SPDX-License-Identifier: GPL-2.0
# Shared by the integration tests (sourced): a topology per test, checks that
# stop the test at the first failure, a distinct skip code, cleanup after every
# test, and the closing summary line tests/run.sh adds up.
#
# A test file defines functions and calls run_tests SUITE test_a test_b ...
# Inside a test: check CMD... / check_eq ACTUAL EXPECTED WHAT / skip REASON.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUTPUT=${OUTPUT:-build}
[[ $OUTPUT = /* ]] || OUTPUT=$ROOT/$OUTPUT
TOOLS=$OUTPUT/tools
SKIP_CODE=77
# Unique per run: names of namespaces, files and pins never collide.
PREFIX=xlbt$$
TMP=$(mktemp -d "/tmp/$PREFIX.XXXX")
PIDS=()

# Stops the test; shows the balancer's counters, which usually say why.
fail() {
	echo "    FAIL: $*"
	if [[ -e /run/netns/$PREFIX-lb ]]; then
		echo "    balancer state:"
		nsenter --net="/run/netns/$PREFIX-lb" "$ROOT/lbctl" stats veth1 2>&1 |
			sed 's/^/      /'
	fi
	exit 1
}

skip() {
	echo "    SKIP: $*"
	exit "$SKIP_CODE"
}

check() {
	"$@" || fail "command failed: $*"
}

check_eq() {
	[[ $1 == "$2" ]] || fail "$3: expected '$2', got '$1'"
}

# Output must contain a fixed string.
check_contains() {
	grep -qF -- "$2" <<<"$1" || fail "$3: expected to find '$2' in:
$1"
}

# Runs in a namespace's network only: the host's /sys/fs/bpf stays visible,
# which lb-load needs (docs/kernels.md: ip netns exec hides bpffs).
in_net() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$PREFIX-$ns" "$@"
}

# Starts a background command in a namespace and remembers its PID. nsenter
# execs the command, so the PID is the command's own and a signal reaches it.
spawn() {
	local ns=$1 out=$2
	shift 2
	nsenter --net="/run/netns/$PREFIX-$ns" "$@" >"$out" 2>&1 &
	PIDS+=($!)
}

# Whether process $1 runs (an exited child not yet waited for does not).
still_running() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $state != Z* ]]
}

# Ends only the processes this test started, by PID.
stop_spawned() {
	local pid
	for pid in "${PIDS[@]}"; do
		# Its children first (socat's fork mode serves each peer in a
		# child, which would outlive its parent), by parent PID only.
		pkill -TERM -P "$pid" 2>/dev/null || true
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		# A UDP socat in fork mode once survived its SIGTERM and kept CI
		# waiting for ever (a second SIGTERM ended it): after 3 s, SIGKILL,
		# to the same PIDs.
		for _ in $(seq 30); do
			still_running "$pid" || break
			sleep 0.1
		done
		if still_running "$pid"; then
			pkill -KILL -P "$pid" 2>/dev/null || true
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
}

# Waits until file $1 exists (a tool's ready marker), at most 5 s.
wait_file() {
	local i
	for i in $(seq 50); do
		[[ -e $1 ]] && return 0
		sleep 0.1
	done
	fail "timed out waiting for $1"
}

# This test's pin directory: its veth1, in its own network namespace.
pin_dir() {
	echo "/sys/fs/bpf/xdp-lb/veth1@$PREFIX-lb"
}

lb_load() {
	in_net lb "$ROOT/lb-load" "$@"
}

lbctl() {
	in_net lb "$ROOT/lbctl" "$@"
}

SCHEMA=$ROOT/docs/lbctl.schema.json


# Validates every line of stdin (one JSON object each) against the schema;
# prints "valid N", or the first error and fails.
validate() {
	python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
n = 0
for line in sys.stdin:
    doc = json.loads(line)
    for error in validator.iter_errors(doc):
        print("invalid at %s: %s" % (list(error.absolute_path), error.message[:300]))
        sys.exit(1)
    n += 1
print("valid %d" % n)
' "$SCHEMA"
}

# A field of a JSON document on stdin, by a Python expression on d.
field() {
	python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# Lets the last frames cross the bridge, then stops the captures.
finish_captures() {
	sleep 0.5
	stop_spawned
}

# Sums field NAME=N of the captures' closing lines ($TMP/cap*.out).
capture_total() {
	grep -h '^capture ' "$TMP"/cap*.out | grep -oE "$1=[0-9]+" | cut -d= -f2 |
		awk '{ n += $1 } END { print n + 0 }'
}

# One counter, stage.reason, from lbctl stats --json.
counter() {
	local stage=${1%%.*} reason=${1#*.}
	lbctl stats veth1 --json | grep -oE "\"$stage\": \{[^}]*\}" |
		grep -oE "\"$reason\": [0-9]+" | grep -oE '[0-9]+$'
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# wait_log TEXT [MS]: waits until xdp-lbd's log ($TMP/lbd.log) has a line
# containing TEXT.
wait_log() {
	local deadline=$(($(now_ms) + ${2:-5000}))
	while (($(now_ms) < deadline)); do
		grep -qF -- "$1" "$TMP/lbd.log" && return 0
		sleep 0.05
	done
	fail "the log has no '$1' within ${2:-5000} ms:
$(cat "$TMP/lbd.log")"
}

# lbctl status's line of backend $1 under VIP $2 (e.g. 10.0.0.10:8080/tcp).
status_line() {
	lbctl status veth1 | awk -v vip="VIP $2 " -v be=" $1 " '
		index($0, "  VIP ") == 1 { inside = index($0, vip) == 3 }
		inside && index($0, "backend ") && index($0, be) { print }'
}

# Every flow (source and destination) seen on exactly one backend capture.
check_one_backend_per_flow() {
	local dup
	dup=$(cat "$TMP"/cap*.out | grep '^flow ' | awk '{print $3, $4}' | sort | uniq -d)
	[[ -z $dup ]] || fail "flows seen on more than one backend: $dup"
}

# Servers b1 and b2 on TCP port $1 and UDP port $2 (socat): each answers with
# its name on a line of its own, then echoes every byte it receives, so a
# reply tells which server took the connection. Waits until both listen.
# With 6 as $3 they listen on IPv6 (socat's TCP6-LISTEN, UDP6-LISTEN).
start_echo_servers() {
	local tcp=$1 udp=$2 family=${3:-} i
	printf '#!/bin/sh\necho "$1"\nexec cat\n' >"$TMP/serve.sh"
	for i in 1 2; do
		spawn "b$i" "$TMP/tcp$family-$i.log" socat "TCP$family-LISTEN:$tcp,fork,reuseaddr" \
			EXEC:"sh $TMP/serve.sh b$i"
		spawn "b$i" "$TMP/udp$family-$i.log" socat "UDP$family-LISTEN:$udp,fork,reuseaddr" \
			EXEC:"sh $TMP/serve.sh b$i"
	done
	for i in 1 2; do
		for _ in $(seq 50); do
			in_net "b$i" ss -ltn | grep -q ":$tcp " && break
			sleep 0.1
		done
		in_net "b$i" ss -ltn | grep -q ":$tcp " || fail "server b$i not listening"
	done
}

# A veth sender with checksum offload leaves TCP/UDP checksums partial (the
# receiver would complete them); NAT updates a checksum, it cannot complete
# one, so the hosts compute full checksums like a NIC delivers them
# (docs/nat.md, "Limits").
# udp_connected_result NS ADDR PORT: one datagram from a connected UDP socket
# in namespace NS to ADDR (IPv4 or IPv6):PORT, then what came back within 3 s:
# "answered", "refused" (ECONNREFUSED: an ICMP port unreachable reached the
# socket) or "timed out".
udp_connected_result() {
	in_net "$1" python3 - "$2" "$3" <<'PY'
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
s.send(b"anyone there?")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timed out")
PY
}

full_checksums() {
	local ns
	for ns in client b1 b2; do
		check in_net "$ns" ethtool -K eth0 tx off >/dev/null
	done
}

topology() {
	OUTPUT=$OUTPUT "$ROOT/scripts/topology.sh" "$@"
}

# Removes what a test may have left: our program and pins, then namespaces.
cleanup_test() {
	stop_spawned
	if [[ -e /run/netns/$PREFIX-lb ]]; then
		lb_load --unload veth1 >/dev/null 2>&1 || true
	fi
	topology down "$PREFIX"
}

# INTEGRATION_ONLY=name runs only the tests whose name contains it.
run_tests() {
	local suite=$1 t status passed=0 failed=0 skipped=0 selected=()
	shift
	for t in "$@"; do
		[[ -z ${INTEGRATION_ONLY:-} || $t == *"$INTEGRATION_ONLY"* ]] && selected+=("$t")
	done
	set -- "${selected[@]}"
	if [[ $(id -u) -ne 0 ]]; then
		for t in "$@"; do echo "ok - $suite: $t # SKIP needs root"; done
		echo "$suite: 0 passed, 0 failed, $# skipped"
		return 0
	fi
	trap 'cleanup_test; rm -rf "$TMP"' EXIT
	for t in "$@"; do
		(
			set -u
			# Each test has its own files: no marker or capture of an
			# earlier test can be mistaken for this one's.
			TMP=$TMP/$t
			mkdir -p "$TMP"
			trap cleanup_test EXIT
			"$t"
		)
		status=$?
		if ((status == 0)); then
			passed=$((passed + 1))
			echo "ok - $suite: $t"
		elif ((status == SKIP_CODE)); then
			skipped=$((skipped + 1))
			echo "ok - $suite: $t # SKIP"
		else
			failed=$((failed + 1))
			echo "not ok - $suite: $t"
		fi
	done
	echo "$suite: $passed passed, $failed failed, $skipped skipped"
	((failed == 0))
}
