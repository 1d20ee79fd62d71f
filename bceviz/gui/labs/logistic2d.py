"""The 2-D lab's panels: the nine of :mod:`bceviz.gui.panels`, by the ids its stages use.

The main window builds these once, in docks, for the 2-D workbench, and lends
them to the stage host for the 2-D lessons (see ``docs/architecture.md``).
"""

from __future__ import annotations

from bceviz.gui.panels import registry

#: Panel id -> class (the controls are the lab's CONTROLS, not a stage panel).
PANELS = {entry.panel_id: cls for entry, cls in registry.available_panels()
          if entry.panel_id != "controls"}
CONTROLS = registry.entry("controls").load()

__all__ = ["CONTROLS", "PANELS"]
