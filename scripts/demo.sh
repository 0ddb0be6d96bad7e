#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The main job on one machine: a client, the balancer (veth1) and the backends
# of config.yaml in network namespaces; lb-load config.yaml veth1; UDP and TCP
# flows to the VIP; what each backend received; then everything is removed.
#
#   sudo make demo               (this script, after installing and building)
#   KEEP=1 sudo make demo        leave the lab up to play with
#   FLOWS=100 PACKETS=10 ...     traffic shape (defaults 60 flows x 8 packets)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${OUTPUT:-$ROOT/build}
[[ $OUTPUT = /* ]] || OUTPUT=$ROOT/$OUTPUT
CONFIG=${CONFIG:-$ROOT/config.yaml}
FLOWS=${FLOWS:-60}
PACKETS=${PACKETS:-8}
P=${DEMO_PREFIX:-xlbdemo}
TMP=$(mktemp -d "/tmp/$P.XXXX")
PIDS=()

[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (sudo make demo)" >&2; exit 1; }

# The lab is built for the VIP and backends of config.yaml (seed form); lb-load
# then loads that same file.
vip=$(sed -nE 's/^vip:[[:space:]]*([0-9.]+).*/\1/p' "$CONFIG")
backends=$(sed -nE 's/^[[:space:]]*-[[:space:]]*ip:[[:space:]]*([0-9.]+).*/\1/p' "$CONFIG")
[[ -n $vip && -n $backends ]] ||
	{ echo "demo: $CONFIG is not in the seed form (vip: + backends:)" >&2; exit 1; }

in_net() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$P-$ns" "$@"
}

teardown() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	PIDS=()
	if [[ ${KEEP:-0} == 1 ]]; then
		echo
		echo "KEEP=1: the lab is up. Try:"
		echo "  nsenter --net=/run/netns/$P-lb $ROOT/lbctl stats veth1"
		echo "  nsenter --net=/run/netns/$P-client $OUTPUT/tools/flow_send -d $vip -f 10 -n 5"
		echo "Remove it with: nsenter --net=/run/netns/$P-lb $ROOT/lb-load --unload veth1;" \
			"$ROOT/scripts/topology.sh down $P"
	else
		[[ -e /run/netns/$P-lb ]] && in_net lb "$ROOT/lb-load" --unload veth1 >/dev/null 2>&1
		"$ROOT/scripts/topology.sh" down "$P"
	fi
	rm -rf "$TMP"
}
trap teardown EXIT

echo "== topology: client 10.0.0.1, balancer veth1 10.0.0.10, backends" $backends
# shellcheck disable=SC2086
OUTPUT=$OUTPUT "$ROOT/scripts/topology.sh" up "$P" "$vip" $backends

echo "== sudo ./lb-load $(basename "$CONFIG") veth1"
in_net lb "$ROOT/lb-load" "$CONFIG" veth1

i=0
for addr in $backends; do
	i=$((i + 1))
	nsenter --net="/run/netns/$P-b$i" "$OUTPUT/tools/ipip_capture" -i eth0 -b "$addr" \
		-o client -R "$TMP/ready$i" >"$TMP/cap$i" 2>&1 &
	PIDS+=($!)
done
for ((j = 1; j <= i; j++)); do
	for _ in $(seq 50); do [[ -e $TMP/ready$j ]] && break; sleep 0.1; done
done

echo "== client: $FLOWS UDP flows x $PACKETS packets, then $((FLOWS / 2)) flows of 1..$PACKETS packets, to $vip"
in_net client "$OUTPUT/tools/flow_send" -d "$vip" -p 5000 -f "$FLOWS" -n "$PACKETS" | head -n 1
in_net client "$OUTPUT/tools/flow_send" -d "$vip" -p 5001 -P udp -f $((FLOWS / 2)) \
	-m "$PACKETS" -S 7 -b 30000 | head -n 1
sleep 0.5
for pid in "${PIDS[@]}"; do kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; done
PIDS=()

echo "== what each backend received (checked IPIP frames, by inner flow)"
i=0
for addr in $backends; do
	i=$((i + 1))
	printf '  %-10s flows %4d  packets %6d  %s\n' "$addr" \
		"$(grep -c '^flow ' "$TMP/cap$i" || true)" \
		"$(awk '$1 == "flow" { n += $NF } END { print n + 0 }' "$TMP/cap$i")" \
		"$(tail -n 1 "$TMP/cap$i")"
done
echo "== lbctl stats veth1"
in_net lb "$ROOT/lbctl" stats veth1
