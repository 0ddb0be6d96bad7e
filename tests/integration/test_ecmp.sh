#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Several balancers behind ECMP (docs/scale-out.md). First xdp-lbd's VIP
# announcement on one balancer (no routing daemon needed): a route per VIP
# address in the --announce-table while loaded, attached and a backend is up;
# withdrawn at unload, when every backend is down or drain (config or a state
# flip in the pinned map, as health checks make), at SIGTERM; a route left by
# a killed daemon removed by the next one; other routes of the table left
# alone. Then make demo-ecmp's lab (BIRD router, 3 balancers with BIRD, 3
# backends): the router's next hops before and after one balancer is taken
# away, 0 Maglev flows changed backend, every flow still arrives, the flows
# re-spread over the remaining balancers.
source "$(dirname "$0")/lib.sh"

VIP_A=10.99.0.1
VIP_B=10.99.0.2
VIP_C=fd00:99::1
B1=10.0.1.1 B2=10.0.2.2
B61=fd00:10::b1 B62=fd00:10::b2
TABLE=100

# VIP A on two ports and VIP B; A's backends up unless $1/$2 give their
# states; ONLY_B=1 leaves A out; V6=1 adds IPv6 VIP C. Backend ids: A's 0-3,
# B's 4 and 5, C's 6 and 7.
write_config() {
	local port
	{
		echo "vips:"
		for port in 53 54; do
			[[ -n ${ONLY_B:-} ]] && continue
			cat <<EOF
  - address: $VIP_A
    port: $port
    backends:
      - ip: $B1
        state: ${1:-up}
      - ip: $B2
        state: ${2:-up}
EOF
		done
		cat <<EOF
  - address: $VIP_B
    port: 80
    protocol: tcp
    policy: maglev
    backends:
      - ip: $B1
      - ip: $B2
EOF
		[[ -n ${V6:-} ]] || return 0
		cat <<EOF
  - address: $VIP_C
    port: 80
    protocol: tcp
    backends:
      - ip: $B61
      - ip: $B62
EOF
	} >"$TMP/lb.yaml"
}

# Backend $1 of lbctl status is $2 in state $3.
check_backend() {
	lbctl status veth1 | grep -qE "backend $1 +$2 +$3 " ||
		fail "backend $1 is not $2 in state $3:
$(lbctl status veth1)"
}

start_daemon() {
	spawn lb "$TMP/lbd.log" "$ROOT/xdp-lbd" --announce-table "$TABLE" --interval 0.2 veth1
	LBD_PID=${PIDS[-1]}
}

# The announcement table's routes, one per line as ip prints them; IPv6
# ones with -6 as $1.
announced() {
	ip -n "$PREFIX-lb" ${1:+"$1"} route show table "$TABLE"
}

# Waits (at most 5 s) until the table is exactly $1 (lines in any order); its
# IPv6 routes with -6 as $2.
wait_table() {
	local want i
	want=$(sort <<<"$1")
	for i in $(seq 50); do
		[[ $(announced "${2:-}" | sort) == "$want" ]] && return 0
		sleep 0.1
	done
	fail "table $TABLE${2:+ ($2)} is not '$1' within 5 s but:
$(announced "${2:-}")
log: $(cat "$TMP/lbd.log")"
}

# Unlike lib.sh's: $1 is an extended regular expression.
wait_log() {
	local i
	for i in $(seq 50); do
		grep -qE -- "$1" "$TMP/lbd.log" && return 0
		sleep 0.1
	done
	fail "the log has no line matching '$1' within 5 s:
$(cat "$TMP/lbd.log")"
}

forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

stop_daemon() {
	local signal=${1:-TERM} status
	kill "-$signal" "$LBD_PID"
	wait "$LBD_PID" 2>/dev/null # no "Killed" notice from bash
	status=$?
	forget_pid "$LBD_PID"
	return "$status"
}

route_a="$VIP_A dev veth1 proto 250 scope link "
route_b="$VIP_B dev veth1 proto 250 scope link "
# Another program's route in the same table: never ours to touch.
route_other="192.0.2.7 dev veth1 proto static scope link "

lab_up() {
	topology up "$PREFIX" "$VIP_A $VIP_B" "$B1" "$B2"
	check ip -n "$PREFIX-lb" route add 192.0.2.7/32 dev veth1 table "$TABLE" proto static
}

test_announces_while_loaded_withdraws_at_unload() {
	lab_up
	write_config
	start_daemon
	wait_log "xdp-lb is not loaded on veth1"
	sleep 0.5 # a few passes of the loop: nothing may be announced
	check_eq "$(announced)" "$route_other" "table before a load"
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	wait_table "$route_a
$route_b
$route_other"
	wait_log "^announcing $VIP_A/32 in table $TABLE via veth1: 4 of 4 backends up$"
	wait_log "^announcing $VIP_B/32 in table $TABLE via veth1: 2 of 2 backends up$"

	check lb_load --unload veth1 >/dev/null
	wait_table "$route_other"
	# Detached first, then the pins go: either can be what the daemon sees.
	wait_log "^Warning: withdrew $VIP_A/32 from table $TABLE: \
xdp-lb('s entry program)? is not (loaded on|attached to) veth1$"
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	wait_table "$route_a
$route_b
$route_other"
}

test_no_backend_up_withdraws() {
	lab_up
	write_config drain down
	start_daemon
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	wait_table "$route_b
$route_other"
	# B1 is drain and B2 down in both of A's VIPs (ports 53 and 80).
	check_backend 2 "$B1" drain
	check_backend 3 "$B2" down

	write_config
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	wait_table "$route_a
$route_b
$route_other"

	# A health check flips a state in the pinned map, not in the config: VIP
	# B's backends are ids 4 and 5 (A's VIPs have 0-3).
	check_backend 4 "$B1" up
	check_backend 5 "$B2" up
	set_state 4 3
	check_backend 4 "$B1" down
	sleep 0.5
	check_eq "$(announced | sort)" "$(sort <<<"$route_a
$route_b
$route_other")" "table with one of B's backends down"
	set_state 5 2
	wait_table "$route_a
$route_other"
	wait_log "^Warning: withdrew $VIP_B/32 from table $TABLE: \
no backend of its VIP is up \(0 of 2 up\)$"
	set_state 5 1
	wait_table "$route_a
$route_b
$route_other"
	wait_log "announcing $VIP_B/32 in table $TABLE via veth1: 1 of 2 backends up$"
}

# Writes state $2 (1 up, 2 drain, 3 down) into backend $1 of the pinned
# backends map, the way the health checks will: one map update.
set_state() {
	local id=$1 state=$2 map value
	map=$(pin_dir)/backends
	value=$(bpftool -j map lookup pinned "$map" key "$id" 0 0 0 |
		python3 -c 'import json, sys
v = json.load(sys.stdin)["value"]
v[22] = hex(int(sys.argv[1]))  # struct lb_backend: 16-byte address, 6-byte MAC, state
print(" ".join(v))' "$state") || fail "cannot read backend $id"
	# shellcheck disable=SC2086 # one word per byte
	check bpftool map update pinned "$map" key "$id" 0 0 0 value $value
}

test_sigterm_withdraws_sigkill_leaves_next_daemon_cleans() {
	local out
	lab_up
	write_config
	start_daemon
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	wait_table "$route_a
$route_b
$route_other"
	stop_daemon TERM || fail "xdp-lbd exited with $? on SIGTERM"
	check_eq "$(announced)" "$route_other" "table after SIGTERM"
	check grep -qxF "withdrew $VIP_A/32 from table $TABLE: xdp-lbd stops (Terminated)" \
		"$TMP/lbd.log"

	# A daemon that is killed cannot withdraw (docs/scale-out.md says how to
	# guard): its routes stay until the next one starts.
	start_daemon
	wait_table "$route_a
$route_b
$route_other"
	stop_daemon KILL
	check_eq "$(announced | sort)" "$(sort <<<"$route_a
$route_b
$route_other")" "table after SIGKILL"
	# The next daemon finds a VIP gone from the config: it withdraws it.
	ONLY_B=1 write_config
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	: >"$TMP/lbd.log"
	start_daemon
	wait_table "$route_b
$route_other"
	wait_log "^withdrew $VIP_A/32 from table $TABLE: no VIP on it any more$"

	# The unit's guard (its first ExecStopPost): after a daemon was killed,
	# `xdp-lbd --withdraw` takes its routes away before the unload, and only
	# its own: another program's route in the table stays.
	stop_daemon KILL
	check_eq "$(announced | sort)" "$(sort <<<"$route_b
$route_other")" "table after the second SIGKILL"
	out=$(in_net lb "$ROOT/xdp-lbd" --withdraw --announce-table "$TABLE" --interval 0.2 \
		veth1 2>&1) || fail "xdp-lbd --withdraw failed: $out"
	check_contains "$out" "withdrew $VIP_B/32 from table $TABLE: xdp-lbd --withdraw" \
		"what --withdraw says"
	check_eq "$(announced)" "$route_other" "table after xdp-lbd --withdraw"
	out=$(in_net lb "$ROOT/xdp-lbd" --withdraw veth1 2>&1) ||
		fail "xdp-lbd --withdraw without a table failed: $out"
	check_contains "$out" "nothing to withdraw for veth1: no --announce-table" \
		"--withdraw without a table"
}

# An IPv6 VIP is announced as a /128 beside the IPv4 /32s, by the same
# rules: withdrawn when no backend of it is up (a state flip in the pinned
# map, as health checks make) and at SIGTERM; a killed daemon's route is
# removed by xdp-lbd --withdraw; another program's IPv6 route is left alone.
test_ipv6_vip_announced_and_withdrawn() {
	local route_c="$VIP_C dev veth1 proto 250 metric 1024 pref medium"
	local route_other6="2001:db8::7 dev veth1 proto static metric 1024 pref medium" out
	lab_up
	topology ipv6 "$PREFIX" "$VIP_C" "$B61" "$B62"
	check ip -n "$PREFIX-lb" -6 route add 2001:db8::7/128 dev veth1 table "$TABLE" proto static
	V6=1 write_config
	start_daemon
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	wait_table "$route_c
$route_other6" -6
	wait_table "$route_a
$route_b
$route_other"
	wait_log "^announcing $VIP_C/128 in table $TABLE via veth1: 2 of 2 backends up$"

	check_backend 6 "$B61" up
	set_state 6 3
	set_state 7 3
	wait_table "$route_other6" -6
	wait_log "^Warning: withdrew $VIP_C/128 from table $TABLE: \
no backend of its VIP is up \(0 of 2 up\)$"
	check_eq "$(announced | sort)" "$(sort <<<"$route_a
$route_b
$route_other")" "the IPv4 routes while C is withdrawn"
	set_state 7 1
	wait_table "$route_c
$route_other6" -6
	wait_log "^announcing $VIP_C/128 in table $TABLE via veth1: 1 of 2 backends up$"

	stop_daemon TERM || fail "xdp-lbd exited with $? on SIGTERM"
	check_eq "$(announced -6)" "$route_other6" "IPv6 routes after SIGTERM"
	check grep -qxF "withdrew $VIP_C/128 from table $TABLE: xdp-lbd stops (Terminated)" \
		"$TMP/lbd.log"

	start_daemon
	wait_table "$route_c
$route_other6" -6
	stop_daemon KILL
	check_eq "$(announced -6 | sort)" "$(sort <<<"$route_c
$route_other6")" "IPv6 routes after SIGKILL"
	out=$(in_net lb "$ROOT/xdp-lbd" --withdraw --announce-table "$TABLE" veth1 2>&1) ||
		fail "xdp-lbd --withdraw failed: $out"
	check_contains "$out" "withdrew $VIP_C/128 from table $TABLE: xdp-lbd --withdraw" \
		"what --withdraw says of the IPv6 route"
	check_eq "$(announced -6)" "$route_other6" "IPv6 routes after xdp-lbd --withdraw"
}

test_bad_table_is_refused() {
	local out status
	for t in "253:the kernel's default table" "254:the kernel's main table" \
		"255:the kernel's local table"; do
		out=$("$ROOT/xdp-lbd" --announce-table "${t%%:*}" lo 2>&1)
		status=$?
		check_eq "$status" 2 "exit status for table ${t%%:*}"
		check_contains "$out" \
			"Error: --announce-table: ${t%%:*} is ${t#*:}; give a table of its own, e.g. 100" \
			"table ${t%%:*}"
	done
	out=$("$ROOT/xdp-lbd" --announce-table 0 lo 2>&1)
	check_eq "$?" 2 "exit status for table 0"
	check_contains "$out" \
		'Error: --announce-table: "0" is out of range, expected a whole number 1..4294967294' \
		"table 0"
	out=$("$ROOT/xdp-lbd" --announce-table main lo 2>&1)
	check_eq "$?" 2 "exit status for a name"
	check_contains "$out" \
		'Error: --announce-table: "main" is not a decimal number, expected a whole number 1..4294967294' \
		"a table name"
}

# One KEY=VALUE of the demo's result file.
result() {
	sed -n "s/^$1=//p" "$TMP/demo/result"
}

# "SRC:SPORT BACKEND" per flow of VIP $2 from phase $1's raw captures.
captured() {
	local i
	for i in 1 2 3; do
		awk -v dst="$2:5000" -v b="$i" '$1 == "flow" && $4 == dst { print $3, b }' \
			"$TMP/demo/$1-cap$i.out"
	done | sort
}

test_demo_one_balancer_away() {
	local flows=200 out
	command -v bird >/dev/null || skip "bird2 is not installed (make deps)"
	out=$(ECMP_PREFIX=$PREFIX ECMP_OUT=$TMP/demo FLOWS=$flows OUTPUT=$OUTPUT \
		timeout 180 "$ROOT/scripts/demo_ecmp.sh" 2>&1) || fail "demo-ecmp failed:
$out"
	check_eq "$(result routes_before)" 3 "router next hops before"
	check_eq "$(result announced_after_stop)" 0 "lb2's table after its xdp-lbd stopped"
	check_eq "$(result routes_after)" 2 "router next hops after"
	check_contains "$out" "router: 10.99.0.1 via 10.0.0.11 10.0.0.13 (" "next hops printed"

	# Recounted from the captures: every flow arrived in both phases (lb2
	# unloaded has no route to the VIPs: a flow still sent there is lost),
	# and no Maglev flow changed backend.
	local vip
	for vip in 10.99.0.1 10.99.0.2; do
		check_eq "$(captured before $vip | wc -l)" "$flows" "flows of $vip before"
		check_eq "$(captured after $vip | wc -l)" "$flows" "flows of $vip after"
	done
	check_eq "$(join <(captured before 10.99.0.1) <(captured after 10.99.0.1) |
		awk '$2 != $3' | wc -l)" 0 "Maglev flows that changed backend"
	check_eq "$(result maglev_changed_backend)" 0 "the demo's Maglev count"
	check_eq "$(result least_loaded_changed_backend)" \
		"$(join <(captured before 10.99.0.2) <(captured after 10.99.0.2) |
			awk '$2 != $3' | wc -l)" "the demo's least-loaded count"
	check_contains "$out" "10.99.0.2 (least_loaded): $flows flows before, $flows after;" \
		"least-loaded figures printed"
	grep -h '^capture ' "$TMP"/demo/*-cap*.out | grep -v ' bad=0 ' &&
		fail "a capture saw bad frames"

	# Every balancer had flows; lb2's moved to lb1 and lb3, both took some.
	local i
	for i in 1 2 3; do
		(($(result "lb${i}_flows_before") > 0)) || fail "lb$i had no flow before"
	done
	(($(result lb1_new_flows) > 0 && $(result lb3_new_flows) > 0)) ||
		fail "flows did not re-spread: lb1 +$(result lb1_new_flows), lb3 +$(result lb3_new_flows)"
	(($(result moved_balancer) >= $(result lb2_flows_before))) ||
		fail "$(result moved_balancer) flows moved, lb2 had $(result lb2_flows_before)"

	# The demo removed its lab: namespaces, BIRDs, pins.
	check_eq "$(ip netns list 2>/dev/null | grep -c "^$PREFIX-")" 0 "namespaces left"
	for i in "$TMP"/demo/lab/bird-*.pid /sys/fs/bpf/xdp-lb/*"@$PREFIX-"*; do
		if [[ -e $i ]]; then fail "left behind: $i"; fi
	done
}

run_tests integration-ecmp \
	test_announces_while_loaded_withdraws_at_unload test_ipv6_vip_announced_and_withdrawn \
	test_no_backend_up_withdraws \
	test_sigterm_withdraws_sigkill_leaves_next_daemon_cleans \
	test_bad_table_is_refused \
	test_demo_one_balancer_away
