#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# End-to-end packets per second through lb-load on a veth pair in native XDP
# mode, against a bare XDP_TX reflector in the same run; and the memory of the
# maps lb-load pins for the config.
#
#   <P>-gen  gen0 10.0.0.1/16  ==veth==  veth1 10.0.0.10/16  <P>-lb
#   xdp_send -> gen0 -> veth1: lb-load CONFIG, or the bare XDP_TX reflector
#   -> XDP_TX -> gen0: backend sink, counts per backend, drops
#
# xdp_send picks its method (-M auto): XDP live frames, or where the kernel
# refuses them AF_XDP (copy mode), or AF_PACKET. Each trial's result names
# the method it used ("generator_method"), and so does stderr. The other
# methods are slower than the balancer here: their ratio measures the
# generator (docs/performance.md).
#
# Trials alternate (reflector, balancer, reflector, ...), so both see the same
# machine. The backends are on veth1's subnet with permanent neighbours, so
# encap sends every frame back out of veth1 (XDP_TX), as the reflector does.
#
#   bench/veth_pps.sh OUT.json
# Environment: TRIALS (per mode, default 3), FLOWS (default 1024), WARMUP and
# MEASURE (seconds per trial, default 1 and 3), CONFIG (default config.yaml: a
# seed-form config, one UDP VIP on every port, backends in 10.0.0.0/16),
# METHOD (xdp_send -M, default auto).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${OUTPUT:-build}
[[ $OUTPUT = /* ]] || OUTPUT=$ROOT/$OUTPUT
out=$1
trials=${TRIALS:-3} flows=${FLOWS:-1024} warmup=${WARMUP:-1} measure=${MEASURE:-3}
config=${CONFIG:-$ROOT/config.yaml}
method=${METHOD:-auto}
P=xlbb$$
GEN=/run/netns/$P-gen LB=/run/netns/$P-lb
lb_loaded=0

cleanup() {
	if ((lb_loaded)); then
		nsenter --net="$LB" "$ROOT/lb-load" --unload veth1 >/dev/null 2>&1 || true
	fi
	ip netns del "$P-gen" 2>/dev/null || true
	ip netns del "$P-lb" 2>/dev/null || true
}
trap cleanup EXIT

vip=$(awk '$1 == "vip:" { print $2; exit }' "$config")
backends=$(awk '$1 == "-" && $2 == "ip:" { print $3 }' "$config")
if [[ -z $vip || -z $backends ]]; then
	echo "veth_pps: $config is not a seed-form config (vip: and backends: - ip:)" >&2
	exit 1
fi

ip netns add "$P-gen"
ip netns add "$P-lb"
ip link add gen0 netns "$P-gen" type veth peer name veth1 netns "$P-lb"
ip -n "$P-gen" addr add 10.0.0.1/16 dev gen0
ip -n "$P-lb" addr add 10.0.0.10/16 dev veth1
for ns in "$P-gen" "$P-lb"; do
	ip -n "$ns" link set lo up
done
ip -n "$P-gen" link set gen0 up
ip -n "$P-lb" link set veth1 up
nsenter --net="$LB" sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv4.conf.veth1.forwarding=1
i=0
for addr in $backends; do
	i=$((i + 1))
	ip -n "$P-lb" neigh add "$addr" lladdr "02:00:00:00:b0:$(printf %02x $i)" dev veth1 \
		nud permanent
done
lb_mac=$(ip -n "$P-lb" link show veth1 | awk '$1 == "link/ether" { print $2 }')

# Bytes the kernel charges for each map lb-load pinned.
pinned_memory() {
	local dir=/sys/fs/bpf/xdp-lb/veth1@$P-lb pin bytes sep=""
	printf '{'
	for pin in "$dir"/*; do
		# Stage programs are pinned there too: only maps answer.
		bytes=$(bpftool -j map show pinned "$pin" 2>/dev/null |
			grep -o '"bytes_memlock":[0-9]*' | cut -d: -f2) || continue
		[[ -n $bytes ]] || continue
		printf '%s"%s": %s' "$sep" "$(basename "$pin")" "$bytes"
		sep=", "
	done
	printf '}'
}

trial() {
	local mode=$1 result
	echo "veth_pps: trial $mode" >&2
	result=$(nsenter --net="$GEN" "$OUTPUT/bench/veth_trial" -i gen0 -w "$warmup" \
		-m "$measure" -- "$OUTPUT/tools/xdp_send" -i gen0 -D "$lb_mac" -a 10.0.0.1 \
		-d "$vip" -p 5000 -f "$flows" -t 600 -M "$method")
	echo "veth_pps: trial $mode: $(grep -oE '"pps": [0-9]+' <<<"$result")," \
		"xdp_send method $(grep -oE '"generator_method": "[a-z]+"' <<<"$result" |
			cut -d'"' -f4)" >&2
	printf '    {"mode": "%s", "result": %s}' "$mode" "$result"
}

{
	printf '{\n  "config": "%s", "vip": "%s", "flows": %s, "warmup_s": %s, ' \
		"${config#"$ROOT"/}" "$vip" "$flows" "$warmup"
	printf '"generator": "xdp_send -M %s", ' "$method"
	printf '"measure_s": %s,\n  "trials": [\n' "$measure"
	for t in $(seq "$trials"); do
		ip -n "$P-lb" link set dev veth1 xdpdrv obj "$OUTPUT/bpf/xdp_tx_floor.bpf.o" sec xdp
		trial reflector
		printf ',\n'
		ip -n "$P-lb" link set dev veth1 xdpdrv off

		nsenter --net="$LB" "$ROOT/lb-load" "$config" veth1 >&2
		lb_loaded=1
		((t > 1)) || memory=$(pinned_memory)
		trial balancer
		((t == trials)) || printf ','
		printf '\n'
		nsenter --net="$LB" "$ROOT/lb-load" --unload veth1 >&2
		lb_loaded=0
	done
	printf '  ],\n  "pinned_map_bytes": %s\n}\n' "$memory"
} >"$out"
