"""``python -m cxops.locale check | update | coverage`` (see :mod:`cxops.locale.tools`)."""

from __future__ import annotations

import argparse
import sys

from cxops.locale.tools import check, coverage, update


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cxops.locale", description="cxops message catalogs")
    parser.add_argument("command", choices=["check", "update", "coverage"])
    args = parser.parse_args(argv)
    if args.command == "update":
        for path in update():
            print(f"rewrote {path}")
        return 0
    if args.command == "coverage":
        for c in coverage():
            print(f"{c.lang}  {c.translated:5d} / {c.total}  {c.fraction:6.1%}")
        return 0
    problems = check()
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print("catalogs ok: " + ", ".join(f"{c.lang} {c.fraction:.0%}" for c in coverage()))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
