# make bench picture: wspush next to the peer (Node ws), medians of the runs compare.js read.
# Input: dir (set with -e "dir='build/bench'"): latency.dat, throughput.dat, memory.dat,
# api.dat and conditions.gp, all written by compare.js.
set terminal pngcairo size 1500,1150 font "sans,11" noenhanced
if (!exists("dir")) dir = 'build/bench'
conditions = ""
load dir.'/conditions.gp'
set output dir.'/report.png'
set multiplot layout 2,2 title "wspush vs peer (Node ws), same machine, same run\n".conditions font "sans,11"

set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top left
set xtics rotate by -20

set title "Latency, lower is better (us, log scale)\nbroadcast: to the last receiver; p2p: per message"
set key bmargin center horizontal
set logscale y
set ylabel "microseconds"
plot dir.'/latency.dat' using 2:xtic(1) title "wspush p50" lc rgb "#1b9e77", \
     '' using 3 title "peer p50" lc rgb "#d95f02", \
     '' using 4 title "wspush p99" lc rgb "#66c2a5", \
     '' using 5 title "peer p99" lc rgb "#fc8d62", \
     '' using 6 title "wspush max" lc rgb "#a6d8c8", \
     '' using 7 title "peer max" lc rgb "#fdc9a8"

set key inside top left vertical
set title "Throughput, higher is better (deliveries/s; connect: logins/s; log scale)"
set ylabel "per second"
plot dir.'/throughput.dat' using 2:xtic(1) title "wspush" lc rgb "#1b9e77", \
     '' using 3 title "peer" lc rgb "#d95f02"

set title "Memory per idle logged-in connection, lower is better (bytes, log scale)"
set ylabel "bytes per connection"
set xtics norotate
plot dir.'/memory.dat' using 2:xtic(1) title "wspush" lc rgb "#1b9e77", \
     '' using 3 title "peer" lc rgb "#d95f02"

set title "HTTP push API, wspush only (wrk, 32 keep-alive connections)\nhigher is better (log scale)"
set ylabel "messages per second, every one delivered"
plot dir.'/api.dat' using 2:xtic(1) title "wspush" lc rgb "#1b9e77"
unset multiplot
