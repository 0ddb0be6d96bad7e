#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: the benchmarks of docs/performance.md, in one run, as root.
#   1. per-packet cost under BPF_PROG_TEST_RUN (build/bench/prog_cost)
#   2. end-to-end packets per second on a veth pair (bench/veth_pps.sh)
#   3. memory: flow-table entry and pinned maps (from 1 and 2)
# Writes bench/results/latest.json, latest.md and latest.png.
# Environment: BENCH_CALLS (timed calls per case, default 100000),
# BENCH_BACKENDS (default 4,64,256,1024), BENCH_FLOWS (default
# 1000,100000,1000000), TRIALS (veth trials per mode, default 5),
# RESULTS (output directory, default bench/results), BENCH_COMMIT and
# BENCH_LB_COMMIT (what to call the code measured when there is no .git).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTPUT=${OUTPUT:-build}
[[ $OUTPUT = /* ]] || OUTPUT=$ROOT/$OUTPUT
export OUTPUT
RESULTS=${RESULTS:-$ROOT/bench/results}
calls=${BENCH_CALLS:-100000}
backends=${BENCH_BACKENDS:-4,64,256,1024}
flows=${BENCH_FLOWS:-1000,100000,1000000}

if [[ $(id -u) -ne 0 ]]; then
	echo "make bench must run as root (BPF test runs, network namespaces)" >&2
	exit 1
fi
tmp=$(mktemp -d /tmp/xlb-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$RESULTS"
start=$(date +%s)

echo "bench: 1. per-packet cost under BPF_PROG_TEST_RUN ($calls calls per case)"
"$OUTPUT/bench/prog_cost" -n "$calls" -b "$backends" -f "$flows" -o "$tmp/prog_cost.json"
echo "bench: 2. end-to-end packets per second on veth"
TRIALS=${TRIALS:-5} "$ROOT/bench/veth_pps.sh" "$tmp/veth.json"

# What was measured: the stages as they are in the work tree, so say whether
# it differs from the commit named.
cd "$ROOT"
{
	printf '{"date": "%s", "seconds": %s, ' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		"$(($(date +%s) - start))"
	# BENCH_COMMIT, BENCH_LB_COMMIT: for a copy of the tree without .git.
	printf '"commit": "%s", ' \
		"${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
	printf '"lb_commit": "%s", ' \
		"${BENCH_LB_COMMIT:-$(git log -1 --format=%h -- bpf/lb 2>/dev/null || echo unknown)}"
	printf '"bpf_tree_modified": %s, ' \
		"$([[ -n $(git status --porcelain -- bpf loader 2>/dev/null) ]] && echo true || echo false)"
	printf '"cpu_model": "%s", "cpus": %s}\n' \
		"$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" "$(nproc)"
} >"$tmp/meta.json"

echo "bench: report"
python3 "$ROOT/bench/report.py" --meta "$tmp/meta.json" --prog-cost "$tmp/prog_cost.json" \
	--veth "$tmp/veth.json" --out "$RESULTS/latest" --plot-data "$tmp"
if command -v gnuplot >/dev/null; then
	gnuplot -e "data='$tmp'; out='$RESULTS/latest.png'" "$ROOT/bench/plot.gp"
else
	echo "bench: gnuplot is missing (scripts/install-deps.sh bench): no plot" >&2
fi
echo "bench: wrote $RESULTS/latest.md, latest.json, latest.png in $(($(date +%s) - start)) s"
