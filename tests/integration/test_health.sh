#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Health checks (docs/operations.md, "Health checks"): xdp-lbd --config probes
# every backend of the VIPs with a health_check from the balancer's namespace.
# In the NAT lab (client 10.0.0.1, balancer 10.0.0.10, servers 10.0.0.2 and
# 10.0.0.3 running socat, started and stopped by PID): a stopped server is
# down within interval x fall, its new and existing flows go to the other
# server and nothing reaches it afterwards; started again it is up after rise
# good probes; a server that answers every other probe does not flap; a
# reload keeps the health; the operator's drain is left alone; every change is
# logged with its reason.
source "$(dirname "$0")/lib.sh"

LB=10.0.0.10 B1=10.0.0.2 B2=10.0.0.3
TCP_PORT=8080 UDP_PORT=8081 HTTP_PORT=8082
INTERVAL_MS=200 TIMEOUT_MS=150 RISE=2 FALL=2
# Time allowed for a change beyond interval x fall + timeout: 2 CPUs shared by
# many jobs delay a probe's start and its result.
SLACK_MS=1500

# Round-robin: which server takes a new flow is known, whatever the loads.
# write_config [B2_STATE] [B1_WEIGHT]; TCP_CHECK=0: the TCP VIP has no health_check.
write_config() {
	local tcp_check="health_check: {type: tcp, interval_ms: $INTERVAL_MS,
                   timeout_ms: $TIMEOUT_MS, rise: $RISE, fall: $FALL}"
	[[ ${TCP_CHECK:-1} == 1 ]] || tcp_check="# no health_check"
	cat >"$TMP/config.yaml" <<YAML
nat_source: $LB
vips:
  - address: $LB
    port: $TCP_PORT
    protocol: tcp
    forwarding: nat
    policy: round-robin
    $tcp_check
    backends: [{ip: $B1, weight: ${2:-1}}, {ip: $B2, state: ${1:-up}}]
  - address: $LB
    port: $UDP_PORT
    protocol: udp
    forwarding: nat
    policy: round-robin
    health_check: {type: udp, send: "ping\\n", expect: "b", interval_ms: $INTERVAL_MS,
                   timeout_ms: $TIMEOUT_MS, rise: $RISE, fall: $FALL}
    backends: [{ip: $B1}, {ip: $B2}]
YAML
}

load() {
	local out
	out=$(lb_load "$TMP/config.yaml" veth1 2>&1) || fail "lb-load failed: $out"
}

# Servers on backend $1 (1 or 2): TCP and UDP echo servers that first send
# their name (lib.sh's serve.sh); with 6 as $2 on its IPv6 address. Their
# PIDs in SERVER_PIDS[$1].
declare -A SERVER_PIDS
start_server() {
	local i=$1 v=${2:-}
	printf '#!/bin/sh\necho "$1"\nexec cat\n' >"$TMP/serve.sh"
	spawn "b$i" "$TMP/tcp$v$i.log" socat "TCP$v-LISTEN:$TCP_PORT,fork,reuseaddr" \
		EXEC:"sh $TMP/serve.sh b$i"
	SERVER_PIDS[$i]=${PIDS[-1]}
	spawn "b$i" "$TMP/udp$v$i.log" socat "UDP$v-LISTEN:$UDP_PORT,fork,reuseaddr" \
		EXEC:"sh $TMP/serve.sh b$i"
	SERVER_PIDS[$i]+=" ${PIDS[-1]}"
	for _ in $(seq 50); do
		in_net "b$i" ss -ltn | grep -q ":$TCP_PORT " && return 0
		sleep 0.1
	done
	fail "server b$i not listening"
}

# Stops backend $1's servers (and the children serving peers), by PID.
stop_server() {
	local pid
	for pid in ${SERVER_PIDS[$1]}; do
		pkill -TERM -P "$pid" 2>/dev/null || true
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	SERVER_PIDS[$1]=""
}

# xdp-lbd on the config, options $@; its PID in LBD_PID, its log (new) $TMP/lbd.log.
run_daemon() {
	spawn lb "$TMP/lbd.log" "$ROOT/xdp-lbd" --config "$TMP/config.yaml" --interval 0.5 "$@" \
		veth1
	LBD_PID=${PIDS[-1]}
}

# Ends it with signal $1 (default TERM) and waits for it.
stop_daemon() {
	kill -"${1:-TERM}" "$LBD_PID"
	wait "$LBD_PID" 2>/dev/null || true
}

start_daemon() {
	run_daemon "$@"
	wait_log "health checks: probing 4 backends of 2 VIPs" 5000
}

# One TCP connection to the VIP: prints the name of the server that answered.
tcp_answer() {
	in_net client timeout 5 socat -t 1 - "TCP:$LB:$TCP_PORT,connect-timeout=2" \
		<<<"hello" 2>/dev/null | head -n 1
}

# One datagram from client port $1: prints the server's name.
udp_answer() {
	in_net client timeout 5 socat -t 1 - "UDP:$LB:$UDP_PORT,sourceport=$1,reuseaddr" \
		<<<"hello" 2>/dev/null | head -n 1
}

# Backend $1's packets on VIP $2 (lbctl stats --json).
backend_packets() {
	lbctl stats veth1 --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(sum(b["packets"] for b in s["backends"] if b["address"] == sys.argv[1] and b["vip"] == sys.argv[2]))
' "$1" "$2"
}

setup() {
	topology up "$PREFIX" "" "$B1" "$B2"
	full_checksums
	write_config "$@"
	load
	start_server 1
	start_server 2
}

test_dead_backend_goes_down_and_comes_back() {
	local t0 took first i answers line before_b1
	setup
	start_daemon
	# Both serve while healthy.
	answers=""
	for i in $(seq 6); do answers+="$(tcp_answer) "; done
	check_contains "$answers" b1 "b1 answers while healthy"
	check_contains "$answers" b2 "b2 answers while healthy"
	line=$(status_line "$B1" "$LB:$TCP_PORT/tcp")
	check_contains "$line" "up    weight 1  health up since" "lbctl status shows the health"
	check_contains "$line" "last probe ok: connected" "lbctl status shows the last result"

	# An existing UDP flow: its server is the one stopped.
	first=$(udp_answer 40001)
	[[ $first == b1 || $first == b2 ]] || fail "the UDP flow got no answer ('$first')"
	# The same flow again reaches the same server's session for that peer,
	# which only echoes (its name went with the first reply).
	check_eq "$(udp_answer 40001)" hello "the UDP flow keeps its server"
	local dead=${first#b} live=$((3 - ${first#b})) dead_ip live_ip
	dead_ip=$([[ $dead == 1 ]] && echo "$B1" || echo "$B2")
	live_ip=$([[ $live == 1 ]] && echo "$B1" || echo "$B2")

	t0=$(now_ms)
	stop_server "$dead"
	wait_log "backend $dead_ip of VIP $LB tcp port $TCP_PORT is down: connect: Connection refused ($FALL failed probes in a row); set DOWN" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	wait_log "backend $dead_ip of VIP $LB udp port $UDP_PORT is down: recv: Connection refused" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	took=$(($(now_ms) - t0))
	echo "    down after $took ms (interval $INTERVAL_MS ms x fall $FALL)"
	line=$(status_line "$dead_ip" "$LB:$TCP_PORT/tcp")
	check_contains "$line" "down  weight 1  health down since" "lbctl status: down by health"
	check_contains "$line" "last probe failed: connect: Connection refused" \
		"lbctl status: the reason"

	# The existing flow moved; new flows go to the live server only; the dead
	# one receives nothing more.
	local gone_before
	gone_before=$(counter lb.flow_backend_gone)
	check_eq "$(udp_answer 40001)" "b$live" "the existing UDP flow moved to the live server"
	(($(counter lb.flow_backend_gone) > gone_before)) ||
		fail "lb.flow_backend_gone did not count the moved flow"
	before_b1=$(backend_packets "$dead_ip" "$LB:$TCP_PORT/tcp")
	for i in $(seq 6); do
		check_eq "$(tcp_answer)" "b$live" "connection $i after the stop"
		check_eq "$(udp_answer $((41000 + i)))" "b$live" "datagram $i after the stop"
	done
	check_eq "$(backend_packets "$dead_ip" "$LB:$TCP_PORT/tcp")" "$before_b1" \
		"packets to the dead backend after it went down"

	# Back: up after rise good probes.
	t0=$(now_ms)
	start_server "$dead"
	wait_log "backend $dead_ip of VIP $LB tcp port $TCP_PORT is up again: connected ($RISE good probes in a row); set UP" \
		$((INTERVAL_MS * RISE + SLACK_MS))
	echo "    up again after $(($(now_ms) - t0)) ms (rise $RISE)"
	check_contains "$(status_line "$dead_ip" "$LB:$TCP_PORT/tcp")" "up    weight 1  health up since" \
		"lbctl status: up again"
	answers=""
	for i in $(seq 8); do answers+="$(tcp_answer) "; done
	check_contains "$answers" "b$dead" "the server that came back takes new connections"
}

# Prints the metrics from the daemon's textfile.
scrape_metrics() {
	cat "$TMP/xdp-lb.prom"
}

# A UDP server that answers every other datagram: a lossy probe path.
test_every_other_probe_lost_does_not_flap() {
	local failed
	# The answering half forks a shell per datagram: on a busy machine that
	# can take longer than the other tests' 150 ms, which would lose it too.
	INTERVAL_MS=500 TIMEOUT_MS=450
	setup
	stop_server 2
	printf '#!/bin/sh\nn=$(cat "$1" 2>/dev/null || echo 0)\necho $((n + 1)) >"$1"\n' >"$TMP/odd.sh"
	printf '[ $((n %% 2)) -eq 1 ] && exit 0\necho b2\n' >>"$TMP/odd.sh"
	spawn b2 "$TMP/odd.log" socat "UDP-LISTEN:$UDP_PORT,fork,reuseaddr" \
		EXEC:"sh $TMP/odd.sh $TMP/odd.count"
	spawn b2 "$TMP/tcp2.log" socat "TCP-LISTEN:$TCP_PORT,fork,reuseaddr" EXEC:"echo b2"
	start_daemon
	# 15 probe rounds: about 7 lost, never two in a row.
	sleep $(((INTERVAL_MS * 15) / 1000))
	failed=$(grep -c "probe of backend $B2 of VIP $LB udp port $UDP_PORT failed (1 of fall $FALL): no reply within $TIMEOUT_MS ms" "$TMP/lbd.log")
	((failed >= 3)) || fail "expected lost probes to be logged, found $failed:
$(cat "$TMP/lbd.log")"
	echo "    $failed lost probes, none in a row"
	grep "is down" "$TMP/lbd.log" && fail "a backend went down:
$(cat "$TMP/lbd.log")"
	check_contains "$(status_line "$B2" "$LB:$UDP_PORT/udp")" "up    weight 1  health up since" \
		"b2 stays up"
}

test_reload_keeps_health() {
	setup
	start_daemon
	stop_server 1
	wait_log "backend $B1 of VIP $LB tcp port $TCP_PORT is down" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	# A reload of the same config, then one that changes b1's weight: b1
	# stays DOWN (not resurrected) and keeps its record.
	load
	check_contains "$(status_line "$B1" "$LB:$TCP_PORT/tcp")" "down  weight 1  health down since" \
		"after a reload of the same config"
	write_config up 5
	load
	local line
	line=$(status_line "$B1" "$LB:$TCP_PORT/tcp")
	check_contains "$line" "down  weight 5  health down since" "after a reload with a new weight"
	check_contains "$line" "last probe failed: connect: Connection refused" "the record kept"
	local i
	for i in $(seq 4); do
		check_eq "$(tcp_answer)" b2 "connection $i after the reload"
	done
	grep -q "is up again" "$TMP/lbd.log" && fail "b1 came up without a server:
$(cat "$TMP/lbd.log")"
	start_server 1
	wait_log "backend $B1 of VIP $LB tcp port $TCP_PORT is up again" \
		$((INTERVAL_MS * RISE + SLACK_MS))
	check_contains "$(status_line "$B1" "$LB:$TCP_PORT/tcp")" "up    weight 5  health up since" \
		"up again after the reload"
}

# A reload that drops a VIP's health_check (then SIGHUP, as systemctl reload
# does) gives the backends the daemon took down back to the config.
test_health_check_dropped_by_reload() {
	setup
	start_daemon
	stop_server 1
	wait_log "backend $B1 of VIP $LB tcp port $TCP_PORT is down" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	TCP_CHECK=0 write_config
	load
	kill -HUP "$LBD_PID"
	wait_log "health checks: probing 2 backends of 1 VIP"
	sleep 0.5
	check_contains "$(status_line "$B1" "$LB:$TCP_PORT/tcp")" "up    weight 1" \
		"b1 up as the config says"
	check_contains "$(status_line "$B1" "$LB:$UDP_PORT/udp")" "down  weight 1  health down" \
		"b1 of the UDP VIP, still checked, stays down"
}

# With --announce-table (docs/scale-out.md) the VIP's route follows the
# states the checks set: every backend of the address down by its probes
# withdraws it, one back up announces it again.
test_all_down_withdraws_the_announcement() {
	local table=$((1000 + $$ % 1000))
	setup
	start_daemon --announce-table "$table"
	wait_log "announcing $LB/32 in table $table via veth1: 4 of 4 backends up"
	stop_server 1
	stop_server 2
	wait_log "Warning: withdrew $LB/32 from table $table: no backend of its VIPs is up (0 of 4 up)" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS + 1000))
	check_eq "$(ip -n "$PREFIX-lb" route show table "$table")" "" "table after every backend went down"
	start_server 2
	local deadline=$(($(now_ms) + INTERVAL_MS * RISE + SLACK_MS + 1000))
	until ip -n "$PREFIX-lb" route show table "$table" | grep -qF "$LB dev veth1 proto 250"; do
		(($(now_ms) < deadline)) || fail "no route for $LB in table $table after b2 came back:
$(cat "$TMP/lbd.log")"
		sleep 0.05
	done
}

test_operator_drain_left_alone() {
	setup drain
	start_daemon
	stop_server 2
	wait_log "backend $B2 of VIP $LB tcp port $TCP_PORT is down by its probes: connect: Connection refused; left drain as the loaded config says" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	check_contains "$(status_line "$B2" "$LB:$TCP_PORT/tcp")" "drain weight 1  health down since" \
		"drain kept, health shown"
	start_server 2
	wait_log "backend $B2 of VIP $LB tcp port $TCP_PORT is up by its probes: connected; left drain" \
		$((INTERVAL_MS * RISE + SLACK_MS))
	check_contains "$(status_line "$B2" "$LB:$TCP_PORT/tcp")" "drain weight 1  health up since" \
		"still drain"
}

test_http_status() {
	setup
	cat >>"$TMP/config.yaml" <<YAML
  - address: $LB
    port: $HTTP_PORT
    protocol: tcp
    forwarding: nat
    health_check: {type: http, path: /healthz, status: 200, interval_ms: $INTERVAL_MS,
                   timeout_ms: $TIMEOUT_MS, rise: $RISE, fall: $FALL}
    backends: [{ip: $B1}, {ip: $B2}]
YAML
	load
	# b1 answers 200, b2 503: b2 goes down with the status as reason.
	printf '#!/bin/sh\nread line\necho "$line" >>"%s/requests.$1"\nprintf "HTTP/1.0 $2 X\\r\\n\\r\\n"\n' \
		"$TMP" >"$TMP/http.sh"
	spawn b1 "$TMP/http1.log" socat "TCP-LISTEN:$HTTP_PORT,fork,reuseaddr" \
		EXEC:"sh $TMP/http.sh b1 200"
	spawn b2 "$TMP/http2.log" socat "TCP-LISTEN:$HTTP_PORT,fork,reuseaddr" \
		EXEC:"sh $TMP/http.sh b2 503"
	spawn lb "$TMP/lbd.log" "$ROOT/xdp-lbd" --config "$TMP/config.yaml" --interval 0.5 veth1
	wait_log "health checks: probing 6 backends of 3 VIPs"
	wait_log "backend $B2 of VIP $LB tcp port $HTTP_PORT is down: HTTP status 503, expected 200 ($FALL failed probes in a row); set DOWN" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	sleep 0.5
	grep -q "backend $B1 of VIP $LB tcp port $HTTP_PORT is down" "$TMP/lbd.log" &&
		fail "b1 (status 200) went down"
	check_contains "$(status_line "$B1" "$LB:$HTTP_PORT/tcp")" "last probe ok: HTTP status 200" \
		"b1's result"
	check_contains "$(head -n 1 "$TMP/requests.b1")" "GET /healthz HTTP/1.0" "the request line"
}

test_metrics_and_journal_levels() {
	setup
	start_daemon --textfile "$TMP/xdp-lb.prom"
	stop_server 1
	wait_log "backend $B1 of VIP $LB tcp port $TCP_PORT is down" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	grep -F "backend $B1 of VIP $LB tcp port $TCP_PORT is down" "$TMP/lbd.log" |
		grep -q '^Warning: ' || fail "a backend going down is a warning"
	sleep 1
	local out
	out=$(scrape_metrics)
	check_contains "$out" "xdp_lb_backend_up{interface=\"veth1\",vip=\"$LB:$TCP_PORT/tcp\",backend=\"$B1\",backend_id=\"0\"} 0" \
		"backend_up 0 for the dead one"
	check_contains "$out" "xdp_lb_backend_up{interface=\"veth1\",vip=\"$LB:$TCP_PORT/tcp\",backend=\"$B2\",backend_id=\"1\"} 1" \
		"backend_up 1 for the live one"
	check_contains "$out" "xdp_lb_backend_state{interface=\"veth1\",vip=\"$LB:$TCP_PORT/tcp\",backend=\"$B1\",backend_id=\"0\",state=\"down\"} 1" \
		"the state the health check set"
	# lbctl's JSON: valid for the schema, with the dead backend's health.
	local json
	json=$( { lbctl status veth1 --json; lbctl stats veth1 --json; } ) ||
		fail "lbctl --json failed"
	out=$(python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
docs = [json.loads(line) for line in sys.stdin]
for doc in docs:
    for error in validator.iter_errors(doc):
        sys.exit("invalid at %s: %s" % (list(error.absolute_path), error.message[:300]))
vip = next(v for v in docs[0]["vips"] if v["vip"] == sys.argv[2])
dead = next(b for b in vip["backends"] if b["address"] == sys.argv[3])
live = next(b for b in vip["backends"] if b["address"] == sys.argv[4])
stats = next(b for b in docs[1]["backends"] if b["vip"] == sys.argv[2] and b["address"] == sys.argv[3])
print(dead["state"], dead["health"]["state"], dead["health"]["last_probe_ok"],
      dead["health"]["last_result"], "|", live["health"]["state"], "|",
      stats["health"]["state"], stats["health"]["since"] == dead["health"]["since"])
' "$ROOT/docs/lbctl.schema.json" "$LB:$TCP_PORT/tcp" "$B1" "$B2" <<<"$json" 2>&1) ||
		fail "lbctl JSON: $out"
	check_eq "$out" "down down False connect: Connection refused | up | down True" \
		"health in lbctl status and stats --json"
	if command -v promtool >/dev/null; then
		out=$(promtool check metrics <"$TMP/xdp-lb.prom" 2>&1) ||
			fail "promtool check metrics: $out"
	fi
}

# --- IPv6 backends ------------------------------------------------------------------

VIP6=fd00:10::100 B61=fd00:10::b1 B62=fd00:10::b2

# An IPv6 VIP on two ports, its backends probed directly (via: direct: these
# backends cannot take IPv6-in-IPv6 apart, test_probe_ipv6_through_the_tunnel
# probes through it): tcp on TCP_PORT (round-robin: where a new flow goes is
# known), http on HTTP_PORT.
write_config6() {
	cat >"$TMP/config.yaml" <<YAML
vips:
  - address: $VIP6
    port: $TCP_PORT
    protocol: tcp
    policy: round-robin
    health_check: {type: tcp, via: direct, interval_ms: $INTERVAL_MS,
                   timeout_ms: $TIMEOUT_MS, rise: $RISE, fall: $FALL}
    backends: [{ip: $B61}, {ip: $B62}]
  - address: $VIP6
    port: $HTTP_PORT
    protocol: tcp
    health_check: {type: http, via: direct, path: /healthz, interval_ms: $INTERVAL_MS,
                   timeout_ms: $TIMEOUT_MS, rise: $RISE, fall: $FALL}
    backends: [{ip: $B61}]
YAML
}

# $1 new TCP flows from the client to socat address $3 (default
# TCP6:[$VIP6]:$TCP_PORT), one SYN each (source ports from $2 on; given up
# before the first retransmit). The backends here cannot take IPv6 tunnels
# apart (no ip6_tunnel on this kernel): where the flows went is read from
# lbctl stats.
send_syns() {
	local n
	for n in $(seq 0 $(($1 - 1))); do
		in_net client socat -u /dev/null \
			"${3:-TCP6:[$VIP6]:$TCP_PORT},sourceport=$(($2 + n)),connect-timeout=0.3" \
			2>/dev/null
	done
	return 0
}

# A backend of an IPv6 VIP whose server stops goes down after fall failed
# probes to its own IPv6 address, new IPv6 flows avoid it, it comes back
# after rise; the log, lbctl status and the metrics name it in IPv6 form, and
# the HTTP probe's Host is the bracketed address.
test_ipv6_backend_goes_down_and_comes_back() {
	local line label="[$VIP6]:$TCP_PORT/tcp" b61 b62
	topology up "$PREFIX" "" "$B1" "$B2"
	topology ipv6 "$PREFIX" "$VIP6" "$B61" "$B62"
	write_config6
	load
	start_server 1 6
	start_server 2 6
	printf '#!/bin/sh\nread line\nread host\necho "$line $host" | tr -d "\\r" >>"%s/requests6"\nprintf "HTTP/1.0 200 OK\\r\\n\\r\\n"\n' \
		"$TMP" >"$TMP/http6.sh"
	spawn b1 "$TMP/http6.log" socat "TCP6-LISTEN:$HTTP_PORT,fork,reuseaddr" \
		EXEC:"sh $TMP/http6.sh"
	run_daemon --textfile "$TMP/xdp-lb.prom"
	wait_log "health checks: probing 3 backends of 2 VIPs" 5000
	hc_status_within "$B61" "$label" "last probe ok: connected" $((INTERVAL_MS * 2 + SLACK_MS))
	hc_status_within "$B61" "[$VIP6]:$HTTP_PORT/tcp" "last probe ok: HTTP status 200" \
		$((INTERVAL_MS * 2 + SLACK_MS))
	check_eq "$(head -n 1 "$TMP/requests6")" "GET /healthz HTTP/1.0 Host: [$B61]:$HTTP_PORT" \
		"the HTTP probe's request line and Host"

	stop_server 1
	wait_log "backend $B61 of VIP $VIP6 tcp port $TCP_PORT is down: connect: Connection refused ($FALL failed probes in a row); set DOWN" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	line=$(status_line "$B61" "$label")
	check_contains "$line" "down  weight 1  health down since" "lbctl status: down by health"
	check_contains "$line" "last probe failed: connect: Connection refused" \
		"lbctl status: the reason"
	check_contains "$(status_line "$B62" "$label")" "up    weight 1  health up since" \
		"the other backend stays up"
	# The HTTP VIP's server still answers: its check is its own.
	grep -q "backend $B61 of VIP $VIP6 tcp port $HTTP_PORT is down" "$TMP/lbd.log" &&
		fail "the HTTP check of b1 went down with the TCP server"
	sleep 1 # a textfile period
	check_contains "$(scrape_metrics)" \
		"xdp_lb_backend_up{interface=\"veth1\",vip=\"$label\",backend=\"$B61\",backend_id=\"0\"} 0" \
		"backend_up 0 for the dead IPv6 backend"

	# New flows go to the live backend only.
	b61=$(backend_packets "$B61" "$label")
	b62=$(backend_packets "$B62" "$label")
	send_syns 6 30000
	check_eq "$(backend_packets "$B61" "$label")" "$b61" "packets to the dead backend"
	check_eq "$(backend_packets "$B62" "$label")" $((b62 + 6)) "the new flows on the live one"

	start_server 1 6
	wait_log "backend $B61 of VIP $VIP6 tcp port $TCP_PORT is up again: connected ($RISE good probes in a row); set UP" \
		$((INTERVAL_MS * RISE + SLACK_MS))
	check_contains "$(status_line "$B61" "$label")" "up    weight 1  health up since" \
		"lbctl status: up again"
	b61=$(backend_packets "$B61" "$label")
	send_syns 6 31000
	(($(backend_packets "$B61" "$label") > b61)) ||
		fail "the backend that came back takes no new flow"
}

VIP_MIX=10.0.0.102

# An IPv4 VIP's mixed pool, probed directly: b1's IPv6 address (its server on
# IPv6) and b2's IPv4 one. A direct probe goes to the backend's own address,
# of the backend's family: the IPv6 backend goes down and comes back by IPv6
# probes, the IPv4 one stays up, and new flows (IPv4-in-IPv6 or IPIP) avoid
# the dead one meanwhile.
test_ipv4_vip_ipv6_backend_direct() {
	local label="$VIP_MIX:$TCP_PORT/tcp" b61 b2
	topology up "$PREFIX" "$VIP_MIX" "$B1" "$B2"
	topology ipv6 "$PREFIX" "" "$B61"
	cat >"$TMP/config.yaml" <<YAML
outer_source6: fd00:10::10
vips:
  - address: $VIP_MIX
    port: $TCP_PORT
    protocol: tcp
    policy: round-robin
    health_check: {type: tcp, via: direct, interval_ms: $INTERVAL_MS,
                   timeout_ms: $TIMEOUT_MS, rise: $RISE, fall: $FALL}
    backends: [{ip: $B2}, {ip: $B61}]
YAML
	load
	start_server 1 6
	start_server 2
	run_daemon
	wait_log "health checks: probing 2 backends of 1 VIP" 5000
	hc_status_within "$B61" "$label" "last probe ok: connected" $((INTERVAL_MS * 2 + SLACK_MS))
	hc_status_within "$B2" "$label" "last probe ok: connected" $((INTERVAL_MS * 2 + SLACK_MS))

	stop_server 1
	wait_log "backend $B61 of VIP $VIP_MIX tcp port $TCP_PORT is down: connect: Connection refused ($FALL failed probes in a row); set DOWN" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	check_contains "$(status_line "$B61" "$label")" "down  weight 1  health down since" \
		"lbctl status: the IPv6 backend down by health"
	check_contains "$(status_line "$B2" "$label")" "up    weight 1  health up since" \
		"the IPv4 backend of the pool stays up"
	grep -q "backend $B2 .* is down" "$TMP/lbd.log" && fail "the IPv4 backend went down:
$(cat "$TMP/lbd.log")"
	# The backends cannot take the tunnels apart here: the counts tell where
	# the SYNs went.
	b61=$(backend_packets "$B61" "$label")
	b2=$(backend_packets "$B2" "$label")
	send_syns 6 32000 "TCP4:$VIP_MIX:$TCP_PORT"
	check_eq "$(backend_packets "$B61" "$label")" "$b61" "packets to the dead IPv6 backend"
	check_eq "$(backend_packets "$B2" "$label")" $((b2 + 6)) "the new flows on the IPv4 backend"

	start_server 1 6
	wait_log "backend $B61 of VIP $VIP_MIX tcp port $TCP_PORT is up again: connected ($RISE good probes in a row); set UP" \
		$((INTERVAL_MS * RISE + SLACK_MS))
	stop_daemon
}

# --- probes through the tunnel ----------------------------------------------------

VIP=10.0.0.100 VIP_DIRECT=10.0.0.101 GUE_PORT=6080 # the config's default

# One backend (b1) behind two ipip VIPs: VIP's probes go through the tunnel
# (the default), VIP_DIRECT's straight to the backend (via: direct).
write_tunnel_config() {
	cat >"$TMP/config.yaml" <<YAML
vips:
  - address: $VIP
    port: $TCP_PORT
    protocol: tcp
    health_check: {type: tcp, interval_ms: $INTERVAL_MS, timeout_ms: $TIMEOUT_MS,
                   rise: $RISE, fall: $FALL}
    backends: [{ip: $B1}]
  - address: $VIP_DIRECT
    port: $TCP_PORT
    protocol: tcp
    health_check: {type: tcp, via: direct, interval_ms: $INTERVAL_MS,
                   timeout_ms: $TIMEOUT_MS, rise: $RISE, fall: $FALL}
    backends: [{ip: $B1}]
YAML
}

# The probe table's routes and xdp-lb's rule in the balancer's namespace.
probe_routes() {
	in_net lb ip route show table 9671
}
probe_rule() {
	in_net lb ip rule show priority 9671
}

# The backend's own kernel has no ipip or fou here: a probe through the tunnel
# reaches b1 wrapped, as the capture there shows byte by byte, and fails, while
# the direct probe of the same server succeeds. `lbctl encap gue` turns the
# probes into GUE within an interval. Stopping the daemon takes rule and route.
test_probe_through_the_tunnel() {
	local line routes flows
	topology up "$PREFIX" "" "$B1" "$B2"
	full_checksums
	# The balancer as a NIC without tunnel checksum offload: the probe leaves
	# with final checksums (the stack completes them), which the capture checks.
	check in_net lb ethtool -K veth1 tx off >/dev/null
	write_tunnel_config
	load
	start_server 1
	spawn b1 "$TMP/cap1.out" "$OUTPUT/tools/ipip_capture" -i eth0 -b "$B1" -o "$LB" \
		-g "$GUE_PORT" -R "$TMP/cap1.ready"
	wait_file "$TMP/cap1.ready"
	run_daemon
	wait_log "health checks: probing 2 backends of 2 VIPs" 5000
	wait_log "backend $B1 of VIP $VIP tcp port $TCP_PORT is down: via tunnel: no connection within $TIMEOUT_MS ms ($FALL failed probes in a row); set DOWN" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	line=$(status_line "$B1" "$VIP:$TCP_PORT/tcp")
	check_contains "$line" "last probe failed: via tunnel: no connection within $TIMEOUT_MS ms" \
		"lbctl status: the tunnel probe's reason"
	line=$(status_line "$B1" "$VIP_DIRECT:$TCP_PORT/tcp")
	check_contains "$line" "up    weight 1  health up since" "the direct probe keeps b1 up"
	check_contains "$line" "last probe ok: connected" "the direct probe connects"
	grep -q "of VIP $VIP_DIRECT .*down" "$TMP/lbd.log" && fail "the direct probe failed:
$(cat "$TMP/lbd.log")"
	check_contains "$(probe_rule)" "9671:	from all fwmark 0x96710000/0xffffe000 lookup 9671 proto 250" \
		"the probes' rule"
	routes=$(probe_routes)
	check_contains "$routes" "$VIP  encap bpf xmit lb_probe_encap-" "the VIP's probe route"
	check_contains "$routes" "dev veth1 proto 250 scope link" "the route's device and protocol"
	[[ $routes == *"$VIP_DIRECT"* ]] && fail "a route for the direct VIP: $routes"
	(($(counter probe.encap_ipip) >= FALL)) || fail "probe.encap_ipip: $(counter probe.encap_ipip)"

	# The encap slot decides the format, as for client traffic.
	local ipip_before
	ipip_before=$(counter probe.encap_ipip)
	check lbctl encap veth1 gue >/dev/null
	local deadline=$(($(now_ms) + 1000 + INTERVAL_MS * 2 + SLACK_MS))
	until (($(counter probe.encap_gue) >= 2)); do
		(($(now_ms) < deadline)) || fail "no GUE probe after lbctl encap gue"
		sleep 0.1
	done
	check_eq "$(counter probe.drop_unknown_mark)" 0 "probe.drop_unknown_mark"

	# Stopping the daemon takes the route and the rule.
	stop_daemon
	check_eq "$(probe_routes)" "" "the probe table after the daemon stopped"
	check_eq "$(probe_rule)" "" "the rule after the daemon stopped"
	wait_log "1 route of table 9671 and the rule removed (xdp-lbd stops)" 1000

	finish_captures
	check_eq "$(capture_total bad)" 0 "malformed probe frames at b1"
	(($(capture_total ipip) >= FALL)) || fail "IPIP probes captured: $(capture_total ipip)"
	(($(capture_total ipip) >= ipip_before)) ||
		fail "IPIP probes captured $(capture_total ipip) < counted $ipip_before"
	(($(capture_total gue) >= 2)) || fail "GUE probes captured: $(capture_total gue)"
	# Every tunnelled frame at b1 is a probe: from the balancer to VIP:port.
	flows=$(grep '^flow ' "$TMP/cap1.out" | awk '{print $2, $4}' | sort -u)
	check_eq "$flows" "tcp $VIP:$TCP_PORT" "the inner packets' protocol and destination"
	grep '^flow ' "$TMP/cap1.out" | awk '{print $3}' | grep -qv "^$LB:" &&
		fail "an inner source other than the balancer: $(cat "$TMP/cap1.out")"
	return 0
}

VIP6_DIRECT=fd00:10::101

# IPv6 through the tunnel: an IPv6 VIP's backend b1 (IPv6-in-IPv6, an IPv6
# route and rule) and an IPv4 VIP's IPv6 backend b2 (IPv4-in-IPv6 from the
# IPv4 route), both from outer_source6. This kernel has no ip6_tunnel: the
# probes reach the backends wrapped, as the captures there check byte by
# byte, and fail, while a direct check of the same servers passes. Stopping
# the daemon takes both families' routes and rules.
test_probe_ipv6_through_the_tunnel() {
	local hc="interval_ms: $INTERVAL_MS, timeout_ms: $TIMEOUT_MS, rise: $RISE, fall: $FALL"
	local line
	topology up "$PREFIX" "" "$B1" "$B2"
	topology ipv6 "$PREFIX" "" "$B61" "$B62"
	full_checksums
	check in_net lb ethtool -K veth1 tx off >/dev/null
	cat >"$TMP/config.yaml" <<YAML
outer_source6: fd00:10::10
vips:
  - address: $VIP6
    port: $TCP_PORT
    protocol: tcp
    health_check: {type: tcp, $hc}
    backends: [{ip: $B61}]
  - address: $VIP
    port: $TCP_PORT
    protocol: tcp
    health_check: {type: tcp, $hc}
    backends: [{ip: $B62}]
  - address: $VIP6_DIRECT
    port: $TCP_PORT
    protocol: tcp
    health_check: {type: tcp, via: direct, $hc}
    backends: [{ip: $B61}, {ip: $B62}]
YAML
	load
	start_server 1 6
	start_server 2 6
	spawn b1 "$TMP/cap1.out" "$OUTPUT/tools/ipip_capture" -i eth0 -b "$B61" -o fd00:10::10 \
		-R "$TMP/cap1.ready"
	spawn b2 "$TMP/cap2.out" "$OUTPUT/tools/ipip_capture" -i eth0 -b "$B62" -o fd00:10::10 \
		-R "$TMP/cap2.ready"
	wait_file "$TMP/cap1.ready"
	wait_file "$TMP/cap2.ready"
	run_daemon
	wait_log "health checks: probing 4 backends of 3 VIPs" 5000
	wait_log "backend $B61 of VIP $VIP6 tcp port $TCP_PORT is down: via tunnel: no connection within $TIMEOUT_MS ms ($FALL failed probes in a row); set DOWN" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	wait_log "backend $B62 of VIP $VIP tcp port $TCP_PORT is down: via tunnel: no connection within $TIMEOUT_MS ms ($FALL failed probes in a row); set DOWN" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	for line in "$B61" "$B62"; do
		hc_status_within "$line" "[$VIP6_DIRECT]:$TCP_PORT/tcp" "last probe ok: connected" \
			$((INTERVAL_MS * 2 + SLACK_MS))
	done
	grep -q "of VIP $VIP6_DIRECT .*down" "$TMP/lbd.log" && fail "a direct probe failed:
$(cat "$TMP/lbd.log")"
	grep -q "cannot run" "$TMP/lbd.log" && fail "the tunnel was refused:
$(cat "$TMP/lbd.log")"
	check_contains "$(in_net lb ip -6 rule show priority 9671)" \
		"9671:	from all fwmark 0x96710000/0xffffe000 lookup 9671 proto 250" "the IPv6 rule"
	check_contains "$(probe_rule)" "lookup 9671 proto 250" "the IPv4 rule"
	line=$(in_net lb ip -6 route show table 9671)
	check_contains "$line" "$VIP6  encap bpf xmit lb_probe_encap-" "the IPv6 VIP's probe route"
	check_contains "$line" "dev veth1 proto 250" "its device and protocol"
	[[ $line == *"$VIP6_DIRECT"* ]] && fail "a route for the direct VIP: $line"
	check_contains "$(probe_routes)" "$VIP  encap bpf xmit" "the IPv4 VIP's probe route"
	(($(counter probe.encap_ipip6) >= 2 * FALL)) ||
		fail "probe.encap_ipip6: $(counter probe.encap_ipip6)"
	check_eq "$(counter probe.encap_ipip)" 0 "probe.encap_ipip: no IPv4 outer header"
	check_eq "$(counter probe.drop_malformed)" 0 "probe.drop_malformed"
	check_eq "$(counter probe.drop_encap_failed)" 0 "probe.drop_encap_failed"

	stop_daemon
	wait_log "2 routes of table 9671 and the rules removed (xdp-lbd stops)" 1000
	check_eq "$(in_net lb ip -6 route show table 9671)" "" "the IPv6 probe table afterwards"
	check_eq "$(in_net lb ip -6 rule show priority 9671)" "" "the IPv6 rule afterwards"
	check_eq "$(probe_routes)$(probe_rule)" "" "the IPv4 route and rule afterwards"

	finish_captures
	check_eq "$(capture_total bad)" 0 "malformed probe frames at the backends"
	(($(grep -oE 'ipip6=[0-9]+' "$TMP/cap1.out" | cut -d= -f2) >= FALL)) ||
		fail "IPv6-in-IPv6 probes at b1: $(cat "$TMP/cap1.out")"
	(($(grep -oE 'ipip46=[0-9]+' "$TMP/cap2.out" | cut -d= -f2) >= FALL)) ||
		fail "IPv4-in-IPv6 probes at b2: $(cat "$TMP/cap2.out")"
	# b2's inner packets: TCP from the balancer to VIP:port.
	check_eq "$(grep '^flow ' "$TMP/cap2.out" | awk '{print $2, $4}' | sort -u)" \
		"tcp $VIP:$TCP_PORT" "the IPv4-in-IPv6 probes' protocol and destination"
	return 0
}

# A killed daemon leaves route and rule; the next daemon takes them over, and
# `xdp-lbd --withdraw` (the unit's ExecStopPost) removes what a killed one left.
test_killed_daemon_then_withdraw() {
	topology up "$PREFIX" "" "$B1"
	write_tunnel_config
	load
	run_daemon
	wait_log "health checks: probing 2 backends of 2 VIPs" 5000
	stop_daemon KILL
	check_contains "$(probe_routes)" "$VIP  encap bpf xmit" "a killed daemon's route stays"
	check_contains "$(probe_rule)" "lookup 9671" "a killed daemon's rule stays"
	run_daemon
	wait_log "backend $B1 of VIP $VIP tcp port $TCP_PORT is down: via tunnel:" \
		$((INTERVAL_MS * FALL + TIMEOUT_MS + SLACK_MS))
	grep -q "cannot run" "$TMP/lbd.log" && fail "the next daemon refused its own rule:
$(cat "$TMP/lbd.log")"
	stop_daemon KILL
	local out
	out=$(in_net lb "$ROOT/xdp-lbd" --withdraw veth1 2>&1) || fail "--withdraw: $out"
	check_contains "$out" "1 route of table 9671 and the rule removed (xdp-lbd --withdraw)" \
		"--withdraw says what it removed"
	check_eq "$(probe_routes)" "" "the probe table after --withdraw"
	check_eq "$(probe_rule)" "" "the rule after --withdraw"
}

# A reload that moves the checked VIP to another address: after SIGHUP (as
# systemctl reload sends it) the old address's route is gone, the new one's
# there; an unload takes route and rule away while the daemon runs on.
test_reload_moves_the_probe_route() {
	topology up "$PREFIX" "" "$B1"
	write_tunnel_config
	load
	run_daemon
	wait_log "health checks: probing 2 backends of 2 VIPs" 5000
	check_contains "$(probe_routes)" "$VIP  encap bpf xmit" "the route before the reload"
	sed -i "s/address: $VIP\$/address: 10.0.0.102/" "$TMP/config.yaml"
	load
	kill -HUP "$LBD_PID"
	local deadline=$(($(now_ms) + 5000))
	until [[ $(probe_routes) == "10.0.0.102  encap bpf xmit"* ]]; do
		(($(now_ms) < deadline)) || fail "probe routes after the reload: $(probe_routes)"
		sleep 0.1
	done
	check_eq "$(probe_routes | grep -c encap)" 1 "one probe route, the new VIP's"
	# An unload under the running daemon: route and rule go at its next interval.
	check lb_load --unload veth1 >/dev/null
	deadline=$(($(now_ms) + 3000))
	until [[ -z $(probe_routes) && -z $(probe_rule) ]]; do
		(($(now_ms) < deadline)) || fail "after the unload: $(probe_routes) $(probe_rule)"
		sleep 0.1
	done
	stop_daemon
}

# Waits (at most $4 ms) until lbctl status's line of backend $1 under VIP $2 has $3.
hc_status_within() {
	local deadline=$(($(now_ms) + $4)) line=
	while (($(now_ms) < deadline)); do
		line=$(status_line "$1" "$2")
		[[ $line == *"$3"* ]] && return 0
		sleep 0.1
	done
	fail "backend $1 of $2: no '$3' in lbctl status: '$line'"
}

# Someone else's route in the table, or rule at the priority: refused, said
# in the log, the backends probed directly meanwhile (their results say so),
# and the other's route or rule left as it was.
test_tunnel_table_or_rule_taken() {
	topology up "$PREFIX" "" "$B1" "$B2"
	write_tunnel_config
	load
	start_server 1
	check in_net lb ip route add 192.0.2.1/32 dev veth1 table 9671
	run_daemon
	wait_log "health probes through the tunnel cannot run on veth1: table 9671 holds others' routes; their backends are probed directly until it is resolved" 5000
	# Meanwhile the backend is probed directly: its server answers there.
	hc_status_within "$B1" "$VIP:$TCP_PORT/tcp" "last probe ok: direct, no tunnel: connected" \
		$((INTERVAL_MS * 2 + SLACK_MS))
	grep -q "is down" "$TMP/lbd.log" && fail "a backend went down for want of a tunnel:
$(cat "$TMP/lbd.log")"
	check_eq "$(probe_rule)" "" "no rule while the table is someone else's"
	stop_daemon
	check_contains "$(probe_routes)" "192.0.2.1 dev veth1" "the other route left alone"
	check in_net lb ip route del 192.0.2.1/32 dev veth1 table 9671

	check in_net lb ip rule add priority 9671 fwmark 0x1 lookup 100
	run_daemon
	wait_log "cannot run on veth1: rule priority 9671 is taken" 5000
	stop_daemon
	check_contains "$(probe_rule)" "fwmark 0x1 lookup 100" "the other rule left alone"
	check_eq "$(probe_routes)" "" "no route of ours"
	# Another priority, table and mark: ours again.
	run_daemon --probe-priority 9672 --probe-table 77 --probe-mark 0x10000
	wait_log "rule priority 9672 fwmark 0x10000/0xffffe000 lookup 77 added" 5000
	check_contains "$(in_net lb ip route show table 77)" "$VIP  encap bpf xmit" "the route in table 77"
	stop_daemon
	check_eq "$(in_net lb ip route show table 77)" "" "table 77 after the daemon stopped"
	check_eq "$(in_net lb ip rule show priority 9672)" "" "rule 9672 after the daemon stopped"
}

run_tests integration-health test_dead_backend_goes_down_and_comes_back \
	test_every_other_probe_lost_does_not_flap test_reload_keeps_health \
	test_health_check_dropped_by_reload test_all_down_withdraws_the_announcement \
	test_operator_drain_left_alone test_http_status test_metrics_and_journal_levels \
	test_ipv6_backend_goes_down_and_comes_back test_ipv4_vip_ipv6_backend_direct \
	test_probe_through_the_tunnel test_probe_ipv6_through_the_tunnel test_killed_daemon_then_withdraw \
	test_reload_moves_the_probe_route test_tunnel_table_or_rule_taken
