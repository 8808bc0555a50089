#!/usr/bin/env bash
# End-to-end tests of $WSPUSH_BUILD/wspush (default build/) with clients no one here wrote:
# python3-websockets, node ws, headless Chromium, plus every tests/e2e/test_*.sh.
#   make e2e / make test:  WSPUSH_BUILD=build
#   make asan:             WSPUSH_BUILD=build-asan WSPUSH_SANITIZED=1 (3000 instead of 15000
#                          connections, every time bound x4)
# Each test starts its own server on an ephemeral port and kills it, even on failure.
# Ends with exactly one line "e2e: N passed, M failed" (test cases across groups; a group
# that dies or overruns its time limit counts one extra failure); exit status 1 if M > 0.
set -uo pipefail
E2E=$(cd "$(dirname "$0")" && pwd)
cd "$E2E/../.."
export WSPUSH_BUILD=${WSPUSH_BUILD:-build}
export WSPUSH_SANITIZED=${WSPUSH_SANITIZED:-0}
SLOW=1; [ "$WSPUSH_SANITIZED" = 1 ] && SLOW=4
PY=/usr/bin/python3   # Debian's, which has python3-websockets
passed=0
failed=0
failures=()

if [ ! -x "$WSPUSH_BUILD/wspush" ]; then
  echo "e2e: $WSPUSH_BUILD/wspush is not built"
  echo "e2e: 0 passed, 1 failed"
  exit 1
fi

# (Re)install when a pinned package is missing or at another version than package.json says
# (a checkout that moved the pin keeps its old node_modules otherwise).
pins_installed() {
  (cd "$E2E" && node -e '
    const deps = require("./package.json").dependencies;
    for (const [name, want] of Object.entries(deps)) {
      let have; try { have = require(`./node_modules/${name}/package.json`).version; } catch (e) { process.exit(1); }
      if (have !== want) process.exit(1);
    }' 2>/dev/null)
}
echo "== node $(node --version 2>/dev/null || echo missing) ($(command -v node || echo 'not on PATH')), $(/usr/bin/chromium --version 2>/dev/null || echo 'no /usr/bin/chromium')"
if ! pins_installed; then
  echo "== installing pinned npm packages into tests/e2e/node_modules"
  (cd "$E2E" && npm ci --no-audit --no-fund) || echo "npm ci failed: the Node and browser groups will fail"
fi

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

# count GROUP PASSED FAILED COMPLETE: adds to the totals; an incomplete group is one more failure.
count() {
  local group=$1 p=${2:-0} f=${3:-0} complete=$4
  [ "$complete" = yes ] || { f=$((f + 1)); echo "!! $group did not finish (killed, crashed or over its time limit)"; }
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" -eq 0 ] || failures+=("$group")
  echo "== $group: $p passed, $f failed"
}

# run_python GROUP [ENV=VALUE...]: the whole python suite, e.g. once plain and once over TLS.
run_python() {
  local group=$1; shift
  local out=$log_dir/$group.out
  echo "== $group (python3-websockets + raw-socket probes${*:+; $*})"
  env "$@" timeout -k 5 $((180 * SLOW)) "$PY" "$E2E/python/run_tests.py" 2>&1 | tee "$out"
  local line; line=$(grep -E '^E2E-COUNT ' "$out" | tail -1)
  if [ -n "$line" ]; then
    count "$group" "$(sed -E 's/.*passed=([0-9]+).*/\1/' <<<"$line")" "$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$line")" yes
  else
    count "$group" "$(grep -cE '\.\.\. ok$' "$out")" "$(grep -cE '\.\.\. (FAIL|ERROR)$' "$out")" no
  fi
}

# run_node GROUP LIMIT_SECONDS FILE...: node's built-in runner, spec to the terminal, TAP counted.
run_node() {
  local group=$1 limit=$2; shift 2
  local tap=$log_dir/$group.tap
  echo "== $group (node --test)"
  timeout -k 5 $((limit * SLOW)) node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "$@" 2>&1
  local p f c
  p=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$tap" | tail -1)
  f=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$tap" | tail -1)
  c=$(sed -nE 's/^# cancelled ([0-9]+)$/\1/p' "$tap" | tail -1)
  if [ -n "$p" ] && [ -n "$f" ]; then
    count "$group" "$p" $((f + ${c:-0})) yes
  else
    count "$group" "$(grep -cE '^ok ' "$tap")" "$(grep -cE '^not ok ' "$tap")" no
  fi
}

# A script counts as the unittest cases it reports ("Ran N tests", "FAILED (failures=a,
# errors=b)"), or as one case when it reports none.
run_script() {
  local script=$1 name out ran bad; name=$(basename "$script" .sh)
  echo "== $name"
  local runner=(); [ -x "$script" ] || runner=(bash)
  out=$(mktemp)
  if timeout -k 5 $((240 * SLOW)) "${runner[@]}" "$script" 2>&1 | tee "$out"; [ "${PIPESTATUS[0]}" = 0 ]; then
    ran=$(grep -Eo 'Ran [0-9]+ tests?' "$out" | tail -1 | grep -Eo '[0-9]+' || true)
    count "$name" "${ran:-1}" 0 yes
  else
    ran=$(grep -Eo 'Ran [0-9]+ tests?' "$out" | tail -1 | grep -Eo '[0-9]+' || true)
    bad=$(grep -Eo 'FAILED \(.*\)' "$out" | tail -1 | grep -Eo '[0-9]+' | awk '{s+=$1} END {if (NR) print s}' || true)
    if [ -n "$ran" ] && [ -n "$bad" ] && [ "$bad" -gt 0 ] && [ "$bad" -le "$ran" ]; then
      count "$name" $((ran - bad)) "$bad" yes
    else
      count "$name" 0 1 yes
    fi
  fi
  rm -f "$out"
}

started=$(date +%s)
run_python python
# The same protocol suite with every server on --tls-cert and every client on wss:// (test CA).
run_python python-tls WSPUSH_E2E_TLS=1
run_node node 60 "$E2E/node/protocol.test.js" "$E2E/node/auth_examples.test.js" "$E2E/node/tls.test.js"
run_node browser 150 "$E2E/browser/demo_page.test.js" "$E2E/browser/demo_page_tls.test.js"
run_node connections 150 "$E2E/node/many_connections.test.js"
for script in "$E2E"/test_*.sh; do
  [ -e "$script" ] && run_script "$script"
done

echo "== e2e took $(( $(date +%s) - started )) s${failures[*]:+; failing groups: ${failures[*]}}"
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
