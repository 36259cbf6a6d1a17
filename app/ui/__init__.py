"""The PySide6 user interface: widgets, models and views only."""
