"""``python -m bench``: run the benchmarks and write bench/results/latest.json (activity), signing.json, as_at.json
and audit.json (the export and the verifier)."""

import sys

from bench.activity import main as activity
from bench.as_at import main as as_at
from bench.audit import main as audit
from bench.signing import main as signing

if __name__ == "__main__":
    raise SystemExit(activity() or signing(sys.argv[1:]) or as_at(sys.argv[1:]) or audit(sys.argv[1:]))
