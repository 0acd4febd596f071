"""Synthetic city generator: a realistic, deterministic 相模原市 as CSV files (no Django).

``jumin seed --residents N --seed S --out DIR`` writes ``households.csv``, ``residents.csv``,
``history.csv`` and ``manifest.json`` (layout: ``docs/guide/csv-layout.md``). Everything is
made up: names come from tables of real names with their readings, addresses from the
committed 住所辞書, identifiers are synthetic but carry valid check digits.
"""

from jumin.synth.generator import (
    HISTORY_COLUMNS,
    HOUSEHOLD_COLUMNS,
    RESIDENT_COLUMNS,
    CityGenerator,
    GenerationStats,
    generate,
)

__all__ = [
    "HISTORY_COLUMNS",
    "HOUSEHOLD_COLUMNS",
    "RESIDENT_COLUMNS",
    "CityGenerator",
    "GenerationStats",
    "generate",
]
