"""Benchmarks: `python -m bench.run --quick|--full` runs them and appends to bench/results.txt."""
