#!/bin/sh
# Usage: tools/run-fuzz.sh SECONDS TARGET...
# Runs each libFuzzer target (build/fuzz/fuzz_x) for SECONDS on a scratch copy of its seed
# corpus (tests/fuzz/corpus/fuzz_x, copied under build/ so the repository is never written),
# with its dictionary tests/fuzz/fuzz_x.dict. One worker per target: the machine is shared.
# Prints one line per target; exits 1 if any target crashed (the crash input is kept in the
# scratch directory and named in the output).
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 SECONDS TARGET..." >&2
    exit 2
fi
seconds=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for target in "$@"; do
    name=$(basename "$target")
    case $name in
        fuzz_handshake) max_len=9000 ;;   # a bit over the largest max_head the target uses
        fuzz_frame) max_len=4096 ;;       # room for several frames, 16-bit lengths included
        *) max_len=4096 ;;
    esac
    scratch=$(dirname "$target")/scratch/$name
    rm -rf "$scratch"
    mkdir -p "$scratch/corpus" "$scratch/artifacts"
    seeds=$root/tests/fuzz/corpus/$name
    [ -d "$seeds" ] && cp "$seeds"/* "$scratch/corpus/" 2>/dev/null
    dict=$root/tests/fuzz/$name.dict
    dict_flag=
    [ -f "$dict" ] && dict_flag=-dict=$dict
    log=$scratch/log.txt
    "$target" $dict_flag -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
        -artifact_prefix="$scratch/artifacts/" -print_final_stats=1 "$scratch/corpus" >"$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    crash=$(ls "$scratch/artifacts" 2>/dev/null | head -1)
    if [ $rc -ne 0 ] || [ -n "$crash" ]; then
        echo "FAIL $name: exit $rc, crash input $scratch/artifacts/$crash (log $log)"
        status=1
    else
        echo "ok   $name: ${runs:-?} runs in ${seconds}s, ${cov:-cov: ?}, corpus $(ls "$scratch/corpus" | wc -l) files"
    fi
done
exit $status
