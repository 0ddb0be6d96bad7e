# SPDX-License-Identifier: GPL-2.0
# Sourced by tests/vm/test_dispatcher.sh: xdp-lbd's health probes through the tunnel
# (docs/operations.md, "Health checks") against real decapsulating backends
# (backend_up: tunl0, the fou port, the VIPs on lo, socat servers bound to the VIPs;
# here also a UDP echo on the UDP VIP for its check).
# Each backend also serves on its own address (a server bound to it), which the
# direct checks of a second VIP probe: a backend that lost its VIP on lo, its tunl0 or
# its fou port goes down through the tunnel within interval x fall while its own
# address still passes, client connections then all go to the other backend, and
# restoring what was taken brings it back after rise. test_health_through_ipv6_backends
# does the same with IPv6 backends (ip6tnl, ipv6.sh): IPv6-in-IPv6 and IPv4-in-IPv6.

# Every probe makes a backend's socat fork a shell and sed, which a guest under TCG
# feels: one probe per backend and VIP a second keeps the guest responsive.
HC_INTERVAL_MS=1000 HC_TIMEOUT_MS=800 HC_RISE=2 HC_FALL=2
# A guest under TCG is slow and shares the machine (a build that takes a minute on a
# quiet one took six with other guests running): a change may come this much later
# than interval x fall + timeout. The waits end as soon as it comes; the times taken
# are printed.
HC_SLACK_MS=20000
DIRECT_VIP=123.168.9.10 # TCP port 80, probed directly: the backends' own addresses
# The UDP check has an echo server of its own on the UDP VIP (socat forks, without
# exec, per datagram): backend_up's servers fork a shell and sed first, which takes
# seconds in a cold guest under TCG. It still waits longer than the TCP checks, and
# the test up to HC_UDP_WARM_MS for its first good result.
HC_UDP_PORT=5001 HC_UDP_INTERVAL_MS=2000 HC_UDP_TIMEOUT_MS=1500 HC_UDP_WARM_MS=60000

write_health_config() {
	local hc="interval_ms: $HC_INTERVAL_MS, timeout_ms: $HC_TIMEOUT_MS, rise: $HC_RISE, fall: $HC_FALL"
	cat >"$TMP/lb.yaml" <<EOF
vips:
  - address: $VIP
    health_check: {type: udp, port: $HC_UDP_PORT, send: "hc\\n", expect: "hc\\n",
                   interval_ms: $HC_UDP_INTERVAL_MS, timeout_ms: $HC_UDP_TIMEOUT_MS}
    backends: [{ip: $B1}, {ip: $B2}]
  - address: $TCP_VIP
    port: 80
    protocol: tcp
    health_check: {type: tcp, $hc}
    backends: [{ip: $B1}, {ip: $B2}]
  - address: $DIRECT_VIP
    port: 80
    protocol: tcp
    health_check: {type: tcp, via: direct, $hc}
    backends: [{ip: $B1}, {ip: $B2}]
EOF
}

# The lab with real backends, servers on their own addresses too, xdp-lb loaded with
# the checks above, and xdp-lbd running them; returns once every backend was probed.
health_lab_up() {
	local name addr
	topology up "$PREFIX" "$VIP $TCP_VIP $DIRECT_VIP" "$B1" "$B2"
	backend_up b1
	backend_up b2
	for name in b1 b2; do
		addr=$([[ $name == b1 ]] && echo "$B1" || echo "$B2")
		spawn "$name" "$TMP/$name-own.log" socat TCP4-LISTEN:80,bind=$addr,fork,reuseaddr \
			SYSTEM:"exec sed -u s/^/$name=/"
		spawn "$name" "$TMP/$name-echo.log" socat UDP4-RECVFROM:$HC_UDP_PORT,bind=$VIP,fork \
			PIPE
		wait_listening "$name" t 80
		wait_listening "$name" u "$HC_UDP_PORT"
	done
	ip netns exec "$PREFIX-client" ethtool -K eth0 tx off >/dev/null
	write_health_config
	check lb_load "$TMP/lb.yaml" veth1 >/dev/null
	spawn lb "$TMP/lbd.log" "$ROOT/xdp-lbd" --config "$TMP/lb.yaml" --interval 0.5 veth1
	wait_log "health checks: probing 6 backends of 3 VIPs" 10000
	hc_wait_status "$B1" "$TCP_VIP:80/tcp" "last probe ok: via tunnel: connected"
	hc_wait_status "$B2" "$TCP_VIP:80/tcp" "last probe ok: via tunnel: connected"
	hc_wait_status "$B1" "$VIP:*/udp" "last probe ok: via tunnel: reply as expected" \
		"$HC_UDP_WARM_MS"
	hc_wait_status "$B2" "$VIP:*/udp" "last probe ok: via tunnel: reply as expected" \
		"$HC_UDP_WARM_MS"
	hc_wait_status "$B1" "$DIRECT_VIP:80/tcp" "last probe ok: connected"
}

# Waits (at most $4 ms) until lbctl status's line of backend $1 under VIP $2 contains $3.
hc_wait_status() {
	local deadline=$(($(now_ms) + ${4:-$((HC_INTERVAL_MS * 3 + HC_SLACK_MS))})) line=
	while (($(now_ms) < deadline)); do
		line=$(status_line "$1" "$2")
		[[ $line == *"$3"* ]] && return 0
		sleep 0.2
	done
	fail "backend $1 of $2: no '$3' in lbctl status: '$line'
$(cat "$TMP/lbd.log")"
}

# Takes backend $1 (b1 or b2, address $2) down with command $3..., checks that exactly
# it goes down through the tunnel while its own address passes the direct check, that
# new client connections all reach the other backend, then restores it with the
# command in RESTORE and waits for rise. (Each backend breaks once per test: the log
# lines waited for are new ones.)
hc_break_and_restore() {
	local name=$1 addr=$2 other t0 c line
	shift 2
	other=$([[ $name == b1 ]] && echo b2 || echo b1)
	"$@" || fail "could not break $name: $*"
	t0=$(now_ms) # after the command: an exec can take seconds in a starved guest
	# The reason depends on what was taken: without the VIP the backend answers the
	# SYN with an ICMP host unreachable (it does not forward), rate-limited, so
	# "connect: No route to host" or "no connection within"; without tunl0 or fou,
	# silence.
	wait_log "backend $addr of VIP $TCP_VIP tcp port 80 is down: via tunnel: " \
		$((HC_INTERVAL_MS * HC_FALL + HC_TIMEOUT_MS + HC_SLACK_MS))
	echo "    $name down through the tunnel after $(($(now_ms) - t0)) ms" \
		"(interval $HC_INTERVAL_MS ms x fall $HC_FALL): $*:" \
		"$(grep -o "backend $addr of VIP $TCP_VIP tcp port 80 is down: [^(]*" "$TMP/lbd.log")"
	line=$(status_line "$addr" "$DIRECT_VIP:80/tcp")
	check_contains "$line" "up    weight 1  health up since" \
		"$name's own address still passes the direct check"
	check_contains "$line" "last probe ok: connected" "$name's direct probe connects"
	check_contains "$(status_line "$([[ $name == b1 ]] && echo "$B2" || echo "$B1")" \
		"$TCP_VIP:80/tcp")" "up    weight 1" "the other backend stays up"
	BACKENDS=
	for c in h1 h2 h3 h4; do
		line=$(tcp_connection "$c")
		[[ $line == "$other="* ]] || fail "connection $c while $name is down: '$line'
$(lbctl status veth1)
$(tail -n 20 "$TMP/lbd.log")"
		check_connection "$c" "$line"
	done
	check_eq "$BACKENDS" "$other $other $other $other " "connections while $name is down"
	eval "$RESTORE" || fail "could not restore $name: $RESTORE"
	t0=$(now_ms)
	wait_log "backend $addr of VIP $TCP_VIP tcp port 80 is up again: via tunnel: connected ($HC_RISE good probes in a row); set UP" \
		$((HC_INTERVAL_MS * HC_RISE + HC_TIMEOUT_MS + HC_SLACK_MS))
	echo "    $name up again after $(($(now_ms) - t0)) ms (rise $HC_RISE)"
}

# IPIP: the VIP taken off b1's lo, then b2's tunl0 down.
test_health_through_ipip_backends() {
	health_lab_up
	(($(counter probe.encap_ipip) > 0)) || fail "no probe went out as IPIP"
	RESTORE="ip -n $PREFIX-b1 addr add $TCP_VIP/32 dev lo"
	hc_break_and_restore b1 "$B1" ip -n "$PREFIX-b1" addr del "$TCP_VIP/32" dev lo
	RESTORE="ip -n $PREFIX-b2 link set tunl0 up"
	hc_break_and_restore b2 "$B2" ip -n "$PREFIX-b2" link set tunl0 down
	check_eq "$(counter probe.drop_unknown_mark)" 0 "probe.drop_unknown_mark"
	check_eq "$(counter probe.drop_encap_failed)" 0 "probe.drop_encap_failed"
}

# GUE: lbctl encap gue turns client traffic and probes into GUE; b1's fou port deleted
# takes only b1 down (its tunl0 and VIP still there). Then the daemon stops, and takes
# its rule and routes with it.
test_health_through_gue_backends() {
	local gue
	health_lab_up
	check lbctl encap veth1 gue >/dev/null
	gue=$(counter probe.encap_gue)
	local deadline=$(($(now_ms) + 2000 + HC_INTERVAL_MS * 2 + HC_SLACK_MS))
	until (($(counter probe.encap_gue) > gue + 4)); do
		(($(now_ms) < deadline)) || fail "no GUE probes after lbctl encap gue"
		sleep 0.2
	done
	RESTORE="ip -n $PREFIX-b1 fou add port $GUE_PORT ipproto 4"
	hc_break_and_restore b1 "$B1" ip -n "$PREFIX-b1" fou del port "$GUE_PORT"
	hc_wait_status "$B1" "$VIP:*/udp" "last probe ok: via tunnel: reply as expected" \
		"$HC_UDP_WARM_MS"
	# Stopping the daemon takes its rule and routes: nothing of ours is left.
	check_contains "$(in_net lb ip route show table 9671)" "encap bpf xmit lb_probe_encap-" \
		"the probe routes"
	stop_spawned
	check_eq "$(in_net lb ip route show table 9671)" "" "the probe table after the daemon"
	check_eq "$(in_net lb ip rule show priority 9671)" "" "the rule after the daemon"
}

# IPv6 backends through the tunnel (ipv6.sh's lab: ip6tnl mode any on each backend, the
# IPv6 VIP on lo): an IPv6 VIP probed IPv6-in-IPv6 and an IPv4 VIP on the same
# backends probed IPv4-in-IPv6, both from outer_source6, and a third VIP checking the
# backends' own IPv6 addresses directly. b1's ip6tnl down takes b1 down through the
# tunnel for both VIPs while its own address still passes the direct check, client
# connections to the IPv6 VIP all go to b2, and the tunnel up again brings b1 back.
V6_DIRECT_VIP=fd00:10::101

# The IPv6 lab with xdp-lbd probing both IPv6 backends under an IPv6 VIP and an
# IPv4 VIP through the tunnel and under a third VIP directly, all up.
hc6_lab_up() {
	local hc="interval_ms: $HC_INTERVAL_MS, timeout_ms: $HC_TIMEOUT_MS, rise: $HC_RISE, fall: $HC_FALL"
	local name addr
	ipv6_backends_up
	for name in b1 b2; do
		addr=$([[ $name == b1 ]] && echo "$V6_B1" || echo "$V6_B2")
		spawn "$name" "$TMP/$name-own6.log" socat "TCP6-LISTEN:80,bind=[$addr],fork,reuseaddr" \
			SYSTEM:"exec sed -u s/^/$name=/"
	done
	cat >"$TMP/hc6.yaml" <<EOF
priority: $PRIORITY
outer_source6: $V6_LB
vips:
  - address: $V6_VIP
    port: 80
    protocol: tcp
    health_check: {type: tcp, $hc}
    backends: [{ip: $V6_B1}, {ip: $V6_B2}]
  - address: $TCP_VIP
    port: 80
    protocol: tcp
    health_check: {type: tcp, $hc}
    backends: [{ip: $V6_B1}, {ip: $V6_B2}]
  - address: $V6_DIRECT_VIP
    port: 80
    protocol: tcp
    health_check: {type: tcp, via: direct, $hc}
    backends: [{ip: $V6_B1}, {ip: $V6_B2}]
EOF
	check lb_load "$TMP/hc6.yaml" veth1 >/dev/null
	spawn lb "$TMP/lbd.log" "$ROOT/xdp-lbd" --config "$TMP/hc6.yaml" --interval 0.5 veth1
	wait_log "health checks: probing 6 backends of 3 VIPs" 10000
	for addr in "$V6_B1" "$V6_B2"; do
		hc_wait_status "$addr" "[$V6_VIP]:80/tcp" "last probe ok: via tunnel: connected"
		hc_wait_status "$addr" "$TCP_VIP:80/tcp" "last probe ok: via tunnel: connected"
		hc_wait_status "$addr" "[$V6_DIRECT_VIP]:80/tcp" "last probe ok: connected"
	done
	(($(counter probe.encap_ipip6) > 0)) || fail "no probe went out in IPv6"
	check_eq "$(counter probe.encap_ipip)" 0 "probe.encap_ipip: no IPv4 outer header"
	check_contains "$(in_net lb ip -6 route show table 9671)" \
		"$V6_VIP  encap bpf xmit lb_probe_encap-" "the IPv6 VIP's probe route"
}

test_health_through_ipv6_backends() {
	local vip c line t0
	hc6_lab_up

	ip -n "$PREFIX-b1" link set "$V6_TUNNEL" down || fail "could not take b1's ip6tnl down"
	t0=$(now_ms)
	for vip in "$V6_VIP" "$TCP_VIP"; do
		wait_log "backend $V6_B1 of VIP $vip tcp port 80 is down: via tunnel: " \
			$((HC_INTERVAL_MS * HC_FALL + HC_TIMEOUT_MS + HC_SLACK_MS))
	done
	echo "    b1 down through both tunnels after $(($(now_ms) - t0)) ms" \
		"(interval $HC_INTERVAL_MS ms x fall $HC_FALL)"
	line=$(status_line "$V6_B1" "[$V6_DIRECT_VIP]:80/tcp")
	check_contains "$line" "up    weight 1  health up since" \
		"b1's own address still passes the direct check"
	check_contains "$line" "last probe ok: connected" "b1's direct probe connects"
	for vip in "[$V6_VIP]" "$TCP_VIP"; do
		check_contains "$(status_line "$V6_B2" "$vip:80/tcp")" "up    weight 1" \
			"b2 stays up under $vip"
	done
	BACKENDS=
	for c in h1 h2 h3 h4; do
		check_connection "$c" "$(tcp_connection "$c" "$V6_VIP")"
	done
	check_eq "$BACKENDS" "b2 b2 b2 b2 " "connections to the IPv6 VIP while b1 is down"

	ip -n "$PREFIX-b1" link set "$V6_TUNNEL" up || fail "could not bring b1's ip6tnl up"
	t0=$(now_ms)
	for vip in "$V6_VIP" "$TCP_VIP"; do
		wait_log "backend $V6_B1 of VIP $vip tcp port 80 is up again: via tunnel: connected ($HC_RISE good probes in a row); set UP" \
			$((HC_INTERVAL_MS * HC_RISE + HC_TIMEOUT_MS + HC_SLACK_MS))
	done
	echo "    b1 up again after $(($(now_ms) - t0)) ms (rise $HC_RISE)"
	check_eq "$(counter probe.drop_malformed)" 0 "probe.drop_malformed"
	check_eq "$(counter probe.drop_encap_failed)" 0 "probe.drop_encap_failed"
}

# GUE over IPv6: after lbctl encap gue both IPv6 backends stay up through the tunnel,
# probed in GUE over IPv6, whose UDP checksum their kernels check; b1's fou port
# deleted takes exactly b1 down under both VIPs, and restored it comes back.
test_health_through_gue6_backends() {
	local gue6 vip t0 c addr
	hc6_lab_up
	check lbctl encap veth1 gue >/dev/null
	gue6=$(counter probe.encap_gue6)
	local deadline=$(($(now_ms) + 2000 + HC_INTERVAL_MS * 2 + HC_SLACK_MS))
	until (($(counter probe.encap_gue6) > gue6 + 4)); do
		(($(now_ms) < deadline)) || fail "no GUE over IPv6 probes after lbctl encap gue"
		sleep 0.2
	done
	for addr in "$V6_B1" "$V6_B2"; do
		hc_wait_status "$addr" "[$V6_VIP]:80/tcp" "last probe ok: via tunnel: connected"
		hc_wait_status "$addr" "$TCP_VIP:80/tcp" "last probe ok: via tunnel: connected"
	done

	ip -n "$PREFIX-b1" fou del port "$GUE_PORT" -6 || fail "could not delete b1's fou port"
	t0=$(now_ms)
	for vip in "$V6_VIP" "$TCP_VIP"; do
		wait_log "backend $V6_B1 of VIP $vip tcp port 80 is down: via tunnel: " \
			$((HC_INTERVAL_MS * HC_FALL + HC_TIMEOUT_MS + HC_SLACK_MS))
	done
	echo "    b1 down through GUE over IPv6 after $(($(now_ms) - t0)) ms" \
		"(interval $HC_INTERVAL_MS ms x fall $HC_FALL)"
	check_contains "$(status_line "$V6_B1" "[$V6_DIRECT_VIP]:80/tcp")" \
		"up    weight 1  health up since" "b1's own address still passes the direct check"
	for vip in "[$V6_VIP]" "$TCP_VIP"; do
		check_contains "$(status_line "$V6_B2" "$vip:80/tcp")" "up    weight 1" \
			"b2 stays up under $vip"
	done

	ip -n "$PREFIX-b1" fou add port "$GUE_PORT" gue -6 || fail "could not restore b1's fou port"
	t0=$(now_ms)
	for vip in "$V6_VIP" "$TCP_VIP"; do
		wait_log "backend $V6_B1 of VIP $vip tcp port 80 is up again: via tunnel: connected ($HC_RISE good probes in a row); set UP" \
			$((HC_INTERVAL_MS * HC_RISE + HC_TIMEOUT_MS + HC_SLACK_MS))
	done
	echo "    b1 up again after $(($(now_ms) - t0)) ms (rise $HC_RISE)"
	for c in b1 b2; do
		check_eq "$(udp6_csum_errors "$c")" 0 "$c's Udp6InCsumErrors"
	done
	check_eq "$(counter probe.drop_malformed)" 0 "probe.drop_malformed"
}
