"""Spatial analysis for ResourceMap: CRS choice, synthetic geography, coverage (no HTTP)."""
