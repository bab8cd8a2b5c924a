"""Helpers the benchmark scripts share: servers, load driving and synthetic listings.

A package rather than ``bench/_common.py`` because ``make bench`` runs every
``bench/*.py`` as a benchmark.
"""
