"""Scenarios: every bundled file loads; bad files fail clearly and leave the state untouched."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from bceviz.model import scenarios
from bceviz.model.scenarios import (
    ScenarioError,
    apply_scenario,
    list_scenarios,
    load_scenario,
    load_scenario_file,
    validate_scenario,
)
from bceviz.model.state import AppState

BUNDLED = [sid for sid, _ in list_scenarios()]


def test_the_four_starting_scenarios_are_bundled_in_menu_order():
    assert BUNDLED[0] == "default"
    assert {"default", "xor-linear", "xor-product", "large"} <= set(BUNDLED)
    titles = dict(list_scenarios())
    assert all(titles[sid].strip() for sid in BUNDLED)


@pytest.mark.parametrize("sid", BUNDLED)
def test_every_bundled_scenario_loads_and_applies(sid):
    sc = load_scenario(sid)
    assert sc["id"] == sid and sc["format_version"] == scenarios.FORMAT_VERSION
    assert sc["caption"]
    st = AppState()
    apply_scenario(st, sc)
    assert st.scenario_id == sid and st.caption == sc["caption"]
    assert st.running == sc["autoplay"]
    assert st.trainer.steps == 0
    assert np.isfinite(st.summary()["train_loss"])


def test_default_is_a_paused_friendly_start():
    st = AppState()
    apply_scenario(st, load_scenario("default"))
    assert not st.running and st.training.optimizer == "gd"
    assert st.dataset.kind == "overlap" and st.features == "linear"
    assert "drag" in st.caption.lower()


def test_large_has_a_thousand_points_and_plays():
    st = AppState()
    apply_scenario(st, load_scenario("large"))
    assert st.n_points == 1000 and st.running


def test_xor_linear_gives_up_at_ln2_and_xor_product_solves_it():
    st = AppState()
    apply_scenario(st, load_scenario("xor-linear"))
    st.step(3000)
    assert st.summary()["train_loss"] == pytest.approx(math.log(2), abs=1e-3)
    X, y = st.X.copy(), st.y.copy()
    apply_scenario(st, load_scenario("xor-product"))
    np.testing.assert_array_equal(st.X, X)  # the same points
    np.testing.assert_array_equal(st.y, y)
    st.step(2000)
    assert st.summary()["accuracy"] >= 0.95


def test_applying_a_scenario_resets_what_it_leaves_out():
    st = AppState()
    st.set_spec(focal_gamma=3.0, label_smoothing=0.2)
    st.set_view(units="bits", show_grad_arrows=True)
    st.set_threshold(0.9)
    st.step(20)
    apply_scenario(st, load_scenario("default"))
    assert st.spec.focal_gamma == 0.0 and st.spec.label_smoothing == 0.0
    assert st.view.units == "nats" and not st.view.show_grad_arrows
    assert st.threshold == 0.5 and st.trainer.steps == 0


def test_scenario_events_carry_title_caption_and_panels():
    st = AppState()
    seen = []
    st.events.scenario.connect(lambda **info: seen.append(info))
    sc = load_scenario("default")
    sc["panels"] = ["data", "controls"]
    apply_scenario(st, sc)
    assert seen[-1]["title"] == sc["title"] and seen[-1]["panels"] == ("data", "controls")
    assert st.scenario_panels == ("data", "controls")


def test_inline_points_and_starting_weights():
    raw = {"format_version": 1, "id": "tiny", "title": "Tiny", "caption": "",
           "points": {"X": [[0, 0], [1, 1], [2, 0]], "y": [0, 1, 0.5], "heldout": [False, False, True]},
           "model": {"features": "product", "w": [0.5, -0.5, 1.0], "b": 0.25},
           "loss": {"label_smoothing": 0.1}, "threshold": 0.3}
    st = AppState()
    apply_scenario(st, raw)
    np.testing.assert_array_equal(st.X, [[0, 0], [1, 1], [2, 0]])
    np.testing.assert_array_equal(st.heldout, [False, False, True])
    np.testing.assert_array_equal(st.trainer.w, [0.5, -0.5, 1.0])
    assert st.trainer.b == 0.25 and st.threshold == 0.3 and st.spec.label_smoothing == 0.1


def test_panel_ids_agree_with_the_gui_registry():
    from bceviz.gui.panels import registry  # no Qt at import time

    assert set(scenarios.PANEL_IDS) == set(registry.PANEL_IDS)


# -- errors ----------------------------------------------------------------------------------
def _good() -> dict:
    return copy.deepcopy(json.loads((scenarios.scenarios_dir() / "default.json").read_text()))


@pytest.mark.parametrize("mutate, needle", [
    (lambda r: r.update(colour="red"), "colour"),
    (lambda r: r["dataset"].update(kindd="xor"), "dataset.kindd"),
    (lambda r: r["model"].update(lrr=0.1), "model.lrr"),
    (lambda r: r.pop("format_version"), "format_version"),
    (lambda r: r.update(format_version=99), "newer"),
    (lambda r: r["dataset"].update(kind="galaxy"), "galaxy"),
    (lambda r: r["dataset"].update(n=0), "dataset.n"),
    (lambda r: r["dataset"].update(n=12.5), "dataset.n"),
    (lambda r: r["dataset"].update(pos_fraction=1.0), "pos_fraction"),
    (lambda r: r["model"].update(lr=-1), "model.lr"),
    (lambda r: r["model"].update(optimizer="lbfgs"), "lbfgs"),
    (lambda r: r["model"].update(features="poly9"), "poly9"),
    (lambda r: r["model"].update(w=[1.0, 2.0, 3.0]), "model.w"),
    (lambda r: r.update(loss={"label_smoothing": 1.5}), "label_smoothing"),
    (lambda r: r.update(loss={"pos_weight": "heavy"}), "pos_weight"),
    (lambda r: r.update(threshold=2), "threshold"),
    (lambda r: r.update(panels=["data", "radar"]), "radar"),
    (lambda r: r.update(autoplay="yes"), "autoplay"),
    (lambda r: r.update(view={"units": "decibels"}), "units"),
    (lambda r: r.update(view={"show_mse": 1}), "show_mse"),
    (lambda r: r.update(probe={"p": 2}), "probe.p"),
    (lambda r: r.update(samples={"p": [0.5, 0.6], "y": [1]}), "samples.y"),
    (lambda r: r.update(points={"X": [[0, 0]], "y": [1]}), "dataset"),
    (lambda r: r.update(id="Bad Id"), "id"),
])
def test_bad_values_are_refused_with_the_field_named(mutate, needle):
    raw = _good()
    mutate(raw)
    with pytest.raises(ScenarioError) as info:
        validate_scenario(raw, source="x.json")
    message = str(info.value)
    assert message.startswith("x.json") and needle in message


def test_inline_point_errors_name_the_point():
    raw = _good()
    del raw["dataset"]
    raw["points"] = {"X": [[0, 0], [1, "a"]], "y": [0, 1]}
    with pytest.raises(ScenarioError, match=r"points\.X\[1\]"):
        validate_scenario(raw)


def test_a_failing_scenario_leaves_the_state_untouched():
    st = AppState()
    apply_scenario(st, load_scenario("xor-product"))
    st.step(5)
    before = (st.X.copy(), st.trainer.w.copy(), st.spec, st.training, st.scenario_id, st.features)
    events = []
    for ev in st.events:
        ev.connect(lambda name=ev.name, **_: events.append(name))
    raw = _good()
    raw["dataset"]["noise"] = 50.0  # type-valid, refused by the generator (rehearsal catches it)
    with pytest.raises(ScenarioError, match="noise"):
        apply_scenario(st, raw)
    np.testing.assert_array_equal(st.X, before[0])
    np.testing.assert_array_equal(st.trainer.w, before[1])
    assert (st.spec, st.training, st.scenario_id, st.features) == before[2:]
    assert events == [] and st.trainer.steps == 5


def test_malformed_json_names_file_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "format_version": 1,\n  "id": "broken"\n  "title": "x"\n}\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario_file(path)
    assert "broken.json" in str(info.value) and "line 4" in str(info.value)


def test_file_name_must_match_the_id(tmp_path):
    raw = _good()
    (tmp_path / "other.json").write_text(json.dumps(raw))
    with pytest.raises(ScenarioError, match="file name"):
        load_scenario_file(tmp_path / "other.json")


def test_unknown_and_unsafe_ids(tmp_path):
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'.*default"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="invalid scenario id"):
        load_scenario("../secrets")


def test_listing_skips_unreadable_files(tmp_path):
    raw = _good()
    (tmp_path / "default.json").write_text(json.dumps(raw))
    (tmp_path / "junk.json").write_text("not json")
    assert list_scenarios(tmp_path) == [("default", raw["title"])]
