"""Benchmarks: reasoning (BIG-Bench Hard) and robot tasks; each prints a table and writes JSON."""
