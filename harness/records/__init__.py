"""Run records: ``record.json`` per run (docs/record.md, schema 1), written atomically.

The record is the source of truth on a run; W&B mirrors it. This package imports no torch, so the
plan can read records.
"""
