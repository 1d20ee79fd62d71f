"""bceviz: see and touch binary cross-entropy."""

__version__ = "0.1.0"
