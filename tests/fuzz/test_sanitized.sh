#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The config and unit tests, a short packet fuzz, the config fuzz target's seed
# corpus and a short seeded run of the command-line fuzz target, all built with
# AddressSanitizer and UBSan (make SANITIZE=1) and run.
# Ends with "sanitize: N passed, N failed, N skipped", the sums of what it ran;
# a sanitizer report or a crash is one failure more.
set -u
cd "$(dirname "$0")/../.."
OUTPUT=${OUTPUT:-build}
SAN=$OUTPUT/sanitize
SUITE=sanitize
# Frames for the packet fuzzer under ASan: its code, not the BPF side, is checked here.
FRAMES=5000
# Inputs for the command-line fuzzer: 4 to 6 s.
CLI_RUNS=100000

passed=0 failed=0 skipped=0
summary() {
	echo "$SUITE: $passed passed, $failed failed, $skipped skipped"
	((failed == 0))
	exit
}

# Independent of a parent make's job server: this is one build of its own.
start=$SECONDS
log=$(mktemp)
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -j"$(nproc)" \
	SANITIZE=1 OUTPUT="$SAN" sanitize >"$log" 2>&1; then
	sed 's/^/    /' "$log" | tail -n 40
	rm -f "$log"
	echo "    the sanitized build failed"
	failed=1
	echo "  --- fuzz_cli: its seed corpus, then $CLI_RUNS inputs from seed 1 (libFuzzer, ASan, UBSan)"
# New inputs go to a scratch directory: libFuzzer writes into its first corpus.
cli_scratch=$(mktemp -d)
run one fuzz_cli "$SAN/fuzz/fuzz_cli" -seed=1 -runs="$CLI_RUNS" -dict=tests/fuzz/cli.dict \
	-artifact_prefix="$SAN/fuzz/" "$cli_scratch" tests/fuzz/corpus/cli
rm -rf "$cli_scratch"
summary
fi
rm -f "$log"
echo "    built in $((SECONDS - start)) s into $SAN"

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Runs one binary. Mode "count" adds its closing "N passed, N failed, N skipped"
# line; mode "one" counts it as one test. A crash, a non-zero exit or a
# sanitizer report (even with exit 0) is one failure when nothing else failed.
run() {
	local mode=$1 name=$2 out status line bad=0 f=0
	shift 2
	out=$(mktemp)
	"$@" >"$out" 2>&1
	status=$?
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out"; then
		bad=1
	fi
	# A single test (libFuzzer's replay) shows its lines only when it fails.
	if [[ $mode == count ]] || ((status != 0 || bad)); then
		sed 's/^/    /' "$out"
	else
		echo "    $name: $(grep -m1 -oE 'Running [0-9]+ inputs|Done [0-9]+ runs in [0-9]+ second\(s\)' "$out" || echo ran), no report"
	fi
	((bad)) && echo "    $name: sanitizer report above"
	line=$(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$out" | tail -n 1)
	rm -f "$out"
	if [[ $mode == count && $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+) ]]; then
		f=${BASH_REMATCH[2]}
		passed=$((passed + BASH_REMATCH[1])) failed=$((failed + f))
		skipped=$((skipped + BASH_REMATCH[3]))
	elif ((status == 0 && !bad)); then
		passed=$((passed + 1))
		return
	fi
	if (((status != 0 || bad) && f == 0)); then
		echo "    $name: exited with status $status"
		failed=$((failed + 1))
	fi
}

for bin in "$SAN"/tests/test_*; do
	name=$(basename "$bin")
	echo "  --- $name (ASan, UBSan)"
	if [[ $name == test_config ]]; then
		# Its allocation-failure case reaches a libyaml leak; see the file.
		LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan-libyaml.supp run count "$name" "$bin"
	else
		run count "$name" "$bin"
	fi
done
echo "  --- fuzz_packets -n $FRAMES (ASan, UBSan)"
run count fuzz_packets "$SAN/tests/fuzz_packets" -n "$FRAMES"
echo "  --- fuzz_config on its seed corpus (libFuzzer, ASan, UBSan)"
run one fuzz_config "$SAN/fuzz/fuzz_config" tests/config/good/*.yaml tests/config/bad/*.yaml \
	$(find tests/fuzz/corpus/config -type f 2>/dev/null)
echo "  --- fuzz_cli: its seed corpus, then $CLI_RUNS inputs from seed 1 (libFuzzer, ASan, UBSan)"
# New inputs go to a scratch directory: libFuzzer writes into its first corpus.
cli_scratch=$(mktemp -d)
run one fuzz_cli "$SAN/fuzz/fuzz_cli" -seed=1 -runs="$CLI_RUNS" -dict=tests/fuzz/cli.dict \
	-artifact_prefix="$SAN/fuzz/" "$cli_scratch" tests/fuzz/corpus/cli
rm -rf "$cli_scratch"
summary
