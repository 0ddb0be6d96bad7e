#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A one-wire lab in network namespaces, for the tests and the demo:
#
#   <P>-client (eth0 10.0.0.1) ─┐
#   <P>-lb (veth1 10.0.0.10) ───┤ bridge br0 in <P>-sw
#   <P>-b1 (eth0 backend 1) ────┤ (one L2 segment 10.0.0.0/16, so the
#   <P>-b2 (eth0 backend 2) ────┘  balancer sends back out veth1: XDP_TX)
#
# The client routes the VIPs via 10.0.0.10. The balancer forwards (the FIB
# needs it) and has resolved its backends' MACs. The switch side of veth1
# carries an XDP_PASS program: a veth only accepts XDP_TX frames then.
#
#   scripts/topology.sh up PREFIX "VIP..." BACKEND_IP...   create (idempotent: down first)
#   scripts/topology.sh down PREFIX                         remove everything PREFIX names
#   scripts/topology.sh ipv6 PREFIX "VIP6..." BACKEND6...   add IPv6 to a lab that is up
# Backends must lie in 10.0.0.0/16. Names are PREFIX-based: pick a unique one.
#
# ipv6: the same wire carries fd00:10::/64 too (client fd00:10::1, balancer
# fd00:10::10, backends b1, b2, ... the given addresses, which must lie in it);
# the client routes the IPv6 VIPs via fd00:10::10. Nothing of the IPv4 lab
# changes, so its tests do not notice.
#
# TOPOLOGY_PLAIN=1: a plain veth lab, as a user would make it by hand: the
# balancer does not forward, the switch side of veth1 runs no XDP program and
# no neighbour is resolved. lb-load must cope with all three.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${OUTPUT:-$ROOT/build}
[[ $OUTPUT = /* ]] || OUTPUT=$ROOT/$OUTPUT
source "$ROOT/scripts/lab_common.sh"

topology_down() {
	local p=$1 ns
	# stderr: a namespace another mount namespace (a container, `unshare -m`)
	# made shows here as a bare file, and ip prints "Peer netns reference is
	# invalid" for it; the names are all we read.
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case $ns in "$p"-client | "$p"-lb | "$p"-sw | "$p"-b[0-9]*)
			ip netns del "$ns" ;;
		esac
	done
}

topology_up() {
	local p=$1 vips=$2 i=0 addr
	shift 2
	topology_down "$p"
	ip netns add "$p-sw"
	ip -n "$p-sw" link add br0 type bridge
	ip -n "$p-sw" link set br0 up
	ip netns add "$p-client"
	wire "$p" "$p-client" eth0 p-client
	ip -n "$p-client" addr add 10.0.0.1/16 dev eth0
	for addr in $vips; do
		ip -n "$p-client" route add "$addr/32" via 10.0.0.10
	done
	ip netns add "$p-lb"
	wire "$p" "$p-lb" veth1 p-lb
	ip -n "$p-lb" addr add 10.0.0.10/16 dev veth1
	if [[ -z ${TOPOLOGY_PLAIN:-} ]]; then
		ip netns exec "$p-lb" sysctl -qw net.ipv4.conf.all.forwarding=1
		ip -n "$p-sw" link set dev p-lb xdp obj "$OUTPUT/bpf/xdp_pass.bpf.o" sec xdp
	fi
	for addr in "$@"; do
		i=$((i + 1))
		ip netns add "$p-b$i"
		wire "$p" "$p-b$i" eth0 "p-b$i"
		ip -n "$p-b$i" addr add "$addr/16" dev eth0
		# The backends answer nothing here (no ipip module on every kernel):
		# without rp_filter they at least do not log martians.
		ip netns exec "$p-b$i" sysctl -qw net.ipv4.conf.all.rp_filter=0
	done
	[[ -z ${TOPOLOGY_PLAIN:-} ]] || return 0
	resolve_neighbours "$p-lb" "$@"
}

topology_ipv6() {
	local p=$1 vips=$2 i=0 addr
	shift 2
	ip -n "$p-client" addr add fd00:10::1/64 dev eth0 nodad
	for addr in $vips; do
		ip -n "$p-client" route add "$addr/128" via fd00:10::10
	done
	ip -n "$p-lb" addr add fd00:10::10/64 dev veth1 nodad
	[[ -n ${TOPOLOGY_PLAIN:-} ]] || ip netns exec "$p-lb" sysctl -qw net.ipv6.conf.all.forwarding=1
	for addr in "$@"; do
		i=$((i + 1))
		ip -n "$p-b$i" addr add "$addr/64" dev eth0 nodad
	done
	[[ -z ${TOPOLOGY_PLAIN:-} ]] || return 0
	resolve_neighbours "$p-lb" "$@"
}

case ${1:-} in
up) shift; topology_up "$@" ;;
ipv6) shift; topology_ipv6 "$@" ;;
down) shift; topology_down "$@" ;;
*) echo "usage: $0 up PREFIX \"VIP...\" BACKEND_IP... | down PREFIX |" \
	"ipv6 PREFIX \"VIP6...\" BACKEND6..." >&2; exit 2 ;;
esac
