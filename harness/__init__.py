"""The sweep harness: a declarative spec becomes runs, jobs, records and, at the end, a table.

Pipeline (each a subpackage, imports pointing downward): ``spec`` -> ``plan`` -> ``executors``
-> ``trackers`` -> ``records``; ``analysis`` (a sibling package) reads records only.

Vocabulary, one meaning each in code, CLI output and docs:

- **sweep**: one YAML spec under ``sweeps/``, usually one paper table.
- **cell**: one point of a sweep (a row/column position of its table, a seed included), with a
  readable **label**.
- **run**: the training + evaluation of one cell.
- **run id**: short hash of what determines a run's result (resolved config, data manifest,
  code version). It names the run folder, the W&B run and the record.
- **plan**: the cells of a sweep with their status (new, queued, running, done, failed, stale),
  computed without side effects and without importing torch or mmdet.
- **job**: one executor submission (a SLURM array task, a local subprocess, an in-process call).
- **attempt**: one job's try at a run; a preempted or failed run may take several attempts,
  each resuming from the last checkpoint in the run folder.
- **record**: ``record.json`` in the run folder, the source of truth on a run (config, status,
  attempts, metrics, parameter counts, versions, git state, error tail); W&B mirrors it.
- **table**: what ``analysis`` builds from the records of a sweep.
"""
