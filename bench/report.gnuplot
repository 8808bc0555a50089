# make bench picture: latency percentiles and throughput, wspush next to the peer.
# Input: dir (set with -e "dir='build/bench'"), its latency.dat and throughput.dat from compare.js.
set terminal pngcairo size 1400,620 font "sans,11" noenhanced
if (!exists("dir")) dir = 'build/bench'
set output dir.'/report.png'
set multiplot layout 1,2 title "wspush vs peer (Node ws) - same machine, same run, loopback"

set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top left
set xtics rotate by -20

set title "Latency (us, log scale): broadcast = to last receiver; p2p = per message"
set logscale y
set ylabel "microseconds"
plot dir.'/latency.dat' using 2:xtic(1) title "wspush p50" lc rgb "#1b9e77", \
     '' using 3 title "peer p50" lc rgb "#d95f02", \
     '' using 4 title "wspush p99" lc rgb "#66c2a5", \
     '' using 5 title "peer p99" lc rgb "#fc8d62", \
     '' using 6 title "wspush max" lc rgb "#a6d8c8", \
     '' using 7 title "peer max" lc rgb "#fdc9a8"

set title "Throughput (deliveries/s; connect: logins/s), higher is better"
unset logscale y
set logscale y
set ylabel "per second (log scale)"
plot dir.'/throughput.dat' using 2:xtic(1) title "wspush" lc rgb "#1b9e77", \
     '' using 3 title "peer" lc rgb "#d95f02"
unset multiplot
