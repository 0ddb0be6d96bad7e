#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Several balancers behind an ECMP router, in network namespaces, with BIRD 2
# (docs/scale-out.md), for make demo-ecmp and tests/integration/test_ecmp.sh:
#
#   <P>-client (eth0 10.1.0.1/24) -- (eth1 10.1.0.254) <P>-rt (eth0 10.0.0.254) --+
#   <P>-lb1 (veth1 10.0.0.11), <P>-lb2 (veth1 10.0.0.12) ... <P>-lbN -------------+ bridge br0
#   <P>-b1 (eth0 backend 1) ... <P>-bM -------------------------------------------+ in <P>-sw
# (one L2 segment, 10.0.0.0/16)
# The router runs BIRD with one eBGP session per balancer (AS 65000 <-> 65001..)
# and merges their equal paths into one multipath route per VIP (merge paths),
# spread by layer-4 hash (net.ipv4.fib_multipath_hash_policy=1). Each balancer
# runs a BIRD that learns kernel table 100 (where xdp-lbd --announce-table 100
# keeps its VIP routes) and announces it to the router. lb-load and xdp-lbd are
# the caller's to start: this script builds the network and the BIRDs only.
#
#   topology_ecmp.sh up PREFIX DIR BALANCERS BACKEND_IP...   create (down first)
#   topology_ecmp.sh down PREFIX DIR                          stop the BIRDs, remove all
#   topology_ecmp.sh routes PREFIX VIP                        the router's next hops for VIP
#
# DIR holds the BIRD configs, control sockets, PID files and logs. BIRDs are
# stopped by the PIDs in DIR's PID files only. Backends must lie in 10.0.0.0/16.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${OUTPUT:-$ROOT/build}
[[ $OUTPUT = /* ]] || OUTPUT=$ROOT/$OUTPUT
source "$ROOT/scripts/lab_common.sh"
# The table xdp-lbd writes and BIRD learns on each balancer.
ANNOUNCE_TABLE=${ANNOUNCE_TABLE:-100}
ROUTER_ADDR=10.0.0.254

balancer_addr() { echo "10.0.0.$((10 + $1))"; }

topology_down() {
	local p=$1 dir=$2 pidfile pid ns
	for pidfile in "$dir"/bird-*.pid; do
		[[ -e $pidfile ]] || continue
		pid=$(cat "$pidfile" 2>/dev/null) || continue
		# Only a BIRD we started: the PID file's process must still be bird.
		if [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == bird ]]; then
			kill -TERM "$pid" 2>/dev/null || true
		fi
		rm -f "$pidfile"
	done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case $ns in "$p"-client | "$p"-rt | "$p"-sw | "$p"-lb[0-9]* | "$p"-b[0-9]*)
			ip netns del "$ns" ;;
		esac
	done
}

start_bird() {
	local p=$1 dir=$2 name=$3
	nsenter --net="/run/netns/$p-$name" bird -c "$dir/bird-$name.conf" \
		-s "$dir/bird-$name.ctl" -P "$dir/bird-$name.pid"
}

router_conf() {
	local dir=$1 count=$2 i
	{
		cat <<-END
		router id $ROUTER_ADDR;
		log "$dir/bird-rt.log" all;
		protocol device { scan time 1; }
		# Equal paths from several balancers become one multipath route in the FIB.
		protocol kernel {
			merge paths yes limit 16;
			ipv4 { import none; export all; };
		}
		END
		for ((i = 1; i <= count; i++)); do
			cat <<-END
			protocol bgp lb$i {
				local $ROUTER_ADDR as 65000;
				neighbor $(balancer_addr "$i") as $((65000 + i));
				connect delay time 1;
				hold time 3;
				keepalive time 1;
				ipv4 { import where net.len = 32; export none; };
			}
			END
		done
	} >"$dir/bird-rt.conf"
}

balancer_conf() {
	local dir=$1 i=$2 addr
	addr=$(balancer_addr "$i")
	cat >"$dir/bird-lb$i.conf" <<-END
	router id $addr;
	log "$dir/bird-lb$i.log" all;
	protocol device { scan time 1; }
	# xdp-lbd's VIP routes (protocol 250), learned as they come and go.
	protocol kernel announced {
		kernel table $ANNOUNCE_TABLE;
		learn;
		scan time 1;
		ipv4 { import all; export none; };
	}
	protocol bgp uplink {
		local $addr as $((65000 + i));
		neighbor $ROUTER_ADDR as 65000;
		connect delay time 1;
		hold time 3;
		keepalive time 1;
		ipv4 { import none; export where proto = "announced"; };
	}
	END
}

topology_up() {
	local p=$1 dir=$2 count=$3 i addr
	shift 3
	topology_down "$p" "$dir"
	mkdir -p "$dir"
	ip netns add "$p-sw"
	ip -n "$p-sw" link add br0 type bridge
	ip -n "$p-sw" link set br0 up

	ip netns add "$p-rt"
	wire "$p" "$p-rt" eth0 p-rt
	ip -n "$p-rt" addr add "$ROUTER_ADDR/16" dev eth0
	ip netns add "$p-client"
	ip link add eth0 netns "$p-client" type veth peer name eth1 netns "$p-rt"
	ip -n "$p-client" link set eth0 up
	ip -n "$p-client" link set lo up
	ip -n "$p-rt" link set eth1 up
	ip -n "$p-client" addr add 10.1.0.1/24 dev eth0
	ip -n "$p-rt" addr add 10.1.0.254/24 dev eth1
	ip -n "$p-client" route add default via 10.1.0.254
	ip netns exec "$p-rt" sysctl -qw net.ipv4.conf.all.forwarding=1 \
		net.ipv4.fib_multipath_hash_policy=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0

	for ((i = 1; i <= count; i++)); do
		ip netns add "$p-lb$i"
		wire "$p" "$p-lb$i" veth1 "p-lb$i"
		ip -n "$p-lb$i" addr add "$(balancer_addr "$i")/16" dev veth1
		ip -n "$p-lb$i" route add 10.1.0.0/24 via "$ROUTER_ADDR"
		ip netns exec "$p-lb$i" sysctl -qw net.ipv4.conf.all.forwarding=1 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
		# A veth takes XDP_TX frames only when its peer runs XDP.
		ip -n "$p-sw" link set dev "p-lb$i" xdp obj "$OUTPUT/bpf/xdp_pass.bpf.o" sec xdp
		balancer_conf "$dir" "$i"
	done
	i=0
	for addr in "$@"; do
		i=$((i + 1))
		ip netns add "$p-b$i"
		wire "$p" "$p-b$i" eth0 "p-b$i"
		ip -n "$p-b$i" addr add "$addr/16" dev eth0
		ip netns exec "$p-b$i" sysctl -qw net.ipv4.conf.all.rp_filter=0
	done

	# Each balancer resolves the backends' MACs now (lab_common.sh).
	for ((i = 1; i <= count; i++)); do
		resolve_neighbours "$p-lb$i" "$@"
	done

	router_conf "$dir" "$count"
	start_bird "$p" "$dir" rt
	for ((i = 1; i <= count; i++)); do
		start_bird "$p" "$dir" "lb$i"
	done
}

# The router's next hops for VIP, one per line (none: no route).
router_routes() {
	local p=$1 vip=$2
	ip -n "$p-rt" route show "$vip/32" | grep -oE 'via [0-9.]+' | awk '{print $2}' | sort
}

case ${1:-} in
up) shift; topology_up "$@" ;;
down) shift; topology_down "$@" ;;
routes) shift; router_routes "$@" ;;
*)
	echo "usage: $0 up PREFIX DIR BALANCERS BACKEND_IP... | down PREFIX DIR |" \
		"routes PREFIX VIP" >&2
	exit 2
	;;
esac
