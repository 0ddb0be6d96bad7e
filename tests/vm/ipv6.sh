# SPDX-License-Identifier: GPL-2.0
# Sourced by tests/vm/test_dispatcher.sh: real backends that decapsulate IPv6 tunnels
# with the kernel's ip6tnl device (mode any: IPv4 and IPv6 inside) and answer real UDP
# and TCP clients directly, in every guest. GUE over IPv6 reaches the same device
# through a fou socket on the GUE port in GUE mode over IPv6, which takes both direct-IP
# variants (inner IPv4: protocol 4, inner IPv6: 41) after the kernel's UDP layer
# checked the UDP checksum: a wrong one is dropped there (Udp6InCsumErrors).
#
#   test_ipv4_in_ipv6_backends  IPv4 VIPs on IPv6 backends: IPv4-in-IPv6 (next header
#                               4) from outer_source6, decapsulated by ip6tnl, the
#                               replies from the IPv4 VIPs
#   test_ipv6_in_ipv6_backends  IPv6 VIPs on the same backends: IPv6-in-IPv6 (next
#                               header 41), the replies from the IPv6 VIPs
#   test_ipv4_in_gue6_backends  the IPv4 VIPs with encap gue: IPv4 in GUE over IPv6
#   test_ipv6_in_gue6_backends  the IPv6 VIPs with encap gue: IPv6 in GUE over IPv6

V6_VIP=fd00:10::100
V6_B1=fd00:10::b1 V6_B2=fd00:10::b2
V6_LB=fd00:10::10 # the balancer's IPv6 address: outer_source6
V6_TUNNEL=xlb6t   # the backends' ip6tnl device

# IPv4 and IPv6 VIPs, UDP 5000 and TCP 80 each, all on the IPv6 backends.
ipv6_config() {
	cat >"$TMP/ipv6.yaml" <<EOF
priority: $PRIORITY
outer_source6: $V6_LB
vips:
  - address: $VIP
    backends: [{ip: $V6_B1}, {ip: $V6_B2}]
  - address: $TCP_VIP
    port: 80
    protocol: tcp
    backends: [{ip: $V6_B1}, {ip: $V6_B2}]
  - address: $V6_VIP
    port: 5000
    backends: [{ip: $V6_B1}, {ip: $V6_B2}]
  - address: $V6_VIP
    port: 80
    protocol: tcp
    backends: [{ip: $V6_B1}, {ip: $V6_B2}]
EOF
}

# Backend $1 (backend_up done) decapsulates IPv6 tunnels to its address $2 from any
# source and serves the IPv6 VIP as backend_up serves the IPv4 ones.
ipv6_backend_up() {
	local ns=$PREFIX-$1 name=$1
	ip -n "$ns" link add "$V6_TUNNEL" type ip6tnl mode any local "$2" ||
		fail "ip6tnl (mode any) failed in $name"
	ip -n "$ns" link set "$V6_TUNNEL" up
	# GUE over IPv6: fou in GUE mode hands a direct-IP payload to the protocol its
	# version says (4 or 41), which the ip6tnl device above takes.
	ip -n "$ns" fou add port "$GUE_PORT" gue -6 || fail "ip fou add (IPv6, gue) failed in $name"
	ip -n "$ns" addr add "$V6_VIP/128" dev lo nodad
	ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$V6_TUNNEL.rp_filter=0"
	spawn "$name" "$TMP/$name-udp6.log" socat -T 5 \
		"UDP6-LISTEN:5000,bind=[$V6_VIP],fork,reuseaddr" SYSTEM:"exec sed -u s/^/$name=/"
	spawn "$name" "$TMP/$name-tcp6.log" socat -T 5 \
		"TCP6-LISTEN:80,bind=[$V6_VIP],fork,reuseaddr" SYSTEM:"exec sed -u s/^/$name=/"
	wait_listening "$name" u 5000
	wait_listening "$name" t 80
}

# The lab with IPv6, both backends up for both families, xdp-lb loaded with ipv6_config.
ipv6_backends_up() {
	lab_up
	topology ipv6 "$PREFIX" "$V6_VIP" "$V6_B1" "$V6_B2"
	backend_up b1
	backend_up b2
	ipv6_backend_up b1 "$V6_B1"
	ipv6_backend_up b2 "$V6_B2"
	# As real_backends_up: the client computes its checksums itself.
	ip netns exec "$PREFIX-client" ethtool -K eth0 tx off >/dev/null
	ipv6_config
	check lb_load "$TMP/ipv6.yaml" veth1 >/dev/null
}

# Packets backend $1's device $2 received.
rx_packets() {
	ip netns exec "$PREFIX-$1" cat "/sys/class/net/$2/statistics/rx_packets"
}

# Six UDP connections to $1 and six TCP ones to $2, each answered three times by one
# backend, both backends taking some; every packet balanced was encapsulated, and the
# IPv6 tunnels, not tunl0, carried them.
ipv6_connections() {
	local c
	BACKENDS=
	for c in u1 u2 u3 u4 u5 u6; do
		check_connection "$c" "$(udp_connection "$c" "$1")"
	done
	for c in t1 t2 t3 t4 t5 t6; do
		check_connection "$c" "$(tcp_connection "$c" "$2")"
	done
	echo "    backend of each connection: $BACKENDS"
	[[ $BACKENDS == *b1* && $BACKENDS == *b2* ]] || fail "one backend took every connection"
	check_eq "$(counter lb.flow_new)" 12 "lb.flow_new: one per connection"
	check_eq "$(counter encap.tx)" "$(counter parse.to_lb)" "every VIP packet encapsulated"
	for c in 1 2; do
		(($(rx_packets "b$c" "$V6_TUNNEL") > 0)) || fail "b$c's ip6tnl received nothing"
		check_eq "$(rx_packets "b$c" tunl0)" 0 "b$c's tunl0: no IPIP"
		check_eq "$(udp6_csum_errors "b$c")" 0 "b$c: no UDP over IPv6 checksum error"
	done
}

# UDP datagrams over IPv6 backend $1's kernel dropped for a wrong checksum.
udp6_csum_errors() {
	ip netns exec "$PREFIX-$1" awk '$1 == "Udp6InCsumErrors" { print $2 }' /proc/net/snmp6
}

# GUE over IPv6 delivered: backend $1's fou socket (UDP over IPv6 to the GUE port)
# took datagrams, seen as UDP over IPv6 received by the kernel.
udp6_in_datagrams() {
	ip netns exec "$PREFIX-$1" awk '$1 == "Udp6InDatagrams" { print $2 }' /proc/net/snmp6
}

# ipv6_connections through GUE over IPv6: the encap slot swapped to gue, every
# packet balanced reached a backend's fou socket, whose kernel found no checksum wrong.
gue6_connections() {
	local c
	ipv6_backends_up
	swap_encap gue
	ipv6_connections "$@"
	for c in 1 2; do
		(($(udp6_in_datagrams "b$c") > 0)) || fail "b$c's kernel received no UDP over IPv6"
	done
	check_eq "$(counter encap.drop_csum_too_long)" 0 "encap.drop_csum_too_long"
}

test_ipv4_in_ipv6_backends() {
	ipv6_backends_up
	ipv6_connections "$VIP" "$TCP_VIP"
}

test_ipv6_in_ipv6_backends() {
	ipv6_backends_up
	ipv6_connections "$V6_VIP" "$V6_VIP"
}

test_ipv4_in_gue6_backends() {
	gue6_connections "$VIP" "$TCP_VIP"
}

test_ipv6_in_gue6_backends() {
	gue6_connections "$V6_VIP" "$V6_VIP"
}
