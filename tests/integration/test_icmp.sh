#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# ICMP for IPv4 VIPs in the teaching topology (client 10.0.0.1, balancer
# 10.0.0.10, backends 10.0.0.2 and .3 on one bridge): echo replies from the
# balancer, "fragmentation needed" to a client whose packets are too big once
# encapsulated (the route to the backends has MTU 1400 here), the kernel
# fragmenting what has no DF, ICMP errors about a flow to the flow's backend,
# and what NAT VIPs do with errors. This kernel cannot decapsulate, so the
# backends capture (tests/tools/ipip_capture.c); tests/vm/pmtu.sh has real ones.
source "$(dirname "$0")/lib.sh"

VIP=10.0.0.100 QUIET=10.0.0.101 CLIENT=10.0.0.1 LB=10.0.0.10 B1=10.0.0.2 B2=10.0.0.3

load_config() {
	cat >"$TMP/config.yaml" <<YAML
vips:
  - {address: $VIP, port: 80, protocol: udp, backends: [{ip: $B1}, {ip: $B2}]}
  - {address: $VIP, port: 80, protocol: tcp, backends: [{ip: $B1}, {ip: $B2}]}
  - {address: $QUIET, port: 80, protocol: udp, icmp_echo: false, backends: [{ip: $B1}]}
$*
YAML
	local out
	out=$(lb_load "$TMP/config.yaml" veth1) || fail "lb-load failed: $out"
	check_contains "$out" "VIP $QUIET:80/udp -> 1 backends: $B1; policy least-loaded; ipip; no echo replies (icmp_echo false)" \
		"the summary names the address that answers no echo"
}

# Starts one capture per backend.
start_captures() {
	local i
	for i in 1 2; do
		spawn "b$i" "$TMP/cap$i.out" "$TOOLS/ipip_capture" -i eth0 \
			-b "$([[ $i == 1 ]] && echo $B1 || echo $B2)" -o client -R "$TMP/cap$i.ready"
	done
	wait_file "$TMP/cap1.ready"
	wait_file "$TMP/cap2.ready"
}

capture_ipip() {
	grep -oE 'ipip=[0-9]+' "$1" | cut -d= -f2
}

# Field $1 of the Ip: line of /proc/net/snmp in namespace $2.
ip_snmp() {
	in_net "$2" awk -v f="$1" '/^Ip:/ { if (!n) { for (i = 1; i <= NF; i++) h[i] = $i; n = 1 }
		else for (i = 1; i <= NF; i++) if (h[i] == f) print $i }' /proc/net/snmp
}

test_echo_replies() {
	topology up "$PREFIX" "$VIP $QUIET" "$B1" "$B2"
	load_config
	local out
	out=$(in_net client "$TOOLS/icmp_tool" echo -d "$VIP" -c 3 -s 1000) ||
		fail "echo requests to $VIP not answered: $out"
	check_eq "$out" "echo sent=3 replies=3" "echo replies"
	check_eq "$(counter icmp.echo_reply)" 3 "icmp.echo_reply"
	check_eq "$(counter parse.to_icmp)" 3 "parse.to_icmp"
	# icmp_echo: false: the kernel's, and this balancer does not own the address.
	out=$(in_net client "$TOOLS/icmp_tool" echo -d "$QUIET" -c 2) &&
		fail "echo requests to $QUIET (icmp_echo false) were answered: $out"
	check_eq "$(counter icmp.pass_echo_off)" 2 "icmp.pass_echo_off"
	# A reload turns it off for $VIP too, which then answers nothing.
	cat >"$TMP/off.yaml" <<YAML
vips:
  - {address: $VIP, port: 80, protocol: udp, icmp_echo: false, backends: [{ip: $B1}]}
YAML
	out=$(lb_load "$TMP/off.yaml" veth1) || fail "reload failed: $out"
	in_net client "$TOOLS/icmp_tool" echo -d "$VIP" -c 1 >/dev/null &&
		fail "echo answered after icmp_echo: false"
	check_eq "$(counter icmp.pass_echo_off)" 3 "icmp.pass_echo_off after the reload"
	# And an address no longer in the config is no VIP address.
	in_net client "$TOOLS/icmp_tool" echo -d "$QUIET" -c 1 >/dev/null &&
		fail "echo to a removed VIP address answered"
	check_eq "$(counter icmp.pass_echo_off)" 3 "a removed address reaches no icmp stage"
}

# With the lab up: the path to the backends carries 1400 bytes, so 1428 bytes
# of client packet are 1448 once encapsulated (bpf_fib_lookup() takes a
# route's MTU only when it is locked, or with ip_forward_use_pmtu); loads the
# config, sends one such datagram with DF; GOT: the ICMP the client received.
# wait_type3 FILE: waits up to 3 s for an ICMP type 3 line in icmp_tool
# listen's output FILE, and prints the lines (none: empty, status 1).
wait_type3() {
	for _ in $(seq 30); do
		grep -q 'type=3' "$1" && break
		sleep 0.1
	done
	grep 'type=3' "$1"
}

send_too_big() {
	check ip -n "$PREFIX-lb" route replace "$B1/32" dev veth1 mtu lock 1400
	check ip -n "$PREFIX-lb" route replace "$B2/32" dev veth1 mtu lock 1400
	load_config
	spawn client "$TMP/icmp.out" "$TOOLS/icmp_tool" listen -R "$TMP/listen.ready"
	wait_file "$TMP/listen.ready"
	check in_net client "$TOOLS/icmp_tool" udp -d "$VIP" -p 80 -s 1400 -D >/dev/null
	GOT=$(wait_type3 "$TMP/icmp.out")
	stop_spawned
	[[ -n $GOT ]] ||
		fail "no ICMP reached the client: $(cat "$TMP/icmp.out")"
}

test_frag_needed_to_client() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	send_too_big
	check_contains "$GOT" "icmp from=$VIP type=3 code=4 mtu=1380 quote=$CLIENT:" \
		"fragmentation needed from the VIP, MTU 1400 - 20"
	check_contains "$GOT" ">$VIP:80/udp" "the quote names the client's datagram"
	check_contains "$(ip -n "$PREFIX-client" route get "$VIP")" "mtu 1380" \
		"the client's kernel learned the path MTU"
	check_eq "$(counter encap.icmp_frag_needed)" 1 "encap.icmp_frag_needed"
	check_eq "$(counter encap.drop_mtu)" 0 "encap.drop_mtu"

	# Without DF the balancer's kernel fragments the encapsulated packet.
	# (The client forgets the path MTU first, or it fragments itself.)
	local frags
	check ip -n "$PREFIX-client" route flush cache
	frags=$(ip_snmp FragCreates lb)
	check in_net client "$TOOLS/icmp_tool" udp -d "$VIP" -p 80 -s 1400 -N >/dev/null
	sleep 0.3
	check_eq "$(counter encap.pass_too_big_no_df)" 1 "encap.pass_too_big_no_df"
	(($(ip_snmp FragCreates lb) >= frags + 2)) ||
		fail "the balancer's kernel made no fragments ($frags -> $(ip_snmp FragCreates lb))"
	check_eq "$(counter encap.icmp_frag_needed)" 1 "no ICMP for a packet without DF"
}

# A veth whose peer runs no XDP program takes no XDP_TX frames: the answer goes
# through the balancer's kernel, which forwards it to the client.
test_frag_needed_via_stack() {
	TOPOLOGY_PLAIN=1 topology up "$PREFIX" "$VIP" "$B1" "$B2"
	send_too_big
	check_contains "$GOT" "icmp from=$VIP type=3 code=4 mtu=1380" \
		"fragmentation needed through the balancer's kernel"
	check_eq "$(counter encap.icmp_frag_needed)" 1 "encap.icmp_frag_needed"
	# Echo requests are left to the kernel here (no XDP_TX).
	in_net client "$TOOLS/icmp_tool" echo -d "$VIP" -c 1 >/dev/null &&
		fail "echo answered though veth1 takes no XDP_TX frames"
	check_eq "$(counter icmp.pass_echo_no_tx)" 1 "icmp.pass_echo_no_tx"
}

test_error_to_flow_backend() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	load_config
	start_captures
	# One flow: client:40000 -> VIP:80.
	echo hello | in_net client socat -u - "UDP:$VIP:80,sourceport=40000" ||
		fail "send the flow's datagram"
	sleep 0.3
	# A router complains about the backend's reply to it (VIP:80 -> client:40000).
	check in_net client "$TOOLS/icmp_tool" error -d "$VIP" -q "$VIP:80>$CLIENT:40000/udp" \
		-m 1300 >/dev/null
	# ... and about a flow nobody has.
	check in_net client "$TOOLS/icmp_tool" error -d "$VIP" -q "$VIP:80>$CLIENT:40001/udp" \
		>/dev/null
	finish_captures
	local c1 c2
	c1=$(capture_ipip "$TMP/cap1.out")
	c2=$(capture_ipip "$TMP/cap2.out")
	# The flow's backend got its datagram and the error, the other nothing.
	[[ "$c1 $c2" == "2 0" || "$c1 $c2" == "0 2" ]] ||
		fail "backend captures ipip=$c1 and ipip=$c2, expected 2 and 0 (flow + error)"
	check_contains "$(cat "$TMP/cap1.out" "$TMP/cap2.out")" "bad=0" "captures clean"
	check_eq "$(counter icmp.error_to_backend)" 1 "icmp.error_to_backend"
	check_eq "$(counter icmp.pass_error_no_flow)" 1 "icmp.pass_error_no_flow"
	check_eq "$(counter encap.tx)" 2 "encap.tx: the datagram and the error"
}

# A NAT VIP's errors are translated both ways (docs/nat.md, "ICMP errors"):
# b1's "port unreachable" about its packet to nat_source reaches the client's
# connected socket as ECONNREFUSED; a router's "fragmentation needed" about a
# translated reply reaches b1 as an error about its own packet, from
# nat_source, and its kernel lowers the path MTU toward nat_source.
test_nat_errors_translated() {
	topology up "$PREFIX" "" "$B1" "$B2"
	full_checksums
	cat >"$TMP/nat.yaml" <<YAML
nat_source: $LB
vips:
  - {address: $LB, port: 8081, protocol: udp, forwarding: nat, backends: [{ip: $B1}]}
  - {address: $LB, port: 9999, protocol: udp, forwarding: nat, backends: [{ip: $B1}]}
YAML
	local out got
	out=$(lb_load "$TMP/nat.yaml" veth1) || fail "lb-load failed: $out"
	# Nothing listens on b1's port 9999.
	out=$(udp_connected_result client "$LB" 9999)
	check_eq "$out" refused "the client's socket: b1's port unreachable, translated"
	check_eq "$(counter icmp.nat_error_to_client)" 1 "icmp.nat_error_to_client"

	start_echo_servers 8080 8081
	# One exchange: client:40000 -> LB:8081, b1's reply back through NAT.
	out=$(echo hello | in_net client timeout 5 socat -t 1 - "UDP:$LB:8081,sourceport=40000") ||
		fail "datagram exchange through NAT failed"
	check_contains "$out" "b1" "b1 answered"
	spawn b1 "$TMP/b1-icmp.out" "$TOOLS/icmp_tool" listen -R "$TMP/b1-listen.ready"
	wait_file "$TMP/b1-listen.ready"
	# A router on the client's side complains about that reply (LB:8081 -> client:40000).
	check in_net client "$TOOLS/icmp_tool" error -d "$LB" -q "$LB:8081>$CLIENT:40000/udp" \
		-m 1300 >/dev/null
	got=$(wait_type3 "$TMP/b1-icmp.out") ||
		fail "no ICMP error reached b1: $(cat "$TMP/b1-icmp.out")"
	check_contains "$got" "icmp from=$LB type=3 code=4 mtu=1300 quote=$B1:8081>$LB:" \
		"b1 got the error about its own reply, from nat_source"
	check_contains "$got" "/udp" "the quote is UDP"
	check_contains "$(in_net b1 ip route get "$LB")" "mtu 1300" \
		"b1's kernel took it: path MTU toward nat_source"
	check_eq "$(counter icmp.nat_error_to_backend)" 1 "icmp.nat_error_to_backend"
	stop_spawned
	# The balancer's own address is a VIP address: the balancer answers it at XDP.
	out=$(in_net client "$TOOLS/icmp_tool" echo -d "$LB" -c 1) || fail "echo to $LB: $out"
	check_eq "$(counter icmp.echo_reply)" 1 "icmp.echo_reply"
}

run_tests integration-icmp test_echo_replies test_frag_needed_to_client \
	test_frag_needed_via_stack test_error_to_flow_backend test_nat_errors_translated
