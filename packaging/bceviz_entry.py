"""PyInstaller's entry script: the frozen ``bceviz`` executable.

Everything is ``bceviz.app.main`` (the same CLI as the ``bceviz`` command),
except ``--self-test``, dispatched here to ``bceviz.selftest.run_selftest``
directly: the bundle's smoke test must not depend on how the window's
command line is wired, and it is the same function ``bceviz --self-test`` runs
from a source install.
"""

import sys

if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        from bceviz.selftest import run_selftest

        sys.exit(run_selftest())
    from bceviz.app import main

    sys.exit(main())
