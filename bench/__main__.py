"""``python -m bench``: run the benchmarks and write bench/results/latest.json."""

from bench.activity import main

if __name__ == "__main__":
    raise SystemExit(main())
