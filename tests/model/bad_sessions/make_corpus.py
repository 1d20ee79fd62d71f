"""Regenerate the malformed-session corpus: ``python tests/model/bad_sessions/make_corpus.py``.

Each file is a small valid session with one thing broken; test_session.py
names the message each must produce. Kept so the corpus can be rebuilt when
the format grows (a new format_version gets new files, the old ones stay).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def base_session() -> dict:
    """A small valid session (12 points, 3 training steps) as a dict."""
    from bceviz.model.session import session_to_dict
    from bceviz.model.state import AppState

    rng = np.random.default_rng(5)
    X = np.round(rng.normal(size=(12, 2)), 3)
    y = np.array([0, 1] * 6, dtype=float)
    heldout = np.zeros(12, bool)
    heldout[[3, 8]] = True
    state = AppState()
    state.set_data(X, y, heldout, source="file")
    state.set_spec(label_smoothing=0.1)
    state.step(3)
    return session_to_dict(state)


def dump(doc, **kw) -> str:
    return json.dumps(doc, indent=1, **kw) + "\n"


def main() -> None:
    base = base_session()
    files: dict[str, str | bytes] = {}

    def mutate(name: str, fn) -> None:
        doc = copy.deepcopy(base)
        fn(doc)
        files[name] = dump(doc)

    text = dump(base)
    files["truncated.json"] = text[: len(text) // 2]
    files["trailing_comma.json"] = text.replace(
        '"features": "linear",', '"features": "linear",,', 1)
    files["empty.json"] = ""
    files["not_utf8.json"] = text.encode("utf-16")
    files["not_an_object.json"] = "[1, 2, 3]\n"

    def token(name: str, fn, marker: str, replacement: str) -> None:
        doc = copy.deepcopy(base)
        fn(doc)
        out = dump(doc)
        assert out.count(f'"{marker}"') == 1
        files[name] = out.replace(f'"{marker}"', replacement)

    token("nan_label.json", lambda d: d["data"]["y"].__setitem__(5, "@NAN@"), "@NAN@", "NaN")
    token("infinity_weight.json", lambda d: d["model"].update(b="@INF@"), "@INF@", "-Infinity")
    mutate("future_version.json", lambda d: d.update(format_version=3))
    mutate("wrong_format.json", lambda d: d.update(format="some-other-app"))
    mutate("label_out_of_range.json", lambda d: d["data"]["y"].__setitem__(9, 1.5))
    mutate("label_is_text.json", lambda d: d["data"]["y"].__setitem__(2, "1"))
    mutate("y_too_short.json", lambda d: d["data"]["y"].pop())
    mutate("heldout_not_bool.json", lambda d: d["data"]["heldout"].__setitem__(4, 0))
    mutate("point_three_coords.json", lambda d: d["data"]["X"][7].append(0.5))
    mutate("missing_field.json", lambda d: d["data"].pop("heldout"))
    mutate("missing_section.json", lambda d: d.pop("model"))
    mutate("unknown_field.json", lambda d: d["loss"].update(smoothing=0.2))
    mutate("negative_pos_weight.json", lambda d: d["loss"].update(pos_weight=-2.0))
    mutate("smoothing_one.json", lambda d: d["loss"].update(label_smoothing=1.0))
    mutate("unknown_features.json", lambda d: d.update(features="poly9"))
    mutate("w_wrong_length.json", lambda d: d["model"]["w"].append(0.0))
    mutate("lr_is_bool.json", lambda d: d["training"].update(lr=True))
    mutate("lr_zero.json", lambda d: d["training"].update(optimizer="adam", lr=0.0))
    mutate("unknown_optimizer.json", lambda d: d["training"].update(optimizer="lbfgs"))
    mutate("steps_negative.json", lambda d: d["model"].update(steps=-1))
    mutate("history_not_increasing.json",
           lambda d: d["model"]["history"]["step"].__setitem__(1, 0))
    mutate("history_newest_mismatch.json",
           lambda d: d["model"].update(b=d["model"]["b"] + 1.0))
    mutate("history_length_mismatch.json", lambda d: d["model"]["history"]["loss"].pop(0))
    mutate("all_heldout.json", lambda d: d["data"].update(heldout=[True] * 12))
    mutate("probe_out_of_range.json", lambda d: d["probe"].update(z=1000.0))
    mutate("samples_p_negative.json", lambda d: d["samples"]["p"].__setitem__(1, -0.25))
    mutate("ref_p_length.json", lambda d: d["samples"].update(ref_p=[0.5]))
    mutate("threshold_text.json", lambda d: d.update(threshold="0.5"))
    mutate("view_units.json", lambda d: d["view"].update(units="decibels"))
    mutate("layout_not_base64.json", lambda d: d.update(layout="not base64 ***"))
    token("huge_number.json", lambda d: d.update(threshold="@BIG@"), "@BIG@", "1e999")

    for old in HERE.glob("*.json"):
        old.unlink()
    for name, content in sorted(files.items()):
        path = HERE / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    print(f"wrote {len(files)} files to {HERE}")


if __name__ == "__main__":
    main()
