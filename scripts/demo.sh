#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The main job on one machine: a client, the balancer (veth1) and the backends
# of config.yaml in network namespaces; lb-load config.yaml veth1; many UDP and
# TCP flows and a burst of xdp_send frames to the VIP, with live per-backend
# figures; then what each backend received, checked against what was sent and
# what the balancer counted, and a bar chart; then everything is removed.
#
#   make demo (as root)           this script, after installing and building
#   make demo KEEP=1              leave the lab up to play with (says how to remove it)
#   DEMO_SHORT=1                  a run of a few seconds (tests/integration/test_demo.sh)
#   FLOWS=200 PACKETS=10 MAX_PACKETS=20 RATE=1000   kernel-path traffic shape
#   LIVE_FLOWS=1000 LIVE_RATE=100000 LIVE_SECONDS=3 LIVE_THREADS=1  phase 4 (xdp_send)
#   DEMO_OUT=build/demo           figures, captures, chart (distribution.png)
#
# Traffic, in four phases from the client namespace:
#   1. UDP, FLOWS flows x PACKETS packets (flow_send, through the kernel)
#   2. UDP, FLOWS/2 flows of 1..MAX_PACKETS packets, 18..1400-byte payloads
#   3. TCP, FLOWS flows of 1..MAX_PACKETS packets (a SYN, then ACK segments)
#   4. UDP, LIVE_FLOWS flows at LIVE_RATE from xdp_send, past the client's
#      stack: XDP live frames, or where the kernel refuses them AF_XDP (copy
#      mode), or AF_PACKET (xdp_send -M auto says which on stderr)
#   5. IPv6 UDP, FLOWS/2 flows x PACKETS packets to the IPv6 VIP (flow_send)
# config.yaml (the seed form) has one UDP VIP on every port. Before phase 3
# the demo reloads, in place, DEMO_OUT/demo-config.yaml: the same VIP and
# backends, plus the same address for TCP on every port, and beside them an
# IPv6 VIP, [VIP6]:5000/udp, on the same backends' IPv6 addresses (the lab's
# IPv6: scripts/topology.sh ipv6), tunnelled IPv6-in-IPv6.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${OUTPUT:-$ROOT/build}
[[ $OUTPUT = /* ]] || OUTPUT=$ROOT/$OUTPUT
TOOLS=$OUTPUT/tools
CONFIG=${CONFIG:-$ROOT/config.yaml}
OUT=${DEMO_OUT:-$OUTPUT/demo}
[[ $OUT = /* ]] || OUT=$ROOT/$OUT
P=${DEMO_PREFIX:-xlbdemo$$}
if [[ ${DEMO_SHORT:-0} == 1 ]]; then
	FLOWS=${FLOWS:-40} PACKETS=${PACKETS:-5} MAX_PACKETS=${MAX_PACKETS:-8} RATE=${RATE:-4000}
	LIVE_FLOWS=${LIVE_FLOWS:-50} LIVE_RATE=${LIVE_RATE:-20000} LIVE_SECONDS=${LIVE_SECONDS:-0.5}
else
	FLOWS=${FLOWS:-200} PACKETS=${PACKETS:-10} MAX_PACKETS=${MAX_PACKETS:-20}
	RATE=${RATE:-1000}
	LIVE_FLOWS=${LIVE_FLOWS:-1000} LIVE_RATE=${LIVE_RATE:-100000}
	LIVE_SECONDS=${LIVE_SECONDS:-3}
fi
PIDS=()

[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (make demo as root, or sudo make demo)" >&2; exit 1; }

# The lab is built for the VIP and backends of config.yaml (seed form); lb-load
# then loads that same file.
vip=$(sed -nE 's/^vip:[[:space:]]*([0-9.]+).*/\1/p' "$CONFIG")
backends=$(sed -nE 's/^[[:space:]]*-[[:space:]]*ip:[[:space:]]*([0-9.]+).*/\1/p' "$CONFIG")
[[ -n $vip && -n $backends ]] ||
	{ echo "demo: $CONFIG is not in the seed form (vip: + backends:)" >&2; exit 1; }
# The IPv6 VIP and backend i's IPv6 address, on the lab's fd00:10::/64.
VIP6=fd00:10::100
backend6() { echo "fd00:10::b$1"; }
backends6=$(i=0; for _ in $backends; do i=$((i + 1)); backend6 $i; done)

in_net() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$P-$ns" "$@"
}

stop_pids() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	PIDS=()
}

# On any exit, success or failure: stop what we started, then remove the lab
# (or, with KEEP=1, say how to).
teardown() {
	local status=$?
	set +e # remove all that can be removed, whatever fails
	stop_pids
	if [[ ${KEEP:-0} == 1 && -e /run/netns/$P-lb ]]; then
		echo
		echo "KEEP=1: the lab is up. Try:"
		echo "  nsenter --net=/run/netns/$P-lb $ROOT/lbctl stats veth1 --watch"
		echo "  nsenter --net=/run/netns/$P-client $TOOLS/flow_send -d $vip -f 10 -n 5"
		echo "Remove it with:"
		echo "  nsenter --net=/run/netns/$P-lb $ROOT/lb-load --unload veth1;" \
			"$ROOT/scripts/topology.sh down $P"
	else
		[[ -e /run/netns/$P-lb ]] &&
			in_net lb "$ROOT/lb-load" --unload veth1 >/dev/null 2>&1
		"$ROOT/scripts/topology.sh" down "$P"
	fi
	((status == 0)) || echo "demo: FAILED (exit $status)" >&2
}
trap teardown EXIT
trap 'exit 130' INT TERM

# The same VIP and backends, plus TCP on every port of the VIP, and the IPv6 VIP.
write_tcp_config() {
	local addr
	{
		echo "# Written by scripts/demo.sh: $(basename "$CONFIG")'s VIP and backends"
		echo "# for UDP (as there), the same address and backends for TCP on every"
		echo "# port, and an IPv6 VIP on the backends' IPv6 addresses."
		echo "vips:"
		for proto in udp tcp; do
			echo "  - address: $vip"
			echo "    protocol: $proto"
			echo "    backends:"
			for addr in $backends; do echo "      - ip: $addr"; done
		done
		echo "  - address: $VIP6"
		echo "    port: 5000"
		echo "    backends:"
		for addr in $backends6; do echo "      - ip: $addr"; done
	} >"$OUT/demo-config.yaml"
}

# "flow PROTO SRC:SPORT DST:DPORT PACKETS" for each flow a sender reports.
sent_flows() {
	local proto=$1 dport=$2 file=$3
	awk -v proto="$proto" -v dst="$vip:$dport" '
		$1 == "flow" && $2 ~ /:/ { print "flow", proto, $2, dst, $3 }
		$1 == "flow" && $2 !~ /:/ { print "flow", proto, "10.0.0.1:" $2, dst, $3 }' "$file"
}

# Phases 1-4, while lbctl shows live figures.
send_traffic() {
	in_net client "$TOOLS/flow_send" -d "$vip" -p 5000 -f "$FLOWS" -n "$PACKETS" -r "$RATE" \
		-b 10000 >"$OUT/send-udp-fixed.txt"
	in_net client "$TOOLS/flow_send" -d "$vip" -p 5001 -f $((FLOWS / 2)) -m "$MAX_PACKETS" \
		-s 18-1400 -S 7 -r "$RATE" -b 20000 >"$OUT/send-udp-random.txt"
	in_net lb "$ROOT/lb-load" "$OUT/demo-config.yaml" veth1 >"$OUT/reload.txt"
	in_net client "$TOOLS/flow_send" -d "$vip" -p 80 -P tcp -f "$FLOWS" -m "$MAX_PACKETS" \
		-S 11 -r "$RATE" -b 30000 >"$OUT/send-tcp.txt"
	in_net client "$TOOLS/xdp_send" -i eth0 -D "$lb_mac" -d "$vip" -p 6000 -f "$LIVE_FLOWS" \
		-b 40000 -t "$LIVE_SECONDS" -r "$LIVE_RATE" -T "${LIVE_THREADS:-1}" -l \
		>"$OUT/send-live.txt"
	in_net client "$TOOLS/flow_send" -d "$VIP6" -p 5000 -f $((FLOWS / 2)) -n "$PACKETS" \
		-r "$RATE" -b 50000 >"$OUT/send-udp6.txt"
}

mkdir -p "$OUT"
rm -f "$OUT"/{send-*,capture-*,capture6-*,reload,figures,flows-*,distribution*}.txt \
	"$OUT"/{stats.json,distribution.png}
write_tcp_config

echo "== topology: client 10.0.0.1, balancer veth1 10.0.0.10, backends" "${backends//$'\n'/ }" \
	"(namespaces $P-*)"
# shellcheck disable=SC2086
OUTPUT=$OUTPUT "$ROOT/scripts/topology.sh" up "$P" "$vip" $backends
# shellcheck disable=SC2086
OUTPUT=$OUTPUT "$ROOT/scripts/topology.sh" ipv6 "$P" "$VIP6" $backends6
# The client's switch port takes XDP live frames only with an XDP program
# (AF_XDP copy mode and AF_PACKET frames do not need it).
ip -n "$P-sw" link set dev p-client xdp obj "$OUTPUT/bpf/xdp_pass.bpf.o" sec xdp
lb_mac=$(ip -n "$P-lb" -o link show veth1 | grep -oE 'link/ether [0-9a-f:]+' | cut -d' ' -f2)

echo "== ./lb-load $(basename "$CONFIG") veth1"
in_net lb "$ROOT/lb-load" "$CONFIG" veth1

i=0
for addr in $backends; do
	i=$((i + 1))
	rm -f "$OUT/ready$i"
	nsenter --net="/run/netns/$P-b$i" "$TOOLS/ipip_capture" -i eth0 -b "$addr" -o client \
		-R "$OUT/ready$i" >"$OUT/capture-b$i.txt" 2>&1 &
	PIDS+=($!)
	# The IPv6-in-IPv6 frames, checked by a capture of their own.
	rm -f "$OUT/ready6-$i"
	nsenter --net="/run/netns/$P-b$i" "$TOOLS/ipip_capture" -i eth0 -b "$(backend6 $i)" \
		-o client -R "$OUT/ready6-$i" >"$OUT/capture6-b$i.txt" 2>&1 &
	PIDS+=($!)
done
for ((j = 1; j <= i; j++)); do
	for ready in "$OUT/ready$j" "$OUT/ready6-$j"; do
		for _ in $(seq 50); do [[ -e $ready ]] && break; sleep 0.1; done
		[[ -e $ready ]] ||
			{ echo "demo: the capture in backend $j did not start" >&2; exit 1; }
		rm -f "$ready"
	done
done

echo "== traffic from the client to $vip, live figures from lbctl stats veth1 --watch:"
echo "   1. UDP: $FLOWS flows x $PACKETS packets, $RATE packets/s (through the kernel)"
echo "   2. UDP: $((FLOWS / 2)) flows of 1..$MAX_PACKETS packets, payloads of 18..1400 bytes"
echo "   3. TCP: $FLOWS flows of 1..$MAX_PACKETS packets, after reloading with" \
	"$(basename "$OUT")/demo-config.yaml (adds TCP)"
echo "   4. UDP: $LIVE_FLOWS flows for ${LIVE_SECONDS}s at $LIVE_RATE frames/s, past the" \
	"client's stack (xdp_send: XDP live frames, or its fallback)"
echo "   5. IPv6 UDP: $((FLOWS / 2)) flows x $PACKETS packets to [$VIP6]:5000 (added by the" \
	"reload), tunnelled IPv6-in-IPv6"
echo
# nsenter execs lbctl: $! is lbctl itself, so stop_pids reaches it.
nsenter --net="/run/netns/$P-lb" "$ROOT/lbctl" stats veth1 --watch 1 &
PIDS+=($!)
send_traffic || { echo "demo: sending traffic failed" >&2; exit 1; }
sleep 1.1 # the last frames cross the bridge; one more refresh
stop_pids

# --- what happened -------------------------------------------------------------
{
	sent_flows udp 5000 "$OUT/send-udp-fixed.txt"
	sent_flows udp 5001 "$OUT/send-udp-random.txt"
	sent_flows tcp 80 "$OUT/send-tcp.txt"
	sent_flows udp 6000 "$OUT/send-live.txt"
} | sort >"$OUT/flows-sent.txt"
grep -h '^flow ' "$OUT"/capture-b*.txt | sort >"$OUT/flows-received.txt" || true
in_net lb "$ROOT/lbctl" stats veth1 --json >"$OUT/stats.json"

# Per backend address (its slots under the UDP and the TCP VIP added up).
balancer_view=$(grep -oE '\{"vip": [^}]*\}' "$OUT/stats.json" | grep '"address"' |
	sed -E 's/.*"address": "([^"]+)".*"packets": ([0-9]+).*"new_flows": ([0-9]+).*/\1 \2 \3/' |
	awk '{ p[$1] += $2; f[$1] += $3 } END { for (a in p) print a, p[a], f[a] }')

echo
echo "== what each backend received (every tunnelled frame checked), and what the balancer counted"
printf '  %-15s %9s %9s %11s %13s %7s\n' backend flows packets "bad frames" \
	"lbctl packets" "flows"
# One row per backend address: its capture (capture-bN.txt for IPv4,
# capture6-bN.txt for IPv6) and the balancer's figures for that address.
backend_row() {
	local addr=$1 file=$2 summary lb_packets lb_flows
	summary=$(grep '^capture ' "$file" || echo "capture (none)")
	read -r lb_packets lb_flows <<<"$(awk -v a="$addr" '$1 == a { print $2, $3 }' \
		<<<"$balancer_view")"
	printf '  %-15s %9s %9s %11s %13s %7s\n' "$addr" \
		"$(grep -c '^flow ' "$file" || true)" \
		"$(awk '$1 == "flow" { n += $NF } END { print n + 0 }' "$file")" \
		"$(grep -oE 'bad=[0-9]+' <<<"$summary" | cut -d= -f2)" \
		"${lb_packets:-0}" "${lb_flows:-0}"
}
i=0
for addr in $backends; do
	i=$((i + 1))
	backend_row "$addr" "$OUT/capture-b$i.txt"
done
i=0
for addr in $backends6; do
	i=$((i + 1))
	backend_row "$addr" "$OUT/capture6-b$i.txt"
done

# Adds up the last field (packets) of flow lines, or field NAME=N of the
# captures' closing lines.
packets_of() { awk '{ n += $NF } END { print n + 0 }'; }
capture_sum() {
	grep -ohE "(^| )$1=[0-9]+" "$OUT"/capture-b*.txt | awk -F= '{ n += $2 } END { print n + 0 }'
}
# Stage counter STAGE.REASON from the final lbctl stats --json.
counter() {
	grep -oE "\"${1%%.*}\": \{[^}]*\}" "$OUT/stats.json" | grep -oE "\"${1#*.}\": [0-9]+" |
		grep -oE '[0-9]+$'
}

sent_packets=$(packets_of <"$OUT/flows-sent.txt")
received_packets=$(packets_of <"$OUT/flows-received.txt")
balancer_packets=$(awk '{ n += $2 } END { print n + 0 }' <<<"$balancer_view")
sent_count=$(wc -l <"$OUT/flows-sent.txt")
received_count=$(wc -l <"$OUT/flows-received.txt")
# A flow on two backends shows as two lines with the same 5-tuple.
split_flows=$(awk '{ print $2, $3, $4 }' "$OUT/flows-received.txt" | uniq -d | wc -l)
bad=$(capture_sum bad)
drops=$(capture_sum socket_drops)
# Phase 4 apart: its frames are not paced by any stack, so the lab's own
# veth queues may overflow (refused by the client's interface, or dropped
# before or behind the balancer). Those losses are the lab's, and measured.
# xdp_send counts frames the interface then refused (xmit_errors) in its
# frames= with live frames and AF_XDP; AF_PACKET sends them again and counts
# only those taken.
live_sent=$(grep " $vip:6000 " "$OUT/flows-sent.txt" | packets_of)
live_received=$(grep " $vip:6000 " "$OUT/flows-received.txt" | packets_of)
live_refused=$(grep -oE 'xmit_errors=[0-9]+' "$OUT/send-live.txt" | cut -d= -f2 || true)
live_refused=${live_refused:-0}
live_method=$(grep -oE ' method=[a-z]+' "$OUT/send-live.txt" | cut -d= -f2 || true)
live_lost=$live_refused
[[ $live_method != packet ]] || live_lost=0
# Phase 5, IPv6: its own captures, flows listed by the captures under the last
# 32 bits of their addresses (ipip_capture), so checked by count and totals.
sent6_packets=$(awk '$1 == "flow" { n += $NF } END { print n + 0 }' "$OUT/send-udp6.txt")
sent6_flows=$(grep -c '^flow ' "$OUT/send-udp6.txt" || true)
received6_packets=$(cat "$OUT"/capture6-b*.txt | awk '$1 == "flow" { n += $NF } END { print n + 0 }')
received6_flows=$(cat "$OUT"/capture6-b*.txt | grep -c '^flow ' || true)
split6_flows=$(cat "$OUT"/capture6-b*.txt | awk '$1 == "flow" { print $2, $3, $4 }' | sort |
	uniq -d | wc -l)
bad6=$(grep -ohE ' bad=[0-9]+' "$OUT"/capture6-b*.txt | awk -F= '{ n += $2 } END { print n + 0 }')
live_at_balancer=$((balancer_packets - sent6_packets - (sent_packets - live_sent)))
cat >"$OUT/figures.txt" <<EOF
sent_flows=$sent_count
sent_packets=$sent_packets
received_flows=$received_count
received_packets=$received_packets
balancer_packets=$balancer_packets
flows_on_several_backends=$split_flows
bad_frames=$bad
capture_socket_drops=$drops
live=$(grep '^xdp_send ' "$OUT/send-live.txt")
live_sent=$live_sent
live_refused=$live_refused
live_method=$live_method
live_at_balancer=$live_at_balancer
live_received=$live_received
ipv6_sent_flows=$sent6_flows
ipv6_sent_packets=$sent6_packets
ipv6_received_flows=$received6_flows
ipv6_received_packets=$received6_packets
EOF

echo
printf '  sent %s packets in %s flows; the backends received %s packets in %s flows;\n' \
	"$sent_packets" "$sent_count" "$received_packets" "$received_count"
printf '  IPv6: sent %s packets in %s flows; the backends received %s packets in %s flows;\n' \
	"$sent6_packets" "$sent6_flows" "$received6_packets" "$received6_flows"
printf '  the balancer forwarded %s packets; xdp_send (method %s): %s\n' "$balancer_packets" \
	"$live_method" "$(grep '^xdp_send ' "$OUT/send-live.txt" | cut -d' ' -f2-4)"
failures=()
((split6_flows == 0)) || failures+=("$split6_flows IPv6 flows reached more than one backend")
((bad6 == 0)) || failures+=("$bad6 malformed IPv6-in-IPv6 frames at the backends")
((received6_flows == sent6_flows && received6_packets == sent6_packets)) || failures+=(
	"IPv6: $received6_packets packets in $received6_flows flows received, $sent6_packets in" \
	"$sent6_flows sent")
((split_flows == 0)) || failures+=("$split_flows flows reached more than one backend")
((bad == 0)) || failures+=("$bad malformed frames at the backends")
# Inside the balancer nothing may be lost, whatever the lab did: every VIP
# packet left by XDP or through the kernel's forwarding.
(($(counter parse.to_lb) == $(counter encap.tx) + $(counter encap.redirect) + \
	$(counter encap.pass_to_stack) + $(counter encap.pass_no_neigh))) ||
	failures+=("the balancer took $(counter parse.to_lb) VIP packets and sent on fewer")
if ((live_received == live_sent)); then
	cmp -s "$OUT/flows-sent.txt" "$OUT/flows-received.txt" || failures+=(
		"flows received differ from those sent: diff $OUT/flows-{sent,received}.txt")
	((balancer_packets == sent_packets + sent6_packets)) || failures+=(
		"the balancer counted $balancer_packets packets," \
		"$((sent_packets + sent6_packets)) were sent")
else
	echo "  phase 4 outran the lab's virtual links (LIVE_RATE=$LIVE_RATE): of" \
		"$live_sent frames of xdp_send ($live_method) the client's interface refused" \
		"$live_refused," \
		"$live_at_balancer reached the balancer (all sent on), $live_received reached" \
		"the backends (whose capture sockets dropped $drops); phases 1-3 are checked" \
		"flow by flow, phase 4 by totals" |
		fold -s -w 96 | sed '2,$s/^/  /'
	[[ $(grep -v " $vip:6000 " "$OUT/flows-sent.txt") == \
		"$(grep -v " $vip:6000 " "$OUT/flows-received.txt")" ]] ||
		failures+=("flows of phases 1-3 received differ from those sent")
	((live_received <= live_at_balancer && live_at_balancer <= live_sent - live_lost)) ||
		failures+=("phase 4 does not add up: see $OUT/figures.txt")
fi

title="xdp-lb demo: VIP $vip (udp, tcp) on veth1, $(wc -w <<<"$backends") backends"
detail="$sent_count flows, $sent_packets packets: udp, tcp, xdp_send ($live_method)"
for addr in $backends; do
	awk -v a="$addr" '$1 == a { print $1, $2, $3 }' <<<"$balancer_view"
done >"$OUT/distribution.txt"
# gnuplot also writes the table it read, for test_demo.sh to hold against lbctl.
gnuplot -c "$ROOT/scripts/distribution.gp" "$OUT/distribution.txt" "$OUT/distribution.png" \
	"$OUT/distribution-plotted.txt" "$title" "$detail"
echo "  chart: $OUT/distribution.png (packets and flows per backend)"

echo
echo "== lbctl stats veth1"
in_net lb "$ROOT/lbctl" stats veth1

echo
if ((${#failures[@]})); then
	printf 'demo: CHECK FAILED: %s\n' "${failures[@]}" >&2
	exit 1
fi
if ((live_received == live_sent)); then
	echo "== checks passed: every flow on exactly one backend, with every packet sent;" \
		"sent = received = forwarded ($((sent_packets + sent6_packets)), $sent6_packets" \
		"of them IPv6)"
else
	echo "== checks passed: every flow on exactly one backend; phases 1-3 complete, flow by" \
		"flow; nothing lost inside the balancer"
fi
