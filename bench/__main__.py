"""``python -m bench``: run every benchmark, each writing its own file in bench/results/ — latest.json (activity),
signing.json, as_at.json, audit.json (the export and the verifier), event_index.json (the event browser) — then
gather the others' figures into latest.json under ``"benchmarks"``, so the one file carries every figure of the run.

``--rows`` and ``--repeat`` (``make bench SIZE=small``) are passed to every benchmark that generates rows.
"""

import json
import sys

from bench.activity import RESULTS
from bench.activity import main as activity
from bench.as_at import main as as_at
from bench.audit import main as audit
from bench.event_index import main as event_index
from bench.signing import main as signing

#: Each benchmark after the activity import, and the file it writes in bench/results/.
OTHERS = (("signing", signing), ("as_at", as_at), ("audit", audit), ("event_index", event_index))


def main(argv: list[str]) -> int:
    failed = activity(argv)
    for name, run in OTHERS:
        failed = failed or run(argv)
    if failed:
        return failed
    latest = RESULTS / "latest.json"
    gathered = json.loads(latest.read_text())
    gathered["benchmarks"] = {name: json.loads((RESULTS / f"{name}.json").read_text()) for name, _run in OTHERS}
    latest.write_text(json.dumps(gathered, indent=2) + "\n")
    print(f"every figure gathered in {latest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
