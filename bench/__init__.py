"""Benchmarks: `python -m bench.invoke` (see README, "Benchmark")."""
