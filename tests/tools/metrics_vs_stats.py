#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compares xdp-lbd's metrics with `lbctl stats --json` of the same state.

    metrics_vs_stats.py METRICS_FILE STATS_JSON_FILE INTERFACE

Every counter (stage, reason), every backend's and VIP's packets, bytes,
flows and active flows, the flow table and every drop outside our counters
must be equal, and each must be present in the metrics. Prints one line per
difference and exits 1 on any, else prints what it compared and exits 0.
Standard library only.
"""
import json
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    series = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise SystemExit(f'not a sample line: {line!r}')
        labels = tuple(sorted(LABEL.findall(m.group(2))))
        key = (m.group(1), labels)
        if key in series:
            raise SystemExit(f'series given twice: {line!r}')
        series[key] = float(m.group(3))
    return series


def main():
    metrics_path, stats_path, ifname = sys.argv[1:4]
    with open(metrics_path) as f:
        series = parse_metrics(f.read())
    with open(stats_path) as f:
        stats = json.load(f)
    errors = []
    compared = 0

    def expect(name, labels, want):
        nonlocal compared
        labels = dict(labels, interface=ifname)
        key = (name, tuple(sorted(labels.items())))
        got = series.get(key)
        compared += 1
        if got is None:
            errors.append(f'missing: {name}{labels} (lbctl: {want})')
        elif got != want:
            errors.append(f'{name}{labels}: metrics {got:.0f}, lbctl {want}')

    expect('xdp_lb_loaded', {}, 1)
    for stage, reasons in stats['counters'].items():
        for reason, value in reasons.items():
            expect('xdp_lb_stage_packets_total', {'stage': stage, 'reason': reason}, value)
    expect('xdp_lb_flow_table_entries', {}, stats['flows'])
    for b in stats['backends']:
        labels = {'vip': b['vip'], 'backend': b['address'], 'backend_id': str(b['id'])}
        expect('xdp_lb_backend_packets_total', labels, b['packets'])
        expect('xdp_lb_backend_bytes_total', labels, b['bytes'])
        expect('xdp_lb_backend_flows_total', labels, b['new_flows'])
        expect('xdp_lb_backend_active_flows', labels, b['active_flows'])
        expect('xdp_lb_backend_weight', labels, b['weight'])
        expect('xdp_lb_backend_state', dict(labels, state=b['state']), 1)
    for v in stats['vips']:
        labels = {'vip': v['vip']}
        expect('xdp_lb_vip_packets_total', labels, v['packets'])
        expect('xdp_lb_vip_bytes_total', labels, v['bytes'])
        expect('xdp_lb_vip_flows_total', labels, v['total_flows'])
        expect('xdp_lb_vip_active_flows', labels, v['active_flows'])
        for name, value in v['drops'].items():
            stage, reason = name.split('.', 1)
            expect('xdp_lb_vip_dropped_packets_total',
                   dict(labels, stage=stage, reason=reason), value)
    for name, value in stats['outside'].items():
        source, counter = name.split('.', 1)
        expect('xdp_lb_outside_dropped_packets_total',
               {'source': source, 'counter': counter}, value)
    for e in errors:
        print(e)
    if errors:
        return 1
    print(f'{compared} figures equal in the metrics and lbctl stats --json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
