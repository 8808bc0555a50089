#!/bin/sh
# End-to-end tests of the HTTP push API (tests/e2e/api_test.py) against build/wspush.
# Every server the tests start is killed by them (and by setpriv --pdeathsig if they die).
# Prints one PASS/FAIL line; exit status 0 only on PASS.
cd "$(dirname "$0")/../.." || exit 2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
limit=60; [ "${WSPUSH_SANITIZED:-0}" = 1 ] && limit=240  # ~15 s normally; ASan is ~4x slower
if timeout "$limit" /usr/bin/python3 tests/e2e/api_test.py >"$log" 2>&1; then
    echo "PASS test_api: $(grep -Eo 'Ran [0-9]+ tests' "$log") in $(( $(date +%s) - start ))s"
else
    cat "$log"
    echo "FAIL test_api: see above"
    exit 1
fi
