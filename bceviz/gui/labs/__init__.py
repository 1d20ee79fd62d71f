"""The GUI side of each lab: its panels and controls (see docs/architecture.md, "Labs")."""
