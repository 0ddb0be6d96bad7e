# SPDX-License-Identifier: GPL-2.0
# Sourced by tests/vm/test_dispatcher.sh: path MTU and ICMP errors with real
# backends that decapsulate (backend_up, real_backends_up there), in every guest.
#
#   test_pmtu_tcp_transfer        a 1 MB TCP upload to an IPIP VIP whose full-size
#                                 segments do not fit the path to the backends once
#                                 encapsulated completes: the balancer answers them
#                                 with "fragmentation needed"; with icmp_rate 0 (no
#                                 answer, the black hole) the same upload stalls
#   test_pmtu_error_reaches_backend  a router's "fragmentation needed" about a
#                                 backend's reply reaches that backend, whose kernel
#                                 learns the path MTU; the other backend sees nothing
#   test_pmtu6_tcp_transfer       the same upload over IPv6 to an IPv6 VIP, tunnelled
#                                 IPv6-in-IPv6 to backends that decapsulate (ip6tnl):
#                                 completes with ICMPv6 "packet too big", stalls
#                                 with icmp_rate 0

PMTU_PORT=8080   # the upload's TCP port on $TCP_VIP
PMTU_LIMIT=1400  # the route MTU toward the backends, locked (bpf_fib_lookup reads it then)
PMTU_UPLOAD=1000000
VIP6=fd00:10::100               # the IPv6 VIP of test_pmtu6_tcp_transfer
B61=fd00:10::b1 B62=fd00:10::b2 # its backends, on the lab's IPv6 prefix

# The config of these tests, icmp_rate $1: the lab's UDP VIP, and for the
# upload $2:$PMTU_PORT (default $TCP_VIP) on the backends $3 and $4 (default
# $B1 and $B2).
pmtu_config() {
	cat >"$TMP/pmtu.yaml" <<EOF
priority: $PRIORITY
icmp_rate: $1
vips:
  - address: $VIP
    backends: [{ip: $B1}, {ip: $B2}]
  - address: ${2:-$TCP_VIP}
    port: $PMTU_PORT
    protocol: tcp
    backends: [{ip: ${3:-$B1}}, {ip: ${4:-$B2}}]
EOF
}

# Both backends count the bytes of each upload and answer with the count.
pmtu_sinks_up() {
	local b
	for b in b1 b2; do
		spawn "$b" "$TMP/$b-sink.log" socat -T 20 \
			"TCP4-LISTEN:$PMTU_PORT,bind=$TCP_VIP,fork,reuseaddr" SYSTEM:"exec wc -c"
		wait_listening "$b" t "$PMTU_PORT"
	done
}

# Uploads $PMTU_UPLOAD bytes within $1 seconds; prints the byte count the backend saw.
pmtu_upload() {
	in_net client timeout "$1" socat -t 5 - "TCP4:$TCP_VIP:$PMTU_PORT" <"$TMP/upload" |
		tr -d ' '
}

# The upload twice, each after loading the config $1 writes into $TMP/pmtu.yaml
# (given the icmp_rate), the upload by $2 (given its time limit): with
# icmp_rate 0 (no answer, the black hole) it stalls and the client learns
# nothing; with the default limits the balancer answers (counter $3), the
# client's kernel learns the path MTU $5 for `ip $4 route get $VIP`, and the
# upload completes.
pmtu_black_hole_then_learned() {
	local config=$1 upload=$2 answer=$3 family=$4 mtu=$5 vip=$6 got
	"$config" 0
	check lb_load "$TMP/pmtu.yaml" veth1 >/dev/null
	got=$("$upload" 15)
	[[ $got != "$PMTU_UPLOAD" ]] || fail "the upload completed without ICMP (a black hole expected)"
	echo "    without ICMP: the backend got '${got:-nothing}' of $PMTU_UPLOAD bytes in 15 s"
	(($(counter encap.drop_icmp_rate_limited) > 0)) ||
		fail "no full-size segment was dropped for want of ICMP"
	[[ $(ip -n "$PREFIX-client" ${family:+"$family"} route get "$vip") != *mtu* ]] ||
		fail "the client learned an MTU without ICMP"

	"$config" 1000
	check lb_load "$TMP/pmtu.yaml" veth1 >/dev/null
	got=$("$upload" 60) || fail "the upload failed with ICMP on: '$got'"
	check_eq "$got" "$PMTU_UPLOAD" "bytes the backend received"
	(($(counter "$answer") > 0)) || fail "no $answer sent"
	check_contains "$(ip -n "$PREFIX-client" ${family:+"$family"} route get "$vip")" "mtu $mtu" \
		"the client's route cache (ip $family route get $vip)"
	echo "    with ICMP: $got bytes; $answer $(counter "$answer")"
}

test_pmtu_tcp_transfer() {
	real_backends_up
	# The path to the backends takes 1400 bytes: a client segment of 1500 is 1520
	# once encapsulated; "fragmentation needed" carries 1400 - 20.
	check ip -n "$PREFIX-lb" route replace "$B1/32" dev veth1 mtu lock "$PMTU_LIMIT"
	check ip -n "$PREFIX-lb" route replace "$B2/32" dev veth1 mtu lock "$PMTU_LIMIT"
	pmtu_sinks_up
	head -c "$PMTU_UPLOAD" /dev/urandom >"$TMP/upload"
	pmtu_black_hole_then_learned pmtu_config pmtu_upload encap.icmp_frag_needed "" \
		"$((PMTU_LIMIT - 20))" "$TCP_VIP"
}

test_pmtu_error_reaches_backend() {
	real_backends_up
	local b other reply
	for b in b1 b2; do
		spawn "$b" "$TMP/$b-icmp.log" "$TOOLS/icmp_tool" listen -R "$TMP/$b-icmp.ready"
		wait_file "$TMP/$b-icmp.ready"
	done
	# A flow client:40000 -> VIP:5000; its backend's socat keeps a socket for it.
	reply=$(echo pmtu | in_net client timeout 10 socat -t 5 - "UDP4:$VIP:5000,sourceport=40000")
	b=${reply%%=*}
	[[ $b == b[12] ]] || fail "no backend answered the flow: '$reply'"
	other=$([[ $b == b1 ]] && echo b2 || echo b1)
	# A router on the client's side complains about the backend's reply.
	check in_net client "$TOOLS/icmp_tool" error -d "$VIP" -q "$VIP:5000>10.0.0.1:40000/udp" \
		-m 1200 >/dev/null
	for _ in $(seq 30); do
		grep -q 'type=3' "$TMP/$b-icmp.log" && break
		sleep 0.1
	done
	check_contains "$(cat "$TMP/$b-icmp.log")" \
		"icmp from=10.0.0.1 type=3 code=4 mtu=1200 quote=$VIP:5000>10.0.0.1:40000/udp" \
		"the flow's backend ($b) received the error, decapsulated"
	grep -q 'type=3' "$TMP/$other-icmp.log" && fail "the other backend ($other) got it too"
	check_contains "$(ip -n "$PREFIX-$b" route get 10.0.0.1)" "mtu 1200" \
		"the backend's kernel learned the path MTU to the client"
	check_eq "$(counter icmp.error_to_backend)" 1 "icmp.error_to_backend"
}

# The lab's IPv6 (scripts/topology.sh ipv6), and backends $B61 and $B62 that
# decapsulate IPv6-in-IPv6 with an ip6tnl device, the VIP on lo, each counting
# the bytes of every upload to [$VIP6]:$PMTU_PORT and answering with the count.
pmtu6_backends_up() {
	local b addr
	topology ipv6 "$PREFIX" "$VIP6" "$B61" "$B62"
	for b in b1 b2; do
		addr=$([[ $b == b1 ]] && echo "$B61" || echo "$B62")
		check ip -n "$PREFIX-$b" link add t6 type ip6tnl mode ip6ip6 local "$addr" remote any
		check ip -n "$PREFIX-$b" link set t6 up
		check ip -n "$PREFIX-$b" addr add "$VIP6/128" dev lo
		spawn "$b" "$TMP/$b-sink6.log" socat -T 20 \
			"TCP6-LISTEN:$PMTU_PORT,bind=[$VIP6],fork,reuseaddr" SYSTEM:"exec wc -c"
		wait_listening "$b" t "$PMTU_PORT"
	done
}

pmtu6_config() {
	pmtu_config "$1" "$VIP6" "$B61" "$B62"
}

pmtu6_upload() {
	in_net client timeout "$1" socat -t 5 - "TCP6:[$VIP6]:$PMTU_PORT" <"$TMP/upload" |
		tr -d ' '
}

test_pmtu6_tcp_transfer() {
	real_backends_up
	pmtu6_backends_up
	# 1400 bytes toward the backends: a client segment of 1500 is 1540 once
	# encapsulated; "packet too big" carries 1400 - 40.
	check ip -n "$PREFIX-lb" -6 route replace "$B61/128" dev veth1 mtu lock "$PMTU_LIMIT"
	check ip -n "$PREFIX-lb" -6 route replace "$B62/128" dev veth1 mtu lock "$PMTU_LIMIT"
	head -c "$PMTU_UPLOAD" /dev/urandom >"$TMP/upload"
	pmtu_black_hole_then_learned pmtu6_config pmtu6_upload encap.icmp6_packet_too_big -6 \
		"$((PMTU_LIMIT - 40))" "$VIP6"
}
