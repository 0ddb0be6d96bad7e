#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Several balancers behind ECMP (docs/scale-out.md): a router running BIRD
# that spreads flows over 3 balancers by layer-4 hash, each balancer running
# lb-load, xdp-lbd --announce-table 100 and BIRD (BGP to the router), 3
# backends that capture what they get (scripts/topology_ecmp.sh). A client
# sends FLOWS UDP flows to a Maglev VIP and as many to a least-loaded VIP;
# then balancer 2 is taken away the way systemd stops it (xdp-lbd gets
# SIGTERM and withdraws its routes, then lb-load --unload) and the client
# sends the same flows again. It shows the router dropping the route, the
# flows moving to the other balancers, and which flows changed backend:
# none of the Maglev VIP's, and how many of the least-loaded VIP's.
#
#   make demo-ecmp (as root)       this script, after building
#   FLOWS=300 PACKETS=3            flows per VIP, packets per flow and phase
#   ECMP_OUT=build/demo-ecmp       captures, flow tables, logs, result
#   ECMP_GONE=2                    the balancer taken away (1, 2 or 3)
#   KEEP=1                         leave the lab up (says how to remove it)
#
# ECMP_OUT/result holds the figures as KEY=VALUE lines, for
# tests/integration/test_ecmp.sh.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${OUTPUT:-$ROOT/build}
[[ $OUTPUT = /* ]] || OUTPUT=$ROOT/$OUTPUT
export OUTPUT
TOOLS=$OUTPUT/tools
OUT=${ECMP_OUT:-$OUTPUT/demo-ecmp}
[[ $OUT = /* ]] || OUT=$ROOT/$OUT
P=${ECMP_PREFIX:-xlbecmp$$}
FLOWS=${FLOWS:-300}
PACKETS=${PACKETS:-3}
TABLE=100
BALANCERS=3
GONE=${ECMP_GONE:-2} # the balancer taken away (1..3)
MAGLEV_VIP=10.99.0.1
LL_VIP=10.99.0.2
PORT=5000
BACKENDS=(10.0.1.1 10.0.2.2 10.0.3.3)
TOPO=$ROOT/scripts/topology_ecmp.sh
PIDS=()     # xdp-lbd of each balancer
CAP_PIDS=() # the backends' captures of one phase
declare -A LBD_PID

[[ $(id -u) -eq 0 ]] || { echo "demo-ecmp: run as root" >&2; exit 1; }

# Background processes are started with nsenter itself, not through this
# function: $! must be the PID of the process (nsenter execs it), not of a
# subshell a signal would stop in its place.
in_net() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$P-$ns" "$@"
}

stop_pids() {
	local pid
	for pid in "${PIDS[@]}" "${CAP_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}" "${CAP_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	PIDS=()
	CAP_PIDS=()
}

stop_captures() {
	local pid
	for pid in "${CAP_PIDS[@]}"; do kill -TERM "$pid"; done
	for pid in "${CAP_PIDS[@]}"; do wait "$pid" || true; done
	CAP_PIDS=()
}

forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

teardown() {
	local status=$? i
	set +e
	if [[ ${KEEP:-0} == 1 && -e /run/netns/$P-rt ]]; then
		echo
		echo "KEEP=1: the lab is up (xdp-lbd PIDs: ${PIDS[*]}). Try:"
		echo "  ip -n $P-rt route show $MAGLEV_VIP"
		echo "  birdc -s $OUT/lab/bird-rt.ctl show route all"
		echo "Remove it with:"
		echo "  kill ${PIDS[*]}; for i in 1 2 3; do nsenter --net=/run/netns/$P-lb\$i" \
			"$ROOT/lb-load --unload veth1; done; $TOPO down $P $OUT/lab"
	else
		stop_pids
		for ((i = 1; i <= BALANCERS; i++)); do
			[[ -e /run/netns/$P-lb$i ]] &&
				in_net "lb$i" "$ROOT/lb-load" --unload veth1 >/dev/null 2>&1
		done
		"$TOPO" down "$P" "$OUT/lab"
	fi
	((status == 0)) || echo "demo-ecmp: FAILED (exit $status)" >&2
}
trap teardown EXIT
trap 'exit 130' INT TERM

write_config() {
	local vip policy addr
	{
		echo "# Written by scripts/demo_ecmp.sh: the same file on every balancer."
		echo "vips:"
		for vip in "$MAGLEV_VIP maglev" "$LL_VIP least-loaded"; do
			read -r addr policy <<<"$vip"
			echo "  - address: $addr"
			echo "    port: $PORT"
			echo "    policy: $policy"
			echo "    backends:"
			for b in "${BACKENDS[@]}"; do echo "      - ip: $b"; done
		done
	} >"$OUT/lb.yaml"
}

# The router's next hops for $1, on one line.
next_hops() {
	"$TOPO" routes "$P" "$1" | tr '\n' ' ' | sed 's/ $//'
}

# Waits (at most $3 s) until the router has $2 next hops for VIP $1.
wait_next_hops() {
	local vip=$1 want=$2 limit=$3 i
	for ((i = 0; i < limit * 10; i++)); do
		[[ $("$TOPO" routes "$P" "$vip" | wc -l) -eq $want ]] && return 0
		sleep 0.1
	done
	echo "demo-ecmp: the router has '$(next_hops "$vip")' for $vip, not $want next hops" \
		"within $limit s" >&2
	return 1
}

start_captures() {
	local phase=$1 i
	for i in "${!BACKENDS[@]}"; do
		nsenter --net="/run/netns/$P-b$((i + 1))" "$TOOLS/ipip_capture" -i eth0 \
			-b "${BACKENDS[$i]}" -o client \
			-R "$OUT/$phase-cap$((i + 1)).ready" >"$OUT/$phase-cap$((i + 1)).out" 2>&1 &
		CAP_PIDS+=($!)
	done
	for i in "${!BACKENDS[@]}"; do
		for _ in $(seq 50); do
			[[ -e $OUT/$phase-cap$((i + 1)).ready ]] && break
			sleep 0.1
		done
	done
}

# Both VIPs, the same flows each phase (source ports from 10000).
send_phase() {
	local phase=$1 vip i
	start_captures "$phase"
	for vip in $MAGLEV_VIP $LL_VIP; do
		in_net client "$TOOLS/flow_send" -d "$vip" -p "$PORT" -f "$FLOWS" -n "$PACKETS" \
			-b 10000 -r 4000 >"$OUT/$phase-send-$vip.out"
	done
	sleep 0.5 # the last frames cross the bridge
	stop_captures
	# Each balancer's flow table: which flows it has taken so far.
	for ((i = 1; i <= BALANCERS; i++)); do
		if [[ -e $OUT/lab/lb$i.unloaded ]]; then
			: >"$OUT/$phase-lb$i.flows"
		else
			in_net "lb$i" "$ROOT/lbctl" flows veth1 >"$OUT/$phase-lb$i.flows"
		fi
	done
}

# "SRC:SPORT BACKEND" per flow of VIP $2 that phase $1's captures saw.
backend_per_flow() {
	local phase=$1 vip=$2 i
	for i in "${!BACKENDS[@]}"; do
		awk -v dst="$vip:$PORT" -v b="${BACKENDS[$i]}" '$1 == "flow" && $4 == dst { print $3, b }' \
			"$OUT/$phase-cap$((i + 1)).out"
	done | sort
}

# Flows of VIP $2 in balancer $3's table after phase $1, one "SRC:SPORT" a line.
table_flows() {
	# lbctl flows: a header, then "proto client vip backend address age idle".
	awk -v dst="$2:$PORT" '$1 != "proto" && $3 == dst { print $2 }' "$OUT/$1-lb$3.flows" |
		sort
}

# Prints and records KEY=VALUE.
result() {
	echo "$1=$2" >>"$OUT/result"
}

compare_vip() {
	local vip=$1 name=$2 before after changed lost
	backend_per_flow before "$vip" >"$OUT/before-$vip.backends"
	backend_per_flow after "$vip" >"$OUT/after-$vip.backends"
	before=$(wc -l <"$OUT/before-$vip.backends")
	after=$(wc -l <"$OUT/after-$vip.backends")
	changed=$(join "$OUT/before-$vip.backends" "$OUT/after-$vip.backends" |
		awk '$2 != $3' | wc -l)
	lost=$(join -v 1 "$OUT/before-$vip.backends" "$OUT/after-$vip.backends" | wc -l)
	result "${name}_flows_before" "$before"
	result "${name}_flows_after" "$after"
	result "${name}_changed_backend" "$changed"
	result "${name}_lost" "$lost"
	printf '  %-22s %s flows before, %s after; %s changed backend\n' "$vip ($name):" \
		"$before" "$after" "$changed"
}

main() {
	local i t0 t1 moved from_gone per_before per_after
	rm -rf "$OUT"
	mkdir -p "$OUT/lab"
	write_config
	echo "== Lab $P: a router (BIRD, ECMP by layer-4 hash), $BALANCERS balancers" \
		"(lb-load, xdp-lbd, BIRD), ${#BACKENDS[@]} backends, a client"
	"$TOPO" up "$P" "$OUT/lab" "$BALANCERS" "${BACKENDS[@]}"
	for ((i = 1; i <= BALANCERS; i++)); do
		in_net "lb$i" "$ROOT/lb-load" "$OUT/lb.yaml" veth1 >"$OUT/lab/lb-load$i.log"
		nsenter --net="/run/netns/$P-lb$i" "$ROOT/xdp-lbd" --announce-table "$TABLE" \
			--interval 0.2 veth1 \
			2>"$OUT/lab/xdp-lbd$i.log" &
		LBD_PID[$i]=$!
		PIDS+=($!)
	done
	wait_next_hops "$MAGLEV_VIP" "$BALANCERS" 30
	wait_next_hops "$LL_VIP" "$BALANCERS" 30
	result routes_before "$("$TOPO" routes "$P" "$MAGLEV_VIP" | wc -l)"
	echo "router: $MAGLEV_VIP and $LL_VIP via $(next_hops "$MAGLEV_VIP")"

	echo "== $FLOWS UDP flows x $PACKETS packets to each VIP"
	send_phase before
	per_before=""
	for ((i = 1; i <= BALANCERS; i++)); do
		per_before+=" lb$i $(table_flows before "$MAGLEV_VIP" "$i" | wc -l)"
		result "lb${i}_flows_before" "$(table_flows before "$MAGLEV_VIP" "$i" | wc -l)"
	done
	echo "flows of $MAGLEV_VIP per balancer:$per_before"

	echo "== Taking balancer $GONE away: SIGTERM to its xdp-lbd, then lb-load --unload"
	t0=$(date +%s%N)
	kill -TERM "${LBD_PID[$GONE]}"
	wait "${LBD_PID[$GONE]}" || { echo "demo-ecmp: xdp-lbd of lb$GONE did not exit 0" >&2; exit 1; }
	forget_pid "${LBD_PID[$GONE]}"
	result announced_after_stop "$(ip -n "$P-lb$GONE" route show table "$TABLE" | wc -l)"
	wait_next_hops "$MAGLEV_VIP" $((BALANCERS - 1)) 10
	wait_next_hops "$LL_VIP" $((BALANCERS - 1)) 10
	t1=$(date +%s%N)
	in_net "lb$GONE" "$ROOT/lb-load" --unload veth1 >/dev/null
	touch "$OUT/lab/lb$GONE.unloaded"
	result routes_after "$("$TOPO" routes "$P" "$MAGLEV_VIP" | wc -l)"
	echo "router: $MAGLEV_VIP via $(next_hops "$MAGLEV_VIP") ($(( (t1 - t0) / 1000000 )) ms" \
		"after the SIGTERM)"

	echo "== The same flows again"
	send_phase after
	per_after=""
	moved=0
	for ((i = 1; i <= BALANCERS; i++)); do
		((i == GONE)) && continue
		per_after+=" lb$i +$(comm -13 <(table_flows before "$MAGLEV_VIP" "$i") \
			<(table_flows after "$MAGLEV_VIP" "$i") | wc -l)"
		result "lb${i}_new_flows" "$(comm -13 <(table_flows before "$MAGLEV_VIP" "$i") \
			<(table_flows after "$MAGLEV_VIP" "$i") | wc -l)"
		moved=$((moved + $(comm -13 <(table_flows before "$MAGLEV_VIP" "$i") \
			<(table_flows after "$MAGLEV_VIP" "$i") | wc -l)))
	done
	from_gone=$(table_flows before "$MAGLEV_VIP" "$GONE" | wc -l)
	result moved_balancer "$moved"
	echo "flows of $MAGLEV_VIP new on the remaining balancers:$per_after ($moved: lb$GONE's" \
		"$from_gone, and $((moved - from_gone)) of the others' that the smaller next-hop" \
		"set hashes elsewhere)"
	echo "== Backend of each flow, before and after"
	compare_vip "$MAGLEV_VIP" maglev
	compare_vip "$LL_VIP" least_loaded
	echo "Maglev: every balancer computes the same table, so a flow that lands on another"
	echo "balancer keeps its backend. least-loaded: a balancer that has not seen a flow"
	echo "schedules it by its own loads, so a moved flow may change backend."
}

main
