#!/bin/sh
# bench.sh plot BUILD [ARGS...]: run `ipckit bench` with ARGS, keep its
# report in bench.txt and its figures in bench.json, and draw bench.png
# (round-trip p50/p99 by row, log scale; throughput by message size).
set -eu
[ "${1:-}" = plot ] || { echo "usage: scripts/bench.sh plot BUILD [ARGS...]" >&2; exit 2; }
build=$2
shift 2
dat=$(mktemp -d "${TMPDIR:-/tmp}/ikbench-XXXXXX")
trap 'rm -rf "$dat"' EXIT INT TERM
"$build/ipckit" bench --dat "$dat" "$@" | tee bench.txt
ncol=$(head -1 "$dat/throughput.dat" | awk -F'"' '{ print (NF - 1) / 2 }')
gnuplot <<GP
set terminal pngcairo size 1400,1000 noenhanced font ",9"
set output "bench.png"
set multiplot layout 2,1
set title "Round trip, 64 B ping-pong (p50 and p99, microseconds, log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "us"
set xtics rotate by -40 scale 0
set bmargin 7
set rmargin 8
set key top left
plot "$dat/latency.dat" using 2:xtic(1) title "p50", "" using 3 title "p99"
unset style
set bmargin
set rmargin
set title "One-way throughput by message size (bytes/s, log scale)"
set logscale xy
set xlabel "message size (bytes)"
set ylabel "bytes/s"
set xtics auto rotate by 0 scale 1
set key outside right
plot for [i=2:$ncol+1] "$dat/throughput.dat" using 1:i with linespoints title columnhead(i)
unset multiplot
GP
echo "bench.png, bench.txt written"
