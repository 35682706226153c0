"""Benchmarks: `make bench` (full run, writes bench/RESULTS.md) and `make bench-quick` (smoke run for CI).

Every figure is a ratio against a baseline measured in the same run; see README.md here.
"""
