"""Benchmarks, run by hand: ``python -m benchmarks.<name>`` (see README.md)."""
