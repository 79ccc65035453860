"""Benchmarks (not tests): ``python -m bench.bench_<name>``. Each prints its figures as ratios
against a baseline measured in the same run, so numbers from different machines stay comparable."""
