import json
import os
import tempfile

# GUI tests run without a display, on an offscreen screen of 1280 × 720: the size of the
# projectors bceviz is taught on (every stage is checked at that size). Set before any
# Qt import. CI sets QT_QPA_PLATFORM=offscreen; the screen size is added here.
_SCREEN = {"screens": [{"name": "room", "x": 0, "y": 0, "width": 1280, "height": 720,
                        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}
_platform = os.environ.get("QT_QPA_PLATFORM", "offscreen")
if _platform == "offscreen":
    _fd, _path = tempfile.mkstemp(prefix="bceviz-screen-", suffix=".json")
    with os.fdopen(_fd, "w", encoding="utf-8") as _fh:
        json.dump(_SCREEN, _fh)
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_path}"
    import atexit

    atexit.register(lambda: os.path.exists(_path) and os.unlink(_path))
else:
    os.environ.setdefault("QT_QPA_PLATFORM", _platform)

# The app's settings and autosaved session go to a folder of this test run (each
# pytest-xdist worker its own), never the user's; app runs in child processes inherit it.
os.environ.setdefault("BCEVIZ_CONFIG_DIR", tempfile.mkdtemp(prefix="bceviz-test-config-"))


import pytest  # noqa: E402  (after the screen is set up, before any Qt import)


@pytest.fixture(autouse=True)
def _widgets_outlive_their_test(monkeypatch):
    """Hold every widget given to ``qtbot.addWidget`` until pytest-qt has closed it.

    pytest-qt keeps only weak references. A panel whose last references form a
    cycle (its own signal connections) is then left to the garbage collector,
    which may run while Qt paints that very panel, in the events pytest-qt
    processes after the test returns: the widget is deleted mid-paint and a
    later test segfaults. pytest-qt closes its widgets before fixtures are torn
    down, so dropping these references here is safe.
    """
    import pytestqt.qtbot as qtbot_module  # (the test extra: pytest-qt)

    kept: list = []
    original = qtbot_module._add_widget

    def add_widget(item, widget, *args, **kwargs):
        kept.append(widget)
        return original(item, widget, *args, **kwargs)

    monkeypatch.setattr(qtbot_module, "_add_widget", add_widget)
    yield
    kept.clear()
