"""Benchmarks (`make bench`): each writes a markdown section under docs/benchmarks/."""
