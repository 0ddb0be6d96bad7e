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
# The generator runs on one CPU (GEN_CPU); a veth receives on the CPU that
# sent, in softirq, so each trial also reports that CPU's softirq time per
# frame received (veth_trial -c): what the XDP programs on both ends cost it.
# After the alternating trials, one more balancer trial runs with
# kernel.bpf_stats_enabled=1 (restored afterwards) for the entry program's own
# run_time_ns / run_cnt; it is kept apart because the statistics cost every
# program run two clock reads.
#
# Trials alternate (reflector, balancer, reflector, ...), so both see the same
# machine. The backends are on veth1's subnet with permanent neighbours, so
# encap sends every frame back out of veth1 (XDP_TX), as the reflector does.
#
#   bench/veth_pps.sh OUT.json
# Environment: TRIALS (per mode, default 3), FLOWS (default 1024), WARMUP and
# MEASURE (seconds per trial, default 1 and 3), CONFIG (default config.yaml: a
# seed-form config, one UDP VIP on every port, backends in 10.0.0.0/16),
# METHOD (xdp_send -M, default auto), GEN_CPU (the generator's CPU, default 0).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${OUTPUT:-build}
[[ $OUTPUT = /* ]] || OUTPUT=$ROOT/$OUTPUT
out=$1
trials=${TRIALS:-3} flows=${FLOWS:-1024} warmup=${WARMUP:-1} measure=${MEASURE:-3}
config=${CONFIG:-$ROOT/config.yaml}
method=${METHOD:-auto}
gen_cpu=${GEN_CPU:-0}
P=xlbb$$
GEN=/run/netns/$P-gen LB=/run/netns/$P-lb
lb_loaded=0
bpf_stats_before=

cleanup() {
	if [[ -n $bpf_stats_before ]]; then
		sysctl -qw kernel.bpf_stats_enabled="$bpf_stats_before" || true
	fi
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
		-m "$measure" -c "$gen_cpu" -- "$OUTPUT/tools/xdp_send" -i gen0 -D "$lb_mac" -a 10.0.0.1 \
		-d "$vip" -p 5000 -f "$flows" -t 600 -M "$method")
	echo "veth_pps: trial $mode: $(grep -oE '"pps": [0-9]+' <<<"$result")," \
		"$(grep -oE '"softirq_ns_per_frame": [0-9.]+' <<<"$result")," \
		"xdp_send method $(grep -oE '"generator_method": "[a-z]+"' <<<"$result" |
			cut -d'"' -f4)" >&2
	printf '    {"mode": "%s", "result": %s}' "$mode" "$result"
}

# An XDP_PASS program on gen0 while lb-load loads: lb-load checks the peer,
# and a veth peer without XDP would drop XDP_TX frames, so it would hand
# every encapsulated frame to the kernel instead (encap.pass_to_stack). The
# trial's sink then replaces it.
peer_xdp() {
	ip -n "$P-gen" link set dev gen0 xdpdrv obj "$OUTPUT/bpf/xdp_pass.bpf.o" sec xdp
}

# The id of the program attached to veth1 in the balancer's namespace: the
# entry program (parse, or libxdp's dispatcher in front of it).
entry_prog_id() {
	ip -j -n "$P-lb" link show dev veth1 | python3 -c '
import json, sys
def find(x):
    if isinstance(x, dict):
        if isinstance(x.get("prog"), dict) and "id" in x["prog"]:
            return x["prog"]["id"]
        for v in x.values():
            r = find(v)
            if r is not None:
                return r
    if isinstance(x, list):
        for v in x:
            r = find(v)
            if r is not None:
                return r
print(find(json.load(sys.stdin)[0].get("xdp", {})) or "")'
}

# run_time_ns and run_cnt of program @1, as "NS CNT".
prog_stats() {
	bpftool -j prog show id "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d.get("run_time_ns", 0), d.get("run_cnt", 0))'
}

# One balancer trial under kernel.bpf_stats_enabled=1: the entry program's
# run time per run over the trial, beside the trial's figures.
stats_trial() {
	local id before after result
	peer_xdp
	nsenter --net="$LB" "$ROOT/lb-load" "$config" veth1 >&2
	lb_loaded=1
	id=$(entry_prog_id)
	bpf_stats_before=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	before=$(prog_stats "$id")
	result=$(trial balancer)
	after=$(prog_stats "$id")
	sysctl -qw kernel.bpf_stats_enabled="$bpf_stats_before"
	bpf_stats_before=
	nsenter --net="$LB" "$ROOT/lb-load" --unload veth1 >&2
	lb_loaded=0
	# trial prints {"mode": ..., "result": {...}}: keep the inner object.
	result=${result#*\"result\": }
	result=${result%\}}
	read -r ns0 cnt0 <<<"$before"
	read -r ns1 cnt1 <<<"$after"
	echo "veth_pps: entry program $id: $((ns1 - ns0)) ns over $((cnt1 - cnt0)) runs" >&2
	printf '{"entry_prog_id": %s, "run_time_ns": %s, "run_cnt": %s, "trial": %s}' \
		"$id" "$((ns1 - ns0))" "$((cnt1 - cnt0))" "$result"
}

{
	printf '{\n  "config": "%s", "vip": "%s", "flows": %s, "warmup_s": %s, ' \
		"${config#"$ROOT"/}" "$vip" "$flows" "$warmup"
	printf '"generator": "xdp_send -M %s", ' "$method"
	printf '"measure_s": %s, "generator_cpu": %s,\n  "trials": [\n' "$measure" "$gen_cpu"
	for t in $(seq "$trials"); do
		ip -n "$P-lb" link set dev veth1 xdpdrv obj "$OUTPUT/bpf/xdp_tx_floor.bpf.o" sec xdp
		trial reflector
		printf ',\n'
		ip -n "$P-lb" link set dev veth1 xdpdrv off

		peer_xdp
		nsenter --net="$LB" "$ROOT/lb-load" "$config" veth1 >&2
		lb_loaded=1
		((t > 1)) || memory=$(pinned_memory)
		trial balancer
		((t == trials)) || printf ','
		printf '\n'
		nsenter --net="$LB" "$ROOT/lb-load" --unload veth1 >&2
		lb_loaded=0
	done
	printf '  ],\n  "bpf_stats": %s,\n' "$(stats_trial)"
	printf '  "pinned_map_bytes": %s\n}\n' "$memory"
} >"$out"
