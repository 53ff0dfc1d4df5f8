"""``python -m bench``: run the benchmarks and write bench/results/latest.json (activity) and signing.json."""

import sys

from bench.activity import main as activity
from bench.signing import main as signing

if __name__ == "__main__":
    raise SystemExit(activity() or signing(sys.argv[1:]))
