#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The VM suites, run inside a Debian release's own kernel by tests/vm/init: libxdp's
# dispatcher, other XDP programs sharing it, rebuilds under traffic, unloading, the legacy
# fallback, and real backends that decapsulate (IPIP and GUE, across encap swaps; IPv4
# and IPv6 in IPv6, ipv6.sh) and answer the client directly. Same lab and checks as the integration tests
# (tests/integration/lib.sh, scripts/topology.sh).
# VM_SUITE names the suite; VM_EXPECT says how lb-load attaches in this guest (run.sh):
#   dispatcher  inside libxdp's dispatcher, beside other XDP programs (Debian 12, unstable)
#   fallback    lb-load's own fallback to a single program, because the kernel refuses
#               the tail-calling parse stage in this libxdp's dispatcher (Debian 13)
source "$(dirname "$0")/../integration/lib.sh"
SUITE=${VM_SUITE:-vm-dispatcher}
EXPECT=${VM_EXPECT:-dispatcher}

VIP=123.168.9.8     # UDP, every port
TCP_VIP=123.168.9.9 # TCP port 80
B1=10.0.1.1 B2=10.0.2.2
LB_ADDR=10.0.0.10   # the balancer's own address: not a VIP
PRIORITY=40         # not libxdp's default (50), so a row at 40 is the config's doing
GUE_PORT=6080       # the config's default GUE port: the backends' fou port
PORT_COUNT=$OUTPUT/bpf/xdp_port_count.bpf.o
PIN=/sys/fs/bpf/$PREFIX # pins of the port_count instances

write_config() {
	cat >"$TMP/lb.yaml" <<EOF
priority: $1
vips:
  - address: $VIP
    backends: [{ip: $B1}, {ip: $B2}]
  - address: $TCP_VIP
    port: 80
    protocol: tcp
    backends: [{ip: $B1}, {ip: $B2}]
EOF
}

# The lab, and the config at priority $1 (default $PRIORITY).
lab_up() {
	topology up "$PREFIX" "$VIP $TCP_VIP" "$B1" "$B2"
	write_config "${1:-$PRIORITY}"
}

# veth1's programs in xdp-loader's words, in run order, e.g.
# "xdp_dispatcher 20:xdp_port_count 40:xdp_lb_parse" (one name alone: no dispatcher).
xdp_chain() {
	in_net lb xdp-loader status veth1 |
		awk '$1 == "veth1" { printf "%s", $2 } $1 == "=>" { printf " %s:%s", $2, $3 }'
}

check_chain() {
	check_eq "$(xdp_chain)" "$1" "programs on veth1 (xdp-loader status)"
}

# Another XDP program: tests/vm/xdp_port_count.bpf.c at priority $2, pinned as $1.
load_port_count() {
	mkdir -p "$PIN/$1"
	in_net lb xdp-loader load -P "$2" -p "$PIN/$1" veth1 "$PORT_COUNT" ||
		fail "xdp-loader could not load xdp_port_count at priority $2"
}

# Unloads the program running at priority $1, by its id.
unload_priority() {
	local id
	id=$(in_net lb xdp-loader status veth1 | awk -v p="$1" '$1 == "=>" && $2 == p { print $4 }')
	[[ -n $id ]] || fail "no program at priority $1"
	in_net lb xdp-loader unload veth1 -i "$id" || fail "xdp-loader unload -i $id failed"
}

# Packets to destination port $2 that port_count instance $1 has seen.
port_count() {
	local key
	key=$(printf '0x%02x 0x%02x 0 0' $(($2 & 255)) $(($2 >> 8)))
	bpftool map lookup pinned "$PIN/$1/port_packets" key $key |
		awk '$1 == "\"value\":" { print $2 }'
}

# Packets xdp-filter dropped for its rule on port $1 ("7777  dst,udp  HITS").
filter_port_hits() {
	in_net lb xdp-filter status | awk -v port="$1" '$1 == port { print $3 }'
}

# veth1's ifindex in the balancer (/sys/class/net shows the guest's own interfaces).
lb_ifindex() {
	ip -n "$PREFIX-lb" -o link show veth1 | cut -d: -f1
}

# --- traffic: IPIP frames captured at the backends (tests/tools/ipip_capture.c) ----
# Extra arguments go to ipip_capture (-g PORT: GUE frames too).
start_captures() {
	local i addr=("$B1" "$B2")
	rm -f "$TMP"/cap*.ready # a second round must wait for its own captures
	for i in 1 2; do
		spawn "b$i" "$TMP/cap$i.out" "$TOOLS/ipip_capture" -i eth0 -b "${addr[i - 1]}" \
			-o client -R "$TMP/cap$i.ready" "$@"
	done
	wait_file "$TMP/cap1.ready"
	wait_file "$TMP/cap2.ready"
}

# Stops the captures; every frame well-formed, every flow on one backend, $1 flows of
# $2 packets in all.
check_captures() {
	local flows=$1 per_flow=$2 all
	stop_captures
	check_contains "$(cat "$TMP/cap1.out")" "bad=0" "backend 1 frames well-formed"
	check_contains "$(cat "$TMP/cap2.out")" "bad=0" "backend 2 frames well-formed"
	all=$(grep -h '^flow ' "$TMP/cap1.out" "$TMP/cap2.out" | awk '{ print $3, $4 }' | sort)
	[[ -z $(uniq -d <<<"$all") ]] || fail "flows seen on both backends: $(uniq -d <<<"$all")"
	check_eq "$(grep -c . <<<"$all")" "$flows" "flows received at the backends"
	awk -v want="$per_flow" '$1 == "flow" && $NF != want { bad = 1 } END { exit bad }' \
		"$TMP/cap1.out" "$TMP/cap2.out" || fail "a flow did not get $per_flow packets"
}

# Stops the captures, and every other spawned process, once their sockets are drained:
# ipip_capture stops reading at SIGTERM, so the last frames must cross the bridge and
# be read first (a slow guest lags behind the sender).
stop_captures() {
	local i
	sleep 0.5
	for i in $(seq 50); do
		(($(capture_backlog b1) + $(capture_backlog b2) == 0)) && break
		sleep 0.1
	done
	stop_spawned
}

# Bytes waiting in the packet sockets of a backend (ss -0: Recv-Q).
capture_backlog() {
	in_net "$1" ss -Hn -0 | awk '{ n += $3 } END { print n + 0 }'
}

send_vip_flows() {
	in_net client "$TOOLS/flow_send" -d "$VIP" "$@" >/dev/null || fail "flow_send $* failed"
}

# A UDP echo on the balancer's own address: non-VIP traffic the kernel answers.
start_stack_echo() {
	spawn lb "$TMP/echo.out" socat UDP4-RECVFROM:6000,bind=$LB_ADDR,fork SYSTEM:"exec cat"
	wait_listening lb u 6000
}

wait_listening() {
	local ns=$1 proto=$2 port=$3 i
	for i in $(seq 100); do
		in_net "$ns" ss -Hln"$proto" "sport = :$port" | grep -q . && return 0
		sleep 0.1
	done
	fail "nothing listens on $proto port $port in $ns"
}

# The first reply line to a UDP datagram, sent from a new source port. UDP may
# lose a datagram (a neighbour still resolving on a guest starved of CPU): up to
# three asks, 3 s each, before the caller sees no answer.
udp_ask() {
	local try answer
	for try in 1 2 3; do
		answer=$(in_net client timeout 3 bash -c \
			'exec 3<>"/dev/udp/$1/$2" && echo "$3" >&3 && head -n 1 <&3' _ "$@")
		[[ -n $answer ]] && break
	done
	echo "$answer"
	[[ -n $answer ]]
}

# Rounds of 10 new flows x 40 packets (about 1 s each) from the client until
# stop_rounds, however slow the guest: whatever a test does meanwhile happens
# while packets are on their way.
start_rounds() {
	rm -f "$TMP/stop"
	nsenter --net="/run/netns/$PREFIX-client" bash -c 'sport=10000
		until [[ -e $1 ]]; do
			"$2" -d "$3" -p 5000 -f 10 -n 40 -r 400 -b $sport || exit 1
			sport=$((sport + 10))
		done' _ "$TMP/stop" "$TOOLS/flow_send" "$VIP" >"$TMP/send.out" &
	ROUNDS_PID=$!
	PIDS+=("$ROUNDS_PID") # cleanup ends it if the test stops early
	sleep 0.5
}

# Ends the rounds after the current one; ROUNDS_SENT gets how many packets
# were sent. (Not a $(...): only this shell can wait for its job.)
stop_rounds() {
	touch "$TMP/stop"
	wait "$ROUNDS_PID" || fail "flow_send failed: $(cat "$TMP/send.out")"
	PIDS=("${PIDS[@]/$ROUNDS_PID/}")
	ROUNDS_SENT=$(awk '$1 == "sent" { n += $2 } END { print n + 0 }' "$TMP/send.out")
}

# --- tests -------------------------------------------------------------------------

# Issue point 1.
test_dispatcher_mode() {
	lab_up
	local out
	out=$(lb_load "$TMP/lb.yaml" veth1) || fail "lb-load failed: $out"
	echo "$out" | sed 's/^/    | /'
	# lb-load prints this when xdp_multiprog__is_legacy() is false after the attach.
	check_contains "$out" "libxdp dispatcher" "load summary"
	check_contains "$out" "priority $PRIORITY" "load summary"
	check_chain "xdp_dispatcher $PRIORITY:xdp_lb_parse"
	check_contains "$(lbctl status veth1)" "veth1: libxdp dispatcher" "lbctl status"
	# The stages behind the dispatcher's freplace slot balance traffic.
	start_captures
	send_vip_flows -p 5000 -f 10 -n 5
	check_captures 10 5
	check_eq "$(counter parse.to_lb)" 50 "parse.to_lb"
	check_eq "$(counter lb.flow_new)" 10 "lb.flow_new"
}

# Issue point 2: one program before ours and one after, in run order and in load order.
test_coexistence() {
	lab_up
	load_port_count first 20
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	load_port_count last 60
	check_chain "xdp_dispatcher 20:xdp_port_count $PRIORITY:xdp_lb_parse 60:xdp_port_count"
	start_stack_echo
	start_captures
	send_vip_flows -p 5000 -f 10 -n 3
	local i reply
	for i in 1 2 3; do
		reply=$(udp_ask "$LB_ADDR" 6000 "ping $i") || fail "no echo for ping $i"
		check_eq "$reply" "ping $i" "the stack's echo"
	done
	check_captures 10 3
	# VIP traffic: seen by the program before ours, balanced by us, so never after us.
	check_eq "$(port_count first 5000)" 30 "VIP packets seen before xdp-lb"
	check_eq "$(port_count last 5000)" 0 "VIP packets seen after xdp-lb"
	# Non-VIP traffic goes down the whole chain and up to the stack.
	check_eq "$(port_count first 6000)" 3 "non-VIP packets seen before xdp-lb"
	check_eq "$(port_count last 6000)" 3 "non-VIP packets seen after xdp-lb"
	check_eq "$(counter parse.to_lb)" 30 "parse.to_lb"
}

# Issue point 2: priorities, not load order, decide who runs first. xdp-filter runs at
# priority 10 (its object's run config) and drops UDP to port 7777, a VIP port here.
test_priorities_decide_order() {
	lab_up
	check in_net lb xdp-filter load veth1 -f udp
	check in_net lb xdp-filter port 7777 -m dst -p udp
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	check_chain "xdp_dispatcher 10:xdpfilt_alw_udp $PRIORITY:xdp_lb_parse"
	start_captures
	send_vip_flows -p 7777 -f 2 -n 3
	check_captures 0 0
	check_eq "$(filter_port_hits 7777)" 6 "xdp-filter's hits on port 7777"
	check_eq "$(counter parse.to_lb)" 0 "parse.to_lb behind xdp-filter"

	# Loaded after xdp-filter, but at priority 5: xdp-lb now runs first.
	check lb_load --unload veth1 >/dev/null
	write_config 5
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	check_chain "xdp_dispatcher 5:xdp_lb_parse 10:xdpfilt_alw_udp"
	start_captures
	send_vip_flows -p 7777 -f 2 -n 3
	check_captures 2 3
	check_eq "$(filter_port_hits 7777)" 6 "xdp-filter's hits on port 7777 (unchanged)"
}

# Issue point 3: each attach or detach makes libxdp build and swap in a new dispatcher.
test_rebuilds_lose_no_vip_packet() {
	lab_up
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	start_captures
	# Each step happens while packets are on their way.
	local step sent
	start_rounds
	for step in "load_port_count a 20" "load_port_count b 60" \
		    "in_net lb xdp-filter load veth1 -f udp" "unload_priority 20" \
		    "in_net lb xdp-filter unload veth1" "unload_priority 60"; do
		$step || fail "$step failed"
		[[ $(xdp_chain) == *" $PRIORITY:xdp_lb_parse"* ]] || fail "xdp-lb gone after $step"
	done
	stop_rounds
	sent=$ROUNDS_SENT
	check_chain "xdp_dispatcher $PRIORITY:xdp_lb_parse"
	echo "    $sent VIP packets sent during 6 dispatcher rebuilds"
	check_captures $((sent / 40)) 40
}

# Issue point 4, part 1.
test_unload_ours_leaves_theirs() {
	lab_up
	load_port_count first 20
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	load_port_count last 60
	local out ifindex
	out=$(lb_load --unload veth1) || fail "unload failed: $out"
	check_contains "$out" "other XDP programs there are untouched" "unload message"
	check_chain "xdp_dispatcher 20:xdp_port_count 60:xdp_port_count"
	check_no_lb_pins
	# libxdp's pins for this dispatcher name exactly its two remaining programs.
	ifindex=$(lb_ifindex)
	check_eq "$(ls /sys/fs/bpf/xdp/dispatch-"$ifindex"-*/ | tr '\n' ' ')" \
		"prog0-link prog0-prog prog1-link prog1-prog " "libxdp's dispatcher pins"
	# Both keep running: VIP traffic now passes down the chain to the second one.
	send_vip_flows -p 5000 -f 4 -n 2
	check_eq "$(port_count first 5000)" 8 "VIP packets at the first program"
	check_eq "$(port_count last 5000)" 8 "VIP packets at the last program"
}

# Issue point 4, part 2, and nothing left once ours goes too.
test_unload_theirs_leaves_ours() {
	lab_up
	load_port_count first 20
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	load_port_count last 60
	unload_priority 20
	unload_priority 60
	check_chain "xdp_dispatcher $PRIORITY:xdp_lb_parse"
	start_captures
	send_vip_flows -p 5000 -f 6 -n 3
	check_captures 6 3
	check lb_load --unload veth1 >/dev/null
	check_chain "<No"
	check_no_lb_pins
	local ifindex
	ifindex=$(lb_ifindex)
	[[ -n $ifindex ]] || fail "no ifindex for veth1"
	ls -d /sys/fs/bpf/xdp/dispatch-"$ifindex"-* 2>/dev/null && fail "libxdp pins left"
	return 0
}

check_no_lb_pins() {
	local dir
	dir=/sys/fs/bpf/xdp-lb/veth1@$PREFIX-lb
	[[ ! -e $dir ]] || fail "xdp-lb pins left: $(ls "$dir")"
}

# Issue point 5.
test_legacy_fallback() {
	lab_up
	local out
	# No NAT VIP, but nat_source and nat_source6 set: every guest's verifier
	# then walks the icmp stage's NAT translation and parse's nat_source
	# checks, which it prunes while both are unset (this test runs in every mode).
	printf 'nat_source: %s\nnat_source6: fd00:99::10\n' "$LB_ADDR" >>"$TMP/lb.yaml"
	out=$(in_net lb env LIBXDP_SKIP_DISPATCHER=1 "$ROOT/lb-load" "$TMP/lb.yaml" veth1) ||
		fail "lb-load failed: $out"
	echo "$out" | sed 's/^/    | /'
	check_contains "$out" "single-program (legacy) mode" "load summary"
	check_contains "$out" "legacy because LIBXDP_SKIP_DISPATCHER is set" "load summary"
	check_contains "$out" "no other XDP program can share veth1" "load summary"
	check_chain "xdp_lb_parse"
	check_contains "$(lbctl status veth1)" "veth1: single-program (legacy)" "lbctl status"
	# What it means: another program cannot join, and ours stays.
	mkdir -p "$PIN/other"
	in_net lb xdp-loader load -P 60 -p "$PIN/other" veth1 "$PORT_COUNT" 2>/dev/null &&
		fail "another program joined a legacy attachment"
	check_chain "xdp_lb_parse"
	start_captures
	send_vip_flows -p 5000 -f 6 -n 3
	check_captures 6 3
}

# --- lb-load's own fallback (VM_EXPECT=fallback): parse cannot join the dispatcher -----

# What lb-load says when it fell back by itself: the verifier's reason and what lifts it.
FALLBACK_REASON="legacy because this kernel refuses xdp_lb_parse in the installed libxdp's dispatcher"
FALLBACK_VERIFIER='(verifier: "Extension program changes packet data, while original does not")'
FALLBACK_LIFT="libxdp 1.5.5 or later, whose dispatcher slots change packet data, lifts this"

# The counterpart of test_dispatcher_mode: lb-load falls back and says why; the stages,
# loaded for a single-program entry, balance.
test_fallback_mode() {
	lab_up
	local out ifindex
	out=$(lb_load "$TMP/lb.yaml" veth1) || fail "lb-load failed: $out"
	echo "$out" | sed 's/^/    | /'
	check_contains "$out" "single-program (legacy) mode" "load summary"
	check_contains "$out" "$FALLBACK_REASON" "load summary"
	check_contains "$out" "$FALLBACK_VERIFIER" "load summary"
	check_contains "$out" "$FALLBACK_LIFT" "load summary"
	check_contains "$out" "no other XDP program can share veth1" "load summary"
	check_chain "xdp_lb_parse"
	check_contains "$(lbctl status veth1)" "veth1: single-program (legacy)" "lbctl status"
	# The refused dispatcher left nothing behind.
	ifindex=$(lb_ifindex)
	[[ -z $(ls -d /sys/fs/bpf/xdp/dispatch-"$ifindex"-* 2>/dev/null) ]] ||
		fail "libxdp dispatcher pins left for veth1"
	start_captures
	send_vip_flows -p 5000 -f 10 -n 5
	check_captures 10 5
	check_eq "$(counter parse.to_lb)" 50 "parse.to_lb"
	check_eq "$(counter lb.flow_new)" 10 "lb.flow_new"
}

# The counterpart of test_coexistence and test_priorities_decide_order: with programs
# in libxdp's dispatcher already, lb-load refuses, says why, and changes nothing.
test_fallback_refused_beside_others() {
	lab_up
	local out
	load_port_count first 20
	check in_net lb xdp-filter load veth1 -f udp
	check in_net lb xdp-filter port 7777 -m dst -p udp
	check_chain "xdp_dispatcher 10:xdpfilt_alw_udp 20:xdp_port_count"
	# Priority 5, to run first: no priority can put it in that dispatcher.
	write_config 5
	out=$(lb_load "$TMP/lb.yaml" veth1 2>&1) && fail "lb-load loaded beside others: $out"
	echo "$out" | sed 's/^/    | /'
	check_contains "$out" "Failed to attach xdp_lb_parse to veth1: it can only run as a single program here (this kernel refuses xdp_lb_parse in the installed libxdp's dispatcher" "lb-load's error"
	check_contains "$out" "$FALLBACK_LIFT" "lb-load's error"
	check_contains "$out" "and xdpfilt_alw_udp (id" "lb-load's error"
	check_contains "$out" "is attached through libxdp's dispatcher: unload the other XDP programs first (xdp-loader unload veth1 --all)" "lb-load's error"
	check_contains "$out" "nothing was changed on veth1" "lb-load's error"
	check_chain "xdp_dispatcher 10:xdpfilt_alw_udp 20:xdp_port_count"
	check_no_lb_pins
	# Both still run: xdp-filter drops port 7777, the counter sees the rest, the
	# stack answers.
	start_stack_echo
	send_vip_flows -p 7777 -f 2 -n 3
	send_vip_flows -p 5000 -f 4 -n 2
	check_eq "$(filter_port_hits 7777)" 6 "xdp-filter's hits on port 7777"
	check_eq "$(port_count first 5000)" 8 "VIP packets at the counting program"
	check_eq "$(udp_ask "$LB_ADDR" 6000 ping)" "ping" "the stack's echo"
}

# The counterpart of test_rebuilds_lose_no_vip_packet: while xdp-lb runs alone, other
# programs cannot attach, and their attempts cost no VIP packet.
test_fallback_others_refused() {
	lab_up
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	start_captures
	local sent out
	start_rounds
	mkdir -p "$PIN/a"
	out=$(in_net lb xdp-loader load -P 20 -p "$PIN/a" veth1 "$PORT_COUNT" 2>&1) &&
		fail "xdp-loader attached beside xdp-lb"
	check_contains "$out" "Existing program is not using a dispatcher" "xdp-loader's error"
	in_net lb xdp-filter load veth1 -f udp 2>/dev/null && fail "xdp-filter attached beside xdp-lb"
	check_chain "xdp_lb_parse"
	stop_rounds
	sent=$ROUNDS_SENT
	echo "    $sent VIP packets sent during 2 refused attaches"
	check_captures $((sent / 40)) 40
}

# The counterpart of the unload tests: unloading frees the interface for libxdp's
# dispatcher again.
test_fallback_unload() {
	lab_up
	local out
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	out=$(lb_load --unload veth1) || fail "unload failed: $out"
	check_contains "$out" "xdp-lb unloaded from veth1" "unload message"
	check_chain "<No"
	check_no_lb_pins
	load_port_count first 20
	check_chain "xdp_dispatcher 20:xdp_port_count"
	send_vip_flows -p 5000 -f 4 -n 2
	check_eq "$(port_count first 5000)" 8 "VIP packets at the counting program"
}

# Issue point 6: backends decapsulate with the kernel's ipip device, and GUE with its fou
# port in front of it, and answer the client from the VIP directly (direct server return).
backend_up() {
	local ns=$PREFIX-$1 name=$1
	ip -n "$ns" link set tunl0 up
	# fou strips the UDP header and hands the inner IPv4 packet to tunl0, as IPIP.
	ip -n "$ns" fou add port "$GUE_PORT" ipproto 4 || fail "ip fou add failed in $name"
	ip -n "$ns" addr add "$VIP/32" dev lo
	ip -n "$ns" addr add "$TCP_VIP/32" dev lo
	# The inner source (the client) is not routed via tunl0: rp_filter would drop it.
	# arp_ignore/arp_announce: the VIPs on lo are never announced on the wire.
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.tunl0.rp_filter=0 net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2
	# Each reply names the backend: "b1=request". One child per client address and
	# port, which ends 5 s after its client goes quiet.
	spawn "$name" "$TMP/$name-udp.log" socat -T 5 UDP4-LISTEN:5000,bind=$VIP,fork,reuseaddr \
		SYSTEM:"exec sed -u s/^/$name=/"
	spawn "$name" "$TMP/$name-tcp.log" socat -T 5 TCP4-LISTEN:80,bind=$TCP_VIP,fork,reuseaddr \
		SYSTEM:"exec sed -u s/^/$name=/"
	wait_listening "$name" u 5000
	wait_listening "$name" t 80
}

# Three requests on one connection (one source port) named $1 to ${2:-$VIP}:5000;
# prints the three replies. The socket is connected to the VIP: a reply from any other
# address would not reach it.
udp_connection() {
	in_net client timeout 20 bash -c 'exec 3<>"/dev/udp/$1/5000" || exit 1
		for r in 1 2 3; do echo "$2-r$r" >&3; timeout 5 head -n 1 <&3; done' _ \
		"${2:-$VIP}" "$1"
}

# The same over TCP to ${2:-$TCP_VIP}:80.
tcp_connection() {
	in_net client timeout 20 bash -c 'exec 3<>"/dev/tcp/$1/80" || exit 1
		for r in 1 2 3; do echo "$2-r$r" >&3; read -r -t 5 line <&3; echo "$line"; done' \
		_ "${2:-$TCP_VIP}" "$1"
}

# Every request answered, all three by the same backend, which joins $BACKENDS.
check_connection() {
	local name=$1 replies=$2 backend
	backend=${replies%%=*}
	[[ $backend == b[12] ]] || fail "connection $name: no backend answered: '$replies'"
	check_eq "$replies" "$(printf '%s\n' "$backend=$name-r"{1..3})" "replies on $name"
	BACKENDS+="$backend "
}

# The lab with both backends up (backend_up) and xdp-lb loaded, encap ipip.
real_backends_up() {
	lab_up
	backend_up b1
	backend_up b2
	# A veth leaves checksums to the receiver (CHECKSUM_PARTIAL); XDP_TX puts the frame
	# on the wire as it is, so the client computes them itself, as a host behind a NIC.
	ip netns exec "$PREFIX-client" ethtool -K eth0 tx off >/dev/null
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
}

test_real_backends() {
	real_backends_up
	local c
	BACKENDS=
	for c in u1 u2 u3 u4 u5 u6; do
		check_connection "$c" "$(udp_connection "$c")"
	done
	for c in t1 t2 t3 t4 t5 t6; do
		check_connection "$c" "$(tcp_connection "$c")"
	done
	echo "    backend of each connection: $BACKENDS"
	[[ $BACKENDS == *b1* && $BACKENDS == *b2* ]] || fail "one backend took every connection"
	# One flow per connection: no packet of a connection was scheduled anew.
	check_eq "$(counter lb.flow_new)" 12 "lb.flow_new"
	check_eq "$(counter encap.tx)" "$(counter parse.to_lb)" "every VIP packet encapsulated"
}

# --- issue 4: real backends while the encap stage is swapped ---------------------------

# Runs in the client's namespace and keeps connections open between requests: reads
# commands from $1/commands ("open u1", "ask u1", "close u1"; names starting with u are
# UDP to $2:5000, the others TCP to $3:80) and answers each on $1/answers ("ok" or why
# not). "ask" sends request NAME-rN, N counting per connection, and appends the reply
# line to $1/NAME.replies.
connection_driver() {
	local dir=$1 vip=$2 tcp_vip=$3 cmd name fd request reply
	local -A conn sent
	exec 8<>"$dir/commands" 9<>"$dir/answers"
	while read -r cmd name <&8; do
		case $cmd in
		open)
			if [[ $name == u* ]]; then
				exec {fd}<>"/dev/udp/$vip/5000"
			else
				exec {fd}<>"/dev/tcp/$tcp_vip/80"
			fi || { echo "cannot connect $name" >&9; continue; }
			conn[$name]=$fd sent[$name]=0
			;;
		ask)
			fd=${conn[$name]} sent[$name]=$((sent[$name] + 1))
			request=$name-r${sent[$name]} reply=
			echo "$request" >&"$fd" || { echo "cannot send $request" >&9; continue; }
			# A UDP read takes the whole datagram: head reads it in one go.
			if [[ $name == u* ]]; then
				reply=$(timeout 5 head -n 1 <&"$fd")
			else
				read -r -t 5 reply <&"$fd"
			fi
			echo "$reply" >>"$dir/$name.replies"
			[[ -n $reply ]] || { echo "no reply to $request" >&9; continue; }
			;;
		close)
			fd=${conn[$name]}
			exec {fd}>&-
			;;
		esac
		echo ok >&9
	done
}

# Both ends of the FIFOs are opened read-write: no open waits for the other side.
start_client() {
	mkfifo "$TMP/commands" "$TMP/answers"
	exec {CLIENT_COMMANDS}<>"$TMP/commands" {CLIENT_ANSWERS}<>"$TMP/answers"
	spawn client "$TMP/client.log" bash -c "$(declare -f connection_driver)
		connection_driver \"\$@\"" _ "$TMP" "$VIP" "$TCP_VIP"
}

# Command $1 on each connection named after it, one after the other (the order decides
# which backend a new flow gets: the least loaded).
client_all() {
	local cmd=$1 name answer
	shift
	for name in "$@"; do
		echo "$cmd $name" >&"$CLIENT_COMMANDS"
		read -r -t 20 answer <&"$CLIENT_ANSWERS" ||
			fail "the client did not answer '$cmd $name' within 20 s"
		[[ $answer == ok ]] || fail "client: $cmd $name: $answer"
	done
}

swap_encap() {
	local out
	out=$(lbctl encap veth1 "$1" 2>&1) || fail "lbctl encap veth1 $1 failed: $out"
}

# Swaps the encap stage back and forth, without a pause, until stop_swapping.
start_swapping() {
	(
		stages=(gue ipip) swaps=0
		until [[ -e $TMP/stop-swapping ]]; do
			swap_encap "${stages[swaps % 2]}"
			swaps=$((swaps + 1))
			echo "$swaps" >"$TMP/swaps"
		done
	) &
	SWAPPER=$!
	PIDS+=("$SWAPPER") # cleanup ends it if the test stops early
	wait_file "$TMP/swaps"
}

stop_swapping() {
	touch "$TMP/stop-swapping"
	wait "$SWAPPER" || fail "a swap failed"
	PIDS=("${PIDS[@]/$SWAPPER/}")
}

# Waits until every TCP connection of the client is closed on both sides: the final ACK
# went out (time-wait) and has been counted by the balancer.
wait_client_tcp_closed() {
	local i
	for i in $(seq 50); do
		[[ -z $(in_net client ss -Htn state connected exclude time-wait) ]] && return 0
		sleep 0.1
	done
	fail "client TCP connections still open: $(in_net client ss -Htn)"
}

# Field $2 (ipip, gue, bad, ...) of backend $1's capture closing line.
capture_field() {
	grep '^capture ' "$TMP/cap$1.out" | grep -oE " $2=[0-9]+" | cut -d= -f2
}

# Packets backend $1's tunl0 received: IPIP, and GUE once fou has stripped its UDP header.
tunnel_rx_packets() {
	ip netns exec "$PREFIX-b$1" cat /sys/class/net/tunl0/statistics/rx_packets
}

# Issue 4's last point. The config loads ipip; the stage changes before any connection,
# during connections (between two requests of the same connections), between connections
# and, without a pause, while connections open and make their requests.
test_gue_backends_across_swaps() {
	real_backends_up
	start_captures -g "$GUE_PORT"
	start_client
	local first=(u1 u2 t1 t2) second=(u3 u4 t3 t4) c i ipip gue received=0
	swap_encap gue # before any connection
	client_all open "${first[@]}" # the TCP handshakes in GUE
	client_all ask "${first[@]}"
	swap_encap ipip # during: request 2 of the same connections in IPIP
	client_all ask "${first[@]}"
	swap_encap gue
	client_all ask "${first[@]}"
	client_all close "${first[@]}"
	swap_encap ipip # between connections
	start_swapping
	client_all open "${second[@]}"
	client_all ask "${second[@]}" "${second[@]}" "${second[@]}"
	client_all close "${second[@]}"
	stop_swapping
	echo "    $(cat "$TMP/swaps") swaps while the second connections ran, 4 before"
	BACKENDS=
	for c in "${first[@]}" "${second[@]}"; do
		check_connection "$c" "$(cat "$TMP/$c.replies")"
	done
	echo "    backend of each connection: $BACKENDS"
	wait_client_tcp_closed
	stop_captures
	# The captures only count each format here. A packet socket queues a clone that
	# shares the frame's data, and fou lowers the outer total length in place when it
	# strips the UDP header: read after that, most GUE frames look corrupt (ipip_capture's
	# "bad"). The kernel itself checked every outer header before tunl0 counted it, and
	# the frames' bytes are checked by the unit and integration tests.
	for i in 1 2; do
		check_eq "$(capture_field $i socket_drops)" 0 "backend $i: frames its capture lost"
		ipip=$(capture_field $i ipip) gue=$(capture_field $i gue)
		echo "    backend $i received ipip=$ipip gue=$gue"
		((ipip > 0 && gue > 0)) ||
			fail "backend $i did not receive both formats: ipip=$ipip gue=$gue"
		check_eq "$(tunnel_rx_packets $i)" $((ipip + gue)) \
			"backend $i: packets tunl0 decapsulated (ipip + gue captured)"
		received=$((received + ipip + gue))
	done
	check_eq "$received" "$(counter encap.tx)" "packets at the backends (encap.tx sent)"
	check_eq "$(counter encap.tx)" "$(counter parse.to_lb)" "every VIP packet encapsulated"
	# One flow per connection: no packet of a connection was scheduled anew.
	check_eq "$(counter lb.flow_new)" 8 "lb.flow_new"
}

# A reload that adds the first NAT VIP replaces parse (it reads the NAT state
# map, made with one entry without a NAT VIP): through the dispatcher the new
# parse is attached beside the old one, which is then detached. One parse stays,
# at its priority and before the program after it; flows keep their backends.
# nat_source6, with no IPv6 NAT VIP, only makes this guest's verifier walk the
# stages' IPv6 NAT paths (the ICMPv6 translation in icmp, nat_source6 in parse).
test_reload_adds_nat_replaces_parse() {
	lab_up
	load_port_count last 60
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	check_chain "xdp_dispatcher $PRIORITY:xdp_lb_parse 60:xdp_port_count"
	local nat_pin=/sys/fs/bpf/xdp-lb/veth1@$PREFIX-lb/nat_reply
	check_contains "$(bpftool -j map show pinned "$nat_pin")" '"max_entries":1,' \
		"nat_reply without a NAT VIP"
	start_captures
	send_vip_flows -p 5000 -f 10 -n 2
	cat >>"$TMP/lb.yaml" <<EOF
  - {address: $TCP_VIP, port: 81, protocol: tcp, forwarding: nat, backends: [{ip: $B1}]}
nat_source: $LB_ADDR
nat_source6: fd00:99::10
EOF
	local out
	out=$(lb_load "$TMP/lb.yaml" veth1) || fail "reload adding NAT failed: $out"
	check_contains "$out" "established flows kept" "reload summary"
	check_chain "xdp_dispatcher $PRIORITY:xdp_lb_parse 60:xdp_port_count"
	check_contains "$(bpftool -j map show pinned "$nat_pin")" '"max_entries":65536,' \
		"nat_reply with a NAT VIP"
	send_vip_flows -p 5000 -f 10 -n 2
	check_captures 10 4
	check_eq "$(counter parse.to_lb)" 40 "parse.to_lb"
	check_eq "$(counter lb.flow_new)" 10 "lb.flow_new: no flow scheduled again"
	check_eq "$(port_count last 5000)" 0 "VIP packets seen after xdp-lb"
}

# Everything a test may leave: its processes, other XDP programs, ours, pins, the lab.
cleanup_test() {
	stop_spawned
	if [[ -e /run/netns/$PREFIX-lb ]]; then
		in_net lb xdp-filter unload veth1 >/dev/null 2>&1
		lb_load --unload veth1 >/dev/null 2>&1
		in_net lb xdp-loader unload veth1 --all >/dev/null 2>&1
	fi
	rm -rf "$PIN"
	topology down "$PREFIX"
}

source "$(dirname "$0")/health_tunnel.sh"
source "$(dirname "$0")/pmtu.sh"
source "$(dirname "$0")/ipv6.sh"

if [[ $EXPECT == fallback ]]; then
	TESTS=(test_fallback_mode test_fallback_refused_beside_others test_fallback_others_refused
	       test_fallback_unload)
else
	TESTS=(test_dispatcher_mode test_coexistence test_priorities_decide_order
	       test_rebuilds_lose_no_vip_packet test_unload_ours_leaves_theirs
	       test_unload_theirs_leaves_ours test_reload_adds_nat_replaces_parse)
fi
# Whatever the mode, forced legacy and real backends.
TESTS+=(test_legacy_fallback test_real_backends test_gue_backends_across_swaps
	test_health_through_ipip_backends test_health_through_gue_backends
	test_health_through_ipv6_backends test_health_through_gue6_backends
	test_pmtu_tcp_transfer test_pmtu_error_reaches_backend test_pmtu6_tcp_transfer
	test_ipv4_in_ipv6_backends test_ipv6_in_ipv6_backends test_ipv4_in_gue6_backends
	test_ipv6_in_gue6_backends)
run_tests "$SUITE" "${TESTS[@]}"; exit # one command to the end: a later edit is never half read
