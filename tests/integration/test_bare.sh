#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# First contact on a bare machine, as a new user or a container has it: a
# private mount namespace with no bpffs at /sys/fs/bpf, no sudo, and plain veth
# labs with nothing prepared (the balancer does not forward, veth1's peer runs
# no XDP program, no neighbour is resolved). lb-load must mount bpffs, turn
# forwarding on, get frames delivered through the kernel where the peer would
# drop XDP_TX frames, and put everything back at unload; whatever is lost
# outside our counters must show in lbctl stats.

# The whole suite runs in a mount namespace of its own, as in a privileged
# container: what it mounts and unmounts never reaches the host.
if [[ -z ${XLB_BARE_INNER:-} ]]; then
	exec unshare --mount --propagation private env XLB_BARE_INNER=1 "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"

LB=10.0.0.10 B1=10.0.0.2 B2=10.0.0.3
# The VIP and backends of config.yaml, which the plain lab serves.
VIP=123.168.9.8 SEED_B1=10.0.1.1 SEED_B2=10.0.2.2

# No sudo here, whether the machine has one or not.
if command -v sudo >/dev/null; then
	mount --bind /dev/null "$(command -v sudo)"
fi

# Unmounts every bpffs stacked on /sys/fs/bpf in this mount namespace.
unmount_bpffs() {
	while mountpoint -q /sys/fs/bpf; do
		umount -l /sys/fs/bpf || fail "cannot unmount /sys/fs/bpf"
	done
}

# A plain lab and captures at both backends; frames forwarded by the
# balancer's kernel arrive with the outer TTL decremented once.
plain_lab() {
	TOPOLOGY_PLAIN=1 topology up "$PREFIX" "$VIP" "$SEED_B1" "$SEED_B2"
}

start_captures() {
	local ttl=$1 i=0 addr
	for addr in "$SEED_B1" "$SEED_B2"; do
		i=$((i + 1))
		spawn "b$i" "$TMP/cap$i.out" "$TOOLS/ipip_capture" -i eth0 -b "$addr" -o client \
			-t "$ttl" -R "$TMP/ready$i"
		wait_file "$TMP/ready$i"
	done
}

sysctl_of() {
	in_net lb cat "/proc/sys/net/ipv4/conf/veth1/$1"
}

# After an unload: no program on veth1, no pins, no lock, sysctls as before.
check_nothing_left() {
	check_eq "$(sysctl_of forwarding)" 0 "forwarding after unload"
	check_eq "$(sysctl_of accept_local)" 0 "accept_local after unload"
	in_net lb ip link show veth1 | grep -q ' xdp' && fail "an XDP program is left on veth1"
	[[ ! -e $(pin_dir) ]] || fail "pins left under $(pin_dir)"
	[[ ! -e /run/xdp-lb/veth1@$PREFIX-lb.lock ]] || fail "lock file left"
}

test_no_bpffs_no_sudo() {
	unmount_bpffs
	! command -v sudo >/dev/null || [[ ! -s $(command -v sudo) ]] ||
		fail "sudo is still usable"
	plain_lab
	local out
	out=$(lb_load "$ROOT/config.yaml" veth1) || fail "lb-load failed: $out"
	check_contains "$out" "bpffs was not mounted at /sys/fs/bpf: mounted it" "says it mounted bpffs"
	check mountpoint -q /sys/fs/bpf
	check_contains "$out" "state pinned under $(pin_dir)" "pin directory named by the namespace"
	[[ -e $(pin_dir)/stage_slots ]] || fail "no pins under $(pin_dir)"
	out=$(lbctl status veth1) || fail "lbctl status failed: $out"
	out=$(lb_load --unload veth1) || fail "unload failed: $out"
	check_nothing_left
}

test_plain_veth_lab_delivers() {
	unmount_bpffs
	plain_lab
	check_eq "$(sysctl_of forwarding)" 0 "forwarding before the load"
	local out sent=200
	out=$(lb_load "$ROOT/config.yaml" veth1) || fail "lb-load failed: $out"
	check_contains "$out" "IPv4 forwarding was off on veth1: turned on" "says it turned forwarding on"
	check_contains "$out" "veth1 is a veth whose peer p-lb (in another network namespace) runs no XDP program" \
		"says why frames go through the kernel"
	check_contains "$out" "xdp-filter load p-lb" "says how to get full speed"
	check_eq "$(sysctl_of forwarding)" 1 "forwarding while loaded"
	check_contains "$(lbctl status veth1)" "frames leave through the kernel's forwarding" \
		"status says how frames leave"
	start_captures 63
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 5000 -f 40 -n 5 >/dev/null ||
		fail "flow_send failed"
	finish_captures
	check_eq "$(capture_total packets)" "$sent" "packets at the backends"
	check_eq "$(capture_total bad)" 0 "bad frames at the backends"
	check_eq "$(capture_total socket_drops)" 0 "capture socket drops"
	check_one_backend_per_flow
	check_eq "$(counter parse.to_lb)" "$sent" "VIP packets at the balancer"
	check_eq "$(($(counter encap.pass_to_stack) + $(counter encap.pass_no_neigh)))" "$sent" \
		"frames handed to the kernel"
	check_eq "$(counter encap.tx)" 0 "XDP_TX frames (the peer would drop them)"
	out=$(lbctl stats veth1)
	check_contains "$out" "dropped   none" "nothing dropped, driver included"
	check_contains "$out" "kernel    no IP drops" "the kernel dropped nothing"
	out=$(lb_load --unload veth1) || fail "unload failed: $out"
	check_contains "$out" "IPv4 forwarding on veth1 is off again" "says it restored forwarding"
	check_nothing_left
}

# The balancer's own address as nat_source, every neighbour cold: the first
# frames to each server are handed to the kernel with a local source address,
# which it forwards (and ARPs for) only with accept_local.
test_nat_source_is_the_balancer_cold_neighbours() {
	local i used="" out
	unmount_bpffs
	TOPOLOGY_PLAIN=1 topology up "$PREFIX" "" "$B1" "$B2"
	full_checksums
	cat >"$TMP/config.yaml" <<YAML
nat_source: $LB
vips:
  - {address: $LB, port: 8080, protocol: tcp, forwarding: nat, backends: [{ip: $B1}, {ip: $B2}]}
  - {address: $LB, port: 8081, protocol: udp, forwarding: nat, backends: [{ip: $B1}, {ip: $B2}]}
YAML
	out=$(lb_load "$TMP/config.yaml" veth1) || fail "lb-load failed: $out"
	check_contains "$out" "accept_local turned on for veth1: frames handed to the kernel carry this host's address $LB" \
		"says why accept_local"
	check_eq "$(sysctl_of accept_local)" 1 "accept_local while loaded"
	in_net lb ip neigh show | grep -q lladdr && fail "a neighbour was already resolved"
	start_echo_servers 8080 8081
	for i in $(seq 4); do
		echo "request $i $RANDOM" >"$TMP/request$i"
		in_net client timeout 10 socat -t 2 - "TCP:$LB:8080" <"$TMP/request$i" \
			>"$TMP/reply$i" || fail "TCP connection $i failed"
		[[ $(tail -n 1 "$TMP/reply$i") == $(cat "$TMP/request$i") ]] ||
			fail "TCP reply $i is not the request echoed: $(cat "$TMP/reply$i")"
		used+="$(head -n 1 "$TMP/reply$i") "
		in_net client timeout 5 socat -t 1 - "UDP:$LB:8081" <"$TMP/request$i" \
			>"$TMP/ureply$i" || fail "UDP exchange $i failed"
		[[ $(tail -n 1 "$TMP/ureply$i") == $(cat "$TMP/request$i") ]] ||
			fail "UDP reply $i is not the request echoed: $(cat "$TMP/ureply$i")"
	done
	check_contains "$used" "b1" "server b1 answered"
	check_contains "$used" "b2" "server b2 answered"
	(($(counter encap.pass_no_neigh) > 0)) || fail "no frame met a cold neighbour"
	check_contains "$(lbctl stats veth1)" "dropped   none" "nothing dropped"
	stop_spawned
	out=$(lb_load --unload veth1) || fail "unload failed: $out"
	check_contains "$out" "accept_local on veth1 is off again" "says it restored accept_local"
	check_nothing_left
}

# XDP_TX toward a peer that loses its XDP program after the load: the driver
# drops every frame, and lbctl stats must say so.
test_driver_drops_are_shown() {
	local out tx sent=50
	unmount_bpffs
	plain_lab
	check ip -n "$PREFIX-sw" link set dev p-lb xdp obj "$OUTPUT/bpf/xdp_pass.bpf.o" sec xdp
	out=$(lb_load "$ROOT/config.yaml" veth1) || fail "lb-load failed: $out"
	grep -q "runs no XDP program" <<<"$out" && fail "lb-load did not see the peer's program"
	check_contains "$(lbctl status veth1)" "frames leave by XDP_TX" "status says XDP_TX"
	check ip -n "$PREFIX-sw" link set dev p-lb xdp off
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 5000 -f 10 -n 5 >/dev/null ||
		fail "flow_send failed"
	# The first frame to each backend meets a cold neighbour and goes
	# through the kernel; every other one is an XDP_TX the driver drops.
	tx=$(counter encap.tx)
	check_eq "$((tx + $(counter encap.pass_no_neigh)))" "$sent" "frames sent on"
	((tx >= sent - 2)) || fail "only $tx of $sent frames left by XDP_TX"
	out=$(lbctl stats veth1)
	check_contains "$out" "driver xdp_tx_errors $tx" "driver drops in the dropped line"
	check_contains "$(lbctl stats veth1 --json)" "\"driver.xdp_tx_errors\": $tx" \
		"driver drops in --json"
}

# A backend that never answers ARP: the frames handed to the kernel without a
# neighbour are dropped there (with an ICMP host unreachable to the client),
# and lbctl stats must show it on its kernel line.
test_unresolved_neighbour_is_shown() {
	local out i n=0
	unmount_bpffs
	TOPOLOGY_PLAIN=1 topology up "$PREFIX" "$VIP"
	printf 'vip: %s\nbackends:\n  - ip: 10.0.9.9\n' "$VIP" >"$TMP/config.yaml"
	out=$(lb_load "$TMP/config.yaml" veth1) || fail "lb-load failed: $out"
	in_net client "$TOOLS/flow_send" -d "$VIP" -p 5000 -f 2 -n 5 >/dev/null ||
		fail "flow_send failed"
	check_eq "$(counter encap.pass_no_neigh)" 10 "frames handed to the kernel"
	# The kernel gives up after its ARP probes (about 3 s), then drops them.
	for i in $(seq 80); do
		# One ICMP unreachable per frame, sent or suppressed by rate limiting.
		n=$(lbctl stats veth1 --json |
			grep -oE '"kernel.Out(DestUnreachs|RateLimitGlobal|RateLimitHost)": [0-9]+' |
			grep -oE '[0-9]+$' | awk '{ n += $1 } END { print n + 0 }')
		((n >= 10)) && break
		sleep 0.1
	done
	((n >= 10)) || fail "ICMP unreachables sent or suppressed: $n, not >= 10"
	check_contains "$(lbctl stats veth1)" "OutDestUnreachs" "shown on the kernel line"
}

# A config with a priority reloads in place whatever the mode: in single-program
# mode (this host's kernel refuses the dispatcher) libxdp reports its default
# priority, which once made every such reload "change" the priority and fail.
test_reload_keeps_a_configured_priority() {
	local out
	unmount_bpffs
	plain_lab
	printf 'priority: 40\nvip: %s\nbackends:\n  - ip: %s\n' "$VIP" "$SEED_B1" >"$TMP/p.yaml"
	out=$(lb_load "$TMP/p.yaml" veth1) || fail "lb-load failed: $out"
	if grep -q "single-program" <<<"$out"; then
		check_contains "$out" "(priority applies in the dispatcher only)" "summary"
		check_contains "$(lbctl status veth1)" "a single program: no run order" "status"
	else
		check_contains "$out" "priority 40" "summary"
	fi
	out=$(lb_load "$TMP/p.yaml" veth1 2>&1) || fail "reload with the same priority failed: $out"
	check_contains "$out" "xdp-lb reloaded on veth1" "reloaded in place"
}

# `make test` and `make demo` never run apt-get themselves (`make deps` does): on a
# machine that lacks a package they stop at once and name it and the step that
# installs it. dpkg-query is replaced by one that says socat is not installed.
test_missing_package_is_named() {
	local out fake=$TMP/fake-dpkg
	mkdir -p "$fake"
	cat >"$fake/dpkg-query" <<'FAKE'
#!/bin/sh
for last; do :; done
[ "$last" = socat ] && { printf 'unknown ok not-installed'; exit 0; }
exec /usr/bin/dpkg-query "$@"
FAKE
	chmod +x "$fake/dpkg-query"
	out=$(PATH=$fake:$PATH make -C "$ROOT" --no-print-directory OUTPUT="$OUTPUT" test TESTS=none 2>&1) &&
		fail "make test went on without socat: $out"
	check_contains "$out" "Missing Debian packages: socat" "make test names the package"
	check_contains "$out" "make deps" "and the step that installs it"
	[[ $out != *"passed,"* ]] || fail "suites ran without socat: $out"
	out=$(PATH=$fake:$PATH "$ROOT/scripts/install-deps.sh" --check build demo 2>&1) ||
		fail "the demo needs no socat, yet the check failed: $out"
}

# The README's first command, as a new user runs it on such a machine: no
# bpffs, no sudo, and a kernel that refuses XDP live frames (refuse_live.so
# makes every live test run fail with EPERM, as the CI kernel does), so the
# demo's phase 4 must fall back to another way of sending.
test_readme_demo_on_a_bare_host() {
	local out
	unmount_bpffs
	out=$(DEMO_SHORT=1 DEMO_PREFIX=$PREFIX DEMO_OUT=$TMP/demo \
		LD_PRELOAD=$TOOLS/refuse_live.so timeout 300 \
		make -C "$ROOT" --no-print-directory OUTPUT="$OUTPUT" deps demo 2>&1) ||
		fail "make demo failed:
$out"
	check_contains "$out" "bpffs was not mounted at /sys/fs/bpf: mounted it" "lb-load mounted bpffs"
	check_contains "$out" "live frames refused by the kernel (Operation not permitted)" \
		"xdp_send says why it falls back"
	check_contains "$(cat "$TMP/demo/send-live.txt")" " method=afxdp" "phase 4 sent by AF_XDP"
	check_contains "$out" "== checks passed" "the demo's own verdict"
	[[ -z $(ip netns list 2>/dev/null | grep "^$PREFIX-") ]] || fail "the demo left namespaces"
}

# Pin directories: none of the namespace in the initial one (whatever /proc/1
# allows; a dot in the interface's name escaped), the inode in one without a name; `ip netns exec` is refused with
# the same words by lb-load and lbctl.
test_pin_directory_names() {
	local out inner
	unmount_bpffs
	# A dot, as in a VLAN device (eth0.100): bpffs refuses dots in names.
	local dev="${PREFIX}.a" peer="${PREFIX}b" want="/sys/fs/bpf/xdp-lb/${PREFIX}%2ea"
	ip link add "$dev" type veth peer name "$peer" || fail "cannot create a veth pair"
	check ip link set "$dev" up
	check ip link set "$peer" up
	out=$("$ROOT/lb-load" "$ROOT/config.yaml" "$dev") || {
		ip link del "$dev"
		fail "lb-load in the initial namespace failed: $out"
	}
	grep -q "state pinned under $want$" <<<"$out" || {
		"$ROOT/lb-load" --unload "$dev" >/dev/null
		ip link del "$dev"
		fail "initial namespace: pin directory is not $want: $out"
	}
	out=$("$ROOT/lbctl" status "$dev" 2>&1) || {
		"$ROOT/lb-load" --unload "$dev" >/dev/null
		ip link del "$dev"
		fail "lbctl does not find the state of $dev: $out"
	}
	"$ROOT/lb-load" --unload "$dev" >/dev/null || fail "unload in the initial namespace"
	ip link del "$dev"
	[[ ! -e $want ]] || fail "pins left under $want"

	# A namespace with no name under /run/netns.
	inner=$(unshare --net bash -c '
		ip link add eth9 type veth peer name eth8 && ip link set eth9 up &&
		ip link set eth8 up || exit 1
		"$1" "$2" eth9 | grep "state pinned under" || exit 1
		echo "inode $(stat -L -c %i /proc/self/ns/net)"
		"$1" --unload eth9 >/dev/null' _ "$ROOT/lb-load" "$ROOT/config.yaml") ||
		fail "lb-load in an unnamed namespace failed: $inner"
	check_contains "$inner" "state pinned under /sys/fs/bpf/xdp-lb/eth9@netns$(sed -n 's/^inode //p' <<<"$inner")" \
		"unnamed namespace: pinned under its inode"

	plain_lab
	out=$(ip netns exec "$PREFIX-lb" "$ROOT/lb-load" "$ROOT/config.yaml" veth1 2>&1) &&
		fail "lb-load under ip netns exec succeeded: $out"
	check_contains "$out" "under \`ip netns exec\`" "lb-load names ip netns exec"
	check_contains "$out" "nsenter --net=/run/netns/NAME" "lb-load says what to use"
	in_net lb ip link show veth1 | grep -q ' xdp' && fail "lb-load attached under ip netns exec"
	[[ ! -e /run/xdp-lb/veth1@$PREFIX-lb.lock ]] || fail "a refused load left its lock file"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	out=$(ip netns exec "$PREFIX-lb" "$ROOT/lbctl" status veth1 2>&1) &&
		fail "lbctl under ip netns exec succeeded: $out"
	check_contains "$out" "under \`ip netns exec\`" "lbctl says what lb-load says"
}

run_tests integration-bare test_missing_package_is_named test_no_bpffs_no_sudo test_plain_veth_lab_delivers \
	test_nat_source_is_the_balancer_cold_neighbours test_driver_drops_are_shown \
	test_unresolved_neighbour_is_shown test_reload_keeps_a_configured_priority \
	test_readme_demo_on_a_bare_host test_pin_directory_names
