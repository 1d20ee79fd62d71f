"""Sessions written by format 1 (the 2-D app before labs) still open, as the 2-D lab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bceviz.model.session import (
    FORMAT_VERSION,
    SessionError,
    apply_session,
    load_session,
    loads_session,
    session_to_dict,
)
from bceviz.model.state import AppState

OLD = Path(__file__).parent / "old_sessions"


def test_a_format_1_file_opens_as_the_2d_lab_with_the_same_figures():
    data = load_session(OLD / "format1-xor-product.bceviz.json")
    assert data.format_version == 1
    assert data.lab == "logistic2d"
    assert data.stage == "xor-product"  # format 1 knew only the scenario
    assert data.labs == {}
    state = AppState()
    apply_session(state, data)
    expected = json.loads((OLD / "format1-xor-product.report.json").read_text(encoding="utf-8"))
    report = state.summary()
    for key in ("steps", "n_points", "features"):
        assert report[key] == expected[key], key
    for key in ("w", "b", "train_loss", "train_accuracy"):
        assert report[key] == pytest.approx(expected[key], rel=1e-12), key
    assert state.stage_id == "xor-product"


def test_the_current_format_records_lab_stage_and_other_labs():
    state = AppState()
    doc = session_to_dict(state, lab="tipping", stage="tipping-two-examples",
                          labs={"tipping": {"anything": 1}})
    assert doc["format_version"] == FORMAT_VERSION == 2
    data = loads_session(json.dumps(doc))
    assert (data.lab, data.stage) == ("tipping", "tipping-two-examples")
    assert data.labs == {"tipping": {"anything": 1}}


def test_labs_must_be_an_object_of_objects():
    doc = session_to_dict(AppState())
    doc["labs"] = {"tipping": [1, 2]}
    with pytest.raises(SessionError, match="labs"):
        loads_session(json.dumps(doc))


def test_a_newer_format_is_refused_with_a_message():
    doc = session_to_dict(AppState())
    doc["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(SessionError, match="newer bceviz"):
        loads_session(json.dumps(doc))
