"""``python -m cxops.locale.import_toml FILE…``: merge TOML message tables into the ``.po`` catalogs.

For branches written against the old ``report/catalogs/<lang>.toml`` files: pass their ``en.toml`` and
``zh.toml`` (any language; the file's stem names it, or ``--lang``). New keys are added, changed texts
replaced (``--keep`` keeps the ``.po`` text), counted tables (``one``/``other``) become gettext plural
entries, and every other language gets the new keys untranslated. Then run
``python -m cxops.locale check``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cxops.locale.tools import import_toml


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cxops.locale.import_toml", description=__doc__.split("\n")[0]
    )
    parser.add_argument("files", nargs="+", type=Path, help="TOML message files (en.toml, zh.toml …)")
    parser.add_argument("--lang", help="language of every file (default: each file's stem)")
    parser.add_argument("--keep", action="store_true", help="keep existing translations that differ")
    args = parser.parse_args(argv)
    try:
        log = import_toml(args.files, args.lang, replace=not args.keep)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(log) if log else "nothing to import: every message is already in the catalogs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
