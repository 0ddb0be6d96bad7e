# SPDX-License-Identifier: GPL-2.0
# make demo's chart (scripts/demo.sh), from its per-backend table:
#   gnuplot -c scripts/distribution.gp DATA OUT.png TABLE TITLE DETAIL
# DATA: one line per backend, "ADDRESS PACKETS FLOWS" (what lbctl stats counted).
# Left: packets per backend; right: flows per backend; each bar labelled with
# its value. TABLE: the rows as gnuplot read them, written before it plots,
# so that a test can compare what was drawn with the counters.
data = ARG1
out = ARG2
table = ARG3
set table table
plot data using (strcol(1)):2:3 with table
unset table

set terminal pngcairo size 1000,480 font "sans,10" noenhanced
set output out
set multiplot layout 1,2 title ARG4 . "\n" . ARG5

set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7
set boxwidth 0.6
set yrange [0:*]
# Room above the highest bar for its label.
set offsets 0, 0, graph 0.12, 0
set grid ytics
unset key

set title "packets per backend"
set ylabel "packets"
plot data using 2:xtic(1) lc rgb "#4c78a8", \
     "" using 0:2:(sprintf("%d", $2)) with labels offset 0,1

set title "flows per backend"
set ylabel "flows"
plot data using 3:xtic(1) lc rgb "#f58518", \
     "" using 0:3:(sprintf("%d", $3)) with labels offset 0,1

unset multiplot
