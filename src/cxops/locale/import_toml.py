"""``python -m cxops.locale.import_toml``: merge TOML message tables into the ``.po`` catalogs.

For branches written against the old ``report/catalogs/<lang>.toml`` files. Either name a branch
(``--git BRANCH``, run before merging it: only the keys it added or changed since it left the current
branch are imported), or pass TOML files (``en.toml``, ``zh.toml`` …; the stem names the language, or
``--lang``; ``--base DIR`` holds the same files as they were before, to import only the changes).
New keys are added, changed texts replaced (``--keep`` keeps the ``.po`` text), counted tables
(``one``/``other``) become gettext plural entries, every other language gets the new keys
untranslated, and keys the branch removed are listed (``en - key``), not removed. Then run
``python -m cxops.locale check``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cxops.locale.tools import import_git, import_toml


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cxops.locale.import_toml", description=__doc__.split("\n")[0]
    )
    parser.add_argument("files", nargs="*", type=Path, help="TOML message files (en.toml, zh.toml …)")
    parser.add_argument("--git", metavar="BRANCH", help="import the TOML catalog changes of a git branch")
    parser.add_argument(
        "--base", help="with --git: the commit to measure from; with files: a folder of base files"
    )
    parser.add_argument("--lang", help="language of every file (default: each file's stem)")
    parser.add_argument("--keep", action="store_true", help="keep existing translations that differ")
    args = parser.parse_args(argv)
    if bool(args.git) == bool(args.files):
        parser.error("give either --git BRANCH or TOML files")
    try:
        if args.git:
            log = import_git(args.git, args.base, replace=not args.keep)
        else:
            base = Path(args.base) if args.base else None
            log = import_toml(args.files, args.lang, replace=not args.keep, base=base)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(log) if log else "nothing to import: every message is already in the catalogs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
