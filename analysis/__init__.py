"""Analysis: the paper's tables and curves, rebuilt from run records only.

Vocabulary (shared with ``harness``):

- **record**: ``record.json`` of one run, the only input besides the sweep spec's ``table``
  block. This package never imports torch, mmcv, mmdet, submitit or wandb.
- **table**: rows x columns of a sweep, each **cell** one or more runs (seeds) reduced to the
  printed number (mean ± std over seeds), with a placeholder when a cell is not done.
- **provenance**: for every printed number, the runs, job ids, W&B run ids, git commit and
  checkpoint it came from (a sidecar JSON beside each table).
- **curve**: a figure drawn from counts (``lors.counting``) or from records.

Modules, in pipeline order: ``records`` (read and validate ``record.json``), ``sweep`` (the one
bridge to ``harness.spec`` / ``harness.plan``), ``evaluations`` (records of a given checkpoint's
evaluation: rows the sweep did not train), ``counts`` (cells of count tables), ``layout``
and ``quantities`` (the plain inputs and the metric vocabulary), ``table`` / ``delta`` /
``entries`` (pure: cells -> paper-shaped DataFrame), ``cell_text`` / ``render`` (LaTeX, Markdown,
CSV), ``provenance`` / ``regression`` (sidecars, ``explain``, ``--check``), ``pareto`` /
``curves`` (figures), ``outputs`` (files), ``make_tables`` (the CLI; docs/analysis.md).
"""
