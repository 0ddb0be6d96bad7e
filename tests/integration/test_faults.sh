#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Faults: lb-load killed at random points of a load and a reload, reloads under
# traffic, a full flow table, a removed backend, a deleted interface, and two
# lb-load runs at once. After each, xdp-lb must be in a state it documents:
# the old config or the new one, never a pipeline with a hole.
source "$(dirname "$0")/lib.sh"

VIP=123.168.9.8 VIP2=123.168.9.9
B1=10.0.1.1 B2=10.0.2.2 B3=10.0.3.3
# Reproducible "random" kill points; override to explore: FAULT_SEED=7
FAULT_SEED=${FAULT_SEED:-1}
KILLS=${KILLS:-12}

config_a() {
	cat <<EOF
vips:
  - address: $VIP
    backends: [{ip: $B1}, {ip: $B2}]
EOF
}

config_b() {
	cat <<EOF
vips:
  - address: $VIP
    backends: [{ip: $B1}, {ip: $B2}, {ip: $B3}]
  - address: $VIP2
    port: 80
    protocol: tcp
    backends: [{ip: $B3}]
EOF
}

# What lbctl status says about the VIPs, one line each: "VIP label: N backends".
vip_signature() {
	lbctl status veth1 | grep -E '^  VIP ' | sed -E 's/ \(id [0-9]+, pool [0-9]+\)//' | sort
}

SIG_A="  VIP $VIP:*/udp: 2 backends"
SIG_B=$(printf '  VIP %s:*/udp: 3 backends\n  VIP %s:80/tcp: 1 backends' "$VIP" "$VIP2")

# A complete pipeline: parse attached, both slots filled with library stages.
check_pipeline_complete() {
	local status
	status=$(lbctl status veth1) || fail "lbctl status failed"
	check_contains "$status" "parse  xdp_lb_parse" "$1: parse attached"
	check_contains "$status" "lb     xdp_lb_lload" "$1: lb slot filled"
	grep -qE 'encap +xdp_lb_(ipip|gue) ' <<<"$status" || fail "$1: encap slot empty:
$status"
}

# Kills lb-load with SIGKILL after a delay in [0, max_ms) milliseconds, by its
# PID, and waits until it is gone (its lock and fds with it). Not timeout(1):
# it kills its own process group and returns before the child has exited.
kill_after() {
	local max_ms=$1 ms pid
	shift
	ms=$((RANDOM % max_ms))
	nsenter --net="/run/netns/$PREFIX-lb" "$ROOT/lb-load" "$@" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "$ms"
}

# Milliseconds one lb-load run takes here, to spread kill points over it.
time_load_ms() {
	local start end
	start=$(date +%s%N)
	lb_load "$@" >/dev/null || fail "lb-load failed while timing it"
	end=$(date +%s%N)
	echo $(((end - start) / 1000000 + 1))
}

test_sigkill_during_load_and_reload() {
	topology up "$PREFIX" "$VIP $VIP2" "$B1" "$B2" "$B3"
	config_a >"$TMP/a.yaml"
	config_b >"$TMP/b.yaml"
	local load_ms reload_ms i ms left_a=0 left_b=0 load_none=0 load_stale=0 load_done=0
	load_ms=$(time_load_ms "$TMP/a.yaml" veth1)
	reload_ms=$(time_load_ms "$TMP/b.yaml" veth1)
	check lb_load --unload veth1 >/dev/null
	echo "    a load takes ~${load_ms} ms, a reload ~${reload_ms} ms; seed $FAULT_SEED"
	RANDOM=$FAULT_SEED
	for ((i = 0; i < KILLS; i++)); do
		# A fresh load killed: nothing, or a parse program with no
		# state (it passes every packet), or the whole config A.
		ms=$(kill_after "$load_ms" "$TMP/a.yaml" veth1)
		if [[ -d $(pin_dir) ]] && lbctl status veth1 >/dev/null 2>&1 &&
			[[ -n $(vip_signature) ]]; then
			check_pipeline_complete "load killed at ${ms} ms"
			check_eq "$(vip_signature)" "$SIG_A" "load killed at ${ms} ms: config"
			load_done=$((load_done + 1))
		elif ip -n "$PREFIX-lb" link show veth1 | grep -q xdp; then
			load_stale=$((load_stale + 1))
		else
			load_none=$((load_none + 1))
		fi
		check lb_load "$TMP/a.yaml" veth1 >/dev/null
		check_pipeline_complete "load after a kill at ${ms} ms"
		check_eq "$(vip_signature)" "$SIG_A" "load after a kill at ${ms} ms"
		# A reload killed: config A or config B, never a mix.
		ms=$(kill_after "$reload_ms" "$TMP/b.yaml" veth1)
		check_pipeline_complete "reload killed at ${ms} ms"
		local sig
		sig=$(vip_signature)
		[[ $sig == "$SIG_A" || $sig == "$SIG_B" ]] ||
			fail "reload killed at ${ms} ms left a mixed config:
$sig"
		if [[ $sig == "$SIG_A" ]]; then left_a=$((left_a + 1)); else left_b=$((left_b + 1)); fi
		check lb_load "$TMP/b.yaml" veth1 >/dev/null
		check_eq "$(vip_signature)" "$SIG_B" "reload after a kill at ${ms} ms"
		check lb_load --unload veth1 >/dev/null
		[[ ! -e $(pin_dir) ]] || fail "pins left after unload (kill at ${ms} ms)"
	done
	echo "    killed loads: $load_none left nothing, $load_stale a stateless parse," \
		"$load_done config A; killed reloads: $left_a left A, $left_b left B"
	# And it still balances.
	check lb_load "$TMP/a.yaml" veth1 >/dev/null
	spawn b1 "$TMP/cap1.out" "$TOOLS/ipip_capture" -i eth0 -b "$B1" -o client -R "$TMP/r1"
	spawn b2 "$TMP/cap2.out" "$TOOLS/ipip_capture" -i eth0 -b "$B2" -o client -R "$TMP/r2"
	wait_file "$TMP/r1"
	wait_file "$TMP/r2"
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 20 -n 3 >/dev/null
	sleep 0.5
	stop_spawned
	check_eq "$(cat "$TMP"/cap*.out | awk '$1 == "flow" { n += $NF } END { print n + 0 }')" 60 \
		"packets delivered after the kills"
}

test_reload_under_traffic_keeps_flows() {
	topology up "$PREFIX" "$VIP $VIP2" "$B1" "$B2" "$B3"
	config_a >"$TMP/a.yaml"
	config_b >"$TMP/b.yaml"
	check lb_load "$TMP/a.yaml" veth1 >/dev/null
	local i
	for i in 1 2 3; do
		spawn "b$i" "$TMP/cap$i.out" "$TOOLS/ipip_capture" -i eth0 -b "10.0.$i.$i" \
			-o client -R "$TMP/r$i"
		wait_file "$TMP/r$i"
	done
	# 40 flows, all established before the reloads start.
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 40 -n 1 >/dev/null
	spawn client "$TMP/send.out" "$TOOLS/flow_send" -d "$VIP" -f 40 -n 250 -r 4000
	local sender=${PIDS[-1]} reloads=0
	while kill -0 "$sender" 2>/dev/null; do
		check lb_load "$TMP/$([[ $((reloads % 2)) -eq 0 ]] && echo b || echo a).yaml" \
			veth1 >/dev/null
		reloads=$((reloads + 1))
	done
	sleep 0.5
	stop_spawned
	echo "    $reloads reloads during $(head -n 1 "$TMP/send.out")"
	((reloads >= 5)) || fail "only $reloads reloads while traffic flowed"
	local dup total
	dup=$(cat "$TMP"/cap*.out | grep '^flow ' | awk '{print $3}' | sort | uniq -d)
	[[ -z $dup ]] || fail "flows moved to another backend during reloads: $dup"
	total=$(cat "$TMP"/cap*.out | awk '$1 == "flow" { n += $NF } END { print n + 0 }')
	check_eq "$total" $((40 * 251)) "packets delivered"
	check_eq "$(capture_flows_on "$TMP/cap3.out")" 0 "flows on the backend added by reloads"
}

capture_flows_on() {
	grep -c '^flow ' "$1" || true
}

test_full_flow_table_evicts() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	printf 'flow_table_size: 64\nvip: %s\nbackends: [{ip: %s}, {ip: %s}]\n' \
		"$VIP" "$B1" "$B2" >"$TMP/small.yaml"
	check lb_load "$TMP/small.yaml" veth1 >/dev/null
	spawn b1 "$TMP/cap1.out" "$TOOLS/ipip_capture" -i eth0 -b "$B1" -o client -R "$TMP/r1"
	spawn b2 "$TMP/cap2.out" "$TOOLS/ipip_capture" -i eth0 -b "$B2" -o client -R "$TMP/r2"
	wait_file "$TMP/r1"
	wait_file "$TMP/r2"
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 1000 -n 2 >/dev/null
	sleep 0.5
	stop_spawned
	local stats flows
	stats=$(lbctl stats veth1 --json)
	check_contains "$stats" '"flow_update_failed": 0' "no failed flow insert"
	check_contains "$stats" '"tx": 2000' "every packet forwarded"
	flows=$(lbctl flows veth1 | tail -n +2 | wc -l)
	((flows <= 64 + 64)) || fail "flow table holds $flows entries, size 64"
	check_eq "$(cat "$TMP"/cap*.out | awk '$1 == "flow" { n += $NF } END { print n + 0 }')" \
		2000 "packets delivered"
}

test_removed_backend_reschedules_its_flows() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	printf 'vip: %s\nbackends: [{ip: %s}, {ip: %s}]\n' "$VIP" "$B1" "$B2" >"$TMP/two.yaml"
	printf 'vip: %s\nbackends: [{ip: %s}]\n' "$VIP" "$B2" >"$TMP/one.yaml"
	check lb_load "$TMP/two.yaml" veth1 >/dev/null
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 30 -n 1 >/dev/null
	local on_b1
	on_b1=$(lbctl flows veth1 --backend "$B1" | tail -n +2 | wc -l)
	((on_b1 > 0)) || fail "no flow on $B1 to begin with"
	check lb_load "$TMP/one.yaml" veth1 >/dev/null
	spawn b2 "$TMP/cap2.out" "$TOOLS/ipip_capture" -i eth0 -b "$B2" -o client -R "$TMP/r2"
	wait_file "$TMP/r2"
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 30 -n 2 >/dev/null
	sleep 0.5
	stop_spawned
	check_eq "$(capture_flows_on "$TMP/cap2.out")" 30 "every flow now on $B2"
	local stats
	stats=$(lbctl stats veth1 --json)
	check_contains "$stats" "\"flow_backend_gone\": $on_b1" "flows of the removed backend"
	check_eq "$(lbctl flows veth1 --backend "$B1" | tail -n +2 | wc -l)" 0 "flows left on $B1"
}

test_deleted_interface_then_unload() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	local dir out
	dir=$(pin_dir)
	ip -n "$PREFIX-lb" link del veth1
	out=$(lb_load --unload veth1) || fail "unload after deletion failed: $out"
	check_contains "$out" "state for veth1 removed (the interface no longer exists)" "message"
	[[ ! -e $dir ]] || fail "pins left at $dir"
}

# A first load killed while pinning leaves its staging directory (pins go
# there, then the directory is renamed into place); the next load clears it.
test_stale_staging_dir_is_cleared() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	local dir staging
	dir=$(pin_dir)
	staging="${dir}_new"
	mkdir -p "$staging"
	bpftool map create "$staging/counters" type array key 4 value 8 entries 1 name stale ||
		fail "could not make a stale pin"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	[[ ! -e $staging ]] || fail "the stale staging directory is still there"
	check_pipeline_complete "after a load over a stale staging directory"
	check lb_load --unload veth1 >/dev/null
	[[ ! -e $dir ]] || fail "pins left after unload"
}

test_two_loads_at_once() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	local lock out
	lock="/run/xdp-lb/$(basename "$(pin_dir)").lock"
	mkdir -p /run/xdp-lb
	# Another lb-load holding the interface: this one must refuse at once.
	# One process holds the lock (bash execs sleep), so killing it frees it.
	bash -c 'exec 9>"$1" && flock -n 9 && exec sleep 10' _ "$lock" &
	PIDS+=($!)
	sleep 0.2
	out=$(lb_load "$ROOT/config.yaml" veth1 2>&1) && fail "load succeeded while locked"
	check_contains "$out" "another lb-load is working on veth1 right now" "lock message"
	ip -n "$PREFIX-lb" link show veth1 | grep -q xdp && fail "XDP attached while locked"
	out=$(lbctl encap veth1 gue 2>&1) && fail "lbctl swap succeeded without xdp-lb loaded"
	stop_spawned
	# Two real runs at the same moment: each succeeds or says it is locked,
	# and the result is one complete pipeline.
	in_net lb "$ROOT/lb-load" "$ROOT/config.yaml" veth1 >"$TMP/l1" 2>&1 &
	local p1=$!
	in_net lb "$ROOT/lb-load" "$ROOT/config.yaml" veth1 >"$TMP/l2" 2>&1 &
	local p2=$! s1=0 s2=0
	wait "$p1" || s1=$?
	wait "$p2" || s2=$?
	for f in l1 l2; do
		grep -qE "xdp-lb (loaded|reloaded) on veth1|another lb-load is working on veth1" \
			"$TMP/$f" || fail "concurrent lb-load said something else: $(cat "$TMP/$f")"
	done
	((s1 == 0 || s2 == 0)) || fail "neither concurrent lb-load succeeded"
	check_pipeline_complete "after two concurrent loads"
	check_eq "$(vip_signature)" "  VIP $VIP:*/udp: 2 backends" "config after two loads"
}

run_tests integration-faults \
	test_sigkill_during_load_and_reload \
	test_reload_under_traffic_keeps_flows \
	test_full_flow_table_evicts \
	test_removed_backend_reschedules_its_flows \
	test_deleted_interface_then_unload \
	test_stale_staging_dir_is_cleared \
	test_two_loads_at_once
