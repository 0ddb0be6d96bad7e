#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# lbctl as a script's tool: every --json output valid against
# docs/lbctl.schema.json and equal to what happened, the exit codes of
# docs/operations.md in each situation, flag errors, stats --reset, and flows'
# header, filters, sorting and limit.
source "$(dirname "$0")/lib.sh"

VIP=123.168.9.8
B1=10.0.1.1 B2=10.0.2.2

# Runs lbctl; prints its exit code only.
lbctl_code() {
	lbctl "$@" >/dev/null 2>&1
	echo $?
}

two_vips_config() {
	cat >"$TMP/config.yaml" <<YAML
vips:
  - {address: $VIP, port: 7001, backends: [{ip: $B1}, {ip: $B2}]}
  - {address: $VIP, port: 7002, protocol: tcp, backends: [{ip: $B1}, {ip: $B2}]}
YAML
}

test_json_matches_schema_and_traffic() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	two_vips_config
	check lb_load "$TMP/config.yaml" veth1 >/dev/null
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 7001 -f 10 -n 3 >/dev/null || fail "send udp"
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 7002 -P tcp -f 4 -n 2 >/dev/null ||
		fail "send tcp"
	local status stats flows out
	status=$(lbctl status veth1 --json) || fail "status --json exited $?"
	stats=$(lbctl stats veth1 --json --watch 0.1 --count 2) || fail "stats --json failed"
	flows=$(lbctl flows veth1 --json) || fail "flows --json failed"
	out=$(printf '%s\n' "$status" "$stats" "$flows" | validate) || fail "schema: $out"
	check_eq "$out" "valid 4" "documents validated"
	# The documents say what happened.
	check_eq "$(field 'd["exit_code"], len(d["problems"]), len(d["vips"])' <<<"$status")" \
		"(0, 0, 2)" "status: healthy, two VIPs"
	check_eq "$(field '[v["vip"] for v in d["vips"]]' <<<"$status")" \
		"['$VIP:7001/udp', '$VIP:7002/tcp']" "status: VIP labels"
	check_eq "$(field 'd["parse"]["program"], d["flows"]' <<<"$status")" "('xdp_lb_parse', 14)" \
		"status: parse and flows"
	check_eq "$(field 'd["matched"], d["in_table"], len(d["flows"])' <<<"$flows")" \
		"(14, 14, 14)" "flows: counts"
	check_eq "$(field 'sorted(set((f["proto"], f["vip_port"]) for f in d["flows"]))' \
		<<<"$flows")" "[('tcp', 7002), ('udp', 7001)]" "flows: protocols and ports"
	check_eq "$(tail -n 1 <<<"$stats" | field 'd["counters"]["lb"]["flow_new"], d["flows"]')" \
		"(14, 14)" "stats: new flows"
	check_eq "$(tail -n 1 <<<"$stats" | field 'sum(b["packets"] for b in d["backends"])')" 38 \
		"stats: packets of all backends"
	# The schema is strict: it refuses what lbctl must not print (a test of the test).
	out=$(field 'json.dumps(dict(d, exit_code=9))' <<<"$status" | validate) &&
		fail "schema took exit code 9: $out"
	out=$(field 'json.dumps(dict(d, extra=1))' <<<"$flows" | validate) &&
		fail "schema took an unknown key: $out"
	out=$(field 'json.dumps({k: v for k, v in d.items() if k != "outside"})' \
		<<<"$(head -n 1 <<<"$stats")" | validate) && fail "schema took stats without outside: $out"
	return 0
}

test_status_exit_codes() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check_eq "$(lbctl_code status veth1)" 3 "status before any load"
	check_eq "$(lbctl_code stats veth1 --json)" 3 "stats before any load"
	check_eq "$(lbctl_code flows veth1)" 3 "flows before any load"
	two_vips_config
	check lb_load "$TMP/config.yaml" veth1 >/dev/null
	check_eq "$(lbctl_code status veth1)" 0 "status of a healthy load"
	check_eq "$(lbctl_code status veth1 --json)" 0 "status --json of a healthy load"
	# Every backend of one VIP drain or down: lb-load warns, status exits 5.
	cat >"$TMP/drained.yaml" <<YAML
vips:
  - {address: $VIP, port: 7001, backends: [{ip: $B1}, {ip: $B2}]}
  - {address: $VIP, port: 7002, backends: [{ip: $B1, state: drain}, {ip: $B2, state: down}]}
YAML
	local out json
	out=$(lb_load "$TMP/drained.yaml" veth1 2>&1 >/dev/null) || fail "reload: $out"
	check_eq "$out" "Warning: VIP $VIP:7002/udp has no up backend (1 drain, 1 down): its new flows are dropped" \
		"lb-load's warning"
	out=$(lbctl status veth1)
	check_eq "$?" 5 "status with a VIP without up backend"
	check_contains "$out" "  warning: VIP $VIP:7002/udp has no up backend (1 drain, 1 down): its new flows are dropped (exit 5)" \
		"status warning"
	json=$(lbctl status veth1 --json)
	check_eq "$?" 5 "status --json with a VIP without up backend"
	check_eq "$(field '[(p["exit_code"], p["problem"]) for p in d["problems"]], d["exit_code"]' \
		<<<"$json")" \
		"([(5, 'VIP $VIP:7002/udp has no up backend (1 drain, 1 down): its new flows are dropped')], 5)" \
		"status --json problems"
	# Weight 0 is drain too.
	sed -i 's/state: drain}/weight: 0}/' "$TMP/drained.yaml"
	lb_load "$TMP/drained.yaml" veth1 >/dev/null 2>&1 || fail "reload with weight 0"
	check_eq "$(lbctl_code status veth1)" 5 "weight 0 and down"
	# An empty slot (as after a failed swap): 4, which outranks 5.
	local slot
	slot=$(lbctl status veth1 --json | field '[s["slot"] for s in d["slots"]].index("nat")')
	check in_net lb bpftool map delete pinned "$(pin_dir)/stage_slots" key "$slot" 0 0 0
	out=$(lbctl status veth1)
	check_eq "$?" 4 "status with an empty slot"
	check_contains "$out" "warning: slot nat is empty" "status names the empty slot"
	check lbctl swap veth1 nat nat >/dev/null
	check_eq "$(lbctl_code status veth1)" 5 "slot filled again"
	check lb_load "$TMP/config.yaml" veth1 >/dev/null
	check_eq "$(lbctl_code status veth1)" 0 "healthy again"
	# parse detached behind xdp-lb's back.
	check in_net lb ip link set dev veth1 xdp off
	out=$(lbctl status veth1)
	check_eq "$?" 4 "status with parse detached"
	check_contains "$out" "veth1: parse NOT attached" "status header"
	check_contains "$out" "warning: parse is not attached to veth1: nothing is balanced (exit 4)" \
		"status warning"
	check_eq "$(lbctl status veth1 --json | field 'd["parse"], d["exit_code"]')" "(None, 4)" \
		"status --json with parse detached"
	check lb_load --unload veth1 >/dev/null
	check_eq "$(lbctl_code status veth1)" 3 "status after unload"
	check_eq "$(lbctl_code encap veth1 gue)" 3 "encap after unload"
}

test_flag_errors_exit_2() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	local -a cases=(
		'status veth1 --bogus|lbctl status: unknown option "--bogus" (lbctl status --help lists its options)'
		'status veth1 extra --json|lbctl status: unexpected argument "extra", usage: lbctl status IFNAME [--json]'
		'status veth1 --json=1|lbctl status: --json takes no value'
		'status veth1 --reset|lbctl status does not take --reset (only lbctl stats does)'
		'stats veth1 --reset --json|lbctl stats: --reset prints no figures, it does not go with --json'
		'stats veth1 --watch 1 --reset|lbctl stats: --reset prints no figures, it does not go with --watch'
		'stats veth1 --vip 1.2.3.4|lbctl stats does not take --vip (only lbctl flows does)'
		'flows veth1 extra|lbctl flows: unexpected argument "extra", usage: lbctl flows IFNAME [--json] [--vip ADDR[:PORT][/udp|/tcp]] [--backend ADDR] [--sort KEY] [--limit N]'
		'flows veth1 --limit 0|lbctl flows: --limit: "0" is out of range, expected a whole number 1..100000000'
		'flows veth1 --limit|lbctl flows: --limit needs a value: N'
		'flows veth1 --limit 2 --limit 3|lbctl flows: --limit is given twice'
		'flows veth1 --sort size|lbctl flows: --sort: "size" is not a key, expected one of: vip, client, backend, age, idle'
		'flows veth1 --backend 10.0.1|lbctl flows: --backend: "10.0.1" is not an IPv4 or IPv6 address'
		"flows veth1 --vip $VIP:*|lbctl flows: --vip: a flow has a port, give it or none, not \"*\""
		"flows veth1 --vip $VIP:x|lbctl flows: --vip: \"$VIP:x\" is not a VIP (ADDR[:PORT|:*][/udp|/tcp]): port \"x\" is not a decimal number, expected a whole number 0..65535"
		'encap veth1 gue --json|lbctl encap does not take --json (lbctl status, stats and flows do)'
		'policy veth1 --sort age|lbctl policy does not take --sort (only lbctl flows does)'
	)
	local entry out code
	for entry in "${cases[@]}"; do
		# shellcheck disable=SC2086 # the arguments are words
		out=$(lbctl ${entry%%|*} 2>&1 >/dev/null)
		code=$?
		check_eq "$code" 2 "exit code of lbctl ${entry%%|*}"
		check_eq "$out" "Error: ${entry#*|}" "message of lbctl ${entry%%|*}"
	done
	# Every option a command takes is in its --help.
	local cmd option
	for cmd in status stats flows; do
		out=$(lbctl "$cmd" --help) || fail "$cmd --help"
		for option in $(grep -oE '\[--[a-z]+' <<<"$(head -n 1 <<<"$out")" | tr -d '['); do
			check_contains "$out" "  $option" "$cmd --help lists $option"
		done
	done
	out=$("$ROOT/lbctl" --help) || fail "lbctl --help"
	check_contains "$out" "Exit codes:" "lbctl --help: exit codes"
	check_contains "$out" "  5  status: a VIP has no up backend" "lbctl --help: exit code 5"
	echo "    ${#cases[@]} command lines refused with exit 2"
}

test_stats_reset() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	two_vips_config
	check lb_load "$TMP/config.yaml" veth1 >/dev/null
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 7001 -f 10 -n 3 >/dev/null || fail "send"
	local before after out
	before=$(lbctl stats veth1 --json)
	check_eq "$(field 'd["counters"]["lb"]["flow_new"], d["counters"]["encap"]["tx"]' \
		<<<"$before")" "(10, 30)" "counters before the reset"
	out=$(lbctl stats veth1 --reset) || fail "reset failed: $out"
	check_contains "$out" "veth1: counters reset: " "reset message"
	check_contains "$out" "Kept: the flow table and what the policies decide by" "what is kept"
	after=$(lbctl stats veth1 --json)
	# The lab's own frames (IPv6 router solicitations, MLD reports of fresh
	# interfaces) may reach parse between the reset and this read: those two
	# counters are allowed to move, by a few.
	check_eq "$(field 'sum(n for st, s in d["counters"].items() for k, n in s.items() if (st, k) not in (("parse", "pass_not_vip"), ("parse", "pass_not_ipv4")))' <<<"$after")" \
		0 "every stage counter zero"
	check_eq "$(field 'd["counters"]["parse"]["pass_not_vip"] + d["counters"]["parse"]["pass_not_ipv4"] < 10' \
		<<<"$after")" True "only a few of the lab's own frames since the reset"
	check_eq "$(field '[(b["packets"], b["bytes"], b["new_flows"]) for b in d["backends"]]' \
		<<<"$after" | tr -d ' ')" "[(0,0,0),(0,0,0),(0,0,0),(0,0,0)]" "backend counters zero"
	check_eq "$(field 'sum(v for v in d["outside"].values())' <<<"$after")" 0 \
		"outside drops count from the reset"
	# Kept: the flows and the least-loaded metric.
	check_eq "$(field 'd["flows"], sum(b["load_packets"] for b in d["backends"])' <<<"$after")" \
		"(10, 30)" "flows and load kept"
	# Counting goes on from zero: the same 10 flows, 2 packets each, are hits.
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 7001 -f 10 -n 2 >/dev/null || fail "send"
	after=$(lbctl stats veth1 --json)
	check_eq "$(field 'd["counters"]["lb"]["flow_hit"], d["counters"]["lb"]["flow_new"], sum(b["packets"] for b in d["backends"])' \
		<<<"$after")" "(20, 0, 20)" "counters after the reset"
}

# An unload and a load between two refreshes of --watch pin all new maps: the
# watch must read those, not the old ones its fds still hold (which nothing
# writes any more), and take no rate across the two loads.
test_stats_watch_follows_a_new_load() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	two_vips_config
	check lb_load "$TMP/config.yaml" veth1 >/dev/null
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 7001 -f 4 -n 1 >/dev/null || fail "send"
	local out=$TMP/watch.json line waited
	spawn lb "$out" "$ROOT/lbctl" stats veth1 --json --watch 3 --count 2
	for waited in $(seq 50); do
		[[ -s $out ]] && break
		sleep 0.1
	done
	check_eq "$(head -n 1 "$out" | field 'd["counters"]["lb"]["flow_new"]')" 4 \
		"first refresh: the first load's flows"
	check lb_load --unload veth1 >/dev/null
	check lb_load "$TMP/config.yaml" veth1 >/dev/null
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 7001 -f 10 -n 3 >/dev/null || fail "send"
	wait "${PIDS[-1]}" || fail "lbctl stats --watch exited $?: $(cat "$out")"
	line=$(grep -v '^lbctl' "$out" | tail -n 1)
	check_eq "$(field 'd["counters"]["lb"]["flow_new"], d["counters"]["encap"]["tx"]' \
		<<<"$line")" "(10, 30)" "second refresh: the new load's counters"
	check_eq "$(field '"pps" in d["backends"][0]' <<<"$line")" False \
		"no rate across two loads"
}

test_flows_header_filters_sort_limit() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	two_vips_config
	check lb_load "$TMP/config.yaml" veth1 >/dev/null
	# Batch A: 6 UDP flows from ports 10000..10005; 2 s later batch B: 4 UDP
	# flows to port 7001 from 20000..20003 and 2 TCP flows to 7002; then A
	# again, which refreshes A's idle time but not its age.
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 7001 -f 6 -n 1 -b 10000 >/dev/null || fail "A"
	sleep 2.2
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 7001 -f 4 -n 1 -b 20000 >/dev/null || fail "B"
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 7002 -P tcp -f 2 -n 1 -b 30000 >/dev/null ||
		fail "B tcp"
	sleep 1.2
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 7001 -f 6 -n 1 -b 10000 >/dev/null || fail "A"
	local out rows
	out=$(lbctl flows veth1) || fail "flows failed"
	check_eq "$(head -n 1 <<<"$out" | tr -s ' ')" "proto client vip backend address age_s idle_s" \
		"header"
	check_eq "$(tail -n +2 <<<"$out" | wc -l)" 12 "every flow, one line each"
	# Default order: VIP (port 7001 before 7002), then client port.
	check_eq "$(tail -n +2 <<<"$out" | awk '{ split($2, c, ":"); printf "%s ", c[2] }')" \
		"10000 10001 10002 10003 10004 10005 20000 20001 20002 20003 30000 30001 " "vip order"
	# Filters.
	check_eq "$(lbctl flows veth1 --vip "$VIP:7001" | tail -n +2 | wc -l)" 10 "--vip ADDR:PORT"
	check_eq "$(lbctl flows veth1 --vip "$VIP/tcp" | tail -n +2 | wc -l)" 2 "--vip ADDR/tcp"
	check_eq "$(lbctl flows veth1 --vip "$VIP:7002/udp" | tail -n +2 | wc -l)" 0 "--vip no match"
	check_eq "$(lbctl flows veth1 --vip 10.9.9.9 | tail -n +2 | wc -l)" 0 "--vip other address"
	local on1 on2
	on1=$(lbctl flows veth1 --backend "$B1" | tail -n +2)
	on2=$(lbctl flows veth1 --backend "$B2" | tail -n +2)
	check_eq "$(($(wc -l <<<"$on1") + $(wc -l <<<"$on2")))" 12 "--backend splits the table"
	check_eq "$(awk '{ print $5 }' <<<"$on1" | sort -u)" "$B1" "--backend $B1 only"
	# --sort age: batch A (placed 2 s earlier) first, with the larger age.
	rows=$(lbctl flows veth1 --sort age | tail -n +2)
	check_eq "$(awk '{ split($2, c, ":"); printf "%s ", substr(c[2], 1, 1) }' <<<"$rows")" \
		"1 1 1 1 1 1 2 2 2 2 3 3 " "--sort age: oldest first"
	awk 'NR <= 6 && $6 < 2 { exit 1 }' <<<"$rows" || fail "batch A younger than 2 s: $rows"
	# --sort idle: batch B (no packet since) before A (refreshed).
	rows=$(lbctl flows veth1 --sort idle | tail -n +2)
	check_eq "$(awk '{ split($2, c, ":"); printf "%s", substr(c[2], 1, 1) }' <<<"$rows" |
		cut -c7-)" "111111" "--sort idle: A last"
	awk 'NR <= 6 && $7 < 1 { exit 1 }' <<<"$rows" || fail "batch B idle under 1 s: $rows"
	# --sort backend: ids ascending.
	rows=$(lbctl flows veth1 --sort backend | tail -n +2 | awk '{ print $4 }')
	check_eq "$rows" "$(sort -n <<<"$rows")" "--sort backend"
	# --sort client: ports ascending within the one client.
	rows=$(lbctl flows veth1 --sort client | tail -n +2 | awk '{ split($2, c, ":"); print c[2] }')
	check_eq "$rows" "$(sort -n <<<"$rows")" "--sort client"
	# --limit: the first N of the order; stderr says how many were left out.
	local err
	out=$(lbctl flows veth1 --sort age --limit 3 2>"$TMP/err") || fail "--limit failed"
	check_eq "$(tail -n +2 <<<"$out" | awk '{ split($2, c, ":"); printf "%s ", c[2] }')" \
		"10000 10001 10002 " "--limit 3 after --sort age"
	err=$(cat "$TMP/err")
	check_eq "$err" "lbctl: 3 of 12 matching flows shown (--limit); 12 in the table" "--limit note"
	out=$(lbctl flows veth1 --json --vip "$VIP:7001/udp" --limit 4 --sort client) || fail "json"
	check_eq "$(field 'd["in_table"], d["matched"], [f["client_port"] for f in d["flows"]]' \
		<<<"$out")" "(12, 10, [10000, 10001, 10002, 10003])" "--json with filters"
	check_eq "$(validate <<<"$out")" "valid 1" "filtered JSON valid"
}

# Every pinned map names its fields in bpftool's dump, but the devmap, whose
# type the kernel takes no BTF for (docs/json.md, "Reading the maps directly").
test_maps_typed_for_bpftool() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	local dir map untyped=() maps=0 dump
	dir=$(pin_dir)
	for map in "$dir"/*; do
		# Stage programs are pinned beside the maps.
		bpftool map show pinned "$map" >/dev/null 2>&1 || continue
		maps=$((maps + 1))
		bpftool map show pinned "$map" | grep -q 'btf_id' || untyped+=("${map##*/}")
	done
	((maps >= 15)) || fail "only $maps maps pinned in $dir"
	check_eq "${untyped[*]}" "tx_ports" "maps without BTF"
	dump=$(bpftool map dump pinned "$dir/host_state")
	check_contains "$dump" '"name": "link rx_dropped",' "host_state names its counters"
	check_contains "$dump" '"baseline": {' "host_state's fields"
	dump=$(bpftool map dump pinned "$dir/backends")
	check_contains "$dump" '"addr": 16842762,' "backend $B1 as the docs say to read it"
}

run_tests integration-lbctl \
	test_json_matches_schema_and_traffic \
	test_status_exit_codes \
	test_flag_errors_exit_2 \
	test_stats_reset \
	test_stats_watch_follows_a_new_load \
	test_flows_header_filters_sort_limit \
	test_maps_typed_for_bpftool
