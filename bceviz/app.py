"""Application entry point (placeholder until the live window lands)."""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication(sys.argv if argv is None else ["bceviz", *argv])
    label = QLabel("bceviz")
    label.show()
    return app.exec()
