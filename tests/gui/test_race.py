"""The optimizer race in the window: the stage, a path and a curve per racer, the table, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QApplication

from bceviz.gui.panels.race_panel import RACER_COLOURS
from bceviz.model.race import race_of


def _flush(window) -> None:
    QApplication.processEvents()
    for panel in window.panels.values():
        panel.flush()


@pytest.fixture
def race_window(main_window):
    main_window.show_stage("race")
    _flush(main_window)
    return main_window


def test_the_race_stage_opens_with_its_panels_and_racers(race_window):
    st = race_window.state
    race = race_of(st)
    assert race.active and [r.name for r in race.racers] == ["gd", "momentum", "adam", "newton"]
    assert set(race_window.stage_host.visible_panels()) == {"surface", "race"}
    assert race_window.timeline_toolbar.isVisible()
    table = race_window.panels["race"].table
    assert table.rowCount() == 4 and table.item(1, 0).text() == "● momentum"


def test_training_draws_a_path_and_a_curve_per_racer(race_window):
    st = race_window.state
    st.step(30)
    _flush(race_window)
    surface = race_window.panels["surface"]
    figs = race_of(st).figures()
    for i, f in enumerate(figs):
        xs, ys = surface.race_paths[i].getData()
        assert len(xs) == 31 and xs[-1] == pytest.approx(f.w[0])
        assert surface.race_paths[i].isVisible()
        head = surface.race_heads[i]  # a dot where the racer is now, in its colour
        assert head.isVisible() and head.pos().x() == pytest.approx(f.w[0])
        assert head.pos().y() == pytest.approx(f.w[1])
        assert head.brush().color().name() == pg.mkColor(RACER_COLOURS[i]).name()
    assert not surface.race_paths[4].isVisible() and not surface.race_heads[4].isVisible()
    curves = race_window.panels["training_curves"]
    for i in range(4):
        x, _ = curves.race_curves[i].getData()
        assert len(x) == 31
    assert race_window.panels["race"].note.text().startswith("Step 30.")


def test_a_dragged_point_reaches_every_racer(race_window):
    st = race_window.state
    st.step(5)
    st.move_point(0, 3.0, 3.0)
    F = st.features_of(st.X_train)
    assert all(np.array_equal(r.trainer.X, F) for r in race_of(st).racers)


def test_lineup_field_starts_a_race_and_refusals_go_to_the_status_bar(race_window, qtbot):
    panel = race_window.panels["race"]
    panel.lineup.setText("sgd:0.3,adam:0.1")
    panel.start()
    assert [r.name for r in race_of(race_window.state).racers] == ["sgd", "adam"]
    panel.lineup.setText("gd,warp")
    panel.start()
    assert "unknown optimizer" in race_window.state.status_message
    assert [r.name for r in race_of(race_window.state).racers] == ["sgd", "adam"]


def test_another_stage_stops_the_race(race_window):
    race_window.show_stage("xor-product")
    _flush(race_window)
    assert not race_of(race_window.state).active
    assert not any(p.isVisible() for p in race_window.panels["surface"].race_paths)
    assert not any(h.isVisible() for h in race_window.panels["surface"].race_heads)


def test_cli_race_report(tmp_path):
    from bceviz.app import main

    out = tmp_path / "r.json"
    assert main(["--race", "gd,momentum,adam", "--train-steps", "20", "--report", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report["race"]) == {"gd", "momentum", "adam"}
    for entry in report["race"].values():
        assert entry["steps"] == 20 and len(entry["w"]) == 2 and np.isfinite(entry["objective"])
    assert main(["--race", "gd", "--report", str(out)]) == 2



def test_racer_boundaries_on_the_data_plot_when_asked(race_window):
    st = race_window.state
    st.step(10)
    race = race_of(st)
    data = race_window.panels["data"]
    data.flush()
    assert not any(c.isVisible() for c in data.race_contours)
    race_window.panels["race"].boundaries.setChecked(True)
    assert race.show_boundaries
    data.refresh()
    shown = [c for c in data.race_contours if c.isVisible()]
    assert len(shown) == 4
    xs, _ = shown[0].getData()
    assert xs is not None and len(xs) > 0
    # each line lies where its racer says p = threshold (traced on a coarser grid)
    level = np.log(st.threshold / (1 - st.threshold))
    for f, line in zip(race.figures(), shown):
        lx, ly = line.getData()
        z = st.features_of(np.column_stack([lx, ly])) @ f.w + f.b
        assert np.max(np.abs(z - level)) < 0.05
    race.set_show_boundaries(False)
    data.refresh()
    assert not any(c.isVisible() for c in data.race_contours)
