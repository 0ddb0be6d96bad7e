#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Names, numbers and files from outside (docs/operations.md, "Inputs"): every
# bad form is refused with its own message and exit code, and nothing changes:
# not the balancer loaded on veth1, and not the traps, pins placed where a bad
# interface name would lead a path outside xdp-lb's own directory.
source "$(dirname "$0")/lib.sh"

VIP=123.168.9.8
B1=10.0.1.1 B2=10.0.2.2
NS=$PREFIX-lb
# Where a name with '/' or ".." would lead lb-load inside the balancer's
# namespace, whose pin directories are /sys/fs/bpf/xdp-lb/IFNAME@NS: "../xt$$"
# to TRAP, "../xdp-lb-trap-$$" to LONG_TRAP, "xt$$/b" to INNER_TRAP.
TRAP=/sys/fs/bpf/xt$$@$NS
LONG_TRAP=/sys/fs/bpf/xdp-lb-trap-$$@$NS
INNER_TRAP=/sys/fs/bpf/xdp-lb/xt$$

# Pins named like xdp-lb's (an unload removes those names) in each trap.
make_traps() {
	local dir name
	for dir in "$TRAP" "$LONG_TRAP" "$INNER_TRAP/b@$NS"; do
		mkdir -p "$dir"
		for name in counters flows host_state vips stage_encap_ipip; do
			bpftool map create "$dir/$name" type array key 4 value 4 entries 1 \
				name xlbt_trap || fail "cannot pin a trap map at $dir/$name"
		done
	done
}

remove_traps() {
	rm -rf "$TRAP" "$LONG_TRAP" "$INNER_TRAP"
}

# Everything a refused command must leave as it was: the traps and our pins
# (names and inodes: a pin removed and made again is a change), our lock
# files, the balancer's sysctls and attachment, and what lbctl status says.
snapshot() {
	find "$TRAP" "$LONG_TRAP" "$INNER_TRAP" "$(pin_dir)" -printf '%p %i\n' 2>&1 | sort
	find /run/xdp-lb -name "*$NS*" -printf '%p\n' 2>/dev/null | sort
	in_net lb sysctl -n net.ipv4.conf.veth1.forwarding net.ipv4.conf.veth1.accept_local
	ip -n "$NS" -d link show veth1 | grep -o 'xdp.*'
	lbctl status veth1 2>&1
}

# Runs a command in the balancer's namespace; checks its exit code and that
# stderr is exactly the expected line.
refused() {
	local code=$1 expected=$2 out status
	shift 2
	out=$(in_net lb "$@" 2>&1 >/dev/null)
	status=$?
	check_eq "$status" "$code" "exit code of: $*"
	check_eq "$out" "$expected" "message of: $*"
}

# Name, as the message quotes it, and the rule it breaks.
BAD_NAMES=(
	"../xt$$|\"../xt$$\"|it contains '/'"
	"../xdp-lb-trap-$$|\"../xdp-lb-trap-$$\"|it is $((15 + ${#$})) bytes long, the limit is 15"
	"xt$$/b|\"xt$$/b\"|it contains '/'"
	".|\".\"|\".\" and \"..\" name directories"
	"..|\"..\"|\".\" and \"..\" name directories"
	"abcdefghijklmnop|\"abcdefghijklmnop\"|it is 16 bytes long, the limit is 15"
	"|\"\"|it is empty"
	"veth1:0|\"veth1:0\"|it contains ':'"
	"a b|\"a b\"|it contains whitespace (a space)"
	$'a\tb|"a\\tb"|it contains whitespace (a tab)'
	$'a\nb|"a\\nb"|it contains whitespace (a newline)'
	$'a\rb|"a\\rb"|it contains whitespace (a carriage return)'
	$'\xa0|"\\xa0"|it contains whitespace (a no-break space, 0xa0)'
	"$(printf 'a%.0s' {1..300})|\"$(printf 'a%.0s' {1..40})...\"|it is 300 bytes long, the limit is 15"
)

test_bad_interface_names_change_nothing() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	trap 'remove_traps; cleanup_test' EXIT
	make_traps
	local before entry name shown rule expected
	before=$(snapshot)
	check_contains "$before" "$TRAP/counters" "trap in place"
	check_contains "$before" "$INNER_TRAP/b@$NS/flows" "trap inside xdp-lb's directory"
	for entry in "${BAD_NAMES[@]}"; do
		name=${entry%%|*} entry=${entry#*|}
		shown=${entry%%|*} rule=${entry#*|}
		expected="Error: $shown is not a valid interface name: $rule"
		refused 2 "$expected" "$ROOT/lb-load" --unload "$name"
		refused 2 "$expected" "$ROOT/lb-load" --unload -- "$name"
		refused 2 "$expected" "$ROOT/lb-load" "$ROOT/config.yaml" "$name"
		refused 2 "$expected" "$ROOT/lb-load" --mode skb "$ROOT/config.yaml" "$name"
		refused 2 "$expected" "$ROOT/lbctl" status "$name"
		refused 2 "$expected" "$ROOT/lbctl" stats "$name" --json
		refused 2 "$expected" "$ROOT/lbctl" flows "$name"
		refused 2 "$expected" "$ROOT/lbctl" swap "$name" encap ipip
		refused 2 "$expected" "$ROOT/lbctl" encap "$name" gue
		refused 2 "$expected" "$ROOT/lbctl" policy "$name" "$VIP" hash
		check_eq "$(snapshot)" "$before" "state after the name $shown"
	done
	echo "    ${#BAD_NAMES[@]} names, 10 commands each: refused, nothing changed"
	# The balancer itself still answers to its good name.
	check_contains "$(lbctl status veth1)" "VIP $VIP:*/udp" "status of veth1"
}

test_bad_numbers_and_options() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	check lb_load "$ROOT/config.yaml" veth1 >/dev/null
	local before out
	before=$(snapshot)
	local -a cases=(
		# lbctl stats --count: a whole number 1..1000000
		'stats veth1 --count 1abc|lbctl stats: --count: "1abc" is not a decimal number, expected a whole number 1..1000000'
		'stats veth1 --count 1.9|lbctl stats: --count: "1.9" has a fraction, expected a whole number 1..1000000'
		'stats veth1 --count -1|lbctl stats: --count: "-1" is negative, expected a whole number 1..1000000'
		'stats veth1 --count +1|lbctl stats: --count: "+1" has a sign, expected a whole number 1..1000000'
		'stats veth1 --count 0x10|lbctl stats: --count: "0x10" is hexadecimal, expected a whole number 1..1000000'
		'stats veth1 --count 99999999999999999999999|lbctl stats: --count: "99999999999999999999999" is out of range, expected a whole number 1..1000000'
		'stats veth1 --count 1000001|lbctl stats: --count: "1000001" is out of range, expected a whole number 1..1000000'
		'stats veth1 --count 0|lbctl stats: --count: "0" is out of range, expected a whole number 1..1000000'
		'stats veth1 --count=|lbctl stats: --count: "" is empty, expected a whole number 1..1000000'
		'stats veth1 --count|lbctl stats: --count needs a number of refreshes'
		'stats veth1 --count 1 --count 2|lbctl stats: --count is given twice'
		# lbctl stats --watch: seconds 0.05..3600
		'stats veth1 --watch 2x|lbctl stats: --watch: "2x" is not a decimal number, expected seconds 0.05..3600'
		'stats veth1 --watch=1e3|lbctl stats: --watch: "1e3" is not a decimal number, expected seconds 0.05..3600'
		'stats veth1 --watch=inf|lbctl stats: --watch: "inf" is not a decimal number, expected seconds 0.05..3600'
		'stats veth1 --watch=nan|lbctl stats: --watch: "nan" is not a decimal number, expected seconds 0.05..3600'
		'stats veth1 --watch=.5|lbctl stats: --watch: ".5" is not a decimal number, expected seconds 0.05..3600'
		'stats veth1 --watch -1|lbctl stats: --watch: "-1" is negative, expected seconds 0.05..3600'
		'stats veth1 --watch 0x1|lbctl stats: --watch: "0x1" is hexadecimal, expected seconds 0.05..3600'
		'stats veth1 --watch 0.01|lbctl stats: --watch: "0.01" is out of range, expected seconds 0.05..3600'
		'stats veth1 --watch 3600.000000001|lbctl stats: --watch: "3600.000000001" is out of range, expected seconds 0.05..3600'
		'stats veth1 --watch 0.0000000001|lbctl stats: --watch: "0.0000000001" has more than 9 decimals, expected seconds 0.05..3600'
		'stats veth1 --watch 99999999999999999999|lbctl stats: --watch: "99999999999999999999" is out of range, expected seconds 0.05..3600'
		'stats veth1 --watch=|lbctl stats: --watch: "" is empty, expected seconds 0.05..3600'
		'stats veth1 --watch 1 --watch 2|lbctl stats: --watch is given twice'
		# options a command does not take, unknown ones, extra arguments
		'status veth1 --watch|lbctl status does not take --watch (only lbctl stats does)'
		'swap veth1 encap gue --json|lbctl swap does not take --json (lbctl status, stats and flows do)'
		'flows veth1 --reset|lbctl flows does not take --reset (only lbctl stats does)'
		'flows veth1 --watch|lbctl flows does not take --watch (only lbctl stats does)'
		'swap veth1 encap gue --count 2|lbctl swap does not take --count (only lbctl stats does)'
		'stats veth1 --json=yes|lbctl stats: --json takes no value'
		'stats veth1 --bogus|lbctl stats: unknown option "--bogus" (lbctl stats --help lists its options)'
		'status veth1 extra|lbctl status: unexpected argument "extra", usage: lbctl status IFNAME [--json]'
		'status veth1 --json extra|lbctl status: unexpected argument "extra", usage: lbctl status IFNAME [--json]'
		'swap veth1 encap|lbctl swap: missing arguments, usage: lbctl swap IFNAME SLOT STAGE'
		'status|lbctl status needs an interface name, usage: lbctl status IFNAME [--json]'
		# lbctl policy: the VIP
		"policy veth1 $VIP:x hash|lbctl policy: \"$VIP:x\" is not a VIP (ADDR[:PORT|:*][/udp|/tcp]): port \"x\" is not a decimal number, expected a whole number 0..65535"
		"policy veth1 $VIP: hash|lbctl policy: \"$VIP:\" is not a VIP (ADDR[:PORT|:*][/udp|/tcp]): port \"\" is empty, expected a whole number 0..65535"
		"policy veth1 $VIP:65536 hash|lbctl policy: \"$VIP:65536\" is not a VIP (ADDR[:PORT|:*][/udp|/tcp]): port \"65536\" is out of range, expected a whole number 0..65535"
		"policy veth1 $VIP:-1 hash|lbctl policy: \"$VIP:-1\" is not a VIP (ADDR[:PORT|:*][/udp|/tcp]): port \"-1\" is negative, expected a whole number 0..65535"
		"policy veth1 $VIP/sctp hash|lbctl policy: \"$VIP/sctp\" is not a VIP (ADDR[:PORT|:*][/udp|/tcp]): protocol \"sctp\" is not udp or tcp"
		'policy veth1 10.0.0 hash|lbctl policy: "10.0.0" is not a VIP (ADDR[:PORT|:*][/udp|/tcp]): address "10.0.0" is not an IPv4 address'
	)
	local entry args expected
	for entry in "${cases[@]}"; do
		args=${entry%%|*} expected=${entry#*|}
		# shellcheck disable=SC2086 # the arguments are words
		refused 2 "Error: $expected" "$ROOT/lbctl" $args
	done
	# An unknown or ambiguous command is followed by the list of commands.
	local usage
	usage=$("$ROOT/lbctl" --help) || fail "lbctl --help"
	refused 2 "Error: ambiguous command \"sta\": status or stats"$'\n'"$usage" "$ROOT/lbctl" sta veth1
	refused 2 "Error: ambiguous command \"stat\": status or stats"$'\n'"$usage" \
		"$ROOT/lbctl" stat veth1
	refused 2 "Error: unknown command \"frobnicate\""$'\n'"$usage" "$ROOT/lbctl" frobnicate veth1
	refused 2 "Error: unknown command \"\""$'\n'"$usage" "$ROOT/lbctl" "" veth1
	local -a load_cases=(
		"--mode foo $ROOT/config.yaml veth1|--mode must be native or skb, not \"foo\""
		"--mode|--mode needs a value: native or skb"
		"--mode skb --mode native $ROOT/config.yaml veth1|--mode is given twice"
		"--unload --mode skb veth1|--mode does not apply to --unload"
		"--unload=yes veth1|--unload takes no value"
		"--bogus $ROOT/config.yaml veth1|unknown option \"--bogus\" (lb-load --help lists them)"
		"-x $ROOT/config.yaml veth1|unknown option \"-x\" (lb-load --help lists them)"
		"--unload|--unload takes one IFNAME; usage: lb-load [--mode native|skb] [-v] CONFIG IFNAME, or lb-load --unload [-v] IFNAME, or lb-load --check CONFIG"
		"--unload veth1 veth2|--unload takes one IFNAME; usage: lb-load [--mode native|skb] [-v] CONFIG IFNAME, or lb-load --unload [-v] IFNAME, or lb-load --check CONFIG"
		"$ROOT/config.yaml|expected CONFIG IFNAME; usage: lb-load [--mode native|skb] [-v] CONFIG IFNAME, or lb-load --unload [-v] IFNAME, or lb-load --check CONFIG"
		"$ROOT/config.yaml veth1 veth2|unexpected argument \"veth2\"; usage: lb-load [--mode native|skb] [-v] CONFIG IFNAME, or lb-load --unload [-v] IFNAME, or lb-load --check CONFIG"
	)
	for entry in "${load_cases[@]}"; do
		args=${entry%%|*} expected=${entry#*|}
		# shellcheck disable=SC2086
		refused 2 "Error: $expected" "$ROOT/lb-load" $args
	done
	check_eq "$(snapshot)" "$before" "state after the refused command lines"
	echo "    ${#cases[@]} lbctl and ${#load_cases[@]} lb-load command lines refused, nothing changed"
	# The good forms still work.
	out=$(lbctl stats veth1 --watch 0.05 --count 2 --json) || fail "--watch 0.05 --count 2"
	check_eq "$(grep -c '"vips"' <<<"$out")" 2 "two refreshes"
	out=$(lbctl stats veth1 --watch=0.1 --count=1 --json) || fail "--watch=0.1 --count=1"
	check_eq "$(grep -c '"vips"' <<<"$out")" 1 "one refresh"
	out=$(lbctl stats veth1 --count 2 --json) || fail "--count alone"
	check_eq "$(grep -c '"vips"' <<<"$out")" 2 "--count alone refreshes every second"
	check lbctl statu veth1 >/dev/null
	check lbctl stats -- veth1 >/dev/null
	out=$(lbctl policy veth1 "$VIP:*/udp" hash) || fail "policy with ADDR:*/udp: $out"
	check_contains "$out" "now uses policy hash" "policy switched"
	out=$(lb_load -vmnative "$ROOT/config.yaml" veth1 2>/dev/null) || fail "-vmnative reload: $out"
	check_contains "$out" "xdp-lb reloaded on veth1" "bundled short options"
}

# Hostile YAML is refused at its limit in well under a second (the time is
# printed, not asserted) and lb-load touches nothing: no state, no XDP.
test_hostile_configs_refused_at_their_limit() {
	topology up "$PREFIX" "$VIP" "$B1" "$B2"
	python3 - "$TMP" <<'EOF'
import sys
d = sys.argv[1]
open(d + '/deep_lists.yaml', 'w').write('vips: ' + '[' * 100000 + ']' * 100000 + '\n')
open(d + '/unclosed.yaml', 'w').write('vips: ' + '[' * 1000000 + '\n')
open(d + '/deep_maps.yaml', 'w').write('vips: ' + '{a: ' * 50000 + '1' + '}' * 50000 + '\n')
open(d + '/anchors.yaml', 'w').write('vips: [' + ', '.join('&a%d x' % i for i in range(60000)) + ']\n')
open(d + '/aliases.yaml', 'w').write('x: &a 1\nvips: [' + ', '.join(['*a'] * 200000) + ']\n')
open(d + '/nodes.yaml', 'w').write('vips: [' + ','.join(['1'] * 400000) + ']\n')
line = '  - {address: 10.0.0.1, backends: [{ip: 10.0.1.1}]}\n'
big = 'vips:\n' + line * (16 * 1024 * 1024 // len(line) + 1)
open(d + '/16mib.yaml', 'w').write(big[:16 * 1024 * 1024])
EOF
	local -a cases=(
		"deep_lists.yaml|1:22: YAML limit: lists and mappings nested 17 deep, the limit is 16"
		"unclosed.yaml|1:22: YAML limit: lists and mappings nested 17 deep, the limit is 16"
		"deep_maps.yaml|1:67: YAML limit: lists and mappings nested 17 deep, the limit is 16"
		"anchors.yaml|1:2202: YAML limit: anchor number 257 (&a256), the limit is 256"
		"aliases.yaml|2:16392: YAML limit: alias number 4097 (*a), the limit is 4096"
		"nodes.yaml|1:131074: YAML limit: node number 65537 (a key, value, list or mapping), the limit is 65536"
		"16mib.yaml|20166:43: YAML limit: the file is longer than the limit, 1048576 bytes (1 MiB)"
	)
	local entry file expected start
	for entry in "${cases[@]}"; do
		file=$TMP/${entry%%|*} expected=${entry#*|}
		start=$EPOCHREALTIME
		refused 1 "$file:$expected" "$ROOT/lb-load" "$file" veth1
		awk -v name="${entry%%|*}" -v size="$(stat -c %s "$file")" -v start="$start" \
			-v end="$EPOCHREALTIME" \
			'BEGIN { printf "    %s (%d bytes): refused in %.3f s\n", name, size, end - start }'
	done
	[[ ! -e $(pin_dir) ]] || fail "state pinned at $(pin_dir)"
	ip -n "$NS" link show veth1 | grep -q xdp && fail "XDP attached to veth1"
	return 0
}

run_tests integration-inputs \
	test_bad_interface_names_change_nothing \
	test_bad_numbers_and_options \
	test_hostile_configs_refused_at_their_limit
