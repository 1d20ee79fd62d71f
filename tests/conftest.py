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
else:
    os.environ.setdefault("QT_QPA_PLATFORM", _platform)
    import atexit

    atexit.register(lambda: os.path.exists(_path) and os.unlink(_path))
