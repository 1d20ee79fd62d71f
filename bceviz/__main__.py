"""``python -m bceviz``: the same as the ``bceviz`` command."""

import sys

from bceviz.app import main

if __name__ == "__main__":
    sys.exit(main())
