"""PyInstaller's entry script: the frozen ``bceviz`` executable is ``bceviz.app.main``.

The same command line as the ``bceviz`` command of a pip install, including
``--self-test``. (``bceviz/__main__.py`` would serve too; a separate script
keeps freezing concerns out of the package.)
"""

import sys

from bceviz.app import main

if __name__ == "__main__":
    sys.exit(main())
