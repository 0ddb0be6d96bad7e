#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs the test suites and adds their closing lines into one summary.
#   tests/run.sh [NAME...]   run the suites whose name contains one of the NAMEs
#                            (make test TESTS="nat bare" passes them as one word)
# Each suite prints "<suite>: N passed, N failed, N skipped" last; a suite that
# exits non-zero without that line (a crash) counts as one failure.
set -u
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-build}
read -ra filters <<<"$*"

# Whether suite $1 is picked: no NAME given, or its name contains one.
picked() {
	local want
	((${#filters[@]} == 0)) && return 0
	for want in "${filters[@]}"; do
		[[ $1 == *"$want"* ]] && return 0
	done
	return 1
}

# Every tests/unit/test_<name>.c is a unit suite (the Makefile builds them all
# by the same rule), every tests/integration/test_<name>.sh an integration one.
suites=()
for source in tests/unit/test_*.c; do
	name=$(basename "$source" .c)
	suites+=("unit-${name#test_}|$OUTPUT/tests/$name")
done
suites+=(
	"config|$OUTPUT/tests/test_config"
	"fuzz-packets|$OUTPUT/tests/fuzz_packets"
	"sanitize|tests/fuzz/test_sanitized.sh"
)
for script in tests/integration/test_*.sh; do
	name=$(basename "$script" .sh)
	suites+=("integration-${name#test_}|$script")
done
# Debian releases under QEMU, one after the other: libxdp's dispatcher, coexistence,
# real backends. Debian 12's kernel runs the host's binaries; Debian 13 and unstable
# build xdp-lb in their own root filesystem (tests/vm/run.sh).
suites+=("vm-dispatcher|tests/vm/run.sh|debian12")
suites+=("vm-trixie|tests/vm/run.sh|trixie")
suites+=("vm-sid|tests/vm/run.sh|sid")

passed=0 failed=0 skipped=0 broken=()
for entry in "${suites[@]}"; do
	# name|command[|argument]
	IFS='|' read -r name cmd arg <<<"$entry"
	picked "$name" || continue
	echo "=== $name"
	log=$(mktemp)
	"$cmd" ${arg:+"$arg"} 2>&1 | tee "$log"
	status=${PIPESTATUS[0]}
	summary=$(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1)
	rm -f "$log"
	if [[ -z $summary ]]; then
		echo "$name: exited with status $status and no summary line"
		failed=$((failed + 1))
		broken+=("$name")
		continue
	fi
	read -r p f s < <(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped/\1 \2 \3/' <<<"$summary")
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	if ((status != 0 && f == 0)); then
		failed=$((failed + 1))
		broken+=("$name (status $status)")
	elif ((f > 0)); then
		broken+=("$name")
	fi
done
echo
((${#broken[@]})) && echo "failing suites: ${broken[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
