#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Swapping the encap stage at runtime (lbctl encap / lbctl swap): GUE on its
# own, then IPIP <-> GUE swapped over and over under continuous traffic with
# not one packet lost, and the config's encap key winning at reload.
source "$(dirname "$0")/lib.sh"

VIP=123.168.9.8
B1=10.0.1.1 B2=10.0.2.2
GUE_PORT=6080

write_config() {
	local encap=$1
	cat >"$TMP/config.yaml" <<EOF
encap: $encap
vip: $VIP
backends:
  - ip: $B1
  - ip: $B2
EOF
}

start_captures() {
	spawn b1 "$TMP/cap1.out" "$TOOLS/ipip_capture" -i eth0 -b "$B1" -o client -g "$GUE_PORT" \
		-R "$TMP/cap1.ready"
	spawn b2 "$TMP/cap2.out" "$TOOLS/ipip_capture" -i eth0 -b "$B2" -o client -g "$GUE_PORT" \
		-R "$TMP/cap2.ready"
	wait_file "$TMP/cap1.ready"
	wait_file "$TMP/cap2.ready"
}

test_gue_from_config() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	write_config "{type: gue, port: $GUE_PORT}"
	local out
	out=$(lb_load "$TMP/config.yaml" veth1) || fail "lb-load failed: $out"
	check_contains "$out" "encap gue id" "summary names the gue stage"
	check_contains "$(lbctl status veth1)" "stage gue" "status shows gue in the encap slot"
	start_captures
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 20 -n 5 >/dev/null || fail "flow_send failed"
	finish_captures
	check_eq "$(capture_total bad)" 0 "bad frames"
	check_eq "$(capture_total ipip)" 0 "IPIP frames"
	check_eq "$(capture_total gue)" 100 "GUE frames"
	check_one_backend_per_flow
}

test_swap_under_traffic_loses_nothing() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	write_config ipip
	check lb_load "$TMP/config.yaml" veth1 >/dev/null
	start_captures
	# 100 flows x 1000 packets at 20k packets/s: about 5 s of traffic.
	spawn client "$TMP/send.out" "$TOOLS/flow_send" -d "$VIP" -f 100 -n 1000 -r 20000
	local sender=${PIDS[-1]} swaps=0 stage out
	while kill -0 "$sender" 2>/dev/null; do
		stage=$([[ $((swaps % 2)) -eq 0 ]] && echo gue || echo ipip)
		out=$(lbctl encap veth1 "$stage" 2>&1) || fail "swap $swaps to $stage failed: $out"
		swaps=$((swaps + 1))
	done
	wait "$sender" || fail "flow_send failed: $(cat "$TMP/send.out")"
	finish_captures
	echo "    $swaps swaps during $(head -n 1 "$TMP/send.out")"
	((swaps >= 100)) || fail "only $swaps swaps happened while traffic flowed"
	check_contains "$(cat "$TMP/send.out")" "sent 100000 packets" "sender"
	local ipip gue
	ipip=$(capture_total ipip) gue=$(capture_total gue)
	echo "    received: ipip=$ipip gue=$gue"
	check_eq "$(capture_total bad)" 0 "bad frames"
	check_eq "$(capture_total socket_drops)" 0 "frames the captures themselves dropped"
	check_eq $((ipip + gue)) 100000 "packets received (ipip + gue)"
	((ipip > 0 && gue > 0)) || fail "one format never arrived: ipip=$ipip gue=$gue"
	check_eq "$(counter encap.tx)" 100000 "encap.tx"
	local drops=0 reason
	for reason in pass_no_neigh pass_to_stack drop_mtu drop_no_route drop_fwd_disabled \
		drop_headroom drop_bad_ctx; do
		drops=$((drops + $(counter "encap.$reason")))
	done
	check_eq "$drops" 0 "encap drops and passes"
	check_eq "$(counter lb.pass_no_encap_stage)" 0 "lb.pass_no_encap_stage (empty slot)"
	check_eq "$(counter lb.flow_new)" 100 "flows scheduled (swaps leave the flow table alone)"
	check_one_backend_per_flow
}

test_swap_refusals_and_reload() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	write_config ipip
	check lb_load "$TMP/config.yaml" veth1 >/dev/null
	local out
	out=$(lbctl encap veth1 vxlan 2>&1) && fail "swap to an unknown stage succeeded"
	check_contains "$out" 'no stage "vxlan" for slot encap, expected one of: ipip gue' "unknown stage"
	out=$(lbctl swap veth1 parse gue 2>&1) && fail "swap of an unknown slot succeeded"
	check_contains "$out" 'unknown slot "parse", expected lb or encap' "unknown slot"
	out=$(lbctl swap veth1 encap 2>&1) && fail "swap without a stage succeeded"
	check_contains "$out" "usage: lbctl swap IFNAME SLOT STAGE" "swap usage"
	check_contains "$(lbctl status veth1)" "stage ipip" "refusals left ipip in place"
	out=$(lbctl swap veth1 encap gue) || fail "swap failed: $out"
	check_contains "$out" "slot encap now runs gue (xdp_lb_gue id" "swap message"
	check_contains "$out" "was ipip" "swap message names the previous stage"
	check_contains "$(lbctl status veth1)" "stage gue" "status after the swap"
	# The config's encap key sets the slot again at reload.
	out=$(lb_load "$TMP/config.yaml" veth1) || fail "reload failed: $out"
	check_contains "$(lbctl status veth1)" "stage ipip" "reload applies encap: ipip"
	local dir
	dir=$(pin_dir)
	check lb_load --unload veth1 >/dev/null
	[[ ! -e $dir ]] || fail "stage pins left after unload at $dir"
	return 0
}

run_tests integration-stage-swap \
	test_gue_from_config \
	test_swap_under_traffic_loses_nothing \
	test_swap_refusals_and_reload
