#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# NAT forwarding in the teaching topology: client 10.0.0.1, balancer 10.0.0.10
# (the VIP and nat_source), servers 10.0.0.2 and 10.0.0.3 on one bridge, real
# socat servers and clients. The servers are unmodified: they see connections
# from the balancer and answer them; the balancer translates both ways.
source "$(dirname "$0")/lib.sh"

LB=10.0.0.10 B1=10.0.0.2 B2=10.0.0.3
TCP_PORT=8080 UDP_PORT=8081
CONNECTIONS=8

load_nat_config() {
	cat >"$TMP/config.yaml" <<YAML
nat_source: $LB
vips:
  - {address: $LB, port: $TCP_PORT, protocol: tcp, forwarding: nat,
     backends: [{ip: $B1}, {ip: $B2}]}
  - {address: $LB, port: $UDP_PORT, protocol: udp, forwarding: nat,
     backends: [{ip: $B1}, {ip: $B2}]}
YAML
	local out
	out=$(lb_load "$TMP/config.yaml" veth1) || fail "lb-load failed: $out"
	check_contains "$out" "VIP $LB:$TCP_PORT/tcp -> 2 backends: $B1 $B2; policy least-loaded; forwarding nat" \
		"summary names the forwarding mode"
}

# Checks reply file $1 for request file $2: one server's name, then the
# request byte for byte. Sets ANSWERED_BY to the server's name.
answered_by() {
	ANSWERED_BY=$(head -n 1 "$1")
	[[ $ANSWERED_BY == b1 || $ANSWERED_BY == b2 ]] ||
		fail "reply $1 starts with '$ANSWERED_BY', not a server name"
	tail -c +4 "$1" | cmp -s - "$2" ||
		fail "reply $1 ($(stat -c %s "$1") bytes) is not the request" \
			"($(stat -c %s "$2") bytes) echoed intact after the name"
}

# $CONNECTIONS TCP connections to socat address $1 (TCP:ADDR:PORT,
# TCP6:[ADDR]:PORT), 200 KB each way: many full-sized segments in both
# directions. Each answered by one server, the request echoed intact; both
# servers used.
connections_through() {
	local i used=""
	head -c 200000 /dev/urandom >"$TMP/request"
	for i in $(seq "$CONNECTIONS"); do
		in_net client timeout 10 socat -t 3 - "$1" <"$TMP/request" \
			>"$TMP/reply$i" || fail "connection $i to $1 failed"
		answered_by "$TMP/reply$i" "$TMP/request"
		used+="$ANSWERED_BY "
	done
	check_contains "$used" "b1" "server b1 answered a connection to $1"
	check_contains "$used" "b2" "server b2 answered a connection to $1"
}

# Four UDP exchanges with socat address $1 (UDP:..., UDP6:...), likewise.
datagrams_through() {
	local i used=""
	for i in $(seq 4); do
		echo "datagram $i $RANDOM" >"$TMP/request$i"
		in_net client timeout 5 socat -t 1 - "$1" <"$TMP/request$i" \
			>"$TMP/dgram$i" || fail "datagram exchange $i with $1 failed"
		answered_by "$TMP/dgram$i" "$TMP/request$i"
		used+="$ANSWERED_BY "
	done
	check_contains "$used" "b1" "server b1 answered a datagram to $1"
	check_contains "$used" "b2" "server b2 answered a datagram to $1"
}

test_tcp_connections() {
	topology up "$PREFIX" "" "$B1" "$B2"
	full_checksums
	load_nat_config
	start_echo_servers "$TCP_PORT" "$UDP_PORT"
	connections_through "TCP:$LB:$TCP_PORT"
	(($(counter parse.to_nat_reply) > 0)) || fail "no reply went through NAT"
	check_eq "$(counter nat.drop_no_port)" 0 "port allocation failures"
	check_eq "$(counter encap.pass_no_neigh)" 0 "frames left to the stack"
}

test_udp_datagrams() {
	topology up "$PREFIX" "" "$B1" "$B2"
	full_checksums
	load_nat_config
	start_echo_servers "$TCP_PORT" "$UDP_PORT"
	datagrams_through "UDP:$LB:$UDP_PORT"
}

# max_entries of pinned map $1.
map_entries() {
	bpftool -j map show pinned "$(pin_dir)/$1" | grep -oE '"max_entries":[0-9]+' | cut -d: -f2
}

# Entries pinned map $1 holds.
map_count() {
	bpftool -j map dump pinned "$(pin_dir)/$1" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

# The flows of VIP $1 as client -> backend, without the columns that move.
flows_of() {
	lbctl flows veth1 --vip "$1" | tail -n +2 | awk '{ print $1, $2, $3 }' | sort
}

# Without a NAT VIP the NAT state maps hold one entry each; a reload that adds
# one replaces them and parse, which reads nat_reply, keeping every flow.
test_reload_adds_nat() {
	topology up "$PREFIX" "" "$B1" "$B2"
	full_checksums
	cat >"$TMP/plain.yaml" <<YAML
vips:
  - {address: $LB, port: 7001, protocol: udp, backends: [{ip: $B1}, {ip: $B2}]}
YAML
	check lb_load "$TMP/plain.yaml" veth1 >/dev/null
	check_eq "$(map_entries nat_reply) $(map_entries nat_forward)" "1 1" "NAT maps without NAT"
	in_net client "$TOOLS/flow_send" -d "$LB" -p 7001 -f 10 -n 1 -b 30000 >/dev/null ||
		fail "send before the reload"
	local before after
	before=$(flows_of "$LB:7001")
	check_eq "$(echo "$before" | wc -l)" 10 "flows before the reload"
	cat >"$TMP/config.yaml" <<YAML
nat_source: $LB
vips:
  - {address: $LB, port: 7001, protocol: udp, backends: [{ip: $B1}, {ip: $B2}]}
  - {address: $LB, port: $TCP_PORT, protocol: tcp, forwarding: nat,
     backends: [{ip: $B1}, {ip: $B2}]}
YAML
	local out
	out=$(lb_load "$TMP/config.yaml" veth1) || fail "reload adding NAT failed: $out"
	check_contains "$out" "established flows kept" "reload summary"
	check_eq "$(map_entries nat_reply) $(map_entries nat_forward)" "65536 65536" \
		"NAT maps after the reload"
	after=$(flows_of "$LB:7001")
	check_eq "$after" "$before" "flows and their backends kept"
	check lbctl status veth1 >/dev/null
	start_echo_servers "$TCP_PORT" "$UDP_PORT"
	head -c 50000 /dev/urandom >"$TMP/request"
	in_net client timeout 10 socat -t 3 - "TCP:$LB:$TCP_PORT" <"$TMP/request" \
		>"$TMP/reply" || fail "connection through NAT failed"
	answered_by "$TMP/reply" "$TMP/request"
	(($(counter parse.to_nat_reply) > 0)) || fail "no reply went through NAT"
	# The same flows again: none scheduled anew.
	local new_before
	new_before=$(counter lb.flow_new)
	in_net client "$TOOLS/flow_send" -d "$LB" -p 7001 -f 10 -n 1 -b 30000 >/dev/null ||
		fail "send after the reload"
	check_eq "$(counter lb.flow_new)" "$new_before" "no flow scheduled again"
	# Back to no NAT: the maps keep their size (they may hold live state).
	check lb_load "$TMP/plain.yaml" veth1 >/dev/null
	check_eq "$(map_entries nat_reply)" 65536 "NAT maps not shrunk in place"
}

# --- IPv6 VIPs ----------------------------------------------------------------------
# The lab with IPv6 beside (topology.sh ipv6): client fd00:10::1, balancer
# fd00:10::10 (the VIP and nat_source6), servers fd00:10::b1 and ::b2, the
# same unmodified socat servers on IPv6 sockets. They answer the balancer's
# address on their link, so replies come back through it as IPv4's do.
LB6=fd00:10::10 B61=fd00:10::b1 B62=fd00:10::b2

lab6_up() {
	topology up "$PREFIX" "" "$B1" "$B2"
	topology ipv6 "$PREFIX" "" "$B61" "$B62"
	full_checksums
}

# nat6.yaml: TCP and UDP IPv6 NAT VIPs; with "v4" as $1, the IPv4 ones too.
write_nat6_config() {
	{
		echo "nat_source6: $LB6"
		[[ ${1:-} == v4 ]] && echo "nat_source: $LB"
		echo "vips:"
		[[ ${1:-} == v4 ]] && cat <<YAML
  - {address: $LB, port: $TCP_PORT, protocol: tcp, forwarding: nat,
     backends: [{ip: $B1}, {ip: $B2}]}
YAML
		cat <<YAML
  - {address: $LB6, port: $TCP_PORT, protocol: tcp, forwarding: nat,
     backends: [{ip: $B61}, {ip: $B62}]}
  - {address: $LB6, port: $UDP_PORT, protocol: udp, forwarding: nat,
     backends: [{ip: $B61}, {ip: $B62}]}
YAML
	} >"$TMP/nat6.yaml"
}

# Real IPv6 TCP connections and UDP exchanges through NAT, both servers used,
# every byte echoed back intact, the translations counted. The servers share
# the client's link: had they seen its address, they would have answered it
# directly, from their own address, which the client's sockets refuse.
test_ipv6_tcp_udp() {
	local out
	lab6_up
	write_nat6_config
	out=$(lb_load "$TMP/nat6.yaml" veth1) || fail "lb-load failed: $out"
	check_contains "$out" "VIP [$LB6]:$TCP_PORT/tcp -> 2 backends: $B61 $B62; policy least-loaded; forwarding nat" \
		"summary names the forwarding mode"
	check_eq "$(map_entries nat_reply6) $(map_entries nat_forward6)" "65536 65536" \
		"IPv6 NAT maps with an IPv6 NAT VIP"
	check_eq "$(map_entries nat_reply) $(map_entries nat_forward)" "1 1" \
		"IPv4 NAT maps without an IPv4 NAT VIP"
	start_echo_servers "$TCP_PORT" "$UDP_PORT" 6
	connections_through "TCP6:[$LB6]:$TCP_PORT"
	datagrams_through "UDP6:[$LB6]:$UDP_PORT"
	(($(counter parse.to_nat_reply) > 0)) || fail "no IPv6 reply went through NAT"
	check_eq "$(counter nat.drop_no_port)" 0 "port allocation failures"
	check_eq "$(counter nat.drop_ext_header)" 0 "extension header drops"
	check_eq "$(counter encap.pass_no_neigh)" 0 "frames left to the stack"
	# lbctl shows the IPv6 flows of the NAT VIP with their backends.
	out=$(lbctl flows veth1 --vip "[$LB6]:$TCP_PORT/tcp")
	check_contains "$out" "[fd00:10::1]:" "lbctl flows: the IPv6 client"
	check_contains "$out" "fd00:10::b" "lbctl flows: an IPv6 backend"
}

# A reload adding IPv6 NAT to a config with IPv4 NAT grows nat_reply6 and
# nat_forward6 (one entry each before) and replaces parse; IPv4 mappings stay,
# a live IPv6 connection survives a later reload, its mapping kept.
test_ipv6_reload_keeps_mappings() {
	local out
	lab6_up
	cat >"$TMP/v4.yaml" <<YAML
nat_source: $LB
vips:
  - {address: $LB, port: $TCP_PORT, protocol: tcp, forwarding: nat,
     backends: [{ip: $B1}, {ip: $B2}]}
YAML
	check lb_load "$TMP/v4.yaml" veth1 >/dev/null
	check_eq "$(map_entries nat_reply6) $(map_entries nat_forward6)" "1 1" \
		"IPv6 NAT maps without an IPv6 NAT VIP"
	# IPv6 sockets, dual-stack (bindv6only 0): they serve IPv4 as well.
	start_echo_servers "$TCP_PORT" "$UDP_PORT" 6
	head -c 50000 /dev/urandom >"$TMP/request"
	in_net client timeout 10 socat -t 3 - "TCP:$LB:$TCP_PORT" <"$TMP/request" \
		>"$TMP/reply4" || fail "IPv4 connection through NAT failed"
	answered_by "$TMP/reply4" "$TMP/request"
	local v4_mappings
	v4_mappings=$(map_count nat_reply)
	((v4_mappings > 0)) || fail "no IPv4 NAT mapping"

	write_nat6_config v4
	out=$(lb_load "$TMP/nat6.yaml" veth1) || fail "reload adding IPv6 NAT failed: $out"
	check_eq "$(map_entries nat_reply6) $(map_entries nat_forward6)" "65536 65536" \
		"IPv6 NAT maps after the reload"
	check_eq "$(map_count nat_reply)" "$v4_mappings" "IPv4 NAT mappings kept"

	# A connection that sends half, waits over a reload, then sends the rest.
	head -c 100000 /dev/urandom >"$TMP/half1"
	head -c 100000 /dev/urandom >"$TMP/half2"
	cat "$TMP/half1" "$TMP/half2" >"$TMP/whole"
	( { cat "$TMP/half1"; sleep 2; cat "$TMP/half2"; } |
		in_net client timeout 15 socat -t 3 - "TCP6:[$LB6]:$TCP_PORT" >"$TMP/reply6" ) &
	local sender=$!
	sleep 1
	local mappings
	mappings=$(map_count nat_reply6)
	((mappings > 0)) || fail "no IPv6 NAT mapping for the live connection"
	out=$(lb_load "$TMP/nat6.yaml" veth1) || fail "reload under a live connection failed: $out"
	check_contains "$out" "established flows kept" "reload summary"
	check_eq "$(map_count nat_reply6)" "$mappings" "IPv6 NAT mappings kept by the reload"
	wait "$sender" || fail "the IPv6 connection across the reload failed"
	answered_by "$TMP/reply6" "$TMP/whole"
}

# Cold neighbours: the nat stage hands a translated frame it has no next hop
# for to the kernel, which forwards it (nat_source6 and the VIP are local
# addresses; IPv6 has no accept_local to turn on) and resolves the neighbour.
test_ipv6_cold_neighbours() {
	lab6_up
	write_nat6_config
	check lb_load "$TMP/nat6.yaml" veth1 >/dev/null
	start_echo_servers "$TCP_PORT" "$UDP_PORT" 6
	check ip -n "$PREFIX-lb" -6 neigh flush dev veth1
	head -c 20000 /dev/urandom >"$TMP/request"
	in_net client timeout 10 socat -t 3 - "TCP6:[$LB6]:$TCP_PORT" <"$TMP/request" \
		>"$TMP/reply" || fail "IPv6 connection with cold neighbours failed"
	answered_by "$TMP/reply" "$TMP/request"
	(($(counter encap.pass_no_neigh) > 0)) || fail "no frame went to the kernel for its neighbour"
}

# ICMPv6 errors are translated too (nat.md, "ICMP errors"): nothing listens on
# port 9999 of the backend, whose "port unreachable" to nat_source6 reaches the
# client's connected socket as ECONNREFUSED.
test_ipv6_port_unreachable() {
	local out
	lab6_up
	cat >"$TMP/unreach6.yaml" <<YAML
nat_source6: $LB6
vips:
  - {address: $LB6, port: 9999, protocol: udp, forwarding: nat, backends: [{ip: $B61}]}
YAML
	out=$(lb_load "$TMP/unreach6.yaml" veth1) || fail "lb-load failed: $out"
	out=$(udp_connected_result client "$LB6" 9999)
	check_eq "$out" refused "the client's socket: the backend's port unreachable, translated"
	check_eq "$(counter icmp.nat_error_to_client)" 1 "icmp.nat_error_to_client"
}

run_tests integration-nat test_tcp_connections test_udp_datagrams test_reload_adds_nat \
	test_ipv6_tcp_udp test_ipv6_reload_keeps_mappings test_ipv6_cold_neighbours \
	test_ipv6_port_unreachable
