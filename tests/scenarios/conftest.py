# The scenario scripts run in subprocesses under either import root (see
# tests/test_against_prorch.py); pytest must not import them itself.
collect_ignore_glob = ["*.py"]
