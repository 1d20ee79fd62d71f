"""Sessions: exact round trips, atomic saves, and refusal of malformed files with the state kept."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from bceviz.model import session as S
from bceviz.model.session import (
    SessionError,
    apply_session,
    load_session,
    save_session,
    session_to_dict,
)
from bceviz.model.state import AppState, DataAxes

CORPUS = Path(__file__).parent / "bad_sessions"

#: Each malformed file in the corpus and (JSON path or None, text its message must contain).
EXPECTED = {
    "all_heldout.json": ("data.heldout", "every point is held out"),
    "empty.json": (None, "the file is empty"),
    "future_version.json": (
        None, "written by a newer bceviz (format 99); this one reads up to 2"),
    "heldout_not_bool.json": ("data.heldout[4]", "expected true or false, got 0"),
    "history_length_mismatch.json": (
        "model.history.loss", "has 3 entries but model.history.step has 4"),
    "history_newest_mismatch.json": ("model.history.w[3]", "does not match the model's weights"),
    "history_not_increasing.json": ("model.history.step[1]", "steps must increase"),
    "huge_number.json": ("threshold", "number too large"),
    "infinity_weight.json": ("model.b", "-Infinity is not allowed"),
    "label_is_text.json": ("data.y[2]", "expected a number, got text '1'"),
    "label_out_of_range.json": ("data.y[9]", "label 1.5 is outside [0, 1]"),
    "layout_not_base64.json": ("layout", "not base64"),
    "lr_is_bool.json": ("training.lr", "expected a number, got true"),
    "lr_zero.json": ("training.lr", "learning rate must be > 0"),
    "missing_field.json": ("data", "missing field 'heldout'"),
    "missing_section.json": (None, "missing field 'model'"),
    "nan_label.json": ("data.y[5]", "NaN is not allowed"),
    "negative_pos_weight.json": ("loss.pos_weight", "-2.0 must be >= 0"),
    "not_an_object.json": (None, "not a bceviz session"),
    "not_utf8.json": (None, "not a text (UTF-8) file"),
    "point_three_coords.json": ("data.X[7]", "has 3 numbers, expected 2"),
    "probe_out_of_range.json": ("probe.z", "logit 1000.0 is outside [-30, 30]"),
    "ref_p_length.json": ("samples.ref_p", "has 1 entry but samples.p has 3"),
    "samples_p_negative.json": ("samples.p[1]", "prediction -0.25 is outside [0, 1]"),
    "smoothing_one.json": ("loss.label_smoothing", "1.0 is outside [0, 1)"),
    "steps_negative.json": ("model.steps", "-1 must be >= 0"),
    "threshold_text.json": ("threshold", "expected a number, got text '0.5'"),
    "trailing_comma.json": (None, "not valid JSON: Expecting property name"),
    "truncated.json": (None, "not valid JSON"),
    "unknown_features.json": ("features", "'poly9' is not one of"),
    "unknown_field.json": ("loss", "unknown field 'smoothing'"),
    "unknown_optimizer.json": ("training.optimizer", "'lbfgs' is not one of"),
    "view_units.json": ("view.units", "'decibels' is not one of nats, bits"),
    "w_wrong_length.json": ("model.w", "has 3 entries but features 'linear' have 2"),
    "wrong_format.json": ("format", "not a bceviz session"),
    "y_too_short.json": ("data.y", "has 11 entries but data.X has 12"),
}


def rich_state() -> AppState:
    """A state where every saved field differs from the defaults."""
    state = AppState()
    state.generate(kind="moons", n=160, noise=0.2, seed=3, heldout_fraction=0.2)
    points = np.column_stack([np.linspace(-2, 2, 160), np.sin(np.arange(160.0))])
    labels = (points[:, 1] > 0).astype(float)
    heldout = np.arange(160) % 5 == 0
    state.set_data(points, labels, heldout, source="cells.csv",
                   axes=DataAxes(names=("mean radius", "texture"), mean=(14.1, 19.3),
                                 std=(3.5, 4.3), standardized=True, label_name="malignant"))
    state.move_point(5, 0.123456789, -1.0 / 3.0)
    state.set_label(7, 0.3)  # a soft label
    state.add_point(0.5, 0.25, 1.0, heldout=True)
    state.set_spec(label_smoothing=0.1, pos_weight=2.5, focal_gamma=1.5, focal_alpha=0.3)
    state.set_features("poly3")
    state.set_training(optimizer="momentum", lr=0.05, l2=0.01, l1=0.001, momentum=0.8,
                       steps_per_frame=7, batch_size=16)
    state.step(40)
    state.set_probe(z=2.0 / 3.0, y=0.9)
    state.set_samples([0.1, 0.55, 0.999], [0.0, 1.0, 0.7], [0.2, 0.5, 0.8])
    state.set_threshold(0.4321)
    state.set_view(units="bits", curve_axis="z", show_mse=True, show_hinge=True)
    state.scenario_id = "xor-linear"
    state.scenario_title = "XOR with a straight line"
    state.caption = "Try x1·x2 — “quotes” and ünïcode survive."
    state.scenario_panels = ("controls", "data")
    return state


def assert_same_arrays(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()  # bit for bit (also -0.0 vs 0.0)


def assert_states_equal(s1: AppState, s2: AppState):
    assert session_to_dict(s1) == session_to_dict(s2)
    for name in ("X", "y", "heldout", "samples_p", "samples_y", "samples_ref_p"):
        assert_same_arrays(getattr(s1, name), getattr(s2, name))
    assert_same_arrays(s1.trainer.w, s2.trainer.w)
    assert s1.trainer.b == s2.trainer.b and s1.trainer.steps == s2.trainer.steps
    h1, h2 = s1.trainer.history.as_dict(), s2.trainer.history.as_dict()
    assert h1.keys() == h2.keys()
    for key in h1:
        assert_same_arrays(h1[key], h2[key])
    assert (s1.spec, s1.training, s1.dataset, s1.view, s1.features) == \
        (s2.spec, s2.training, s2.dataset, s2.view, s2.features)
    assert (s1.probe_z, s1.probe_y, s1.threshold) == (s2.probe_z, s2.probe_y, s2.threshold)
    assert s1.summary() == s2.summary()


# ----------------------------------------------------------------------------
# Round trips


def test_round_trip_is_exact(tmp_path):
    state = rich_state()
    layout = S.encode_layout(bytes(range(256)))
    path = tmp_path / "demo.bceviz.json"
    save_session(state, path, layout=layout)
    data = load_session(path)
    assert data.layout == layout and data.layout_bytes() == bytes(range(256))
    fresh = AppState()
    apply_session(fresh, data)
    assert_states_equal(state, fresh)
    assert fresh.scenario_panels == ("controls", "data")
    assert fresh.caption == state.caption
    assert fresh.data_source == state.data_source
    assert fresh.axes == state.axes and fresh.axes.names == ("mean radius", "texture")


def test_round_trip_of_awkward_floats(tmp_path):
    state = AppState()
    X = np.array([[0.1, 1e-300], [-0.0, 5e-324], [1.7976931348623157e308 / 1e300, 2.0 / 3.0],
                  [np.nextafter(1.0, 2.0), -123456.789]])
    state.set_data(X, [0.0, 1.0, np.nextafter(0.5, 1.0), 1.0 / 3.0])
    state.set_weights([np.pi, -np.e], 1e-17)
    save_session(state, tmp_path / "s.json")
    fresh = AppState()
    apply_session(fresh, load_session(tmp_path / "s.json"))
    assert_states_equal(state, fresh)


def test_training_continues_identically_after_a_round_trip(tmp_path):
    state = AppState()
    state.set_training(optimizer="gd", lr=0.3, l2=0.01)
    state.step(25)
    save_session(state, tmp_path / "s.json")
    fresh = AppState()
    apply_session(fresh, load_session(tmp_path / "s.json"))
    state.step(30)
    fresh.step(30)
    assert_states_equal(state, fresh)


def test_thinned_history_round_trips_and_keeps_thinning_the_same_way(tmp_path):
    state = AppState()
    state.set_training(optimizer="gd", lr=0.2)
    capacity = state.trainer.history.capacity
    state.step(capacity + 5)  # the history has been thinned once
    assert state.trainer.history.stride == 2
    save_session(state, tmp_path / "s.json")
    fresh = AppState()
    apply_session(fresh, load_session(tmp_path / "s.json"))
    assert_states_equal(state, fresh)
    state.step(11)
    fresh.step(11)
    assert_states_equal(state, fresh)


def test_save_load_save_gives_identical_bytes(tmp_path):
    state = rich_state()
    save_session(state, tmp_path / "a.json", layout="AAEC")
    fresh = AppState()
    data = load_session(tmp_path / "a.json")
    apply_session(fresh, data)
    save_session(fresh, tmp_path / "b.json", layout=data.layout)
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_file_is_versioned_plain_json(tmp_path):
    save_session(rich_state(), tmp_path / "s.json")
    doc = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert doc["format"] == "bceviz-session" and doc["format_version"] == 2
    assert set(doc) >= {"data", "loss", "features", "training", "model", "probe", "samples",
                        "threshold", "view", "scenario", "layout"}
    assert doc["loss"] == {"label_smoothing": 0.1, "pos_weight": 2.5, "focal_gamma": 1.5,
                           "focal_alpha": 0.3}
    assert len(doc["model"]["history"]["step"]) == 41


def test_apply_accepts_a_dict_and_emits_each_event_once():
    state = rich_state()
    doc = session_to_dict(state)
    fresh = AppState()
    counts: dict[str, int] = {}
    for event in fresh.events:
        event.connect(lambda _name=event.name, **info: counts.__setitem__(
            _name, counts.get(_name, 0) + 1))
    apply_session(fresh, doc)
    assert_states_equal(state, fresh)
    for name in ("data", "spec", "features", "settings", "weights", "probe", "samples",
                 "threshold", "view", "scenario", "status"):
        assert counts.get(name) == 1, (name, counts)


def test_apply_pauses_training():
    state = AppState()
    state.set_running(True)
    apply_session(state, session_to_dict(AppState()))
    assert state.running is False


def test_missing_optional_settings_take_defaults():
    doc = session_to_dict(AppState())
    del doc["view"]["show_mse"]
    del doc["training"]["momentum"]
    data = S.session_from_dict(doc)
    assert data.view.show_mse is False and data.training.momentum == 0.9


def test_session_without_axes_gets_the_default_axes():
    doc = session_to_dict(rich_state())
    del doc["data"]["axes"]
    fresh = rich_state()
    apply_session(fresh, doc)
    assert fresh.axes == DataAxes()


def test_bad_axes_are_refused():
    doc = session_to_dict(AppState())
    doc["data"]["axes"]["names"] = ["x1"]
    with pytest.raises(SessionError) as info:
        S.session_from_dict(doc)
    assert info.value.field == "data.axes.names"


def test_bom_and_int_literals_are_accepted(tmp_path):
    doc = session_to_dict(AppState())
    doc["threshold"] = 1  # an integer where a float is expected
    path = tmp_path / "s.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode())
    assert load_session(path).threshold == 1.0


# ----------------------------------------------------------------------------
# Refusals


def test_corpus_and_expectations_match():
    assert sorted(p.name for p in CORPUS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_session_is_refused_with_its_message_and_the_state_kept(name):
    path = CORPUS / name
    field, text = EXPECTED[name]
    state = rich_state()
    before = session_to_dict(state)
    with pytest.raises(SessionError) as info:
        apply_session(state, load_session(path))
    err = info.value
    message = str(err)
    assert text in message, message
    assert str(path) in message and err.file == str(path)
    assert err.field == field, message
    if field:
        assert f"{field}: " in message
    assert session_to_dict(state) == before


def test_malformed_json_reports_line_and_column():
    with pytest.raises(SessionError) as info:
        load_session(CORPUS / "trailing_comma.json")
    err = info.value
    assert err.line is not None and err.column is not None
    assert f"line {err.line}, column {err.column}" in str(err)
    lines = (CORPUS / "trailing_comma.json").read_text().splitlines()
    assert ",," in lines[err.line - 1]


def test_session_error_is_a_value_error():
    assert issubclass(SessionError, ValueError)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(SessionError, match="file not found"):
        load_session(tmp_path / "nope.json")
    with pytest.raises(SessionError, match="folder"):
        load_session(tmp_path)


def test_huge_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as fh:
        fh.truncate(S.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(SessionError, match="over 50 MB are refused"):
        load_session(path)


def test_too_many_points_is_refused():
    from bceviz.model.state import MAX_POINTS

    doc = session_to_dict(AppState())
    doc["data"]["X"] = [[0.0, 0.0]] * (MAX_POINTS + 1)
    with pytest.raises(SessionError, match="at most 20,000"):
        S.session_from_dict(doc)


def test_overflowing_integer_is_refused():
    doc = session_to_dict(AppState())
    doc["data"]["X"][3][1] = 10**400
    with pytest.raises(SessionError) as info:
        S.session_from_dict(doc)
    assert info.value.field == "data.X[3][1]"


def test_failure_while_applying_leaves_the_state_untouched(monkeypatch):
    state = rich_state()
    before = session_to_dict(state)
    data = S.session_from_dict(session_to_dict(AppState()))

    def broken(*args, **kwargs):
        raise ValueError("simulated trainer failure")

    monkeypatch.setattr(S, "_restore_history", broken)
    with pytest.raises(SessionError, match="simulated trainer failure"):
        apply_session(state, data)
    assert session_to_dict(state) == before


# ----------------------------------------------------------------------------
# Atomic saving


def test_save_replaces_atomically_and_leaves_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    save_session(AppState(), path)
    old = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(S.os, "replace", fail)
    with pytest.raises(SessionError, match="No space left on device") as info:
        save_session(rich_state(), path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["s.json"]


def test_save_into_missing_folder_fails_cleanly(tmp_path):
    path = tmp_path / "no" / "such" / "s.json"
    with pytest.raises(SessionError, match="does not exist"):
        save_session(AppState(), path)
    assert not (tmp_path / "no").exists()


def test_save_refuses_non_finite_numbers_without_writing(tmp_path):
    state = AppState()
    state.probe_z = float("nan")  # cannot happen through the setters
    with pytest.raises(SessionError, match="probe.z"):
        save_session(state, tmp_path / "s.json")
    assert os.listdir(tmp_path) == []


def test_numpy_scalars_in_settings_are_saved_as_plain_numbers(tmp_path):
    state = AppState()
    state.set_training(steps_per_frame=np.int64(3), lr=np.float64(0.25), seed=np.int32(2))
    save_session(state, tmp_path / "s.json")
    training = load_session(tmp_path / "s.json").training
    assert (training.steps_per_frame, training.lr, training.seed) == (3, 0.25, 2)
    assert type(training.steps_per_frame) is int


def test_saved_file_has_no_nan_tokens(tmp_path):
    save_session(rich_state(), tmp_path / "s.json")
    text = (tmp_path / "s.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
