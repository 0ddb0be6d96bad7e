# SPDX-License-Identifier: GPL-2.0
# The pieces both namespace labs are built from (scripts/topology.sh and
# scripts/topology_ecmp.sh source this file): one bridge "br0" in namespace
# PREFIX-sw is the wire, every host a veth into it.

# Connects namespace $2's interface $3 to the switch of prefix $1 as port $4.
wire() {
	local p=$1 ns=$2 ifname=$3 port=$4
	ip link add "$ifname" netns "$ns" type veth peer name "$port" netns "$p-sw"
	ip -n "$p-sw" link set "$port" master br0 up
	ip -n "$ns" link set "$ifname" up
	ip -n "$ns" link set lo up
}

# Has namespace $1 resolve the MAC of each address after it, the way traffic
# would (one datagram each makes its kernel ARP), and waits at most 5 s for
# each. XDP_TX needs the backends' MACs: an unresolved one sends the frame
# through the kernel, one TTL lower.
resolve_neighbours() {
	local ns=$1 addr i
	shift
	for addr in "$@"; do
		ip netns exec "$ns" bash -c "echo > /dev/udp/$addr/9" 2>/dev/null || true
	done
	for addr in "$@"; do
		for i in $(seq 50); do
			ip -n "$ns" neigh show "$addr" | grep -q lladdr && continue 2
			sleep 0.1
		done
		echo "${0##*/}: $ns could not resolve $addr" >&2
		return 1
	done
}
