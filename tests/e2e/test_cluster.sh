#!/bin/sh
# End-to-end tests of the cluster (tests/e2e/cluster_test.py): real wspush nodes over a
# redis-server the tests start on a Unix socket in a temporary directory and stop.
cd "$(dirname "$0")/../.." || exit 2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
limit=180; [ "${WSPUSH_SANITIZED:-0}" = 1 ] && limit=600
if ! command -v redis-server >/dev/null; then
    echo "FAIL test_cluster: redis-server is not installed (tools/install-deps.sh installs it)"
    exit 1
fi
if timeout "$limit" /usr/bin/python3 tests/e2e/cluster_test.py >"$log" 2>&1; then
    grep -E '^  ' "$log"
    echo "PASS test_cluster: $(grep -Eo 'Ran [0-9]+ tests' "$log") in $(( $(date +%s) - start ))s"
else
    cat "$log"
    echo "FAIL test_cluster: see above"
    exit 1
fi
