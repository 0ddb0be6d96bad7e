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
# Backends must lie in 10.0.0.0/16. Names are PREFIX-based: pick a unique one.
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

case ${1:-} in
up) shift; topology_up "$@" ;;
down) shift; topology_down "$@" ;;
*) echo "usage: $0 up PREFIX \"VIP...\" BACKEND_IP... | down PREFIX" >&2; exit 2 ;;
esac
