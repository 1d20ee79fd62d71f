"""``python -m bceviz.bench [suite [options]]``: run one registered suite, or all of them.

    python -m bceviz.bench                 # every suite in bceviz.bench.SUITES
    python -m bceviz.bench engine --runs 7 # one suite, options passed to it
    python -m bceviz.bench --list

The exit status is 0 when every figure met its target, 1 otherwise.
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable, Optional

from bceviz.bench import SUITES


def _load(name: str) -> Callable[[list[str]], int]:
    module_name, _, function = SUITES[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        print(f"suite {name}: not built yet ({module_name} is missing), skipped")
        return lambda _args: 0
    return getattr(module, function or "main")


def main(argv: Optional[list[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("\nsuites: " + ", ".join(SUITES))
        return 0
    if args and args[0] == "--list":
        print("\n".join(SUITES))
        return 0
    if args and not args[0].startswith("-"):
        name = args.pop(0)
        if name not in SUITES:
            print(f"unknown suite {name!r}; registered: {', '.join(SUITES)}", file=sys.stderr)
            return 2
        return _load(name)(args)
    status = 0
    for name in SUITES:
        status |= _load(name)(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
