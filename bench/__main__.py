"""``python -m bench``: the activity import benchmark (bench/results/latest.json);
``python -m bench audit``: the export and verifier benchmark (bench/results/audit.json)."""

import sys

from bench.activity import main
from bench.audit import main as audit_main

if __name__ == "__main__":
    if sys.argv[1:2] == ["audit"]:
        raise SystemExit(audit_main(sys.argv[2:]))
    raise SystemExit(main())
