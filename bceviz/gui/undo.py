"""Undo and redo of point edits and setting changes: a QUndoStack fed by watching the AppState.

Design: the controller wraps no setter and no panel calls it. It listens to
the state's events like any view and keeps a *shadow* copy of the parts it
can undo (points, labels, held-out mask, generator settings, loss spec,
training settings, feature map with its weights, threshold). When an event
says one of them changed, the shadow holds the value from before and the
state the value after: that pair becomes a command on the stack (the change
has already happened, so the command's first ``redo`` does nothing). Undo
and redo call the ordinary AppState setters with the recorded value, so
every panel redraws through the usual events; the controller ignores the
events its own replay causes, then re-reads the shadow.

Kinds of command: a point moved, added, removed or relabelled; the data set
replaced (generator settings, a loaded file); the loss spec, the training
settings, the feature map (its weights come back too) and the threshold.

Gestures: one drag is one command. The controller watches mouse presses
application-wide (an event filter that only counts them): changes of the
same kind and target (the same point, the same spec fields, ...) recorded
while the same button press is held merge into one command (``id`` and
``mergeWith``); a change made with no button held (keys, menus, scripts)
is always its own command. A merge that ends where it started is dropped.

"Continue from here" on the timeline (``scrub`` event, ``kind="continue"``)
is one command: the state hands over the training record it replaced
(weights, step count, history) and undo puts it back with
``restore_training_record``.

Not recorded: training steps and weights dragged on the surface, the
loss-curve handle and the samples panel, view options. A scenario or a
session replaces the whole state, so it clears the stack.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, Optional

import numpy as np
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QApplication

from bceviz.model.state import AppState, StateError

#: Oldest commands are dropped beyond this many (a long demo must not grow memory).
UNDO_LIMIT = 200

# Command ids for QUndoCommand.id(): commands of the same id may merge.
_MERGE_IDS = {"move": 1, "spec": 2, "training": 3, "threshold": 4, "dataset": 5}


@dataclass(frozen=True, eq=False)
class DataSnapshot:
    """What ``set_data``/``generate`` replace: points, mask, generator settings, axes, table."""

    X: np.ndarray
    y: np.ndarray
    heldout: np.ndarray
    dataset: Any
    source: str
    axes: Any
    table: Any

    @classmethod
    def of(cls, state: AppState) -> "DataSnapshot":
        return cls(state.X.copy(), state.y.copy(), state.heldout.copy(), state.dataset,
                   state.data_source, state.axes, state.table)

    def same_points(self, other: "DataSnapshot") -> bool:
        return (np.array_equal(self.X, other.X) and np.array_equal(self.y, other.y)
                and np.array_equal(self.heldout, other.heldout))


class _Command(QUndoCommand):
    """One recorded change: ``restore(before)`` undoes it, ``restore(after)`` redoes it."""

    def __init__(self, text: str, kind: str, key: Any, before: Any, after: Any,
                 restore: Callable[[Any], None], gesture: Optional[int],
                 same: Callable[[Any, Any], bool]) -> None:
        super().__init__(text)
        self.kind, self.key = kind, key
        self.before, self.after = before, after
        self._restore = restore
        self._gesture = gesture
        self._same = same
        self._done = True  # recorded after the fact: the first redo() is the change itself

    def id(self) -> int:
        return _MERGE_IDS.get(self.kind, -1) if self._gesture is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt name)
        if not isinstance(other, _Command) or other.kind != self.kind or other.key != self.key \
                or other._gesture is None or other._gesture != self._gesture:
            return False
        self.after = other.after
        self.setObsolete(self._same(self.before, self.after))
        return True

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self._restore(self.after)

    def undo(self) -> None:
        self._restore(self.before)


class UndoController(QObject):
    """Watches ``state`` and records undoable changes on ``self.stack`` (a QUndoStack).

    ``end_gesture()`` closes the current drag for scripted tests; otherwise
    mouse presses delimit gestures. ``detach()`` stops listening.
    """

    def __init__(self, state: AppState, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.state = state
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(UNDO_LIMIT)
        self._replaying = 0
        self._press_serial = 0
        self._held = False
        self._snapshot()
        ev = state.events
        self._listeners = [
            (ev.data, self._on_data), (ev.spec, self._on_spec),
            (ev.settings, self._on_settings), (ev.features, self._on_features),
            (ev.threshold, self._on_threshold), (ev.weights, self._on_weights),
            (ev.scenario, self._on_scenario), (ev.scrub, self._on_scrub),
        ]
        for event, callback in self._listeners:
            event.connect(callback)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    # ---------------------------------------------------------------- public
    def detach(self) -> None:
        for event, callback in self._listeners:
            event.disconnect(callback)
        self._listeners = []
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def clear(self) -> None:
        """Forget every command and re-read the state (a new scenario or session)."""
        self.stack.clear()
        self._snapshot()

    def end_gesture(self) -> None:
        """The next change starts a new command even if a button is still held."""
        self._press_serial += 1

    # --------------------------------------------------------------- gestures
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            self._press_serial += 1
            self._held = True
        elif kind == QEvent.Type.MouseButtonRelease and self._held:
            # A drag's last move arrives while its release is delivered: the
            # gesture ends once the release has been handled.
            QTimer.singleShot(0, self._released)
        return False

    def _released(self) -> None:
        self._held = False

    def _gesture(self) -> Optional[int]:
        return self._press_serial if self._held else None

    # --------------------------------------------------------------- recording
    def _snapshot(self) -> None:
        st = self.state
        self._data = DataSnapshot.of(st)
        self._spec = st.spec
        self._training = st.training
        self._features = (st.features, st.trainer.w.copy(), float(st.trainer.b))
        self._threshold = st.threshold

    def _push(self, text: str, kind: str, key: Any, before: Any, after: Any,
              restore: Callable[[Any], None],
              same: Optional[Callable[[Any, Any], bool]] = None,
              mergeable: bool = False) -> None:
        same = same or (lambda a, b: a == b)
        gesture = self._gesture() if mergeable else None
        top = self._top_command()
        if gesture is not None and top is not None and top.kind == kind and top.key == key \
                and top._gesture == gesture:
            # The same drag again: extend the command in place. Pushing a new command for
            # QUndoStack to merge (and delete) leaked it: PySide kept every deleted Python
            # command alive, ~160 bytes a mouse move, without end during a long drag.
            top.after = after
            top.setObsolete(top._same(top.before, top.after))
            return
        self.stack.push(_Command(text, kind, key, before, after, restore, gesture, same))

    def _top_command(self) -> Optional["_Command"]:
        """The last command done, if nothing is undone above it (else None)."""
        stack = self.stack
        if stack.index() == 0 or stack.index() != stack.count():
            return None
        top = stack.command(stack.index() - 1)
        return top if isinstance(top, _Command) else None

    def _on_weights(self, **_: Any) -> None:
        if not self._replaying:
            t = self.state.trainer
            self._features = (self._features[0], t.w.copy(), float(t.b))

    def _on_scenario(self, **_: Any) -> None:
        self.clear()

    def _on_scrub(self, kind: str = "", before: Optional[dict] = None, **_: Any) -> None:
        if self._replaying or kind != "continue" or before is None:
            return
        after = self.state.training_record()
        self._push(f"Continue from step {after['steps']:,}", "continue", None, before, after,
                   self._restore_training_record, same=lambda a, b: False)

    def _on_data(self, kind: str = "reset", index: Optional[int] = None, **_: Any) -> None:
        if self._replaying:
            return
        st, old = self.state, self._data
        if kind == "move" and index is not None and index < len(old.X):
            before = (int(index), float(old.X[index, 0]), float(old.X[index, 1]))
            after = (int(index), float(st.X[index, 0]), float(st.X[index, 1]))
            old.X[index] = st.X[index]
            if before != after:
                self._push(f"Move point {index}", "move", index, before, after,
                           self._restore_move, mergeable=True)
            return
        if kind == "label" and index is not None and index < len(old.y):
            before, after = (int(index), float(old.y[index])), (int(index), float(st.y[index]))
            old.y[index] = st.y[index]
            if before != after:
                self._push(f"Relabel point {index}", "label", index, before, after,
                           self._restore_label)
            return
        new = DataSnapshot.of(st)
        self._data = new
        if kind == "add" and index is not None and len(new.y) == len(old.y) + 1:
            point = (int(index), float(new.X[index, 0]), float(new.X[index, 1]),
                     float(new.y[index]), bool(new.heldout[index]))
            self._push(f"Add point {index}", "add", index, int(index), point,
                       self._restore_point)
        elif kind == "remove" and index is not None and len(new.y) == len(old.y) - 1:
            point = (int(index), float(old.X[index, 0]), float(old.X[index, 1]),
                     float(old.y[index]), bool(old.heldout[index]))
            self._push(f"Remove point {index}", "remove", index, point, int(index),
                       self._restore_point)
        elif not (old.same_points(new) and old.dataset == new.dataset
                  and old.source == new.source and old.axes == new.axes
                  and old.table is new.table):
            changed = tuple(f.name for f in fields(old.dataset)
                            if getattr(old.dataset, f.name) != getattr(new.dataset, f.name))
            generated = new.source == "generated" and old.source == "generated"
            text = "Change the data set" if generated else "Replace the data"
            self._push(text, "dataset", changed, old, new, self._restore_data,
                       same=lambda a, b: a.same_points(b) and a.dataset == b.dataset
                       and a.source == b.source and a.axes == b.axes and a.table is b.table,
                       mergeable=generated)

    def _on_spec(self, **_: Any) -> None:
        if self._replaying:
            return
        before, after = self._spec, self.state.spec
        self._spec = after
        if before != after:
            changed = tuple(k for k, v in asdict(after).items() if asdict(before)[k] != v)
            self._push(f"Change {', '.join(changed)}", "spec", changed, before, after,
                       self._restore_spec, mergeable=True)

    def _on_settings(self, **_: Any) -> None:
        if self._replaying:
            return
        before, after = self._training, self.state.training
        self._training = after
        if before != after:
            changed = tuple(k for k, v in asdict(after).items() if asdict(before)[k] != v)
            self._push(f"Change {', '.join(changed)}", "training", changed, before, after,
                       self._restore_training, mergeable=True)

    def _on_features(self, **_: Any) -> None:
        if self._replaying:
            return
        t = self.state.trainer
        before = self._features
        after = (self.state.features, t.w.copy(), float(t.b))
        self._features = after
        if before[0] != after[0]:
            self._push(f"Feature map {after[0]}", "features", None, before, after,
                       self._restore_features)

    def _on_threshold(self, **_: Any) -> None:
        if self._replaying:
            return
        before, after = self._threshold, self.state.threshold
        self._threshold = after
        if before != after:
            self._push("Change the threshold", "threshold", None, before, after,
                       self._restore_threshold, mergeable=True)

    # --------------------------------------------------------------- replaying
    def _replay(self, change: Callable[[], None]) -> None:
        self._replaying += 1
        try:
            change()
        except StateError as exc:  # the stack and the state disagree: say so, keep running
            self.state.set_status(f"Cannot undo or redo: {exc}", "error")
        finally:
            self._replaying -= 1
            self._snapshot()

    def _restore_move(self, value) -> None:
        i, x1, x2 = value
        self._replay(lambda: self.state.move_point(i, x1, x2))

    def _restore_label(self, value) -> None:
        i, label = value
        self._replay(lambda: self.state.set_label(i, label))

    def _restore_point(self, value) -> None:
        """An int removes that point; a tuple (index, x1, x2, label, heldout) puts it back."""
        st = self.state
        if isinstance(value, int):
            self._replay(lambda: st.remove_point(value))
            return
        i, x1, x2, label, heldout = value
        if i == st.n_points:
            self._replay(lambda: st.add_point(x1, x2, label, heldout=heldout))
        else:
            self._replay(lambda: st.insert_point(i, x1, x2, label, heldout))

    def _restore_data(self, snap: DataSnapshot) -> None:
        def change() -> None:
            st = self.state
            # Listeners must see the table and settings together with the points.
            with st.events.weights.blocked(replay_last=True):
                with st.events.data.blocked(replay_last=True):
                    st.set_data(snap.X, snap.y, snap.heldout, source=snap.source, axes=snap.axes)
                    st.table = snap.table
                    st.dataset = snap.dataset

        self._replay(change)

    def _restore_spec(self, spec) -> None:
        self._replay(lambda: self.state.set_spec(spec))

    def _restore_training(self, training) -> None:
        self._replay(lambda: self.state.set_training(**asdict(training)))

    def _restore_features(self, value) -> None:
        kind, w, b = value

        def change() -> None:
            st = self.state
            st.set_features(kind)
            if not (np.array_equal(st.trainer.w, w) and st.trainer.b == b):
                st.set_weights(w, b)

        self._replay(change)

    def _restore_training_record(self, record: dict) -> None:
        self._replay(lambda: self.state.restore_training_record(record))

    def _restore_threshold(self, value: float) -> None:
        self._replay(lambda: self.state.set_threshold(value))


__all__ = ["UndoController", "DataSnapshot", "UNDO_LIMIT"]
