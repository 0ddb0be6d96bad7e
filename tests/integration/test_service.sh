#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Running xdp-lb as a service (docs/operations.md, "Install and run as a
# service"): make install and uninstall into temporary directories, the
# systemd unit (systemd-analyze verify, and its commands run by hand on a lab),
# the man pages (groff without warnings, every option of --help in them), bash
# completion, --version, lb-load --check as a user who is not root, and the
# syslog levels of lb-load's and lbctl's lines in the journal.
source "$(dirname "$0")/lib.sh"

VIP=123.168.9.8
B1=10.0.1.1 B2=10.0.2.2
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

make_in_tree() {
	make -C "$ROOT" --no-print-directory OUTPUT="$OUTPUT" "$@"
}

# What make install must put under $1 (a DESTDIR with PREFIX=/usr), sorted.
expected_files() {
	local d=$1 p doc
	{
		for p in lb-load lbctl xdp-lbd; do
			echo "$d/usr/sbin/$p"
			echo "$d/usr/share/man/man8/$p.8"
		done
		echo "$d/usr/share/man/man5/xdp-lb.yaml.5"
		echo "$d/usr/share/bash-completion/completions/lbctl"
		echo "$d/usr/lib/systemd/system/xdp-lb@.service"
		echo "$d/usr/share/doc/xdp-lb/README.md"
		for doc in "$ROOT"/docs/*.md; do
			echo "$d/usr/share/doc/xdp-lb/docs/${doc##*/}"
		done
		echo "$d/etc/xdp-lb/example.yaml"
		echo "$d/etc/xdp-lb/example.env"
	} | sort
}

test_install_and_uninstall() {
	local d=$TMP/dest out
	out=$(make_in_tree install DESTDIR="$d" PREFIX=/usr 2>&1) || fail "make install: $out"
	check_eq "$(find "$d" -type f | sort)" "$(expected_files "$d")" "files installed"
	check_eq "$(stat -c %a "$d/usr/sbin/lb-load")" 755 "mode of lb-load"
	check_eq "$(stat -c %a "$d/etc/xdp-lb/example.yaml")" 644 "mode of the sample config"
	check cmp -s "$d/usr/sbin/lbctl" "$ROOT/lbctl"
	# The unit names the directories chosen.
	check_contains "$(cat "$d/usr/lib/systemd/system/xdp-lb@.service")" \
		"ExecStartPre=/usr/sbin/lb-load /etc/xdp-lb/%i.yaml %i" "the unit's load"
	# The sample config loads: it is checked like any other.
	check_contains "$("$ROOT/lb-load" --check "$d/etc/xdp-lb/example.yaml")" \
		": OK: 2 VIPs" "lb-load --check of the sample"

	# A config edited or added by the operator is never overwritten or removed.
	echo "# mine" >>"$d/etc/xdp-lb/example.yaml"
	cp "$ROOT/config.yaml" "$d/etc/xdp-lb/eth9.yaml"
	out=$(make_in_tree install DESTDIR="$d" PREFIX=/usr 2>&1) || fail "make install again: $out"
	check_contains "$out" "kept     $d/etc/xdp-lb/example.yaml (exists;" "second install"
	check_eq "$(tail -n 1 "$d/etc/xdp-lb/example.yaml")" "# mine" "the edited sample"
	out=$(make_in_tree uninstall DESTDIR="$d" PREFIX=/usr 2>&1) || fail "make uninstall: $out"
	check_contains "$out" "kept     $d/etc/xdp-lb/example.yaml (changed since install)" \
		"uninstall"
	check_eq "$(find "$d" -type f | sort)" \
		"$(printf '%s\n' "$d/etc/xdp-lb/eth9.yaml" "$d/etc/xdp-lb/example.yaml")" \
		"files left after uninstall"
}

# Installs into $TMP/p (PREFIX and SYSCONFDIR there), so that the unit's paths exist.
install_prefix() {
	local out
	out=$(make_in_tree install PREFIX="$TMP/p" SYSCONFDIR="$TMP/p/etc" 2>&1) ||
		fail "make install PREFIX=$TMP/p: $out"
	UNIT=$TMP/p/lib/systemd/system/xdp-lb@.service
}

test_unit_matches_the_contract() {
	local etc sbin
	install_prefix
	etc=$TMP/p/etc/xdp-lb sbin=$TMP/p/sbin
	check_eq "$(grep -E '^(EnvironmentFile|Exec[A-Za-z]*)=' "$UNIT")" \
		"EnvironmentFile=-$etc/%i.env
ExecStartPre=$sbin/lb-load $etc/%i.yaml %i
ExecStart=$sbin/xdp-lbd --config $etc/%i.yaml \$XDP_LBD_OPTS %i
ExecReload=$sbin/lb-load $etc/%i.yaml %i
ExecReload=/bin/kill -HUP \$MAINPID
ExecStopPost=-$sbin/xdp-lbd --withdraw \$XDP_LBD_OPTS %i
ExecStopPost=-$sbin/lb-load --unload %i" "the unit's commands"
}

test_unit_verifies() {
	local out status
	install_prefix
	command -v systemd-analyze >/dev/null ||
		fail "systemd-analyze missing (scripts/install-deps.sh)"
	# From the unit's directory: verify takes the template for the instance.
	# MANPATH: Documentation= must name pages man finds.
	out=$(cd "${UNIT%/*}" && MANPATH="$TMP/p/share/man:" systemd-analyze verify \
		./xdp-lb@veth1.service 2>&1)
	status=$?
	check_eq "$out" "" "systemd-analyze verify"
	check_eq "$status" 0 "exit code of systemd-analyze verify"
}

# The unit's commands, as systemd would run them for xdp-lb@veth1 ("-" dropped).
unit_command() {
	grep -E "^$1=" "$UNIT" | sed -n "${2:-1}p" | sed -e "s/^$1=-\?//" -e 's/%i/veth1/g'
}

test_unit_commands_load_reload_unload() {
	local etc=$TMP/p/etc/xdp-lb out
	install_prefix
	check topology up "$PREFIX" "$VIP" "$B1" "$B2"
	cp "$ROOT/config.yaml" "$etc/veth1.yaml"
	# shellcheck disable=SC2046 # the unit's command line, split as systemd does
	out=$(in_net lb $(unit_command ExecStartPre) 2>&1) || fail "ExecStartPre: $out"
	check_contains "$out" "xdp-lb loaded on veth1" "ExecStartPre"
	check test -d "$(pin_dir)"
	printf '  - ip: 10.0.3.3\n' >>"$etc/veth1.yaml"
	# shellcheck disable=SC2046
	out=$(in_net lb $(unit_command ExecReload) 2>&1) || fail "ExecReload: $out"
	check_contains "$out" "xdp-lb reloaded on veth1" "ExecReload"
	check_contains "$out" "backends +1 -0 (2 kept)" "ExecReload"
	# XDP_LBD_OPTS empty (no veth1.env): xdp-lbd serves nothing over
	# HTTP; it runs until SIGTERM, which ends it with 0, as systemctl stop.
	local pid
	# nsenter execs xdp-lbd: $! is the daemon itself, as $MAINPID is.
	# shellcheck disable=SC2046
	nsenter --net="/run/netns/$PREFIX-lb" \
		$(unit_command ExecStart | sed 's/\$XDP_LBD_OPTS//') >"$TMP/lbd.log" 2>&1 &
	pid=$!
	sleep 1
	kill -0 "$pid" || fail "xdp-lbd exited: $(cat "$TMP/lbd.log")"
	# shellcheck disable=SC2046
	check $(unit_command ExecReload 2 | sed "s/\$MAINPID/$pid/")
	# The daemon says it read the config again.
	for _ in $(seq 50); do
		grep -q SIGHUP "$TMP/lbd.log" && break
		sleep 0.1
	done
	check_contains "$(cat "$TMP/lbd.log")" SIGHUP "xdp-lbd's log after the reload"
	kill -TERM "$pid"
	wait "$pid"
	check_eq "$?" 0 "xdp-lbd's exit code after SIGTERM"
	# shellcheck disable=SC2046
	out=$(in_net lb $(unit_command ExecStopPost | sed 's/\$XDP_LBD_OPTS//') 2>&1) ||
		fail "ExecStopPost (withdraw): $out"
	check_contains "$out" "nothing to withdraw for veth1: no --announce-table" \
		"ExecStopPost without an announce table"
	# shellcheck disable=SC2046
	out=$(in_net lb $(unit_command ExecStopPost 2) 2>&1) || fail "ExecStopPost: $out"
	check_contains "$out" "xdp-lb unloaded from veth1" "ExecStopPost"
	[[ ! -e $(pin_dir) ]] || fail "pins left after ExecStopPost"
}

# setpriv's --bounding-set for the unit's CapabilityBoundingSet, without $1.
unit_caps() {
	local cap set=-all
	for cap in $(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT"); do
		[[ $cap == "${1:-}" ]] || set+=,+$(tr '[:upper:]' '[:lower:]' <<<"${cap#CAP_}")
	done
	echo "$set"
}

test_unit_capabilities_suffice() {
	local etc=$TMP/p/etc/xdp-lb out drop
	install_prefix
	check topology up "$PREFIX" "$VIP" "$B1" "$B2"
	cp "$ROOT/config.yaml" "$etc/veth1.yaml"
	# Root with only the unit's capabilities, as systemd runs it.
	local caps=(setpriv --bounding-set="$(unit_caps)")
	check_eq "${caps[1]}" "--bounding-set=-all,+bpf,+perfmon,+net_admin,+sys_admin" \
		"the unit's capabilities"
	# shellcheck disable=SC2046
	out=$(in_net lb "${caps[@]}" $(unit_command ExecStartPre) 2>&1) || fail "load: $out"
	out=$(in_net lb "${caps[@]}" "$ROOT/lbctl" status veth1 2>&1) || fail "lbctl status: $out"
	check_contains "$out" "veth1: " "lbctl status with the unit's capabilities"
	# shellcheck disable=SC2046
	out=$(in_net lb "${caps[@]}" $(unit_command ExecReload) 2>&1) || fail "reload: $out"
	# shellcheck disable=SC2046
	out=$(in_net lb "${caps[@]}" $(unit_command ExecStopPost 2) 2>&1) || fail "unload: $out"
	check_contains "$out" "xdp-lb unloaded from veth1" "unload with the unit's capabilities"

	# Each of the two that CAP_BPF and CAP_PERFMON do not stand in for: refused
	# before anything is attached or pinned (without CAP_SYS_ADMIN the kernel
	# would attach the program and then refuse to find it again to detach it).
	for drop in CAP_SYS_ADMIN CAP_NET_ADMIN; do
		# shellcheck disable=SC2046
		out=$(in_net lb setpriv --bounding-set="$(unit_caps "$drop")" \
			$(unit_command ExecStartPre) 2>&1)
		check_eq "$?" 1 "exit code of a load without $drop"
		check_eq "$out" "Error: lb-load needs CAP_NET_ADMIN and CAP_SYS_ADMIN, and this $(
			)process lacks $drop (a container's or a systemd unit's capability bounding $(
			)set?); nothing was changed on veth1" "a load without $drop"
		[[ ! -e $(pin_dir) ]] || fail "pins left by a load without $drop"
		ip -n "$PREFIX-lb" link show veth1 | grep -q 'prog/xdp' &&
			fail "an XDP program attached by a load without $drop"
	done
	return 0
}

# The man page as text: no hyphenation, one line per paragraph, one space.
man_text() {
	groff -man -Tutf8 -rHY=0 -rLL=2000n -P-cbou "$1" 2>&1 | tr -s ' \n' ' '
}

# Every -x and --word of a --help text.
help_options() {
	grep -oE -- '(^|[][ (,|])--?[A-Za-z][A-Za-z-]*' | sed -E 's/^[][ (,|]//' | sort -u
}

check_page_has_options() {
	local page=$1 text=$2 options=$3 option
	for option in $options; do
		grep -qE -- "(^|[^A-Za-z0-9-])$option([^A-Za-z0-9-]|\$)" <<<"$text" ||
			fail "$page lacks option $option of --help"
	done
}

test_man_pages() {
	local out page text tool cmd options commands
	out=$(make_in_tree man 2>&1) || fail "make man: $out"
	for page in "$OUTPUT"/man/*.[58]; do
		out=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
		check_eq "$out" "" "groff warnings for $page"
		out=$(MANWIDTH=80 man -l "$page" 2>&1 >/dev/null)
		check_eq "$out" "" "man -l $page on stderr"
	done
	for tool in lb-load lbctl xdp-lbd; do
		text=$(man_text "$OUTPUT/man/$tool.8")
		check_contains "$text" "$("$ROOT/$tool" --version)" "$tool.8's version"
		options=$("$ROOT/$tool" --help | help_options)
		[[ -n $options ]] || fail "no option found in $tool --help"
		check_page_has_options "$tool.8" "$text" "$options"
	done
	# lbctl's commands, each with its own options.
	text=$(man_text "$OUTPUT/man/lbctl.8")
	# Every command of lbctl's table (what completion offers) is in --help.
	commands=$("$ROOT/lbctl" --help | sed -nE 's/^ +lbctl ([a-z]+) .*/\1/p')
	check_eq "$commands" "$("$ROOT/lbctl" --complete "")" "commands in lbctl --help"
	for cmd in $commands; do
		check_contains "$text" "lbctl $cmd" "lbctl.8, command $cmd"
		check_page_has_options "lbctl.8 ($cmd)" "$text" \
			"$("$ROOT/lbctl" "$cmd" --help | help_options)"
	done
	# xdp-lb.yaml(5): every section and every key of docs/configuration.md.
	text=$(man_text "$OUTPUT/man/xdp-lb.yaml.5")
	while read -r heading; do
		heading=${heading//\`/}
		check_contains "$text" "${heading^^}" "xdp-lb.yaml.5, section"
	done < <(sed -n 's/^## //p' "$ROOT/docs/configuration.md")
	while read -r key; do
		check_contains "$text" " $key " "xdp-lb.yaml.5, key"
	done < <(sed -nE 's/^\| `([a-z_.]+)` \|.*/\1/p' "$ROOT/docs/configuration.md")
}

# COMPREPLY for the command line $1 (the cursor at its end), one per line, from
# the installed script.
complete_line() {
	bash -c 'source "$1"; COMP_LINE=$2; COMP_POINT=${#2}; COMPREPLY=(); _lbctl
		printf "%s\n" "${COMPREPLY[@]}"' _ \
		"$TMP/dest/usr/share/bash-completion/completions/lbctl" "$1"
}

# The same in the balancer's network namespace.
complete_in_lb() {
	in_net lb bash -c "$(declare -f complete_line); TMP=$TMP complete_line '$1'"
}

test_bash_completion() {
	local out commands summary slots slot stages
	out=$(make_in_tree install DESTDIR="$TMP/dest" PREFIX=/usr 2>&1) ||
		fail "make install: $out"
	# The script runs the lbctl the line names: this tree's.
	export PATH=$ROOT:$PATH
	check topology up "$PREFIX" "$VIP" "$B1" "$B2"
	summary=$(lb_load "$ROOT/config.yaml" veth1) || fail "load: $summary"

	# Commands as lbctl --help lists them; a prefix as lbctl takes it.
	commands=$("$ROOT/lbctl" --help | sed -nE 's/^ +lbctl ([a-z]+) .*/\1/p')
	check_eq "$(complete_line 'lbctl ')" "$commands" "lbctl <TAB>"
	check_eq "$(complete_line 'lbctl sw')" swap "lbctl sw<TAB>"
	check_eq "$(complete_line 'lbctl st')" "$(printf 'status\nstats')" "lbctl st<TAB>"
	check_eq "$(complete_line 'lbctl --v')" --version "lbctl --v<TAB>"
	# Slots and their stages as the load summary lists them:
	# "swappable at runtime (lbctl swap veth1 SLOT STAGE): lb: least-loaded; ...".
	slots=$(grep -F 'swappable at runtime' <<<"$summary" | sed 's/.*STAGE)://' | tr ';' '\n')
	[[ -n $slots ]] || fail "no slots in the load summary: $summary"
	check_eq "$(complete_line 'lbctl swap veth1 ')" "$(cut -d: -f1 <<<"$slots" | tr -d ' ')" \
		"lbctl swap veth1 <TAB>"
	while IFS=: read -r slot stages; do
		slot=${slot// /}
		check_eq "$(complete_line "lbctl swap veth1 $slot " | tr '\n' ' ')" "${stages# } " \
			"lbctl swap veth1 $slot <TAB>"
	done <<<"$slots"
	check_eq "$(complete_line 'lbctl encap veth1 g')" gue "lbctl encap veth1 g<TAB>"
	check_eq "$(complete_line 'lbctl stats veth1 --w')" --watch "lbctl stats veth1 --w<TAB>"
	check_eq "$(complete_line 'lbctl policy veth1 10.0.0.1:80/tcp m')" maglev \
		"lbctl policy ... m<TAB>"

	# In the balancer's namespace: the interfaces that have xdp-lb, the VIPs of one.
	check_eq "$(complete_in_lb 'lbctl status ')" veth1 \
		"lbctl status <TAB> in the balancer's namespace"
	check_eq "$(complete_in_lb 'lbctl policy veth1 ')" "$VIP:\\*/udp" "lbctl policy veth1 <TAB>"
	# readline replaces what follows the last ':' of the word.
	check_eq "$(complete_in_lb "lbctl policy veth1 $VIP:")" "\\*/udp" \
		"lbctl policy veth1 $VIP:<TAB>"
	# A user cannot read the pins: every interface is offered (for sudo).
	check_eq "$(in_net lb "${NOBODY[@]}" "$ROOT/lbctl" --complete status "")" \
		"$(in_net lb ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//')" \
		"interfaces offered to a user"
}

test_version() {
	local version
	version=$(sed -n 's/.*LB_VERSION "\(.*\)"/\1/p' "$OUTPUT/gen/lb_version.h")
	[[ -n $version ]] || fail "no version in $OUTPUT/gen/lb_version.h"
	if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
		check_eq "$version" "$(git -C "$ROOT" describe --always --dirty)" \
			"the built version"
	fi
	check_eq "$("$ROOT/lb-load" --version)" "lb-load (xdp-lb) $version" "lb-load --version"
	check_eq "$("$ROOT/lbctl" --version)" "lbctl (xdp-lb) $version" "lbctl --version"
	check_eq "$("$ROOT/xdp-lbd" --version)" "xdp-lbd (xdp-lb) $version" "xdp-lbd --version"
	check_eq "$("$ROOT/lbctl" --version extra 2>&1 | head -n 1)" \
		"Error: lbctl --version takes no arguments" "lbctl --version extra"

	# Outside its own git repository (here: unpacked inside another one): the
	# VERSION file, else "unknown"; the header is replaced only when the
	# version changes, so nothing is rebuilt for nothing.
	local src=$TMP/outer/src header=$TMP/outer/src/out/gen/lb_version.h mtime
	mkdir -p "$src"
	check git init -q "$TMP/outer"
	check git -C "$TMP/outer" -c user.name=t -c user.email=t@example.org commit -q \
		--allow-empty -m outer
	cp "$ROOT/Makefile" "$src/"
	echo '1.2.3 "quoted"' >"$src/VERSION"
	check make -s -C "$src" OUTPUT=out out/gen/lb_version.h >/dev/null
	check_eq "$(grep LB_VERSION "$header")" '#define LB_VERSION "1.2.3quoted"' "from VERSION"
	mtime=$(date -r "$header" +%s.%N)
	sleep 0.1
	check make -s -C "$src" OUTPUT=out out/gen/lb_version.h >/dev/null
	check_eq "$(date -r "$header" +%s.%N)" "$mtime" "the header's time when nothing changed"
	rm "$src/VERSION"
	check make -s -C "$src" OUTPUT=out out/gen/lb_version.h >/dev/null
	check_eq "$(grep LB_VERSION "$header")" '#define LB_VERSION "unknown"' "without VERSION"
}

test_check_needs_no_root() {
	local dir=$TMP/configs out status
	# Readable by nobody, as a config checked before installing it would be.
	mkdir -p "$dir"
	chmod 755 "${TMP%/*}" "$TMP" "$dir"
	cp "$ROOT/config.yaml" "$dir/good.yaml"
	cp "$ROOT/tests/config/bad/bad_ip.yaml" "$dir/bad.yaml"
	chmod 644 "$dir"/*.yaml
	out=$("${NOBODY[@]}" "$ROOT/lb-load" --check "$dir/good.yaml" 2>&1)
	check_eq "$?" 0 "exit code of --check on a good config"
	check_eq "$out" "$dir/good.yaml: OK: 1 VIP (0 nat), 2 backends (2 up, 0 drain, 0 down), $(
		)encap ipip, flow table 65536 entries; nothing loaded" "--check on a good config"
	out=$("${NOBODY[@]}" "$ROOT/lb-load" --check "$dir/bad.yaml" 2>&1)
	check_eq "$?" 1 "exit code of --check on a bad config"
	check_eq "$out" \
		"$dir/bad.yaml:7:13: vips[0].backends[1].ip: \"10.0.1\" is not an IPv4 or IPv6 address" \
		"--check on a bad config"
	out=$("${NOBODY[@]}" "$ROOT/lb-load" --check "$dir/none.yaml" 2>&1)
	check_eq "$?" 1 "exit code of --check on a missing file"
	check_eq "$out" "Failed to open config file $dir/none.yaml: No such file or directory" \
		"--check on a missing file"
	out=$("${NOBODY[@]}" "$ROOT/lb-load" --check "$dir/good.yaml" veth1 2>&1)
	status=$?
	check_eq "$status" 2 "exit code of --check with an interface"
	check_contains "$out" "--check takes one CONFIG and no IFNAME" "--check with an interface"
	out=$("${NOBODY[@]}" "$ROOT/lb-load" --check --unload "$dir/good.yaml" 2>&1)
	check_eq "$?" 2 "exit code of --check --unload"
	check_eq "$out" "Error: --check and --unload do not go together" "--check --unload"
}

# Runs a command with stderr to $TMP/journal and JOURNAL_STREAM naming $1
# (that file, or another): what systemd does for a unit's output.
with_journal() {
	local named=$1
	shift
	: >"$TMP/journal"
	JOURNAL_STREAM=$(stat -c %d:%i "$named") "$@" 2>"$TMP/journal" >/dev/null
	return 0
}

test_journal_levels() {
	local bad=$ROOT/tests/config/bad/bad_ip.yaml
	: >"$TMP/other"
	with_journal "$TMP/journal" "$ROOT/lb-load" --check "$bad"
	check_eq "$(cat "$TMP/journal")" \
		"<3>$bad:7:13: vips[0].backends[1].ip: \"10.0.1\" is not an IPv4 or IPv6 address" \
		"a config error in the journal"
	with_journal "$TMP/journal" "$ROOT/lb-load" --bogus
	check_eq "$(cat "$TMP/journal")" \
		"<3>Error: unknown option \"--bogus\" (lb-load --help lists them)" \
		"a usage error in the journal"
	with_journal "$TMP/journal" "$ROOT/lbctl" status "xt$$"
	# (What follows depends on whether bpffs is mounted.)
	[[ $(cat "$TMP/journal") == "<3>Error: xdp-lb is not loaded on xt$$ ("* ]] ||
		fail "an lbctl error in the journal: $(cat "$TMP/journal")"
	# JOURNAL_STREAM inherited, output elsewhere: no levels.
	with_journal "$TMP/other" "$ROOT/lb-load" --bogus
	check_eq "$(cat "$TMP/journal")" \
		"Error: unknown option \"--bogus\" (lb-load --help lists them)" \
		"an error when the journal is another stream"
}

run_tests integration-service \
	test_install_and_uninstall \
	test_unit_matches_the_contract \
	test_unit_verifies \
	test_unit_commands_load_reload_unload \
	test_unit_capabilities_suffice \
	test_man_pages \
	test_bash_completion \
	test_version \
	test_check_needs_no_root \
	test_journal_levels
