"""kcore's benchmarks: python -m kcore.bench [--quick] runs them all (see __main__.py)."""
