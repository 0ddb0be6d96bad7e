#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# xdp_send's ways of sending (-M live, afxdp, packet, and auto's choice among
# them) on a veth pair of our own: every frame the receiver gets is checked
# (frame_capture: IPv4 and UDP/TCP checksums, lengths) and counted per flow,
# against what xdp_send says it sent. Live frames are skipped only where the
# running kernel refuses them; auto's fallbacks are taken for real where a
# method really fails (a busy queue, too few queues), through refuse_live.so
# (live frames refused with EPERM at the system call, as some kernels do) and
# through XDP_SEND_REFUSE where the kernel has every method.
source "$(dirname "$0")/lib.sh"

DST=10.0.0.2
SRC=10.0.1.1 # -a: first source address; the receiver has no route back to it
declare -A LABEL=([live]="live frames" [afxdp]="AF_XDP (copy mode)"
	[packet]="AF_PACKET (sendmmsg)")

# A veth pair: $PREFIX-client eth0 10.0.0.1 (the sender) and $PREFIX-b1
# eth0 (the receiver, no address: what arrives goes no further than its
# capture). The names are topology.sh's, so cleanup_test removes them.
#   $1: TX and RX queues on each side (default 1)
#   $2: xdp (default): xdp_pass on the receiver, without which a veth drops
#       live frames (AF_XDP copy mode and AF_PACKET do not need it); none
sender_lab() {
	local queues=${1:-1} xdp=${2:-xdp} ns
	for ns in client b1; do
		ip netns add "$PREFIX-$ns"
		# No IPv6: no router solicitation or MLD report in the counters.
		in_net "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	ip link add eth0 netns "$PREFIX-client" numtxqueues "$queues" numrxqueues "$queues" \
		type veth peer name eth0 netns "$PREFIX-b1" numtxqueues "$queues" \
		numrxqueues "$queues"
	ip -n "$PREFIX-client" addr add 10.0.0.1/24 dev eth0
	ip -n "$PREFIX-client" link set eth0 up
	ip -n "$PREFIX-b1" link set eth0 up
	if [[ $xdp == xdp ]]; then
		ip -n "$PREFIX-b1" link set dev eth0 xdp obj "$OUTPUT/bpf/xdp_pass.bpf.o" sec xdp
	fi
	RX_MAC=$(ip -n "$PREFIX-b1" -o link show eth0 | grep -oE 'link/ether [0-9a-f:]+' |
		cut -d' ' -f2)
}

start_capture() {
	spawn b1 "$TMP/cap.out" "$TOOLS/frame_capture" -i eth0 -R "$TMP/ready"
	wait_file "$TMP/ready"
}

# Lets the last frames arrive, then stops the capture (and whatever else
# this test spawned).
stop_capture() {
	sleep 0.3
	stop_spawned
}

# xdp_send from the sender to the receiver, more options in "$@". Its output
# goes to $TMP/$NAME.out and .err; returns its status.
xsend() {
	local name=$1
	shift
	in_net client "$TOOLS/xdp_send" -i eth0 -D "$RX_MAC" -d "$DST" -a "$SRC" "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err"
}

summary_of() {
	grep '^xdp_send ' "$TMP/$1.out"
}

# Field KEY=VALUE of a run's summary line.
field() {
	summary_of "$1" | grep -oE " $2=[^ ]+" | cut -d= -f2
}

# "PROTO SRC:SPORT DST:DPORT FRAMES" per flow of xdp_send's -l listing.
sent_flows() {
	awk -v p="$2" -v d="$DST:$3" '$1 == "flow" { print p, $2, d, $3 }' "$TMP/$1.out"
}

received_flows() {
	awk '$1 == "flow" { print $2, $3, $4, $5 }' "$TMP/cap.out" | sort
}

# Skips the test when the running kernel refuses live frames, with its
# reason. Where it takes them, one frame goes to port 9: call it before the
# capture starts.
skip_if_live_refused() {
	if ! xsend probe -M live -n 1 -p 9 && grep -q 'Failed to run live frames' \
		"$TMP/probe.err"; then
		skip "the kernel refuses live frames: $(cat "$TMP/probe.err")"
	fi
}

# One method, forced: UDP in 300 flows from source port 65400 (past 65535
# the next source address), 200-byte frames, as fast as it goes; then TCP in
# 50 flows of 64-byte ACK segments, paced. The receiver must get every frame
# sent, on its flow, intact, and nothing else.
check_method() {
	local m=$1
	start_capture
	xsend udp -M "$m" -p 7000 -f 300 -b 65400 -n 3000 -s 200 -l ||
		fail "xdp_send -M $m failed: $(cat "$TMP/udp.err")"
	summary_of udp | sed 's/^/    | /'
	check_eq "$(cat "$TMP/udp.err")" "xdp_send: using ${LABEL[$m]} on eth0 (-M $m)" \
		"the method line"
	check_contains "$(summary_of udp)" "xdp_send frames=3000 " "frames = -n"
	check_contains "$(summary_of udp)" \
		" frame_bytes=200 flows=300 threads=1 xmit=3000 xmit_errors=0 method=$m" "summary"
	check_contains "$(cat "$TMP/udp.out")" "flow 10.0.1.3:65427 10" \
		"third source address after 2 x 136 ports"
	xsend tcp -M "$m" -p 80 -P tcp -f 50 -n 500 -r 5000 -l ||
		fail "xdp_send -M $m -P tcp failed: $(cat "$TMP/tcp.err")"
	check_contains "$(summary_of tcp)" "xdp_send frames=500 " "TCP frames"
	check_contains "$(summary_of tcp)" " method=$m" "TCP method"
	stop_capture
	check_eq "$(received_flows)" "$({ sent_flows udp udp 7000; sent_flows tcp tcp 80; } |
		sort)" "every frame received, on its flow"
	check_contains "$(cat "$TMP/cap.out")" \
		"capture frames=3500 bad=0 other=0 socket_drops=0 flows=350 min_bytes=64 max_bytes=200" \
		"the receiver's totals, sizes and checks"
}

# --- each method, forced --------------------------------------------------------

test_live_frames() {
	sender_lab
	skip_if_live_refused
	check_method live
}

test_afxdp_copy_mode() {
	sender_lab
	check_method afxdp
}

test_packet_sendmmsg() {
	sender_lab
	check_method packet
}

# AF_XDP copy mode and AF_PACKET go through the driver's normal xmit path:
# a veth peer takes their frames without an XDP program.
test_afxdp_and_packet_need_no_xdp_on_the_peer() {
	local m base=10000
	sender_lab 1 none
	start_capture
	for m in afxdp packet; do
		xsend "$m" -M "$m" -f 20 -b $((base += 1000)) -n 1000 -r 20000 -l ||
			fail "-M $m: $(cat "$TMP/$m.err")"
		check_contains "$(summary_of "$m")" "xdp_send frames=1000 " "-M $m frames"
		check_contains "$(summary_of "$m")" "xmit=1000 xmit_errors=0 method=$m" "-M $m xmit"
	done
	stop_capture
	check_contains "$(cat "$TMP/cap.out")" "capture frames=2000 bad=0 other=0 socket_drops=0 " \
		"every frame of both"
	check_eq "$(received_flows)" "$({ sent_flows afxdp udp 5000; sent_flows packet udp 5000; } |
		sort)" "every frame, on its flow"
}

# --- auto ------------------------------------------------------------------------

# Whatever the running kernel does: live frames if it takes them, else AF_XDP,
# and it says so; the receiver gets exactly what was sent either way.
test_auto_uses_live_frames_or_says_why_not() {
	local line expect refused
	refused='^xdp_send: live frames refused by the kernel \((.+)\); using AF_XDP \(copy mode\) on eth0$'
	sender_lab
	start_capture
	xsend auto -f 100 -n 2000 -l || fail "xdp_send failed: $(cat "$TMP/auto.err")"
	line=$(cat "$TMP/auto.err")
	echo "    | $line"
	if [[ $line == "xdp_send: using live frames on eth0" ]]; then
		expect=live
	else
		expect=afxdp
		[[ $line =~ $refused ]] || fail "unexpected method line: $line"
		# -M live must fail for the same reason.
		xsend live -M live -n 1 && fail "-M live worked where auto said it was refused"
		check_contains "$(cat "$TMP/live.err")" ": ${BASH_REMATCH[1]} (method live)" \
			"-M live's reason"
	fi
	check_contains "$(summary_of auto)" "xdp_send frames=2000 " "frames"
	check_contains "$(summary_of auto)" " xmit=2000 xmit_errors=0 method=$expect" "method="
	stop_capture
	check_eq "$(received_flows)" "$(sent_flows auto udp 5000 | sort)" "every frame received"
	check_contains "$(cat "$TMP/cap.out")" "capture frames=2000 bad=0 other=0 socket_drops=0 " \
		"the receiver's totals"
}

# The kernel's refusal as xdp_send meets it: its probe run fails with EPERM.
test_auto_falls_back_to_afxdp_when_the_kernel_refuses_live_frames() {
	sender_lab
	start_capture
	LD_PRELOAD=$TOOLS/refuse_live.so xsend auto -f 300 -b 65400 -n 3000 -s 100 -l ||
		fail "xdp_send failed: $(cat "$TMP/auto.err")"
	check_eq "$(cat "$TMP/auto.err")" "xdp_send: live frames refused by the kernel\
 (Operation not permitted); using AF_XDP (copy mode) on eth0" "the fallback line"
	check_contains "$(summary_of auto)" "xdp_send frames=3000 " "frames"
	check_contains "$(summary_of auto)" " frame_bytes=100 flows=300 threads=1 xmit=3000\
 xmit_errors=0 method=afxdp" "summary"
	stop_capture
	check_eq "$(received_flows)" "$(sent_flows auto udp 5000 | sort)" "every frame received"
	check_contains "$(cat "$TMP/cap.out")" "capture frames=3000 bad=0 other=0 socket_drops=0\
 flows=300 min_bytes=100 max_bytes=100" "the receiver's totals"

	# The test hook takes the same way, and says it was the hook.
	XDP_SEND_REFUSE=live xsend hook -n 10 || fail "xdp_send failed: $(cat "$TMP/hook.err")"
	check_eq "$(cat "$TMP/hook.err")" "xdp_send: live frames refused by XDP_SEND_REFUSE\
 (Operation not permitted); using AF_XDP (copy mode) on eth0" "the hook's fallback line"
	check_contains "$(summary_of hook)" "xdp_send frames=10 " "the hook's frames"
	check_contains "$(summary_of hook)" " method=afxdp" "the hook's method"
}

# AF_XDP really unavailable: queue 0 is held by another AF_XDP socket.
test_auto_falls_back_to_packet_when_afxdp_cannot_be_set_up() {
	local holder
	sender_lab
	spawn client "$TMP/holder.out" "$TOOLS/xdp_send" -i eth0 -D "$RX_MAC" -d "$DST" \
		-a 10.0.2.1 -M afxdp -t 60 -r 10
	for _ in $(seq 50); do
		grep -q 'using AF_XDP' "$TMP/holder.out" && break
		sleep 0.1
	done
	check_contains "$(cat "$TMP/holder.out")" "using AF_XDP" "the queue's holder started"
	holder=${PIDS[0]}
	start_capture
	LD_PRELOAD=$TOOLS/refuse_live.so xsend auto -f 10 -n 1000 -l ||
		fail "xdp_send failed: $(cat "$TMP/auto.err")"
	check_eq "$(cat "$TMP/auto.err")" "xdp_send: live frames refused by the kernel\
 (Operation not permitted); AF_XDP (copy mode) unavailable (Failed to bind an AF_XDP socket\
 to eth0 queue 0: Device or resource busy); using AF_PACKET (sendmmsg) on eth0" \
		"the fallback line"
	check_contains "$(summary_of auto)" "xdp_send frames=1000 " "frames"
	check_contains "$(summary_of auto)" " method=packet" "method="
	kill -TERM "$holder"
	stop_capture
	# The holder's own frames (from 10.0.2.1) arrived too: count ours.
	check_eq "$(received_flows | grep " 10.0.1.1:")" "$(sent_flows auto udp 5000 | sort)" \
		"every frame received"
	check_contains "$(cat "$TMP/cap.out")" " bad=0 other=0 socket_drops=0 " "intact"

	# Both simulated: the same last resort.
	XDP_SEND_REFUSE=live,afxdp xsend both -n 10 || fail "$(cat "$TMP/both.err")"
	check_contains "$(cat "$TMP/both.err")" "AF_XDP (copy mode) refused by XDP_SEND_REFUSE\
 (Operation not permitted); using AF_PACKET (sendmmsg) on eth0" "both refused"
	check_contains "$(summary_of both)" " method=packet" "method="
}

# -T 2 with AF_XDP takes one queue per thread: on a one-queue interface
# auto goes on to AF_PACKET, which has no such limit.
test_auto_with_threads_on_one_queue() {
	(($(nproc) >= 2)) || skip "-T 2 needs 2 CPUs, this machine has $(nproc)"
	sender_lab
	start_capture
	XDP_SEND_REFUSE=live xsend auto -T 2 -f 10 -n 1001 -l || fail "$(cat "$TMP/auto.err")"
	check_contains "$(cat "$TMP/auto.err")" "AF_XDP (copy mode) unavailable (Failed to bind an\
 AF_XDP socket to eth0 queue 1 (eth0 has 1 TX queue; -T 2 needs one per thread): Invalid\
 argument); using AF_PACKET (sendmmsg) on eth0" "the fallback line"
	check_contains "$(summary_of auto)" "xdp_send frames=1001 " "frames"
	# Two threads on one TX queue may overrun the veth for a moment: the
	# driver's refusals show in xmit_errors and those frames are sent again, so
	# the driver still takes exactly 1001 and every one arrives (below).
	check_contains "$(summary_of auto)" " threads=2 xmit=1001 xmit_errors=" "summary"
	check_contains "$(summary_of auto)" " method=packet" "summary"
	stop_capture
	check_eq "$(received_flows)" "$(sent_flows auto udp 5000 | sort)" "every frame received"
}

# --- threads, pacing, signals ------------------------------------------------------

test_afxdp_one_socket_per_queue() {
	(($(nproc) >= 2)) || skip "-T 2 needs 2 CPUs, this machine has $(nproc)"
	sender_lab 2
	start_capture
	xsend two -M afxdp -T 2 -f 7 -n 2001 -s 80 -l || fail "$(cat "$TMP/two.err")"
	check_contains "$(summary_of two)" "xdp_send frames=2001 " "frames"
	check_contains "$(summary_of two)" " frame_bytes=80 flows=7 threads=2 xmit=2001\
 xmit_errors=0 method=afxdp" "summary"
	stop_capture
	check_eq "$(received_flows)" "$(sent_flows two udp 5000 | sort)" \
		"every frame of both threads, per flow as listed"
	check_contains "$(cat "$TMP/cap.out")" "capture frames=2001 bad=0 other=0 socket_drops=0\
 flows=7 min_bytes=80 max_bytes=80" "the receiver's totals"
}

# Rates no generator misses here (a few thousand frames/s). A paced sender
# is never ahead of its schedule by more than its lead (live frames: 50 ms,
# the others: 2 ms), which bounds the time from below and the frames from
# above; the other bounds only catch a hang.
test_rate_pacing_each_method() {
	local m s pps frames
	sender_lab
	for m in live afxdp packet; do
		if ! xsend "n-$m" -M "$m" -f 5 -n 3000 -r 10000; then
			if [[ $m == live ]] && grep -q 'Failed to run live frames' "$TMP/n-$m.err"; then
				echo "    live: refused by the kernel, not timed"
				continue
			fi
			fail "-M $m: $(cat "$TMP/n-$m.err")"
		fi
		s=$(field "n-$m" seconds)
		pps=$(field "n-$m" pps)
		echo "    $m: 3000 frames at -r 10000 in $s s ($pps/s)"
		check_eq "$(field "n-$m" frames)" 3000 "-M $m frames"
		awk -v s="$s" 'BEGIN { exit !(s >= 0.2 && s < 30) }' ||
			fail "-M $m: 3000 frames at 10000/s took $s s"
		xsend "t-$m" -M "$m" -t 0.5 -r 2000 || fail "-M $m -t: $(cat "$TMP/t-$m.err")"
		frames=$(field "t-$m" frames)
		echo "    $m: -t 0.5 -r 2000: $frames frames"
		((frames >= 1 && frames <= 1100)) || fail "-M $m: $frames frames in 0.5 s at 2000/s"
	done
}

# SIGINT in the middle of a run: the summary still comes, and frames= is
# what the interface took (AF_XDP: every completion, waited for).
test_interrupted_run_counts_what_was_sent() {
	local m pid
	sender_lab
	for m in afxdp packet; do
		rm -f "$TMP/ready"
		start_capture
		# nsenter execs xdp_send: $! is xdp_send itself.
		nsenter --net="/run/netns/$PREFIX-client" "$TOOLS/xdp_send" -i eth0 -D "$RX_MAC" -d "$DST" -a "$SRC" -M "$m" \
			-f 30 -t 60 -r 50000 -l >"$TMP/$m.out" 2>"$TMP/$m.err" &
		pid=$!
		sleep 0.5
		kill -INT "$pid"
		wait "$pid" || fail "-M $m interrupted: exit status $?: $(cat "$TMP/$m.err")"
		stop_capture
		echo "    $m: $(summary_of "$m" | cut -d' ' -f2-3)"
		check_contains "$(summary_of "$m")" " method=$m" "-M $m summary"
		check_eq "$(received_flows)" "$(sent_flows "$m" udp 5000 | sort)" \
			"-M $m: frames= and the listing are what arrived"
		(($(field "$m" frames) > 0)) || fail "-M $m sent nothing"
	done
}

# --- errors -------------------------------------------------------------------------

test_bad_method_rejected() {
	local out
	sender_lab
	out=$(in_net client "$TOOLS/xdp_send" -i eth0 -D "$RX_MAC" -d "$DST" -n 1 -M pktgen 2>&1)
	check_eq "$?" 2 "exit status of -M pktgen"
	check_eq "$out" "xdp_send: -M pktgen: the method is auto, live, afxdp or packet" "message"
	out=$(in_net client "$TOOLS/xdp_send" -i eth0 -D "$RX_MAC" -d "$DST" -n 1 --method=AFXDP \
		2>&1) && fail "--method=AFXDP accepted"
	check_contains "$out" "-M AFXDP: the method is auto" "--method's message"
}

# A method asked for that cannot work is an error naming it and the reason,
# never a fallback: nothing is sent.
test_forced_method_fails_with_its_reason() {
	sender_lab
	# Live frames first, before the capture: where the kernel takes them
	# this sends one frame.
	if xsend live -M live -n 1 -p 9; then
		LD_PRELOAD=$TOOLS/refuse_live.so xsend live -M live -n 100 &&
			fail "refused -M live succeeded"
		check_eq "$(cat "$TMP/live.err")" "xdp_send: Failed to run live frames on eth0:\
 Operation not permitted (method live)" "-M live's message"
	else
		check_contains "$(cat "$TMP/live.err")" "xdp_send: Failed to run live frames on eth0: " \
			"-M live's message (refused by this kernel)"
		check_contains "$(cat "$TMP/live.err")" " (method live)" "-M live's message names it"
	fi
	[[ ! -s $TMP/live.out ]] || fail "a failed method printed a summary: $(cat "$TMP/live.out")"
	XDP_SEND_REFUSE=live xsend hook -M live -n 100 && fail "-M live refused by the hook succeeded"
	check_eq "$(cat "$TMP/hook.err")" "xdp_send: Failed to use live frames\
 (XDP_SEND_REFUSE=live): Operation not permitted (method live)" "-M live's message (hook)"

	start_capture
	if (($(nproc) >= 2)); then
		xsend two -M afxdp -T 2 -n 100 && fail "-M afxdp -T 2 on one queue succeeded"
		check_contains "$(cat "$TMP/two.err")" "xdp_send: Failed to bind an AF_XDP socket to eth0\
 queue 1 (eth0 has 1 TX queue; -T 2 needs one per thread): Invalid argument (method afxdp)" \
			"-T beyond the queues"
	fi

	spawn client "$TMP/holder.out" "$TOOLS/xdp_send" -i eth0 -D "$RX_MAC" -d "$DST" \
		-a 10.0.2.1 -M afxdp -t 60 -r 10
	for _ in $(seq 50); do
		grep -q 'using AF_XDP' "$TMP/holder.out" && break
		sleep 0.1
	done
	xsend busy -M afxdp -n 100 && fail "-M afxdp on a busy queue succeeded"
	check_eq "$(cat "$TMP/busy.err")" "xdp_send: Failed to bind an AF_XDP socket to eth0 queue\
 0: Device or resource busy (method afxdp)" "-M afxdp's message"
	[[ ! -s $TMP/busy.out ]] || fail "a failed method printed a summary: $(cat "$TMP/busy.out")"

	XDP_SEND_REFUSE=live,afxdp,packet xsend none -n 100 && fail "all refused, yet it sent"
	check_eq "$(cat "$TMP/none.err")" "xdp_send: Failed to send on eth0 by any method: live\
 frames refused by XDP_SEND_REFUSE (Operation not permitted); AF_XDP (copy mode) refused by\
 XDP_SEND_REFUSE (Operation not permitted); AF_PACKET (sendmmsg) refused by XDP_SEND_REFUSE\
 (Operation not permitted)" "auto with nothing left"
	stop_capture
	# Only the holder's frames arrived.
	check_eq "$(received_flows | grep -vc ' 10.0.2.1:')" 0 "frames of the failed runs"
}

run_tests integration-senders \
	test_live_frames \
	test_afxdp_copy_mode \
	test_packet_sendmmsg \
	test_afxdp_and_packet_need_no_xdp_on_the_peer \
	test_auto_uses_live_frames_or_says_why_not \
	test_auto_falls_back_to_afxdp_when_the_kernel_refuses_live_frames \
	test_auto_falls_back_to_packet_when_afxdp_cannot_be_set_up \
	test_auto_with_threads_on_one_queue \
	test_afxdp_one_socket_per_queue \
	test_rate_pacing_each_method \
	test_interrupted_run_counts_what_was_sent \
	test_bad_method_rejected \
	test_forced_method_fails_with_its_reason
