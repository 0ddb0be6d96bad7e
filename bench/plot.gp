# SPDX-License-Identifier: GPL-2.0
# The plot of docs/performance.md, from the data bench/report.py writes:
#   gnuplot -e "data='DIR'; out='FILE.png'" bench/plot.gp
# Left: full-pipeline cost over the floor against the pool size, one line per
# flow-table occupancy, with the issue's targets. Right: veth throughput.
set terminal pngcairo size 1200,480 font "sans,10" noenhanced
set output out
set multiplot layout 1,2

occupancies = system("cat " . data . "/occupancies.txt")
n = words(occupancies)

set title "Full pipeline under BPF_PROG_TEST_RUN, cost / bare XDP_TX floor"
set xlabel "backends in the VIP's pool"
set ylabel "x floor (same run)"
set logscale x 2
set xrange [3:1400]
set yrange [0:*]
# Room above the lines for the key.
set offsets 0, 0, graph 0.5, 0
set key top left opaque
set grid ytics
plot for [i=1:n] data . "/scaling.dat" using 1:(column(2 * i + 1)) with linespoints \
	lw 2 pt 7 dt 1 title "new flow, " . word(occupancies, i) . " flows", \
     for [i=1:n] data . "/scaling.dat" using 1:(column(2 * i)) with linespoints \
	lw 2 pt 5 dt 2 title "established, " . word(occupancies, i) . " flows", \
     9 with lines lc "red" dt 3 title "target, new flow (9x)", \
     3 with lines lc "dark-red" dt 3 title "target, established (3x)"

unset logscale x
set offsets 0, 0, graph 0.1, 0
set title "veth, native XDP: end-to-end Mpps (median of the trials)"
set xlabel ""
set ylabel "Mpps received by the sink"
set style data histograms
set style fill solid 0.6
set boxwidth 0.6
set xrange [*:*]
set yrange [0:*]
unset key
plot data . "/veth.dat" using 2:xtic(1) lc "steelblue", \
     "" using 0:2:(sprintf("%.2f", $2)) with labels offset 0,1

unset multiplot
