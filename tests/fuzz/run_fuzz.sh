#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make fuzz: the packet fuzzer's long run with a fresh seed (FUZZ_FRAMES frames),
# then the config parser under libFuzzer for FUZZ_SECONDS, then lb-load's and
# lbctl's command-line parsers for FUZZ_CLI_SECONDS. Each is one test of the
# closing "fuzz: N passed, N failed, 0 skipped" line.
#   FUZZ_SEED=0x1234 make fuzz    replays a packet run
set -u
cd "$(dirname "$0")/../.."
OUTPUT=${OUTPUT:-build}
FRAMES=${FUZZ_FRAMES:-1000000}
DURATION=${FUZZ_SECONDS:-60}
CLI_DURATION=${FUZZ_CLI_SECONDS:-30}
SEED=${FUZZ_SEED:-0x$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')}
ARTIFACTS=$OUTPUT/fuzz
# New inputs libFuzzer finds stay here between runs; the seeds are read only.
CORPUS=$ARTIFACTS/config-corpus
CLI_CORPUS=$ARTIFACTS/cli-corpus
passed=0 failed=0

echo "=== fuzz packets: seed $SEED, $FRAMES frames"
start=$SECONDS
if "$OUTPUT/tests/fuzz_packets" -s "$SEED" -n "$FRAMES"; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
	echo "packet fuzzing failed; replay the run: FUZZ_SEED=$SEED FUZZ_FRAMES=$FRAMES make fuzz"
fi
echo "fuzz packets: $((SECONDS - start)) s"

# Files libFuzzer leaves for a failing input.
artifacts() {
	find "$ARTIFACTS" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \) |
		wc -l
}

echo "=== fuzz config: libFuzzer for $DURATION s"
mkdir -p "$CORPUS"
before=$(artifacts)
if "$ARTIFACTS/fuzz_config" -max_total_time="$DURATION" -timeout=10 -print_final_stats=1 \
	-dict=tests/fuzz/config.dict -artifact_prefix="$ARTIFACTS/" "$CORPUS" \
	tests/config/good tests/config/bad $(ls -d tests/fuzz/corpus/config 2>/dev/null); then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
	echo "config fuzzing failed; the input is in $ARTIFACTS/ (crash-*, leak-*, timeout-*):"
	echo "  replay it: $ARTIFACTS/fuzz_config $ARTIFACTS/crash-..."
fi
echo "fuzz config: corpus $(find "$CORPUS" -type f | wc -l) inputs in $CORPUS," \
	"$(($(artifacts) - before)) new artifacts"

echo "=== fuzz command lines: libFuzzer for $CLI_DURATION s"
mkdir -p "$CLI_CORPUS"
before=$(artifacts)
if "$ARTIFACTS/fuzz_cli" -max_total_time="$CLI_DURATION" -timeout=10 -print_final_stats=1 \
	-dict=tests/fuzz/cli.dict -artifact_prefix="$ARTIFACTS/" "$CLI_CORPUS" \
	tests/fuzz/corpus/cli; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
	echo "command-line fuzzing failed; the input is in $ARTIFACTS/ (crash-*, leak-*, timeout-*):"
	echo "  replay it: $ARTIFACTS/fuzz_cli $ARTIFACTS/crash-..."
fi
echo "fuzz command lines: corpus $(find "$CLI_CORPUS" -type f | wc -l) inputs in" \
	"$CLI_CORPUS, $(($(artifacts) - before)) new artifacts"

echo "fuzz: $passed passed, $failed failed, 0 skipped"
((failed == 0))
