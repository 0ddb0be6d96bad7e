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

PMTU_PORT=8080   # the upload's TCP port on $TCP_VIP
PMTU_LIMIT=1400  # the route MTU toward the backends, locked (bpf_fib_lookup reads it then)
PMTU_UPLOAD=1000000

# The config of these tests: the lab's UDP VIP, and $TCP_VIP:$PMTU_PORT for the upload.
pmtu_config() {
	cat >"$TMP/pmtu.yaml" <<EOF
priority: $PRIORITY
icmp_rate: $1
vips:
  - address: $VIP
    backends: [{ip: $B1}, {ip: $B2}]
  - address: $TCP_VIP
    port: $PMTU_PORT
    protocol: tcp
    backends: [{ip: $B1}, {ip: $B2}]
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

test_pmtu_tcp_transfer() {
	real_backends_up
	# The path to the backends takes 1400 bytes: a client segment of 1500 is 1520
	# once encapsulated.
	check ip -n "$PREFIX-lb" route replace "$B1/32" dev veth1 mtu lock "$PMTU_LIMIT"
	check ip -n "$PREFIX-lb" route replace "$B2/32" dev veth1 mtu lock "$PMTU_LIMIT"
	pmtu_config 0
	check lb_load "$TMP/pmtu.yaml" veth1 >/dev/null
	pmtu_sinks_up
	head -c "$PMTU_UPLOAD" /dev/urandom >"$TMP/upload"

	# icmp_rate 0: no ICMP is sent, the client never learns the path MTU.
	local got
	got=$(pmtu_upload 15)
	[[ $got != "$PMTU_UPLOAD" ]] || fail "the upload completed without ICMP (a black hole expected)"
	echo "    without ICMP: the backend got '${got:-nothing}' of $PMTU_UPLOAD bytes in 15 s"
	(($(counter encap.drop_icmp_rate_limited) > 0)) ||
		fail "no full-size segment was dropped for want of ICMP"
	[[ $(ip -n "$PREFIX-client" route get "$TCP_VIP") != *mtu* ]] ||
		fail "the client learned an MTU without ICMP"

	# The default limits: the balancer answers, the client learns, the upload completes.
	pmtu_config 1000
	check lb_load "$TMP/pmtu.yaml" veth1 >/dev/null
	got=$(pmtu_upload 60) || fail "the upload failed with ICMP on: '$got'"
	check_eq "$got" "$PMTU_UPLOAD" "bytes the backend received"
	(($(counter encap.icmp_frag_needed) > 0)) || fail "no ICMP fragmentation needed sent"
	check_contains "$(ip -n "$PREFIX-client" route get "$TCP_VIP")" "mtu $((PMTU_LIMIT - 20))" \
		"the client's route cache (ip route get $TCP_VIP)"
	echo "    with ICMP: $got bytes; encap.icmp_frag_needed $(counter encap.icmp_frag_needed)"
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
