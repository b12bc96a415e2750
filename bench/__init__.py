"""Benchmarks: a load generator and the runs behind docs/BENCHMARKS.md (loopback only)."""
