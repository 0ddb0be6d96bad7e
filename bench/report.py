#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turns one bench run into bench/results/latest.{json,md} and the plot data.

Every figure compared with a target is a ratio of two figures measured in the
same run: a case against the floor calls interleaved with it (prog_cost), the
balancer against the reflector in alternating trials (veth_pps.sh).
"""
import argparse
import json
import os
import statistics

# The targets (goals for the code, measured here, never asserted).
TARGET_ESTABLISHED = 3.0  # full pipeline, established flow, x floor
TARGET_NEW = 9.0          # full pipeline, new flow, x floor
TARGET_VETH = 0.9         # balancer pps / reflector pps
TARGET_SCALING = 1.5      # new-flow cost, 1024 backends / 4 backends

CASES = [
    ("parse", "parse alone"),
    ("lb_established", "lb alone, established"),
    ("lb_new", "lb alone, new flow"),
    ("encap", "encap alone"),
    ("pipeline_established", "pipeline, established"),
    ("pipeline_established_spread", "pipeline, established, flows across the table"),
    ("pipeline_new", "pipeline, new flow"),
]


def load(path):
    with open(path) as f:
        return json.load(f)


def cost(run, case):
    return run["cases"][case]["ns"]["trimmed_mean"]


def ratio(run, case):
    return run["cases"][case]["ratio"]


def flows_label(n):
    return f"{n // 1000000}M" if n >= 1000000 else f"{n // 1000}k" if n >= 1000 else str(n)


def verdict(met):
    return "**met**" if met else "**not met**"


def scaling(runs):
    """Per occupancy: new-flow ratio at the largest pool over the smallest."""
    out = []
    for flows in sorted({r["flows"] for r in runs}):
        by_pool = {r["backends"]: r for r in runs if r["flows"] == flows}
        small, large = min(by_pool), max(by_pool)
        if small == large:
            continue
        out.append({
            "flows": flows, "small": small, "large": large,
            "ns_small": cost(by_pool[small], "pipeline_new"),
            "ns_large": cost(by_pool[large], "pipeline_new"),
            # In ns, and each against its own interleaved floor (drift of the
            # machine between the two loads cancels out); the target must
            # hold for both.
            "ns_ratio": cost(by_pool[large], "pipeline_new") /
                        cost(by_pool[small], "pipeline_new"),
            "ratio": ratio(by_pool[large], "pipeline_new") /
                     ratio(by_pool[small], "pipeline_new"),
        })
    return out


def flow_entry_bytes(runs):
    """Memory per flow-table entry: the slope of the flows map's memlock over
    its size, which leaves out what does not grow with it."""
    sizes = {}
    for r in runs:
        sizes[r["flow_table_size"]] = r["flows_memlock"]
    if len(sizes) < 2:
        size = next(iter(sizes))
        return sizes[size] / size
    small, large = min(sizes), max(sizes)
    return (sizes[large] - sizes[small]) / (large - small)


def veth_summary(veth):
    pps = {"reflector": [], "balancer": []}
    by_backend = {}
    for t in veth["trials"]:
        pps[t["mode"]].append(t["result"]["pps"])
        if t["mode"] == "balancer":
            for addr, n in t["result"]["by_backend"].items():
                by_backend[addr] = by_backend.get(addr, 0) + n
    reflector = statistics.median(pps["reflector"])
    balancer = statistics.median(pps["balancer"])
    # xdp_send's method per trial (runs before it was recorded: live frames).
    methods = sorted({t["result"].get("generator_method", "live") for t in veth["trials"]})
    return {"reflector_pps": pps["reflector"], "balancer_pps": pps["balancer"],
            "generator_methods": methods,
            "reflector_median": reflector, "balancer_median": balancer,
            "ratio": balancer / reflector if reflector else 0,
            "balancer_frames_by_backend": by_backend,
            "balancer_not_ipip": sum(t["result"]["not_ipip"] for t in veth["trials"]
                                     if t["mode"] == "balancer")}


def summarize(pc, veth):
    runs = pc["runs"]
    est = [ratio(r, "pipeline_established") for r in runs]
    new = [ratio(r, "pipeline_new") for r in runs]
    scal = scaling(runs)
    v = veth_summary(veth)
    pinned = veth["pinned_map_bytes"]
    return {
        "established_ratio": {"min": min(est), "max": max(est)},
        "new_ratio": {"min": min(new), "max": max(new)},
        "scaling": scal,
        "veth": v,
        "flow_entry_bytes": flow_entry_bytes(runs),
        "pinned_map_bytes_total": sum(pinned.values()),
        "targets": {
            "established_le_3x": max(est) <= TARGET_ESTABLISHED,
            "new_le_9x": max(new) <= TARGET_NEW,
            "veth_ge_0_9": v["ratio"] >= TARGET_VETH,
            "scaling_le_1_5": bool(scal) and max(max(s["ratio"], s["ns_ratio"])
                                                 for s in scal) <= TARGET_SCALING,
        },
    }


def cost_table(runs):
    head = "| backends | flows in table | floor ns | " + \
        " | ".join(label for _, label in CASES) + \
        " | new flows per backend: max / min (mean) |"
    lines = [head, "|" + "---|" * (len(CASES) + 4)]
    for r in sorted(runs, key=lambda r: (r["flows"], r["backends"])):
        floor = statistics.mean(c["floor_ns"]["trimmed_mean"] for c in r["cases"].values())
        cells = [f"{cost(r, c):.0f} ({ratio(r, c):.2f}x)" for c, _ in CASES]
        sp = r["new_flow_spread"]
        lines.append(f"| {r['backends']} | {flows_label(r['flows'])} | {floor:.0f} | " +
                     " | ".join(cells) +
                     f" | {sp['max']:.0f} / {sp['min']:.0f} ({sp['mean']:.1f}) |")
    return lines


def markdown(meta, pc, veth, s):
    v = s["veth"]
    t = s["targets"]
    out = [
        "# xdp-lb benchmark results",
        "",
        f"Run of {meta['date']}, commit {meta['commit']} (lb stage {meta['lb_commit']}"
        f"{', work tree modified under bpf/ or loader/' if meta['bpf_tree_modified'] else ''})"
        f", kernel {pc['kernel']}, {meta['cpus']} CPUs ({meta['cpu_model']}), "
        f"{meta['seconds']} s. Method: docs/performance.md.",
        "",
        "## Targets (issue 6), all from this run",
        "",
        "| target | figure | |",
        "|---|---|---|",
        f"| full pipeline, established flow <= {TARGET_ESTABLISHED:g}x the floor | "
        f"{s['established_ratio']['min']:.2f}x .. {s['established_ratio']['max']:.2f}x | "
        f"{verdict(t['established_le_3x'])} |",
        f"| full pipeline, new flow <= {TARGET_NEW:g}x the floor | "
        f"{s['new_ratio']['min']:.2f}x .. {s['new_ratio']['max']:.2f}x | "
        f"{verdict(t['new_le_9x'])} |",
        f"| veth pps >= {TARGET_VETH:g}x the bare XDP_TX reflector | "
        f"{v['balancer_median'] / 1e6:.2f} / {v['reflector_median'] / 1e6:.2f} Mpps = "
        f"{v['ratio']:.2f}x | {verdict(t['veth_ge_0_9'])}" +
        ("" if v["generator_methods"] == ["live"] else
         f" (generator: {', '.join(v['generator_methods'])}, not live frames: see part 2)") +
        " |",
    ]
    for sc in s["scaling"]:
        out.append(f"| new flow, {sc['large']} backends <= {TARGET_SCALING:g}x "
                   f"{sc['small']} backends ({flows_label(sc['flows'])} flows in table) | "
                   f"{sc['ns_large']:.0f} / {sc['ns_small']:.0f} ns = {sc['ns_ratio']:.2f}x; "
                   f"over their floors {sc['ratio']:.2f}x | "
                   f"{verdict(max(sc['ratio'], sc['ns_ratio']) <= TARGET_SCALING)} |")
    out += [
        "",
        "The ranges run over every pool size and flow-table occupancy below.",
        "",
        "## 1. Per-packet cost under BPF_PROG_TEST_RUN",
        "",
        f"lb stage {pc.get('lb_stage', 'least-loaded')}, IPIP encap. "
        f"ns per packet (mean of {pc['calls']} repeat=1 calls without the slowest 1%) and, "
        "in brackets, over the bare XDP_TX floor timed in the same batches; "
        f"{pc['frame_bytes']}-byte UDP frame; pinned to CPU {pc['cpu']}.",
        "",
    ]
    out += cost_table(pc["runs"])
    out += [
        "",
        "## 2. End-to-end packets per second on veth (native XDP)",
        "",
        f"{veth['flows']} UDP flows to {veth['vip']} ({veth['config']}), 64-byte frames, "
        f"one generator CPU; {veth['measure_s']} s windows after {veth['warmup_s']} s "
        "warm-up, reflector and balancer trials alternating.",
        "",
        f"Generator: {veth.get('generator', 'xdp_send')}, method "
        f"{', '.join(v['generator_methods'])}" +
        ("." if v["generator_methods"] == ["live"] else
         " (the kernel refused XDP live frames, or METHOD chose another): on this machine "
         "such a generator sends fewer frames per second than the balancer forwards, so "
         "both modes receive about what it sends and the ratio measures the generator, "
         "not the balancer."),
        "",
        "| trial | reflector pps | balancer pps |",
        "|---|---|---|",
    ]
    for i, (r, b) in enumerate(zip(v["reflector_pps"], v["balancer_pps"]), 1):
        out.append(f"| {i} | {r:,.0f} | {b:,.0f} |")
    out += [
        f"| median | {v['reflector_median']:,.0f} | {v['balancer_median']:,.0f} |",
        "",
        "Balancer frames at the sink per backend: " +
        ", ".join(f"{a} {n:,}" for a, n in sorted(v["balancer_frames_by_backend"].items())) +
        f"; not IPIP: {v['balancer_not_ipip']}.",
        "",
        "## 3. Memory",
        "",
        f"- flow-table entry: {s['flow_entry_bytes']:.1f} bytes (growth of the flows map's "
        f"memlock with its size; key and value are {pc['flow_entry_key_value_bytes']} bytes)",
        f"- all maps lb-load pins for {veth['config']} (defaults: flow table of 65536): "
        f"{s['pinned_map_bytes_total'] / 2**20:.2f} MiB",
        "",
        "| map | bytes |",
        "|---|---|",
    ]
    for name, n in sorted(veth["pinned_map_bytes"].items(), key=lambda kv: -kv[1]):
        out.append(f"| {name} | {n:,} |")
    out += ["", "![cost and throughput](latest.png)", ""]
    return "\n".join(out)


def plot_data(pc, veth, s, directory):
    runs = pc["runs"]
    occupancies = sorted({r["flows"] for r in runs})
    with open(os.path.join(directory, "scaling.dat"), "w") as f:
        f.write("# backends " + " ".join(f"est_{flows_label(o)} new_{flows_label(o)}"
                                         for o in occupancies) + "\n")
        for b in sorted({r["backends"] for r in runs}):
            row = [str(b)]
            for o in occupancies:
                r = next(x for x in runs if x["backends"] == b and x["flows"] == o)
                row += [f"{ratio(r, 'pipeline_established'):.3f}",
                        f"{ratio(r, 'pipeline_new'):.3f}"]
            f.write(" ".join(row) + "\n")
    with open(os.path.join(directory, "occupancies.txt"), "w") as f:
        f.write(" ".join(flows_label(o) for o in occupancies) + "\n")
    v = s["veth"]
    with open(os.path.join(directory, "veth.dat"), "w") as f:
        f.write(f'"bare XDP_TX reflector" {v["reflector_median"] / 1e6:.3f}\n')
        f.write(f'"lb-load (parse, lb, encap)" {v["balancer_median"] / 1e6:.3f}\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--prog-cost", required=True)
    ap.add_argument("--veth", required=True)
    ap.add_argument("--out", required=True, help="path without extension")
    ap.add_argument("--plot-data", required=True, help="directory for gnuplot's input")
    a = ap.parse_args()
    meta, pc, veth = load(a.meta), load(a.prog_cost), load(a.veth)
    s = summarize(pc, veth)
    with open(a.out + ".json", "w") as f:
        json.dump({"meta": meta, "summary": s, "prog_cost": pc, "veth": veth}, f, indent=1)
        f.write("\n")
    with open(a.out + ".md", "w") as f:
        f.write(markdown(meta, pc, veth, s))
    plot_data(pc, veth, s, a.plot_data)
    t = s["targets"]
    print("bench: targets: established<=3x %s, new<=9x %s, veth>=0.9x %s, scaling<=1.5x %s"
          % tuple("met" if t[k] else "not met" for k in
                  ("established_le_3x", "new_le_9x", "veth_ge_0_9", "scaling_le_1_5")))


if __name__ == "__main__":
    main()
