"""Runs every python/test_*.py and ends with one machine-readable line for run.sh:
    E2E-COUNT passed=N failed=M
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

suite = unittest.defaultTestLoader.discover(HERE, pattern=sys.argv[1] if len(sys.argv) > 1 else "test_*.py")
result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
passed = result.testsRun - failed - len(result.skipped)
print(f"E2E-COUNT passed={passed} failed={failed}", flush=True)
sys.exit(0 if failed == 0 else 1)
