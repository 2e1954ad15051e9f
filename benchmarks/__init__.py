"""Benchmarks printed by `make bench`; each prints ratios against a baseline run in-process."""
