"""The benchmark suite: ``python -m tests.benchmarks`` (see README.md, section Benchmarks)."""
