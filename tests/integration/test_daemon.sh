#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# xdp-lbd (docs/operations.md, "Metrics"): in the namespace lab, the daemon
# serves the balancer's figures over HTTP and as a textfile, equal to lbctl
# stats --json and valid for promtool; waits for a load, follows an unload and
# a new load; a scrape under traffic moves no drop counter; SIGHUP re-reads the
# config, SIGTERM stops it with 0; bad arguments are refused with exit 2.
source "$(dirname "$0")/lib.sh"

VIP=123.168.9.8
TCP_VIP=123.168.9.9
# A VIP whose one backend is down: its packets are dropped, counted for it.
DOWN_VIP=123.168.9.10
B1=10.0.1.1 B2=10.0.2.2
# The balancer's namespace is the test's own: its loopback has every port free.
PORT=9671
URL=http://127.0.0.1:$PORT/metrics

write_config() {
	cat >"$TMP/lb.yaml" <<EOF
vips:
  - address: $VIP
    backends:
      - ip: $B1
      - ip: $B2
        weight: 3
  - address: $TCP_VIP
    port: 80
    protocol: tcp
    backends:
      - ip: $B1
      - ip: $B2
        state: drain
  - address: $DOWN_VIP
    port: 53
    backends:
      - ip: $B1
        state: down
EOF
}

# Starts xdp-lbd in the balancer's namespace with $@ before IFNAME; its PID is
# LBD_PID, its stderr $TMP/lbd.log.
start_daemon() {
	spawn lb "$TMP/lbd.log" "$ROOT/xdp-lbd" "$@" veth1
	LBD_PID=${PIDS[-1]}
}

# GET $1 (default the metrics) from inside the balancer's namespace.
scrape() {
	in_net lb curl -sS --max-time 5 "${1:-$URL}"
}

# Waits (at most 5 s) until the metrics contain line $1.
wait_metric() {
	local i
	for i in $(seq 50); do
		scrape 2>/dev/null | grep -qxF -- "$1" && return 0
		sleep 0.1
	done
	fail "no metric line '$1' within 5 s; last scrape:
$(scrape 2>&1 | head -5)
log: $(cat "$TMP/lbd.log")"
}

# One metric's value: name and labels as written, e.g.
# 'xdp_lb_stage_packets_total{interface="veth1",stage="lb",reason="flow_new"}'.
metric() {
	grep -F -- "$2 " "$1" | awk '{ print $NF }'
}

start_captures() {
	local i=0 addr
	for addr in "$@"; do
		i=$((i + 1))
		spawn "b$i" "$TMP/cap$i.out" "$TOOLS/ipip_capture" -i eth0 -b "$addr" -o client \
			-R "$TMP/cap$i.ready"
	done
	for ((j = 1; j <= i; j++)); do wait_file "$TMP/cap$j.ready"; done
}

# Takes $1 off the list of processes to stop at the end.
forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# Stops one spawned process (by its PID) and returns its exit status.
stop_pid() {
	local pid=$1 signal=${2:-TERM} status
	kill "-$signal" "$pid"
	wait "$pid"
	status=$?
	forget_pid "$pid"
	return "$status"
}

test_waits_for_a_load_then_serves() {
	topology up "$PREFIX" "$VIP $TCP_VIP $DOWN_VIP" "$B1" "$B2"
	write_config
	# On a bare host (CI, a container) nothing has mounted bpffs yet: the
	# daemon says so, and still finds the state once lb-load has mounted it.
	local why="no state under $(pin_dir)"
	mountpoint -q /sys/fs/bpf || why="no bpffs mounted at /sys/fs/bpf"
	start_daemon --listen "127.0.0.1:$PORT" --interval 0.2
	wait_log "xdp-lb is not loaded on veth1 ($why): looking again every 0.2 s"
	wait_metric 'xdp_lb_loaded{interface="veth1"} 0'
	local out
	out=$(scrape)
	check_eq "$(grep -vc '^#' <<<"$out")" 1 "series while nothing is loaded (xdp_lb_loaded only)"

	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	wait_metric 'xdp_lb_loaded{interface="veth1"} 1'
	wait_log "reading xdp-lb on veth1 ($(pin_dir))"
	out=$(scrape)
	check_contains "$out" 'xdp_lb_attached{interface="veth1"} 1' "attached"
	check_contains "$out" 'xdp_lb_slot_info{interface="veth1",slot="encap",stage="ipip"} 1' \
		"encap slot"
	check_contains "$out" \
		"xdp_lb_vip_info{interface=\"veth1\",vip=\"$TCP_VIP:80/tcp\",policy=\"least-loaded\"} 1" \
		"TCP VIP and its policy"
	check_contains "$out" \
		"xdp_lb_vip_backends{interface=\"veth1\",vip=\"$TCP_VIP:80/tcp\",state=\"drain\"} 1" \
		"the drained backend counted"
	local tcp_b2="interface=\"veth1\",vip=\"$TCP_VIP:80/tcp\",backend=\"$B2\",backend_id=\"3\""
	check_contains "$out" "xdp_lb_backend_state{$tcp_b2,state=\"drain\"} 1" \
		"the drained backend's state"
	local udp_b2="interface=\"veth1\",vip=\"$VIP:*/udp\",backend=\"$B2\",backend_id=\"1\""
	check_contains "$out" "xdp_lb_backend_weight{$udp_b2} 3" "weight"

	# The other paths and methods.
	check_eq "$(in_net lb curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")" \
		404 "status of an unknown path"
	check_eq "$(in_net lb curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")" 405 \
		"status of a POST"
	check_eq "$(in_net lb curl -s -o /dev/null -w '%{content_type}' "$URL")" \
		"text/plain; version=0.0.4; charset=utf-8" "content type"

	# IPv6: a second daemon on [::1] serves the same state.
	local v6_pid
	spawn lb "$TMP/lbd6.log" "$ROOT/xdp-lbd" --listen "[::1]:$((PORT + 1))" veth1
	v6_pid=${PIDS[-1]}
	local i
	for i in $(seq 50); do
		scrape "http://[::1]:$((PORT + 1))/metrics" 2>/dev/null |
			grep -qxF 'xdp_lb_loaded{interface="veth1"} 1' && break
		sleep 0.1
	done
	check_contains "$(scrape "http://[::1]:$((PORT + 1))/metrics")" \
		'xdp_lb_attached{interface="veth1"} 1' "metrics over IPv6"
	stop_pid "$v6_pid" TERM || fail "the IPv6 daemon did not exit 0"
}

# Prints the textfile once the daemon has written it anew (at most 5 s).
next_textfile() {
	local i
	touch "$TMP/mark"
	for i in $(seq 50); do
		sleep 0.1
		[[ $TMP/xdp-lb.prom -nt $TMP/mark ]] && cat "$TMP/xdp-lb.prom" && return 0
	done
	fail "textfile not rewritten within 5 s"
}

# Reads the metrics with command $1 into file $2 between two lbctl stats
# --json that agree (up to 10 tries), then compares them figure by figure.
stable_compare() {
	local read=$1 file=$2 i out
	for i in $(seq 10); do
		lbctl stats veth1 --json >"$TMP/stats.json" || fail "lbctl stats --json failed"
		"$read" >"$file" || fail "$read failed"
		lbctl stats veth1 --json >"$TMP/stats2.json" || fail "lbctl stats --json failed"
		cmp -s "$TMP/stats.json" "$TMP/stats2.json" && break
	done
	cmp -s "$TMP/stats.json" "$TMP/stats2.json" ||
		fail "the figures never stayed still for one read (10 tries)"
	out=$("$ROOT/tests/tools/metrics_vs_stats.py" "$file" "$TMP/stats.json" veth1) ||
		fail "$read: metrics differ from lbctl stats --json:
$out"
	echo "    $read: $out"
}

test_metrics_equal_lbctl_and_pass_promtool() {
	local out
	topology up "$PREFIX" "$VIP $TCP_VIP $DOWN_VIP" "$B1" "$B2"
	write_config
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	start_daemon --listen "127.0.0.1:$PORT" --textfile "$TMP/xdp-lb.prom" --interval 0.2
	wait_metric 'xdp_lb_loaded{interface="veth1"} 1'
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 5000 -f 30 -n 4 -s 100-900 -S 7 \
		>/dev/null || fail "flow_send (UDP) failed"
	in_net client "$TOOLS/flow_send" -d "$TCP_VIP" -p 80 -P tcp -f 10 -n 3 >/dev/null ||
		fail "flow_send (TCP) failed"
	# To the VIP without an up backend: dropped, and counted for that VIP.
	in_net client "$TOOLS/flow_send" -d "$DOWN_VIP" -p 53 -f 5 -n 1 >/dev/null ||
		fail "flow_send (down VIP) failed"
	# Frames to no VIP: passed, counted by reason.
	in_net client "$TOOLS/flow_send" -d 10.0.0.10 -p 7 -f 2 -n 2 >/dev/null ||
		fail "flow_send (not a VIP) failed"
	sleep 0.3

	# Frames the lab sends by itself (ARP, IPv6 neighbour discovery) move
	# parse.pass_not_ipv4 at any time: a comparison counts when lbctl read
	# the same before and after the scrape (the counters only grow).
	stable_compare scrape "$TMP/scrape.txt"
	local tcp="interface=\"veth1\",vip=\"$TCP_VIP:80/tcp\""
	check_eq "$(metric "$TMP/scrape.txt" \
		'xdp_lb_stage_packets_total{interface="veth1",stage="parse",reason="to_lb"}')" \
		155 "parse.to_lb (30 x 4 UDP + 10 x 3 TCP + 5 to the down VIP)"
	check_eq "$(metric "$TMP/scrape.txt" "xdp_lb_vip_flows_total{$tcp}")" 10 "TCP VIP flows"
	local down="interface=\"veth1\",vip=\"$DOWN_VIP:53/udp\""
	check_eq "$(metric "$TMP/scrape.txt" \
		"xdp_lb_vip_dropped_packets_total{$down,stage=\"lb\",reason=\"drop_no_backend\"}")" \
		5 "the down VIP's drops"
	check_eq "$(metric "$TMP/scrape.txt" \
		"xdp_lb_vip_dropped_packets_total{$tcp,stage=\"lb\",reason=\"drop_no_backend\"}")" \
		0 "the TCP VIP's drops"
	check_contains "$(lbctl stats veth1)" "  dropped   lb.drop_no_backend 5" \
		"lbctl stats: the down VIP's dropped line"
	check_eq "$(metric "$TMP/scrape.txt" \
		"xdp_lb_backend_packets_total{$tcp,backend=\"$B1\",backend_id=\"2\"}")" \
		30 "TCP VIP: every packet on the up backend, none on the drained one"
	out=$(promtool check metrics <"$TMP/scrape.txt" 2>&1) ||
		fail "promtool check metrics (HTTP): $out"

	# The textfile: the same series, rewritten every interval, also valid.
	stable_compare next_textfile "$TMP/textfile.txt"
	out=$(promtool check metrics <"$TMP/textfile.txt" 2>&1) ||
		fail "promtool check metrics (textfile): $out"
	[[ ! -e $TMP/xdp-lb.prom.tmp ]] || fail "the textfile's temporary file was left"

	# lbctl stats --reset zeroes the per-VIP drops too; the metrics follow.
	check lbctl stats veth1 --reset >/dev/null
	wait_metric "xdp_lb_vip_dropped_packets_total{$down,stage=\"lb\",reason=\"drop_no_backend\"} 0"
}

# Captures stop; the daemon keeps running.
stop_spawned_captures() {
	local pid keep=()
	for pid in "${PIDS[@]}"; do
		if [[ $pid == "$LBD_PID" ]]; then
			keep+=("$pid")
		else
			kill -TERM "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
		fi
	done
	PIDS=("${keep[@]}")
}

# Scrapes run as fast as curl can go while flows cross the balancer: every
# packet still arrives, and no drop counter, ours or the driver's, moves.
test_scrape_under_traffic_moves_no_drop_counter() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	start_daemon --listen "127.0.0.1:$PORT"
	wait_metric 'xdp_lb_loaded{interface="veth1"} 1'
	start_captures "$B1" "$B2"
	scrape >"$TMP/before.txt"
	(
		while [[ ! -e $TMP/sent ]]; do
			scrape >/dev/null && echo x
		done >"$TMP/scrapes"
	) &
	local scraper=$!
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 5000 -f 40 -n 250 -r 5000 >/dev/null ||
		fail "flow_send failed"
	touch "$TMP/sent"
	wait "$scraper"
	sleep 0.5
	stop_spawned_captures
	local scrapes
	scrapes=$(wc -l <"$TMP/scrapes")
	echo "    $scrapes scrapes during 10000 packets"
	((scrapes >= 5)) || fail "only $scrapes scrapes ran during the traffic"
	scrape >"$TMP/after.txt"
	local total=0 i
	for i in 1 2; do
		check_contains "$(cat "$TMP/cap$i.out")" "bad=0" "backend $i frames well-formed"
		total=$((total + $(awk '$1 == "flow" { n += $NF } END { print n + 0 }' "$TMP/cap$i.out")))
	done
	check_eq "$total" 10000 "packets received by the backends"
	# Every drop: our reasons named drop_* (globally and per VIP), the
	# driver's and the link's.
	local drops
	local ours='stage_packets_total\{.*reason="drop_|vip_dropped_packets_total\{'
	local theirs='outside_dropped_packets_total\{.*source="(driver|link)"'
	drops=$(grep -E "^xdp_lb_($ours|$theirs)" "$TMP/after.txt")
	[[ -n $drops ]] || fail "no drop series in the metrics"
	if grep -qv ' 0$' <<<"$drops"; then
		fail "drop counters moved:
$(grep -v ' 0$' <<<"$drops")"
	fi
	check_eq "$(metric "$TMP/after.txt" \
		'xdp_lb_stage_packets_total{interface="veth1",stage="encap",reason="tx"}')" \
		10000 "encap.tx"
}

test_follows_unload_and_new_load() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	start_daemon --listen "127.0.0.1:$PORT" --textfile "$TMP/xdp-lb.prom" --interval 0.2
	wait_metric 'xdp_lb_loaded{interface="veth1"} 1'
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 5000 -f 4 -n 5 >/dev/null
	wait_metric 'xdp_lb_stage_packets_total{interface="veth1",stage="parse",reason="to_lb"} 20'
	check lb_load --unload veth1 >/dev/null
	wait_metric 'xdp_lb_loaded{interface="veth1"} 0'
	wait_log "xdp-lb was unloaded from veth1: waiting for a new load"
	grep -qxF 'xdp_lb_loaded{interface="veth1"} 0' "$TMP/xdp-lb.prom" ||
		wait_metric 'xdp_lb_loaded{interface="veth1"} 0'
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	wait_metric 'xdp_lb_loaded{interface="veth1"} 1'
	# New maps: the counters start again from 0.
	wait_metric 'xdp_lb_stage_packets_total{interface="veth1",stage="parse",reason="to_lb"} 0'
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 5000 -f 2 -n 3 >/dev/null
	wait_metric 'xdp_lb_stage_packets_total{interface="veth1",stage="parse",reason="to_lb"} 6'
}

test_sighup_rereads_config_sigterm_exits_0() {
	topology up "$PREFIX" "$VIP $TCP_VIP $DOWN_VIP" "$B1" "$B2"
	write_config
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	start_daemon --config "$TMP/lb.yaml" --listen "127.0.0.1:$PORT"
	wait_log "read the config $TMP/lb.yaml: 3 VIPs"
	wait_metric 'xdp_lb_loaded{interface="veth1"} 1'
	check cp "$ROOT/config.yaml" "$TMP/lb.yaml"
	kill -HUP "$LBD_PID"
	wait_log "SIGHUP: read the config $TMP/lb.yaml: 1 VIP"
	printf 'vips: [\n' >"$TMP/lb.yaml"
	kill -HUP "$LBD_PID"
	wait_log "SIGHUP: $TMP/lb.yaml:2:1: YAML error: did not find expected node content"
	wait_log "; keeping the one read before"
	# Still serving after both.
	wait_metric 'xdp_lb_loaded{interface="veth1"} 1'
	local status=0 start=$SECONDS
	stop_pid "$LBD_PID" TERM || status=$?
	check_eq "$status" 0 "exit status after SIGTERM"
	((SECONDS - start <= 2)) || fail "SIGTERM took $((SECONDS - start)) s"
	wait_log "stopping on Terminated"
	# SIGINT too.
	start_daemon --listen "127.0.0.1:$PORT"
	wait_metric 'xdp_lb_loaded{interface="veth1"} 1'
	status=0
	stop_pid "$LBD_PID" INT || status=$?
	check_eq "$status" 0 "exit status after SIGINT"
}

# Under systemd (JOURNAL_STREAM names stderr) every line carries its level.
test_journal_levels() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	: >"$TMP/journal.log"
	# A simple command, not a function: $! is nsenter, which execs xdp-lbd.
	JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/journal.log") \
		nsenter --net="/run/netns/$PREFIX-lb" "$ROOT/xdp-lbd" --interval 0.2 veth1 \
		2>>"$TMP/journal.log" &
	LBD_PID=$!
	PIDS+=("$LBD_PID")
	local i
	for i in $(seq 50); do
		grep -q '^<4>xdp-lb is not loaded on veth1' "$TMP/journal.log" && break
		sleep 0.1
	done
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	for i in $(seq 50); do
		grep -q '^<6>reading xdp-lb on veth1' "$TMP/journal.log" && break
		sleep 0.1
	done
	stop_pid "$LBD_PID" TERM || fail "exit status after SIGTERM: not 0"
	local log
	log=$(cat "$TMP/journal.log")
	check_contains "$log" "<4>xdp-lb is not loaded on veth1" "warning level"
	check_contains "$log" "<6>reading xdp-lb on veth1" "info level"
	check_contains "$log" "<6>stopping on Terminated" "info level at the stop"
	grep -qv '^<[0-9]>' <<<"$log" && fail "a line without a level: $log"
	# Elsewhere (stderr not that stream) no prefix.
	JOURNAL_STREAM=1:1 nsenter --net="/run/netns/$PREFIX-lb" "$ROOT/xdp-lbd" \
		--listen 127.0.0.1 veth1 2>"$TMP/plain.log"
	check_eq "$(head -1 "$TMP/plain.log")" \
		'Error: --listen: "127.0.0.1" has no port: expected ADDR:PORT, e.g. 127.0.0.1:9671' \
		"plain error line"
}

# Runs xdp-lbd in the balancer's namespace with $3...; checks exit code $1 and
# that its one error line is $2 (a warning that nothing is loaded may come first).
refused() {
	local code=$1 expected=$2 status
	shift 2
	in_net lb timeout 10 "$ROOT/xdp-lbd" "$@" >/dev/null 2>"$TMP/refused.log"
	status=$?
	check_eq "$status" "$code" "exit code of: xdp-lbd $*"
	check_eq "$(grep -c '^Error: ' "$TMP/refused.log")" 1 "error lines of: xdp-lbd $*"
	check_eq "$(grep '^Error: ' "$TMP/refused.log")" "$expected" "message of: xdp-lbd $*"
}

test_bad_arguments_are_refused() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	refused 2 "Error: no interface given: xdp-lbd [options] IFNAME" --listen "127.0.0.1:$PORT"
	refused 2 "Error: no interface nosuch0 in this network namespace: No such device" \
		--listen "127.0.0.1:$PORT" nosuch0
	refused 2 "Error: \"../x\" is not a valid interface name: it contains '/'" ../x
	refused 2 "Error: one interface only: \"veth1\" and \"lo\"" veth1 lo
	refused 2 'Error: --listen: "127.0.0.1" has no port: expected ADDR:PORT, e.g. 127.0.0.1:9671' \
		--listen 127.0.0.1 veth1
	local not_v4='is not an IPv4 address (names are not resolved; IPv6 is written [ADDR]:PORT)'
	refused 2 "Error: --listen: \"localhost\" $not_v4" --listen localhost:9671 veth1
	refused 2 "Error: --listen: \"1.2.3.4.5\" $not_v4" --listen 1.2.3.4.5:9671 veth1
	refused 2 'Error: --listen: port "0" is out of range, expected a whole number 1..65535' \
		--listen 127.0.0.1:0 veth1
	refused 2 'Error: --listen: port "65536" is out of range, expected a whole number 1..65535' \
		--listen 127.0.0.1:65536 veth1
	refused 2 'Error: --listen: "[::1": expected [IPv6 address]:PORT' --listen '[::1' veth1
	refused 2 'Error: Failed to listen on 192.0.2.1:9671: Cannot assign requested address' \
		--listen 192.0.2.1:9671 veth1
	refused 2 'Error: --interval: "0" is out of range, expected seconds 0.1..3600' \
		--interval 0 veth1
	refused 2 'Error: unknown option "--port"' --port 9671 veth1
	refused 2 'Error: --listen given twice' --listen "127.0.0.1:$PORT" --listen 127.0.0.1:1 veth1
	refused 2 'Error: --textfile needs a value' veth1 --textfile
	refused 2 "Error: Failed to open config file $TMP/none.yaml: No such file or directory" \
		--config "$TMP/none.yaml" veth1
	refused 2 \
		"Error: --textfile: Failed to write /nonexistent-$$/x.prom.tmp: No such file or directory" \
		--textfile "/nonexistent-$$/x.prom" veth1
	# A port already taken is a runtime failure, not a usage error.
	start_daemon --listen "127.0.0.1:$PORT"
	wait_metric 'xdp_lb_loaded{interface="veth1"} 0'
	refused 1 "Error: Failed to listen on 127.0.0.1:$PORT: Address already in use" \
		--listen "127.0.0.1:$PORT" veth1
	local out
	out=$("$ROOT/xdp-lbd" --help) || fail "--help failed"
	check_contains "$out" "Usage: xdp-lbd [--config FILE] [--listen ADDR:PORT]" "--help"
	out=$("$ROOT/xdp-lbd" --version) || fail "--version failed"
	[[ $out =~ ^xdp-lbd\ \(xdp-lb\)\ [^\ ]+$ ]] || fail "--version printed '$out'"
}

# A reload that adds VIPs past the room lb-load made for the pools pins bigger
# copies of them: the daemon opens the maps again and shows the new VIP's
# backends, which are only in the new pools.
test_follows_a_reload_that_grows_maps() {
	topology up "$PREFIX" "$VIP $TCP_VIP" "$B1" "$B2"
	cat >"$TMP/one.yaml" <<EOF
vips:
  - {address: $VIP, backends: [{ip: $B1}]}
EOF
	check lb_load "$TMP/one.yaml" veth1 >/dev/null
	start_daemon --listen "127.0.0.1:$PORT" --interval 0.2
	wait_metric 'xdp_lb_loaded{interface="veth1"} 1'
	local pools
	pools=$(bpftool -j map show pinned "$(pin_dir)/pools" | grep -oE '"max_entries":[0-9]+')
	check_eq "$pools" '"max_entries":2' "pools for one VIP"
	cat >"$TMP/three.yaml" <<EOF
vips:
  - {address: $VIP, backends: [{ip: $B1}]}
  - {address: $TCP_VIP, port: 80, protocol: tcp, backends: [{ip: $B1}, {ip: $B2}]}
  - {address: $TCP_VIP, port: 81, protocol: tcp, backends: [{ip: $B2}]}
EOF
	check lb_load "$TMP/three.yaml" veth1 >/dev/null
	wait_log "a reload replaced maps: reading its new maps"
	local i out=""
	for i in $(seq 50); do
		out=$(scrape 2>/dev/null | grep -F "xdp_lb_backend_state{interface=\"veth1\",vip=\"$TCP_VIP:81/tcp\",backend=\"$B2\"" || true)
		[[ $out == *'state="up"} 1'* ]] && break
		sleep 0.1
	done
	check_contains "$out" 'state="up"} 1' "the new VIP's backend, from the new pools"
}

run_tests integration-daemon \
	test_waits_for_a_load_then_serves \
	test_metrics_equal_lbctl_and_pass_promtool \
	test_scrape_under_traffic_moves_no_drop_counter \
	test_follows_unload_and_new_load \
	test_follows_a_reload_that_grows_maps \
	test_sighup_rereads_config_sigterm_exits_0 \
	test_journal_levels \
	test_bad_arguments_are_refused
