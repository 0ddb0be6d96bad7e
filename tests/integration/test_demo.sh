#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make demo in its short form (DEMO_SHORT=1) with its figures recounted from
# the raw sender and capture files; its clean-up on success, KEEP=1, failure
# and Ctrl-C; lbctl stats (per VIP and backend, active flows, --watch rates,
# passes and drops by reason); the traffic tools (xdp_send, with live frames
# or its fallback, and flow_send sizes) and the chart (gnuplot,
# scripts/distribution.gp). xdp_send's methods one by one: test_senders.sh.
source "$(dirname "$0")/lib.sh"

VIP=123.168.9.8
TCP_VIP=123.168.9.9
B1=10.0.1.1 B2=10.0.2.2

# Runs the demo in its short form into $TMP/demo with our prefix, so that
# cleanup_test would also remove whatever it left. A hang (a process that
# kept the output open) becomes a failure, not a stuck suite.
run_demo() {
	DEMO_SHORT=1 DEMO_PREFIX=$PREFIX DEMO_OUT=$TMP/demo OUTPUT=$OUTPUT \
		timeout 120 "$ROOT/scripts/demo.sh"
}

lab_namespaces() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep -c "^$PREFIX-" || true
}

# One field of lbctl stats --json's backend objects (those with an address;
# vips[] objects have none), summed over them all.
backends_sum() {
	grep -oE '\{"vip": [^}]*\}' | grep '"address"' | grep -oE "\"$1\": [0-9]+" |
		awk '{ n += $2 } END { print n + 0 }'
}

# A field of the first VIP of lbctl stats --json (vips[] comes after backends[]).
vip_field() {
	grep -oE '"vips": .*' | grep -oE "\"$1\": [0-9.]+" | head -n 1 | cut -d' ' -f2
}

write_two_vip_config() {
	cat >"$TMP/two.yaml" <<EOF
vips:
  - address: $VIP
    backends: [{ip: $B1}, {ip: $B2}]
  - address: $TCP_VIP
    port: 80
    protocol: tcp
    backends: [{ip: $B1}, {ip: $B2}]
EOF
}

start_captures() {
	spawn b1 "$TMP/cap1.out" "$TOOLS/ipip_capture" -i eth0 -b "$B1" -o client -R "$TMP/r1"
	spawn b2 "$TMP/cap2.out" "$TOOLS/ipip_capture" -i eth0 -b "$B2" -o client -R "$TMP/r2"
	wait_file "$TMP/r1"
	wait_file "$TMP/r2"
}

# --- make demo --------------------------------------------------------------------

# Runs the short demo and recounts its figures; $1: the method phase 4's
# xdp_send must have used ("" when any will do).
check_demo_figures() {
	local method=$1 out d=$TMP/demo sent received pin f
	out=$(run_demo 2>&1) || fail "the demo failed:
$out"
	sed -n '/^== what each backend/,/chart:/p' <<<"$out" | sed 's/^/    | /'
	check_contains "$out" "== checks passed" "the demo's own verdict"
	grep '^xdp_send: ' <<<"$out" | sed 's/^/    | /'
	[[ -z $method ]] || check_contains "$(cat "$d/send-live.txt")" " method=$method" \
		"phase 4's method"

	# Our own accounting, from what the senders said they sent (phases 1-4)
	# and what the backends' captures checked and counted.
	sent=$({
		awk -v d="$VIP:5000" '$1 == "flow" { print "udp 10.0.0.1:" $2, d, $3 }' \
			"$d/send-udp-fixed.txt"
		awk -v d="$VIP:5001" '$1 == "flow" { print "udp 10.0.0.1:" $2, d, $3 }' \
			"$d/send-udp-random.txt"
		awk -v d="$VIP:80" '$1 == "flow" { print "tcp 10.0.0.1:" $2, d, $3 }' \
			"$d/send-tcp.txt"
		awk -v d="$VIP:6000" '$1 == "flow" { print "udp", $2, d, $3 }' "$d/send-live.txt"
	} | sort)
	received=$(cat "$d"/capture-b*.txt | awk '$1 == "flow" { print $2, $3, $4, $5 }' | sort)
	check_eq "$(wc -l <<<"$sent")" $((40 + 20 + 40 + 50)) "flows sent in the 4 phases"
	check_eq "$received" "$sent" "every flow received with exactly the packets sent"
	[[ -z $(awk '{ print $1, $2, $3 }' <<<"$received" | uniq -d) ]] ||
		fail "a flow reached more than one backend"
	for f in "$d"/capture-b*.txt; do
		check_contains "$(cat "$f")" "bad=0 " "$(basename "$f"): every frame well-formed"
		check_contains "$(cat "$f")" "socket_drops=0 " "$(basename "$f"): capture kept up"
		# Its closing line's per-backend totals are its per-flow lines'.
		check_contains "$(cat "$f")" "flows=$(grep -c '^flow ' "$f") packets=$(awk \
			'$1 == "flow" { n += $NF } END { print n }' "$f") untracked=0" \
			"$(basename "$f"): closing line totals"
	done
	# Phase 5: the IPv6 VIP beside the seed VIP, IPv6-in-IPv6 to the backends'
	# IPv6 addresses, checked by captures of their own.
	local total live_frames total6
	check_contains "$out" "[fd00:10::100]:5000/udp" "lbctl stats shows the IPv6 VIP"
	check_eq "$(grep -c '^flow ' "$d/send-udp6.txt")" 20 "IPv6 flows sent"
	total6=$(awk '$1 == "flow" { n += $NF } END { print n }' "$d/send-udp6.txt")
	check_eq "$total6" 100 "IPv6 packets sent"
	for f in "$d"/capture6-b*.txt; do
		check_contains "$(cat "$f")" "bad=0 " "$(basename "$f"): every frame well-formed"
		grep -q '^flow ' "$f" || fail "$(basename "$f"): no IPv6 flow at this backend"
	done
	check_eq "$(grep -ohE ' ipip6=[0-9]+' "$d"/capture6-b*.txt | cut -d= -f2 |
		awk '{ n += $1 } END { print n }')" 100 "IPv6-in-IPv6 frames at the backends"
	check_eq "$(cat "$d"/capture6-b*.txt | awk '$1 == "flow" { print $2, $3, $4 }' | sort |
		uniq -d)" "" "no IPv6 flow on two backends"
	check_eq "$(cat "$d"/capture6-b*.txt | grep -c '^flow ')" 20 "IPv6 flows received"

	total=$(awk '{ n += $NF } END { print n }' <<<"$sent")
	check_eq "$(backends_sum packets <"$d/stats.json")" "$((total + total6))" \
		"lbctl: packets of all backends (IPv4 and IPv6)"
	check_eq "$(backends_sum new_flows <"$d/stats.json")" 170 "lbctl: flows of all backends"
	live_frames=$(grep -oE '^xdp_send frames=[0-9]+' "$d/send-live.txt" | cut -d= -f2)
	check_eq "$(awk '$1 == "flow" { n += $NF } END { print n }' "$d/send-live.txt")" \
		"$live_frames" "xdp_send: per-flow listing adds up to its frames"
	check_contains "$(cat "$d/figures.txt")" "received_packets=$total" "figures.txt"

	# The chart: a whole PNG of gnuplot's size, drawn from what the backends got.
	local png=$d/distribution.png i backend want
	[[ -s $png ]] || fail "no chart at $png"
	check_chart_png "$png"
	# gnuplot's table of what it plotted, per backend: lbctl's packets and
	# flows, which (nothing lost, checked above) are the captures' counts.
	want=$(for i in 1 2; do
		f=$d/capture-b$i.txt backend=B$i
		echo "${!backend} $(awk '$1 == "flow" { n += $NF } END { print n }' "$f")" \
			"$(grep -c '^flow ' "$f")"
	done)
	check_eq "$(awk '{ print $1, $2, $3 }' "$d/distribution-plotted.txt")" "$want" \
		"the chart's table: packets and flows per backend"

	# Torn down: no namespace, no pins, no XDP state left.
	check_eq "$(lab_namespaces)" 0 "namespaces left"
	pin=$(grep -oE 'state pinned under [^ ]+' <<<"$out" | awk '{ print $4 }')
	[[ -n $pin && ! -e $pin ]] || fail "pins left at '$pin'"
}

test_demo_short_figures_add_up() {
	check_demo_figures ""
}

# Phase 4 where the kernel refuses live frames: xdp_send falls back to AF_XDP.
test_demo_without_live_frames() {
	XDP_SEND_REFUSE=live check_demo_figures afxdp
}

test_demo_keep_leaves_the_lab_and_says_how_to_remove_it() {
	local out remove
	out=$(KEEP=1 run_demo 2>&1) || fail "the demo failed:
$out"
	check_contains "$out" "KEEP=1: the lab is up" "KEEP message"
	check_eq "$(lab_namespaces)" 5 "namespaces kept (client, lb, switch, 2 backends)"
	lbctl status veth1 | grep -q "VIP $VIP:\*/tcp" || fail "demo config not loaded after KEEP"
	remove=$(grep -A1 '^Remove it with:' <<<"$out" | tail -n 1)
	[[ -n $remove ]] || fail "no removal command in: $out"
	bash -c "$remove" >/dev/null || fail "the printed removal command failed: $remove"
	check_eq "$(lab_namespaces)" 0 "namespaces left after the printed command"
}

# A config the demo accepts (seed form) but lb-load refuses: the demo fails
# after building the lab, which must go again.
test_demo_failure_removes_the_lab() {
	local out
	printf 'vip: %s\nbackends:\n  - ip: %s\n  - ip: %s\nflow_timeout: 0\n' \
		"$VIP" "$B1" "$B2" >"$TMP/bad.yaml"
	out=$(CONFIG=$TMP/bad.yaml run_demo 2>&1) && fail "the demo succeeded with a bad config"
	check_contains "$out" "flow_timeout" "lb-load's message shown"
	check_contains "$out" "demo: FAILED" "failure reported"
	check_eq "$(lab_namespaces)" 0 "namespaces left after a failure"
}

# Ctrl-C in the middle of the traffic: the whole process group gets SIGINT,
# as from a terminal; the demo must still remove everything.
test_demo_interrupted_removes_the_lab() {
	local pid
	# In its own process group (setsid, which does not fork here: a
	# background job of a script leads no group), so the whole group can be
	# signalled like a terminal's foreground job.
	DEMO_SHORT=1 DEMO_PREFIX=$PREFIX DEMO_OUT=$TMP/demo OUTPUT=$OUTPUT FLOWS=20 PACKETS=500 \
		RATE=500 setsid "$ROOT/scripts/demo.sh" >"$TMP/demo.out" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q '^== traffic' "$TMP/demo.out" && break
		sleep 0.1
	done
	grep -q '^== traffic' "$TMP/demo.out" || fail "the demo never started its traffic:
$(cat "$TMP/demo.out")"
	sleep 1
	kill -INT -- "-$pid"
	wait "$pid" && fail "an interrupted demo exited 0"
	check_eq "$(lab_namespaces)" 0 "namespaces left after Ctrl-C"
}

# --- lbctl stats ------------------------------------------------------------------

test_stats_per_vip_and_backend() {
	topology up "$PREFIX" "$VIP $TCP_VIP" "$B1" "$B2"
	write_two_vip_config
	check lb_load "$TMP/two.yaml" veth1 >/dev/null
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 30 -n 3 >/dev/null
	in_net client "$TOOLS/flow_send" -d "$TCP_VIP" -p 80 -P tcp -f 10 -n 2 >/dev/null
	local text json be id addr
	text=$(lbctl stats veth1) || fail "lbctl stats failed"
	echo "$text" | sed 's/^/    | /'
	check_contains "$text" "xdp-lb on veth1: 2 VIPs, 4 backends, 40 flows in the table" \
		"heading"
	grep -qE "^$VIP:\*/udp +90 .* - +- +30 +30 *$" <<<"$text" || fail "UDP VIP row"
	grep -qE "^$TCP_VIP:80/tcp +20 .* - +- +10 +10 *$" <<<"$text" || fail "TCP VIP row"
	grep -qE "^  $B1 +up +45 " <<<"$text" || fail "UDP backend $B1 row (45 packets)"
	check_contains "$text" "pipeline  parse.to_lb 110, lb.flow_hit 70, lb.flow_new 40" \
		"pipeline"
	check_contains "$text" "dropped   none" "no drops"

	json=$(lbctl stats veth1 --json) || fail "lbctl stats --json failed"
	# The first version's keys, unchanged.
	for key in '"interface": "veth1"' '"counters": {"parse": {' '"flows": 40' \
		'"load_packets": ' '"load_flows": ' '"new_flows": ' '"weight": 1'; do
		check_contains "$json" "$key" "JSON key"
	done
	check_contains "$json" "{\"vip\": \"$TCP_VIP:80/tcp\", \"id\": " "vips[] entry"
	check_contains "$json" '"packets": 20, ' "TCP VIP packets"
	[[ $json != *'"pps"'* ]] || fail "rates without a second sample"
	# Active flows per backend = the flow table's entries naming it.
	while read -r id addr be; do
		check_eq "$(lbctl flows veth1 | awk -v id="$id" 'NR > 1 && $4 == id' | wc -l)" "$be" \
			"active flows of backend $id ($addr)"
	done < <(grep -oE '\{"vip": [^}]*\}' <<<"$json" | grep '"address"' | sed -E \
		's/.*"id": ([0-9]+), "address": "([^"]+)".*"active_flows": ([0-9]+).*/\1 \2 \3/')
	check_eq "$(backends_sum active_flows <<<"$json")" 40 "active flows in all"
}

test_stats_watch_rates_between_samples() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	spawn client "$TMP/send.out" "$TOOLS/flow_send" -d "$VIP" -f 20 -n 1000 -r 2000
	sleep 0.5
	local lines second p1 p2 pps interval
	lines=$(lbctl stats veth1 --json --watch 0.5 --count 2) || fail "watch failed"
	check_eq "$(wc -l <<<"$lines")" 2 "one JSON object per refresh"
	second=$(tail -n 1 <<<"$lines")
	check_contains "$second" '"interval_s": ' "interval of the rates"
	p1=$(head -n 1 <<<"$lines" | vip_field packets)
	p2=$(vip_field packets <<<"$second")
	pps=$(vip_field pps <<<"$second")
	interval=$(grep -oE '"interval_s": [0-9.]+' <<<"$second" | cut -d' ' -f2)
	echo "    packets $p1 -> $p2 in $interval s: $pps packets/s"
	awk -v p="$pps" 'BEGIN { exit !(p > 0) }' || fail "no rate while traffic flows"
	# The rate is the packets between the two samples over their interval.
	awk -v p="$pps" -v t="$interval" -v d=$((p2 - p1)) \
		'BEGIN { e = p * t - d; exit !(e < 0.01 * d + 2 && -e < 0.01 * d + 2) }' ||
		fail "pps $pps x $interval s != $((p2 - p1)) packets"
	stop_spawned
	sleep 0.2
	lines=$(lbctl stats veth1 --watch 0.2 --count 2) || fail "text watch failed"
	check_eq "$(grep -c '^xdp-lb on veth1' <<<"$lines")" 2 "two refreshes, appended off a tty"
	check_contains "$lines" "rates over 0.2 s" "rate interval"
	grep -qE "^$VIP:\*/udp +[0-9]+ .* 0 +0\.00 " <<<"$(awk '/^xdp-lb on/ { n++ } n == 2' \
		<<<"$lines")" || fail "idle VIP rate is not 0: $lines"
	# On a terminal (script(1) gives it one) each refresh is drawn over the
	# previous one: cursor up by the lines printed, clear to the end.
	local rows
	lines=$(in_net lb script -qec "$ROOT/lbctl stats veth1 --watch 0.2 --count 2" /dev/null)
	rows=$(lbctl stats veth1 | wc -l)
	check_contains "$lines" $'\e'"[${rows}A"$'\e[J' "redraw in place on a terminal"
	# A watch ends by itself when xdp-lb is unloaded.
	spawn lb "$TMP/watch.out" "$ROOT/lbctl" stats veth1 --watch 0.2
	sleep 0.5
	check lb_load --unload veth1 >/dev/null
	for _ in $(seq 30); do
		grep -q "no longer loaded" "$TMP/watch.out" && break
		sleep 0.1
	done
	check_contains "$(cat "$TMP/watch.out")" "lbctl: xdp-lb is no longer loaded on veth1" \
		"watch after unload"
}

test_stats_passes_and_drops_by_reason() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	printf 'vips:\n  - address: %s\n    backends:\n      - {ip: %s, state: down}\n' \
		"$VIP" "$B1" >"$TMP/down.yaml"
	check lb_load "$TMP/down.yaml" veth1 >/dev/null
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 5 -n 1 >/dev/null
	# Not a VIP: the balancer's own address.
	in_net client "$TOOLS/flow_send" -d 10.0.0.10 -f 3 -n 1 >/dev/null
	local text
	text=$(lbctl stats veth1)
	echo "$text" | tail -n 3 | sed 's/^/    | /'
	grep -qE '^dropped   lb\.drop_no_backend 5$' <<<"$text" || fail "drops by reason: $text"
	grep -qE '^passed    .*parse\.pass_not_vip [0-9]+.*\(to the kernel\)$' <<<"$text" ||
		fail "passes by reason: $text"
	(($(grep -oE 'parse\.pass_not_vip [0-9]+' <<<"$text" | cut -d' ' -f2) >= 3)) ||
		fail "parse.pass_not_vip < 3"
	check_contains "$(lbctl stats veth1 --json)" '"drop_no_backend": 5' "JSON counter"
}

# --- traffic tools ------------------------------------------------------------------

# xdp_send through the lab: source ports past 65535 move on to the next
# source address, so both checksum updates are exercised; every frame must
# arrive intact (the captures verify IP and UDP/TCP checksums). $1: what
# XDP_SEND_REFUSE says (auto's fallback); $2: the method that must then
# be used ("" when any will do).
check_xdp_send_through_the_balancer() {
	local refuse=$1 method=$2
	topology up "$PREFIX" "$VIP $TCP_VIP" "$B1" "$B2"
	write_two_vip_config
	check lb_load "$TMP/two.yaml" veth1 >/dev/null
	ip -n "$PREFIX-sw" link set dev p-client xdp obj "$OUTPUT/bpf/xdp_pass.bpf.o" sec xdp
	local mac out out2 sent received used
	mac=$(ip -n "$PREFIX-lb" -o link show veth1 | grep -oE 'link/ether [0-9a-f:]+' |
		cut -d' ' -f2)
	start_captures
	out=$(XDP_SEND_REFUSE=$refuse in_net client "$TOOLS/xdp_send" -i eth0 -D "$mac" \
		-d "$VIP" -p 7000 -f 300 -b 65400 -n 3000 -s 200 -l 2>"$TMP/xdp_send.err") ||
		fail "xdp_send failed: $(cat "$TMP/xdp_send.err")"
	{ cat "$TMP/xdp_send.err"; tail -n 1 <<<"$out"; } | sed 's/^/    | /'
	used=$(tail -n 1 <<<"$out" | grep -oE ' method=[a-z]+$' | cut -d= -f2)
	[[ -z $method ]] || check_eq "$used" "$method" "method"
	check_contains "$out" "xdp_send frames=3000 " "frames sent"
	check_contains "$out" " frame_bytes=200 flows=300 threads=1 xmit=" "summary"
	check_contains "$out" " xmit_errors=0 method=$used" "nothing refused"
	# Live frames: the driver's XDP transmit counts exactly ours. Otherwise
	# the interface's own counter, which the client's stack may add to.
	if [[ $used == live ]]; then
		check_contains "$out" " xmit=3000 " "XDP transmits"
	else
		(($(grep -oE ' xmit=[0-9]+' <<<"$out" | cut -d= -f2) >= 3000)) ||
			fail "the interface sent fewer than 3000 frames: $(tail -n 1 <<<"$out")"
	fi
	check_contains "$out" "flow 10.0.0.3:65427 10" "third source address after 2 x 136 ports"
	out2=$(XDP_SEND_REFUSE=$refuse in_net client "$TOOLS/xdp_send" -i eth0 -D "$mac" \
		-d "$TCP_VIP" -p 80 -P tcp -f 50 -n 500 -r 5000 -l 2>"$TMP/xdp_send.err") ||
		fail "xdp_send tcp failed: $(cat "$TMP/xdp_send.err")"
	check_contains "$out2" " method=$used" "the same method for TCP"
	sleep 0.5
	stop_spawned
	sent=$({
		awk -v d="$VIP:7000" '$1 == "flow" { print "udp", $2, d, $3 }' <<<"$out"
		awk -v d="$TCP_VIP:80" '$1 == "flow" { print "tcp", $2, d, $3 }' <<<"$out2"
	} | sort)
	received=$(cat "$TMP"/cap*.out | awk '$1 == "flow" { print $2, $3, $4, $5 }' | sort)
	check_eq "$received" "$sent" "every frame arrived, on its flow's one backend"
	check_contains "$(cat "$TMP"/cap*.out)" "bad=0 " "checksums intact"
	check_eq "$(lbctl stats veth1 --json | backends_sum bytes)" $((3000 * 200 + 500 * 64)) \
		"bytes the balancer counted (frame sizes)"
}

test_xdp_send_through_the_balancer() {
	check_xdp_send_through_the_balancer "" ""
}

test_xdp_send_afxdp_fallback_through_the_balancer() {
	check_xdp_send_through_the_balancer live afxdp
}

test_flow_send_random_sizes_are_seeded() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	local b1 b2 b3 low=$((100 * (42 + 100))) high=$((100 * (42 + 300)))
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 10 -n 10 -s 100-300 -S 5 >/dev/null
	b1=$(lbctl stats veth1 --json | backends_sum bytes)
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 10 -n 10 -s 100-300 -S 5 -b 20000 >/dev/null
	b2=$(($(lbctl stats veth1 --json | backends_sum bytes) - b1))
	in_net client "$TOOLS/flow_send" -d "$VIP" -f 10 -n 10 -s 100-300 -S 6 -b 30000 >/dev/null
	b3=$(($(lbctl stats veth1 --json | backends_sum bytes) - b1 - b2))
	echo "    bytes: seed 5: $b1, again $b2; seed 6: $b3 (bounds $low..$high)"
	((b1 > low && b1 < high)) || fail "sizes outside 100..300: $b1 bytes"
	check_eq "$b2" "$b1" "the same seed, the same sizes"
	((b3 != b1)) || fail "another seed gave the same sizes"
}

# --- the chart (scripts/distribution.gp) -------------------------------------------

CHART_SIZE=1000x480 # distribution.gp's pngcairo size

# $1: a PNG that must decode whole (pngcheck: chunk CRCs, zlib data) at CHART_SIZE.
check_chart_png() {
	local out
	out=$(pngcheck "$1" 2>&1) || fail "pngcheck: $out"
	check_contains "$out" "OK: $1 (${CHART_SIZE}, " "pngcheck: a whole PNG of the chart's size"
	check_contains "$(file "$1")" "PNG image data, ${CHART_SIZE/x/ x }," "file(1)"
}

test_chart_plots_its_table() {
	local rows=$'10.0.1.1 1234 75\n10.0.2.2 0 0\n10.0.3.3 7 1' out size at byte
	echo "$rows" >"$TMP/d.txt"
	check gnuplot -c "$ROOT/scripts/distribution.gp" "$TMP/d.txt" "$TMP/c.png" "$TMP/t.txt" \
		"it's a title" detail
	check_chart_png "$TMP/c.png"
	check_eq "$(awk '{ print $1, $2, $3 }' "$TMP/t.txt")" "$rows" "the table gnuplot plotted"
	# The check fails on a damaged chart: one byte of the image data flipped, or cut short.
	size=$(stat -c %s "$TMP/c.png")
	at=$((size / 2))
	cp "$TMP/c.png" "$TMP/flip.png"
	byte=$(od -An -tu1 -j "$at" -N 1 "$TMP/c.png" | tr -d ' ')
	# shellcheck disable=SC2059
	printf "\\$(printf %03o $((255 - byte)))" |
		dd of="$TMP/flip.png" bs=1 seek="$at" conv=notrunc status=none
	out=$(pngcheck "$TMP/flip.png" 2>&1) && fail "a damaged PNG passed: $out"
	check_contains "$out" "ERROR: $TMP/flip.png" "pngcheck on a flipped byte"
	head -c "$at" "$TMP/c.png" >"$TMP/cut.png"
	out=$(pngcheck "$TMP/cut.png" 2>&1) && fail "a truncated PNG passed: $out"
	check_contains "$out" "EOF while reading" "pngcheck on a cut file"
}

run_tests integration-demo \
	test_demo_short_figures_add_up \
	test_demo_without_live_frames \
	test_demo_keep_leaves_the_lab_and_says_how_to_remove_it \
	test_demo_failure_removes_the_lab \
	test_demo_interrupted_removes_the_lab \
	test_stats_per_vip_and_backend \
	test_stats_watch_rates_between_samples \
	test_stats_passes_and_drops_by_reason \
	test_xdp_send_through_the_balancer \
	test_xdp_send_afxdp_fallback_through_the_balancer \
	test_flow_send_random_sizes_are_seeded \
	test_chart_plots_its_table
