"""``python -m bench [--only NAME[,NAME…]] [--list]``: run the benchmarks, print, write JSON."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from .runner import RESULTS_DIR, registry, report, run_benchmarks


def main(argv: list[str] | None = None) -> int:
    from . import benchmarks  # noqa: F401  (fills the registry)

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only", action="append", help="run only these benchmarks (repeat or comma-separate)"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.list:
        for name in registry.names():
            print(name)
        return 0
    try:
        selected = registry.select(args.only)
    except KeyError as error:
        print(f"Error: {error.args[0]}", file=sys.stderr)
        return 2

    from .context import Context
    from .load import generator_name
    from .servers import GUNICORN

    started_at = datetime.now(UTC)
    context = Context()
    try:
        rows = run_benchmarks(selected, context)
    finally:
        context.close()
    meta = {
        "database": {"kind": context.database_kind},
        "load_generator": generator_name(),
        "gunicorn": GUNICORN.as_json(),
        "timing": asdict(context.timing),
        "load": asdict(context.load),
        "only": args.only or [],
    }
    report(rows, meta, started_at=started_at, results_dir=args.results_dir)
    return 1 if any(row.status == "error" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
