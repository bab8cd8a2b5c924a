"""ResourceMap: a map-based directory and booking cloud for mental-health services."""

__version__ = "0.1.0"
