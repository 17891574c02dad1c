"""The version of chainrule (read by the package, by model files that record who wrote them, and by the CLI)."""

__version__ = "0.1.0"
