#!/usr/bin/env bash
# Out-of-fd behaviour of the real binary (see fd_limit_test.py).
set -u
cd "$(dirname "$0")"
if timeout 60 /usr/bin/python3 fd_limit_test.py 2>&1; then
  echo "PASS test_fd_limit"
else
  echo "FAIL test_fd_limit"; exit 1
fi
