"""Benchmarks against peers (``make bench``) and detection quality (``make eval``)."""
