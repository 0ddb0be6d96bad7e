#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# IPv6 VIPs end to end on this machine's kernel: the lab of scripts/topology.sh
# with IPv6 beside its IPv4 (topology.sh ipv6), real IPv6 UDP and TCP packets
# from the client to IPv6 VIPs, every IPv6-in-IPv6 frame checked at the
# backends (tests/tools/ipip_capture.c with an IPv6 backend), what lb-load,
# lbctl and reloads show and do with IPv6 VIPs, and ICMPv6 to IPv6 VIP
# addresses (echo replies, errors to a flow's backend). IPv4 VIPs on IPv6
# backends too (IPv4-in-IPv6), alone and mixed with an IPv4 backend in one pool.
# And `encap: gue` over IPv6 (GUE6): both inner families in UDP to the IPv6
# backends, every frame's UDP checksum checked at the backends.
source "$(dirname "$0")/lib.sh"

VIP=123.168.9.8
VIP6=fd00:10::100
B1=10.0.1.1 B2=10.0.2.2
B61=fd00:10::b1 B62=fd00:10::b2

# A config with the IPv4 seed VIP and, unless $1 is "v4", two IPv6 VIPs: UDP
# on port 5000 (least-loaded) and TCP on every port (maglev).
write_config() {
	cat >"$TMP/ipv6.yaml" <<EOF
vips:
  - address: $VIP
    backends: [{ip: $B1}, {ip: $B2}]
EOF
	[[ ${1:-} == v4 ]] && return 0
	cat >>"$TMP/ipv6.yaml" <<EOF
  - address: $VIP6
    port: 5000
    backends: [{ip: $B61}, {ip: $B62}]
  - address: $VIP6
    protocol: tcp
    policy: maglev
    backends: [{ip: $B61}, {ip: $B62}]
EOF
}

lab_up() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	topology ipv6 "$PREFIX" "$VIP6" "$B61" "$B62"
	# The captures check the inner UDP/TCP checksums: full ones, not offloaded.
	full_checksums
}

start_captures6() {
	spawn b1 "$TMP/cap1.out" "$TOOLS/ipip_capture" -i eth0 -b "$B61" -o client \
		-R "$TMP/cap1.ready"
	spawn b2 "$TMP/cap2.out" "$TOOLS/ipip_capture" -i eth0 -b "$B62" -o client \
		-R "$TMP/cap2.ready"
	wait_file "$TMP/cap1.ready"
	wait_file "$TMP/cap2.ready"
}

# Sends $5 packets of each of $4 UDP flows (source ports 20000...) from the
# client's $2 to $1:$3; with "tcp" as $6, one SYN per flow to port $3 instead.
send_flows() {
	in_net client python3 - "$@" <<'EOF'
import socket, sys, time
vip, src, port, flows, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
tcp = len(sys.argv) > 6 and sys.argv[6] == "tcp"
family = socket.AF_INET6 if ":" in vip else socket.AF_INET
for n in range(flows):
    s = socket.socket(family, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    s.bind((src, 20000 + n))
    if tcp:
        s.setblocking(False)
        try:
            s.connect((vip, port))  # one SYN; closed before the first retransmit
        except BlockingIOError:
            pass
        time.sleep(0.002)
    else:
        for _ in range(per):
            s.sendto(b"x" * 32, (vip, port))
    s.close()
EOF
}

# Sends $3 packets of each of $2 UDP flows from the client to [$VIP6]:$1;
# with "tcp" as $4, one SYN per flow to port $1 instead.
send6() {
	send_flows "$VIP6" fd00:10::1 "$@"
}

# Each capture clean; $1 flows in all, each on one backend, $2 frames in all.
check_delivery6() {
	local i all
	for i in 1 2; do
		check_contains "$(cat "$TMP/cap$i.out")" "bad=0" "backend $i IPv6 frames well-formed"
		check_contains "$(cat "$TMP/cap$i.out")" "socket_drops=0" "backend $i capture kept up"
	done
	all=$(cat "$TMP"/cap*.out | grep '^flow ' | awk '{print $2, $3, $4}' | sort)
	[[ -z $(uniq -d <<<"$all") ]] || fail "IPv6 flows on more than one backend"
	check_eq "$(grep -c . <<<"$all")" "$1" "distinct IPv6 flows received"
	check_eq "$(capture_total ipip6)" "$2" "IPv6-in-IPv6 frames received"
	for i in 1 2; do
		grep -q '^flow ' "$TMP/cap$i.out" || fail "backend $i got no IPv6 flow"
	done
}

test_udp_and_tcp_reach_ipv6_backends() {
	local out
	lab_up
	write_config
	out=$(lb_load "$TMP/ipv6.yaml" veth1) || fail "lb-load failed: $out"
	echo "$out" | sed 's/^/    | /'
	check_contains "$out" "VIP [$VIP6]:5000/udp -> 2 backends: $B61 $B62; policy least-loaded; ipip" \
		"summary: the IPv6 UDP VIP"
	check_contains "$out" "VIP [$VIP6]:*/tcp -> 2 backends: $B61 $B62; policy maglev; ipip" \
		"summary: the IPv6 TCP VIP"
	check_contains "$out" "IPv6 outer source the client's address, IPv6 flow table 65536 entries" \
		"summary: IPv6 tunnel source and flow table"
	start_captures6
	send6 5000 200 3
	send6 443 50 1 tcp
	finish_captures
	check_delivery6 250 650
	check_eq "$(counter parse.to_lb)" 650 "parse.to_lb"
	check_eq "$(counter encap.tx)" 650 "encap.tx: XDP_TX, IPv6 next hops resolved"
	check_eq "$(counter lb.flow_new)" 250 "lb.flow_new: one per IPv6 flow"
	check_eq "$(counter lb.flow_hit)" 400 "lb.flow_hit: the UDP flows' later packets"
}

test_lbctl_shows_ipv6() {
	local out
	lab_up
	write_config
	check lb_load "$TMP/ipv6.yaml" veth1 >/dev/null
	send6 5000 20 2
	out=$(lbctl status veth1) || fail "lbctl status"
	check_contains "$out" "VIP [$VIP6]:5000/udp" "status: IPv6 VIP label"
	check_contains "$out" "$B61" "status: IPv6 backend"
	out=$(lbctl stats veth1) || fail "lbctl stats"
	check_contains "$out" "[$VIP6]:*/tcp" "stats: IPv6 VIP label"
	out=$( (lbctl status veth1 --json; lbctl stats veth1 --json; lbctl flows veth1 --json) |
		validate) || fail "lbctl --json against docs/lbctl.schema.json: $out"
	check_eq "$out" "valid 3" "status, stats and flows --json valid with IPv6"
	out=$(lbctl flows veth1 --json --vip "[$VIP6]:5000/udp")
	check_eq "$(field 'd["matched"]' <<<"$out")" 20 "flows --vip [IPv6]:port/udp"
	check_eq "$(field 'sorted({f["backend"] for f in d["flows"]}) == ["'$B61'", "'$B62'"]' \
		<<<"$out")" True "IPv6 flows on both IPv6 backends"
	check_eq "$(field 'd["flows"][0]["client"]' <<<"$out")" fd00:10::1 "flows: IPv6 client"
	out=$(lbctl flows veth1 --json --backend "$B61")
	[[ $(field 'd["matched"]' <<<"$out") -gt 0 ]] || fail "flows --backend IPv6 address"
	out=$(lbctl flows veth1)
	check_contains "$out" "[$VIP6]:5000" "flows: IPv6 VIP endpoint"
	out=$(lbctl policy veth1 "[$VIP6]:5000/udp" round-robin) || fail "policy [IPv6]: $out"
	check_contains "$out" "VIP [$VIP6]:5000/udp now uses policy round-robin" "policy on IPv6"
	out=$(lbctl encap veth1 gue 2>&1) || fail "gue refused under IPv6 VIPs: $out"
	check_contains "$out" "slot encap now runs gue" "encap gue swapped in under IPv6 VIPs"
	check_contains "$(lbctl status veth1)" "xdp_lb_gue" "gue in the encap slot"
}

# A reload adds the IPv6 VIPs to an IPv4-only load (flows6 grows from 1
# entry), keeps IPv6 flows on their backends, and a reload without them
# passes their packets.
test_reloads_add_keep_remove() {
	local out i first second
	lab_up
	write_config v4
	check lb_load "$TMP/ipv6.yaml" veth1 >/dev/null
	check_eq "$(bpftool map show pinned "$(pin_dir)/flows6" | grep -oE 'max_entries [0-9]+')" \
		"max_entries 1" "flows6 of an IPv4-only config"
	write_config
	out=$(lb_load "$TMP/ipv6.yaml" veth1) || fail "reload adding IPv6 VIPs: $out"
	check_contains "$out" "changes: VIPs +2 -0 (1 kept)" "reload added the IPv6 VIPs"
	check_eq "$(bpftool map show pinned "$(pin_dir)/flows6" | grep -oE 'max_entries [0-9]+')" \
		"max_entries 65536" "flows6 grown by the reload"
	start_captures6
	send6 5000 40 1
	finish_captures
	first=$(cat "$TMP"/cap*.out | grep '^flow ' | awk '{print $3, FILENAME}' | sort)
	check_delivery6 40 40
	# A reload with a third IPv6 backend: every IPv6 flow stays where it was.
	local three="[{ip: $B61}, {ip: $B62}, {ip: fd00:10::b3}]"
	sed -i "s/backends: \[{ip: $B61}, {ip: $B62}\]/backends: $three/" "$TMP/ipv6.yaml"
	out=$(lb_load "$TMP/ipv6.yaml" veth1) || fail "reload with a third backend: $out"
	check_contains "$out" "established flows kept" "reload keeps flows"
	for i in 1 2; do rm -f "$TMP/cap$i.ready" "$TMP/cap$i.out"; done
	start_captures6
	send6 5000 40 1
	finish_captures
	second=$(cat "$TMP"/cap*.out | grep '^flow ' | awk '{print $3, FILENAME}' | sort)
	check_eq "$second" "$first" "each IPv6 flow on the same backend after the reload"
	write_config v4
	out=$(lb_load "$TMP/ipv6.yaml" veth1) || fail "reload removing IPv6 VIPs: $out"
	check_contains "$out" "changes: VIPs +0 -2 (1 kept)" "reload removed the IPv6 VIPs"
	local to_lb not_vip
	to_lb=$(counter parse.to_lb)
	not_vip=$(counter parse.pass_not_vip)
	send6 5000 5 1
	check_eq "$(counter parse.to_lb)" "$to_lb" "a removed IPv6 VIP's packets: not balanced"
	# At least: neighbour discovery (ICMPv6) passes too, now and then.
	(($(counter parse.pass_not_vip) - not_vip >= 5)) ||
		fail "a removed IPv6 VIP's packets: parse.pass_not_vip moved by less than 5"
}

# Sends one UDP datagram of $1 bytes from the client to [$VIP6]:5000 that the
# kernel may not fragment (IPV6_DONTFRAG) and prints the ICMPv6 messages the
# client receives within a second: "type=T code=C mtu=M from=A len=L
# quote=SRC:SPORT>DST:DPORT" (len: the ICMPv6 message's length; the quote is
# the packet it carries, checked to be the one sent, whole or cut).
send_big6() {
	in_net client python3 - "$VIP6" "$1" <<'EOF2'
import select, socket, struct, sys, time
vip, size = sys.argv[1], int(sys.argv[2])
raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
udp.bind(("fd00:10::1", 21000))
udp.setsockopt(socket.IPPROTO_IPV6, 62, 1)  # IPV6_DONTFRAG
udp.setsockopt(socket.IPPROTO_IPV6, 23, 3)  # IPV6_MTU_DISCOVER: IPV6_PMTUDISC_PROBE
payload = bytes(i & 0xff for i in range(size))
udp.sendto(payload, (vip, 5000))
sent = (struct.pack("!HHH", 21000, 5000, 8 + size), payload)
end = time.time() + 1
while time.time() < end:
    if not select.select([raw], [], [], max(0, end - time.time()))[0]:
        break
    msg, src = raw.recvfrom(4096)
    if msg[0] >= 128:  # informational: neighbour discovery and the like
        continue
    q = msg[8:]
    ok = (len(q) >= 48 and q[6] == 17 and
          socket.inet_ntop(socket.AF_INET6, q[24:40]) == vip and q[40:46] == sent[0] and
          q[48:] == sent[1][:len(q) - 48])
    quote = "%s:%d>%s:%d" % (socket.inet_ntop(socket.AF_INET6, q[8:24]),
                             struct.unpack("!H", q[40:42])[0],
                             socket.inet_ntop(socket.AF_INET6, q[24:40]),
                             struct.unpack("!H", q[42:44])[0]) if ok else "wrong"
    print("type=%d code=%d mtu=%d from=%s len=%d quote=%s" % (
        msg[0], msg[1], struct.unpack("!I", msg[4:8])[0], src[0], len(msg), quote))
EOF2
}

# The path to the backends carries 1400 bytes: a 1400-byte datagram is 1448
# bytes of IPv6 and 1488 once encapsulated. The client gets ICMPv6 "packet too
# big" from the VIP with 1400 - 40, quoting 1232 bytes of its packet (a
# 1280-byte error), and its kernel learns the path MTU; a datagram that fits
# then reaches a backend. IPv6 has no DF: every too-big packet is answered.
test_packet_too_big_to_client() {
	local got
	lab_up
	check ip -n "$PREFIX-lb" -6 route replace "$B61/128" dev veth1 mtu lock 1400
	check ip -n "$PREFIX-lb" -6 route replace "$B62/128" dev veth1 mtu lock 1400
	write_config
	check lb_load "$TMP/ipv6.yaml" veth1 >/dev/null
	got=$(send_big6 1400)
	echo "$got" | sed 's/^/    | /'
	check_contains "$got" "type=2 code=0 mtu=1360 from=$VIP6 len=1240 quote=fd00:10::1:21000>$VIP6:5000" \
		"packet too big from the VIP, MTU 1400 - 40, 1232 bytes of the datagram quoted"
	check_eq "$(grep -c . <<<"$got")" 1 "one ICMPv6 error"
	check_contains "$(ip -n "$PREFIX-client" -6 route get "$VIP6")" "mtu 1360" \
		"the client's kernel learned the path MTU"
	check_eq "$(counter encap.icmp6_packet_too_big)" 1 "encap.icmp6_packet_too_big"
	check_eq "$(counter encap.drop_mtu)" 0 "encap.drop_mtu"
	# What fits now (1360 - 48 bytes of headers) is balanced.
	start_captures6
	got=$(send_big6 1312)
	finish_captures
	# (The backend, which cannot decapsulate here, answers with its own error.)
	check_eq "$(grep -c "from=$VIP6 " <<<"$got")" 0 "no ICMPv6 from the VIP for a datagram that fits"
	check_eq "$(capture_total ipip6)" 1 "the datagram that fits reached a backend"
	check_eq "$(counter encap.icmp6_packet_too_big)" 1 "encap.icmp6_packet_too_big unchanged"
	# icmp_rate 0 sends none: the packet is dropped and counted.
	write_config
	echo "icmp_rate: 0" >>"$TMP/ipv6.yaml"
	check lb_load "$TMP/ipv6.yaml" veth1 >/dev/null
	check ip -n "$PREFIX-client" -6 route flush cache
	got=$(send_big6 1400)
	check_eq "$(grep -c "from=$VIP6 " <<<"$got")" 0 "icmp_rate 0: no ICMPv6"
	check_eq "$(counter encap.drop_icmp_rate_limited)" 1 "encap.drop_icmp_rate_limited"
}

# IPv4-in-IPv6: an IPv4 UDP VIP whose pool mixes an IPv4 backend with two
# IPv6 ones and an IPv4 TCP VIP on the IPv6 backends only, outer source
# outer_source6. The captures check every frame: IPIP to the IPv4 backend,
# IPv4-in-IPv6 (next header 4, from fd00:10::10) to the IPv6 ones.
test_ipv4_vip_on_ipv6_backends() {
	local out i all
	lab_up
	cat >"$TMP/ipv46.yaml" <<EOF
outer_source6: fd00:10::10
vips:
  - address: $VIP
    port: 5000
    backends: [{ip: $B1}, {ip: $B61}, {ip: $B62}]
  - address: $VIP
    protocol: tcp
    policy: maglev
    backends: [{ip: $B61}, {ip: $B62}]
EOF
	out=$(lb_load "$TMP/ipv46.yaml" veth1) || fail "lb-load failed: $out"
	echo "$out" | sed 's/^/    | /'
	check_contains "$out" "VIP $VIP:5000/udp -> 3 backends: $B1 $B61 $B62; policy least-loaded; ipip" \
		"summary: the mixed pool"
	check_eq "$(grep -c 'IPv6 outer source fd00:10::10$' <<<"$out")" 1 \
		"summary: the IPv6 tunnel source, no IPv6 flow table"
	spawn b1 "$TMP/cap1.out" "$TOOLS/ipip_capture" -i eth0 -b "$B1" -o client \
		-R "$TMP/cap1.ready"
	spawn b1 "$TMP/cap61.out" "$TOOLS/ipip_capture" -i eth0 -b "$B61" -o fd00:10::10 \
		-R "$TMP/cap61.ready"
	spawn b2 "$TMP/cap62.out" "$TOOLS/ipip_capture" -i eth0 -b "$B62" -o fd00:10::10 \
		-R "$TMP/cap62.ready"
	for i in 1 61 62; do wait_file "$TMP/cap$i.ready"; done
	send_flows "$VIP" 10.0.0.1 5000 200 3
	send_flows "$VIP" 10.0.0.1 443 50 1 tcp
	finish_captures
	for i in 1 61 62; do
		check_contains "$(cat "$TMP/cap$i.out")" "bad=0" "capture $i: frames well-formed"
		check_contains "$(cat "$TMP/cap$i.out")" "socket_drops=0" "capture $i kept up"
		grep -q '^flow ' "$TMP/cap$i.out" || fail "capture $i got no flow"
	done
	all=$(cat "$TMP"/cap*.out | grep '^flow ' | awk '{print $2, $3, $4}' | sort)
	[[ -z $(uniq -d <<<"$all") ]] || fail "flows on more than one backend"
	check_eq "$(grep -c . <<<"$all")" 250 "distinct flows received"
	grep -q '^flow tcp' "$TMP/cap1.out" && fail "a TCP flow reached the IPv4 backend"
	check_eq "$(($(capture_total ipip46) + $(capture_total ipip)))" 650 \
		"frames received, IPv4-in-IPv6 and IPIP"
	check_eq "$(capture_total ipip6)" 0 "no IPv6-in-IPv6 frame"
	(($(capture_total ipip46) >= 50 + 2 * 3)) || fail "too few IPv4-in-IPv6 frames"
	check_eq "$(counter encap.tx)" 650 "encap.tx: XDP_TX, IPv6 next hops resolved"
	check_eq "$(counter lb.flow_new)" 250 "lb.flow_new: one per flow"
	# Swapped to gue, the same pools go on in GUE: IPv4-in-GUE6 to the IPv6
	# backends, GUE over IPv4 to the IPv4 one.
	out=$(lbctl encap veth1 gue 2>&1) || fail "gue refused under IPv6 backends: $out"
	check_contains "$out" "slot encap now runs gue" "encap gue swapped in under IPv6 backends"
	for i in 1 61 62; do rm -f "$TMP/cap$i.ready" "$TMP/cap$i.out"; done
	spawn b1 "$TMP/cap1.out" "$TOOLS/ipip_capture" -i eth0 -b "$B1" -o client -g 6080 \
		-R "$TMP/cap1.ready"
	spawn b1 "$TMP/cap61.out" "$TOOLS/ipip_capture" -i eth0 -b "$B61" -o fd00:10::10 \
		-g 6080 -R "$TMP/cap61.ready"
	spawn b2 "$TMP/cap62.out" "$TOOLS/ipip_capture" -i eth0 -b "$B62" -o fd00:10::10 \
		-g 6080 -R "$TMP/cap62.ready"
	for i in 1 61 62; do wait_file "$TMP/cap$i.ready"; done
	send_flows "$VIP" 10.0.0.1 5000 200 1
	finish_captures
	for i in 1 61 62; do
		check_contains "$(cat "$TMP/cap$i.out")" "bad=0" "GUE capture $i: frames well-formed"
	done
	check_eq "$(($(capture_total gue46) + $(capture_total gue)))" 200 \
		"frames received after the swap, IPv4-in-GUE6 and GUE"
	check_eq "$(($(capture_total ipip46) + $(capture_total ipip)))" 0 \
		"no IPIP frame after the swap"
	(($(capture_total gue46) > 0)) || fail "no IPv4-in-GUE6 frame"
}

# Sends $2 ICMPv6 echo requests of $3 bytes from the client to $1, one a
# second at most, and prints "echo6 sent=N replies=M": the replies from $1
# that carry the request's identifier, sequence and data (the client's kernel
# drops a reply whose checksum is wrong before the raw socket sees it). What
# `ping -6` does, without a dependency on iputils.
echo6() {
	in_net client python3 - "$@" <<'EOF2'
import os, select, socket, struct, sys, time
dst, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
ident, replies = os.getpid() & 0xffff, 0
data = bytes(i & 0xff for i in range(size))
for seq in range(count):
    s.sendto(struct.pack("!BBHHH", 128, 0, 0, ident, seq) + data, (dst, 0))  # kernel sums
    end = time.time() + 1
    while time.time() < end:
        if not select.select([s], [], [], max(0, end - time.time()))[0]:
            break
        msg, src = s.recvfrom(4096)
        if (msg[0] == 129 and src[0] == dst and msg[4:8] == struct.pack("!HH", ident, seq)
                and msg[8:] == data):
            replies += 1
            break
print("echo6 sent=%d replies=%d" % (count, replies))
EOF2
}

# Sends from the client to [$VIP6] the ICMPv6 error type $1 code $2 (second
# word $3) that a router would send about the backend's UDP reply
# [$VIP6]:5000 -> [client]:$4: the quote is that packet's IPv6 and UDP headers
# and 32 bytes; with $5 "ext" hop-by-hop and destination options in front of
# UDP, with "later" a later fragment's header.
error6() {
	in_net client python3 - "$VIP6" "$@" <<'EOF2'
import socket, struct, sys
vip, (kind, code, word, cport) = sys.argv[1], map(int, sys.argv[2:6])
ext = sys.argv[6] if len(sys.argv) > 6 else ""
a = lambda text: socket.inet_pton(socket.AF_INET6, text)
udp = struct.pack("!HHHH", 5000, cport, 40, 0) + b"x" * 32
chain, first = b"", 17
if ext == "ext":  # PadN over the 6 bytes behind next header and length
    chain, first = bytes([60, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0]), 0
elif ext == "later":  # offset 1448, no M
    chain, first = struct.pack("!BBHI", 17, 0, 1448, 0x1234), 44
quote = (struct.pack("!IHBB", 0x60000000, len(chain + udp), first, 64) + a(vip) +
         a("fd00:10::1") + chain + udp)
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.sendto(struct.pack("!BBHI", kind, code, 0, word) + quote, (vip, 0))  # kernel sums
EOF2
}

# A config of the IPv6 UDP VIP on port 5000 at $VIP6 and at $2, whose
# icmp_echo is false; $VIP6's icmp_echo is $1.
write_echo_config() {
	cat >"$TMP/echo6.yaml" <<EOF
vips:
  - address: $VIP6
    port: 5000
    icmp_echo: $1
    backends: [{ip: $B61}, {ip: $B62}]
  - address: $2
    port: 5000
    icmp_echo: false
    backends: [{ip: $B61}]
EOF
}

# ICMPv6 echo requests to an IPv6 VIP address are answered by the balancer at
# XDP (the address is on no interface: only the balancer can answer), and
# with icmp_echo: false left to the kernel, which has no such address.
test_echo6_replies() {
	local out quiet=fd00:10::101
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	topology ipv6 "$PREFIX" "$VIP6 $quiet" "$B61" "$B62"
	write_echo_config true "$quiet"
	out=$(lb_load "$TMP/echo6.yaml" veth1) || fail "lb-load failed: $out"
	check_contains "$out" "VIP [$quiet]:5000/udp -> 1 backends: $B61; policy least-loaded; ipip; no echo replies (icmp_echo false)" \
		"the summary names the IPv6 address that answers no echo"
	check_eq "$(echo6 "$VIP6" 3 1000)" "echo6 sent=3 replies=3" "ICMPv6 echo replies from the VIP"
	check_eq "$(counter icmp.echo_reply)" 3 "icmp.echo_reply"
	check_eq "$(counter parse.to_icmp)" 3 "parse.to_icmp"
	check_eq "$(echo6 "$quiet" 2 32)" "echo6 sent=2 replies=0" "icmp_echo false: no reply"
	check_eq "$(counter icmp.pass_echo_off)" 2 "icmp.pass_echo_off"
	check_eq "$(counter icmp.echo_reply)" 3 "icmp.echo_reply unchanged"
	# A reload turns it off for $VIP6 too.
	write_echo_config false "$quiet"
	out=$(lb_load "$TMP/echo6.yaml" veth1) || fail "reload with icmp_echo false: $out"
	check_eq "$(echo6 "$VIP6" 1 32)" "echo6 sent=1 replies=0" "no reply after icmp_echo: false"
	check_eq "$(counter icmp.pass_echo_off)" 3 "icmp.pass_echo_off after the reload"
	# A reload without IPv6 VIPs removes their addresses: no icmp stage.
	write_config v4
	out=$(lb_load "$TMP/ipv6.yaml" veth1) || fail "reload without IPv6 VIPs: $out"
	check_eq "$(bpftool -j map dump pinned "$(pin_dir)/vip_addrs6")" "[]" "vip_addrs6 emptied"
	check_eq "$(echo6 "$VIP6" 1 32)" "echo6 sent=1 replies=0" "a removed address: no reply"
	check_eq "$(counter parse.to_icmp)" 6 "a removed address reaches no icmp stage"
}

# An ICMPv6 error about a flow reaches that flow's backend only, in the VIP's
# IPv6-in-IPv6 encapsulation, also when its quote has extension headers; one
# about a flow nobody has, or quoting a later fragment, goes to the kernel.
test_error6_to_flow_backend() {
	local c1 c2
	lab_up
	write_config
	check lb_load "$TMP/ipv6.yaml" veth1 >/dev/null
	start_captures6
	send6 5000 1 1 # the flow [fd00:10::1]:20000 -> [$VIP6]:5000
	sleep 0.3
	check error6 2 0 1300 20000 # packet too big about the backend's reply to it
	check error6 1 4 0 20001    # port unreachable about a flow nobody has
	# The quote's extension headers are walked to its ports.
	check error6 2 0 1300 20000 ext
	check error6 2 0 1300 20000 later # a later fragment carries no ports
	sleep 0.3
	finish_captures
	c1=$(grep -oE 'ipip6=[0-9]+' "$TMP/cap1.out" | cut -d= -f2)
	c2=$(grep -oE 'ipip6=[0-9]+' "$TMP/cap2.out" | cut -d= -f2)
	[[ "$c1 $c2" == "3 0" || "$c1 $c2" == "0 3" ]] ||
		fail "backend captures ipip6=$c1 and ipip6=$c2, expected 3 and 0 (flow + 2 errors)"
	check_contains "$(cat "$TMP/cap1.out" "$TMP/cap2.out")" "bad=0" "captures clean"
	check_eq "$(counter icmp.error_to_backend)" 2 "icmp.error_to_backend"
	check_eq "$(counter icmp.pass_error_no_flow)" 2 "icmp.pass_error_no_flow"
	check_eq "$(counter parse.to_icmp)" 4 "parse.to_icmp"
	check_eq "$(counter encap.tx)" 3 "encap.tx: the datagram and the errors"
}

# encap: gue with IPv6 VIPs (IPv6 in GUE over IPv6, fou ipproto 41) and an
# IPv4 VIP on the same IPv6 backends (ipproto 4), from outer_source6. The
# captures check every frame: the UDP header (port, length, source port) and
# its checksum over the pseudo-header and the whole segment, then the inner
# packet as for IPIP.
test_gue_to_ipv6_backends() {
	local out i
	lab_up
	cat >"$TMP/gue6.yaml" <<EOF
encap: gue
outer_source6: fd00:10::10
vips:
  - address: $VIP6
    port: 5000
    backends: [{ip: $B61}, {ip: $B62}]
  - address: $VIP6
    protocol: tcp
    policy: maglev
    backends: [{ip: $B61}, {ip: $B62}]
  - address: $VIP
    port: 5000
    backends: [{ip: $B61}, {ip: $B62}]
EOF
	out=$(lb_load "$TMP/gue6.yaml" veth1) || fail "lb-load failed: $out"
	echo "$out" | sed 's/^/    | /'
	check_contains "$out" "VIP [$VIP6]:5000/udp -> 2 backends: $B61 $B62; policy least-loaded; gue" \
		"summary: the IPv6 UDP VIP in GUE"
	check_contains "$out" "VIP $VIP:5000/udp -> 2 backends: $B61 $B62; policy least-loaded; gue" \
		"summary: the IPv4 VIP on IPv6 backends in GUE"
	spawn b1 "$TMP/cap1.out" "$TOOLS/ipip_capture" -i eth0 -b "$B61" -o fd00:10::10 -g 6080 \
		-R "$TMP/cap1.ready"
	spawn b2 "$TMP/cap2.out" "$TOOLS/ipip_capture" -i eth0 -b "$B62" -o fd00:10::10 -g 6080 \
		-R "$TMP/cap2.ready"
	wait_file "$TMP/cap1.ready"
	wait_file "$TMP/cap2.ready"
	send6 5000 100 3
	send6 443 50 1 tcp
	send_flows "$VIP" 10.0.0.1 5000 100 2
	finish_captures
	for i in 1 2; do
		check_contains "$(cat "$TMP/cap$i.out")" "bad=0" "backend $i GUE6 frames well-formed"
		check_contains "$(cat "$TMP/cap$i.out")" "socket_drops=0" "backend $i capture kept up"
		grep -q '^flow ' "$TMP/cap$i.out" || fail "backend $i got no flow"
	done
	check_eq "$(capture_total gue6)" 350 "IPv6-in-GUE6 frames received"
	check_eq "$(capture_total gue46)" 200 "IPv4-in-GUE6 frames received"
	check_eq "$(capture_total ipip6)" 0 "no IPv6-in-IPv6 frame"
	check_eq "$(counter encap.tx)" 550 "encap.tx"
	check_eq "$(counter lb.flow_new)" 250 "lb.flow_new: one per flow"
	check_eq "$(counter encap.drop_csum_too_long)" 0 "encap.drop_csum_too_long"
}

run_tests integration-ipv6 \
	test_ipv4_vip_on_ipv6_backends \
	test_gue_to_ipv6_backends \
	test_udp_and_tcp_reach_ipv6_backends \
	test_packet_too_big_to_client \
	test_lbctl_shows_ipv6 \
	test_reloads_add_keep_remove \
	test_echo6_replies \
	test_error6_to_flow_backend
