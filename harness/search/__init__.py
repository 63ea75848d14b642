"""Optuna rank search through the harness: a study's trials are harness runs (docs/search.md).

``python -m harness.search SPEC`` runs the ``search`` block of a spec; trials share run identity,
run folders, records, W&B runs, executors and the submission journal with grid sweeps.
"""
