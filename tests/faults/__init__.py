"""Fault injection: a journalled workload, a worker driver and the kill -9 trials."""
