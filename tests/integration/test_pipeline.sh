#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# End to end on this machine's kernel: client, balancer and backend network
# namespaces (scripts/topology.sh), real UDP and TCP packets to the VIP, frames
# captured in the backends and checked (tests/tools/ipip_capture.c).
source "$(dirname "$0")/lib.sh"

VIP=123.168.9.8
TCP_VIP=123.168.9.9
B1=10.0.1.1 B2=10.0.2.2 B3=10.0.3.3

# A config with a UDP VIP on every port and a TCP VIP on port 80.
write_extended_config() {
	local extra_backend=${1:-}
	cat >"$TMP/extended.yaml" <<EOF
flow_timeout: 30
vips:
  - address: $VIP
    backends:
      - ip: $B1
      - ip: $B2
$([[ -n $extra_backend ]] && printf '      - ip: %s\n' "$extra_backend")
  - address: $TCP_VIP
    port: 80
    protocol: tcp
    backends:
      - ip: $B1
      - ip: $B2
$([[ -n $extra_backend ]] && printf '      - ip: %s\n' "$extra_backend")
EOF
}

# Starts one capture per backend namespace (b1..bN for the given addresses).
start_captures() {
	local i=0 addr
	for addr in "$@"; do
		i=$((i + 1))
		spawn "b$i" "$TMP/cap$i.out" "$TOOLS/ipip_capture" -i eth0 -b "$addr" -o client \
			-R "$TMP/cap$i.ready"
	done
	for ((j = 1; j <= i; j++)); do wait_file "$TMP/cap$j.ready"; done
}

# Sums "flow ..." counts of a capture file.
capture_packets() {
	awk '$1 == "flow" { n += $NF } END { print n + 0 }' "$1"
}

capture_flows() {
	grep -c '^flow ' "$1" || true
}

# Every capture clean, every flow on exactly one backend, totals as sent.
check_delivery() {
	local flows=$1 per_flow=$2 n=$3 i
	for ((i = 1; i <= n; i++)); do
		check_contains "$(cat "$TMP/cap$i.out")" "bad=0" "backend $i frames well-formed"
		check_contains "$(cat "$TMP/cap$i.out")" "socket_drops=0" \
			"backend $i capture kept up (a drop here is the test's, not the balancer's)"
	done
	local all dup
	all=$(cat "$TMP"/cap*.out | grep '^flow ' | awk '{print $3, $4}' | sort)
	dup=$(uniq -d <<<"$all")
	[[ -z $dup ]] || fail "flows seen on more than one backend: $dup"
	check_eq "$(wc -l <<<"$all")" "$flows" "distinct flows received"
	local total=0
	for ((i = 1; i <= n; i++)); do total=$((total + $(capture_packets "$TMP/cap$i.out"))); done
	check_eq "$total" $((flows * per_flow)) "packets received in all"
	awk -v want="$per_flow" '$1 == "flow" && $NF != want { bad = 1 } END { exit bad }' \
		"$TMP"/cap*.out || fail "a flow lost or gained packets"
}

test_load_summary_and_status() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	local out
	out=$(lb_load "$ROOT/config.yaml" veth1) || fail "lb-load failed: $out"
	echo "$out" | sed 's/^/    | /'
	check_contains "$out" "xdp-lb loaded on veth1" "summary"
	check_contains "$out" "VIP $VIP:*/udp -> 2 backends: $B1 $B2; policy least-loaded; ipip" \
		"summary VIP line"
	if ! grep -q "libxdp dispatcher" <<<"$out"; then
		check_contains "$out" "legacy because" "legacy mode is explained"
		check_contains "$out" "no other XDP program can share veth1" "legacy consequence"
	fi
	out=$(lbctl status veth1) || fail "lbctl status failed"
	check_contains "$out" "xdp_lb_lload" "lb slot filled"
	check_contains "$out" "xdp_lb_ipip" "encap slot filled"
	check_contains "$(ip -n "$PREFIX-lb" link show veth1)" "xdp" "XDP attached to veth1"
}

test_udp_flows_spread_and_stick() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	start_captures "$B1" "$B2"
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 5000 -f 40 -n 5 >/dev/null ||
		fail "flow_send failed"
	finish_captures
	check_delivery 40 5 2
	local f1 f2
	f1=$(capture_flows "$TMP/cap1.out") f2=$(capture_flows "$TMP/cap2.out")
	echo "    flows per backend: $f1 / $f2"
	# Equal-sized flows: least-loaded alternates, the split is even.
	((f1 - f2 <= 1 && f2 - f1 <= 1)) || fail "least-loaded split $f1/$f2 is not even"
	check_eq "$(counter lb.flow_new)" 40 "lb.flow_new"
	check_eq "$(counter lb.flow_hit)" 160 "lb.flow_hit"
	check_eq "$(counter encap.tx)" 200 "encap.tx"
	check_eq "$(counter parse.to_lb)" 200 "parse.to_lb"
}

test_tcp_flows_stick() {
	topology up "$PREFIX" "$VIP $TCP_VIP" "$B1" "$B2"
	write_extended_config
	check lb_load "$TMP/extended.yaml" veth1 >/dev/null
	start_captures "$B1" "$B2"
	in_net client "$TOOLS/flow_send" -d "$TCP_VIP" -p 80 -P tcp -f 20 -n 4 >/dev/null ||
		fail "flow_send failed"
	# TCP to the wrong port is not VIP traffic.
	in_net client "$TOOLS/flow_send" -d "$TCP_VIP" -p 81 -P tcp -f 3 -n 1 >/dev/null
	finish_captures
	check_delivery 20 4 2
	check_contains "$(cat "$TMP/cap1.out" "$TMP/cap2.out")" "flow tcp" "TCP flows captured"
	# Other IPv4 may pass too (the backends' ICMP), so at least 3; that port
	# 81 stayed out of the pipeline shows in flow_new, which is exact.
	(($(counter parse.pass_not_vip) >= 3)) || fail "parse.pass_not_vip (port 81) < 3"
	check_eq "$(counter lb.flow_new)" 20 "lb.flow_new"
}

test_non_vip_traffic_reaches_the_stack() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	local before out
	before=$(counter parse.pass_not_ipv4)
	# TCP to the balancer's own address: the kernel answers with a reset,
	# which it can only do when parse passed the SYN (and ARP) up.
	out=$(in_net client timeout 5 bash -c 'exec 3<>/dev/tcp/10.0.0.10/7' 2>&1) &&
		fail "connect to a closed port succeeded?"
	check_contains "$out" "Connection refused" "stack answered the non-VIP SYN"
	(($(counter parse.pass_not_vip) >= 1)) || fail "parse.pass_not_vip did not move"
	in_net lb ip neigh flush dev veth1
	in_net client ip neigh flush dev eth0
	in_net client timeout 5 bash -c 'exec 3<>/dev/tcp/10.0.0.10/7' 2>/dev/null
	(($(counter parse.pass_not_ipv4) > before)) || fail "ARP was not counted as passed"
}

test_reload_keeps_established_flows() {
	topology up "$PREFIX" "$VIP $TCP_VIP" "$B1" "$B2" "$B3"
	write_extended_config
	check lb_load "$TMP/extended.yaml" veth1 >/dev/null
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 30 -n 2 -b 20000 >/dev/null
	local before after out
	# Proto, client, VIP, backend id and address: not the age and idle time.
	before=$(lbctl flows veth1 | awk 'NR > 1 { print $1, $2, $3, $4, $5 }' | sort)
	check_eq "$(wc -l <<<"$before")" 30 "flows in the table"
	write_extended_config "$B3"
	out=$(lb_load "$TMP/extended.yaml" veth1) || fail "reload failed: $out"
	check_contains "$out" "xdp-lb reloaded on veth1" "reload summary"
	check_contains "$out" "backends +2 -0 (4 kept)" "reload kept the old backends"
	after=$(lbctl flows veth1 | awk 'NR > 1 { print $1, $2, $3, $4, $5 }' | sort)
	check_eq "$after" "$before" "flow table after reload"
	# The same flows again go to the same backends; new flows may use b3.
	start_captures "$B1" "$B2" "$B3"
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 30 -n 2 -b 20000 >/dev/null
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 30 -n 2 -b 30000 >/dev/null
	finish_captures
	check_delivery 60 2 3
	local port backend
	while read -r _ src _ _ be; do
		port=${src##*:}
		backend=$(grep -l " 10.0.0.1:$port " "$TMP"/cap*.out)
		case $be in
		"$B1") check_eq "$backend" "$TMP/cap1.out" "flow $port after reload" ;;
		"$B2") check_eq "$backend" "$TMP/cap2.out" "flow $port after reload" ;;
		*) fail "flow $port was on unexpected backend $be" ;;
		esac
	done <<<"$before"
	(($(capture_flows "$TMP/cap3.out") > 0)) || fail "the new backend got no new flow"
}

test_unload_leaves_nothing() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	local dir out
	dir=$(pin_dir)
	[[ -d $dir ]] || fail "no pins at $dir"
	out=$(lb_load --unload veth1) || fail "unload failed: $out"
	check_contains "$out" "xdp-lb unloaded from veth1" "unload message"
	[[ ! -e $dir ]] || fail "pins left at $dir"
	[[ ! -e /run/xdp-lb/$(basename "$dir").lock ]] || fail "lock file left after unload"
	ip -n "$PREFIX-lb" link show veth1 | grep -q xdp && fail "XDP still attached"
	out=$(lb_load --unload veth1 2>&1) && fail "second unload succeeded"
	check_contains "$out" "xdp-lb is not loaded on veth1" "second unload message"
}

# Every refused load says why in one line and leaves the interface as it was.
test_refusals_change_nothing() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	local out
	printf 'vip: 123.168.9.8\nbackends:\n  - ip: 10.0.1\n' >"$TMP/bad.yaml"
	out=$(lb_load "$TMP/bad.yaml" veth1 2>&1) && fail "bad config loaded"
	check_contains "$out" "$TMP/bad.yaml:3:9: backends[0].ip:" "config error has file:line:col"
	# Namespace inodes are reused: a lock file of that name may predate this test.
	local lock
	lock=/run/xdp-lb/nosuch0@$PREFIX-lb.lock
	rm -f "$lock"
	out=$(lb_load "$ROOT/config.yaml" nosuch0 2>&1) && fail "missing interface loaded"
	check_contains "$out" "Failed to find interface nosuch0: No such device" "missing interface"
	[[ ! -e $lock ]] || fail "a refused load left a lock file"
	out=$(in_net lb setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$ROOT/lb-load" "$ROOT/config.yaml" veth1 2>&1) && fail "non-root load succeeded"
	check_contains "$out" "lb-load must run as root" "not root"
	out=$(ip netns exec "$PREFIX-lb" "$ROOT/lb-load" "$ROOT/config.yaml" veth1 2>&1) &&
		fail "load under ip netns exec succeeded"
	check_contains "$out" "no bpffs at /sys/fs/bpf under \`ip netns exec\`" "ip netns exec"
	ip -n "$PREFIX-lb" link show veth1 | grep -q xdp && fail "XDP attached after refusals"
	# A foreign program attached without libxdp's dispatcher stays put.
	ip -n "$PREFIX-lb" link set dev veth1 xdp obj "$OUTPUT/bpf/xdp_pass.bpf.o" sec xdp
	out=$(lb_load "$ROOT/config.yaml" veth1 2>&1) && fail "load over a foreign program succeeded"
	check_contains "$out" "another XDP program" "foreign program message"
	check_contains "$out" "nothing was changed on veth1" "rollback message"
	check_contains "$(ip -n "$PREFIX-lb" -d link show veth1)" "xdp_pass" "foreign program kept"
	[[ ! -e $(pin_dir) ]] || fail "pins left after refusals at $(pin_dir)"
	ip -n "$PREFIX-lb" link set dev veth1 xdp off
	# A reload that cannot apply in place is refused; the old config runs on.
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	printf 'flow_table_size: 1024\nvip: 123.168.9.8\nbackends:\n  - ip: 10.0.1.1\n' \
		>"$TMP/resize.yaml"
	out=$(lb_load "$TMP/resize.yaml" veth1 2>&1) && fail "flow table resize applied"
	check_contains "$out" "flow_table_size cannot change in place (65536 -> 1024)" "resize"
	check_contains "$(lbctl status veth1)" "2 backends" "old config still loaded"
}

run_tests integration-pipeline \
	test_load_summary_and_status \
	test_udp_flows_spread_and_stick \
	test_tcp_flows_stick \
	test_non_vip_traffic_reaches_the_stack \
	test_reload_keeps_established_flows \
	test_unload_leaves_nothing \
	test_refusals_change_nothing
