"""The dockable panels; each reads the AppState, writes it back, and never calls another panel."""
