"""``make bench``: the benchmarks that exist so far, one after the other.

Today: the core engine (``bench.core``). The side-by-side run against the peers (raw aiokafka,
Quix Streams), latency, recovery and HTTP ingest (issue #9) is not in yet; docs/BENCHMARKS.md
says which figures exist.
"""

from __future__ import annotations

import subprocess
import sys

SECTIONS = ("bench.core",)


def main() -> int:
    """Run every section; the exit code is the first failure's."""
    for section in SECTIONS:
        print(f"bench: {section} …", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, "-m", section], check=False)
        if done.returncode != 0:
            return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
