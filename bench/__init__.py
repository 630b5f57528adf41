"""Benchmarks: each measures Verity beside a floor in the same run (see bench/run.py)."""
