"""openbook's benchmarks (``make bench`` / ``python -m bench``): measured, not asserted in tests."""
