"""The vocabulary of run records (docs/record.md): schemas, statuses, metric and parameter keys.

Pure data, and the one list of each: the spec loader (to check a ``table`` block), the writer,
the plan, ``harness.status`` and the analysis all import it from here.
"""

from __future__ import annotations

SCHEMA = 2  # 2 adds the ``identity`` block; schema 1 files are migrated on read
SCHEMAS_READ: tuple[int, ...] = (1, 2)
RECORD_NAME = "record.json"
# pruned: a search's pruner stopped the run early (its checkpoint lets a later trial continue it)
RECORD_STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed", "pruned")
PLAN_STATUSES: tuple[str, ...] = (
    "new", "queued", "running", "done", "failed", "stale", "pruned",
)  # fmt: skip
# A table cell's statuses: the plan's, plus a record the analysis could not read.
CELL_STATUSES: tuple[str, ...] = (*PLAN_STATUSES, "corrupt")
# How an attempt ended. timeout / preempted: the job checkpointed at SLURM's signal and requeued
# itself; requeued: SLURM ran the same job again (scontrol requeue, the scheduler's preemption);
# cancelled: scancel (or a time limit without a checkpoint); killed: the process died without
# closing its attempt (kill -9, the OOM killer, a lost node); stalled: its job ran, but the
# training process stopped writing heartbeats, so the harness ended the job.
EXITS: tuple[str, ...] = (
    "completed", "failed", "timeout", "preempted", "requeued", "cancelled", "killed", "pruned",
    "stalled",
)  # fmt: skip
# Exits after which the job (or SLURM) runs the run again: the record goes back to queued.
REQUEUE_EXITS: tuple[str, ...] = ("timeout", "preempted", "requeued")
# Exits of an attempt whose job ended without a result and without a Python error: resubmitting
# the run resumes it from its last checkpoint.
VANISHED_EXITS: tuple[str, ...] = ("cancelled", "killed", "stalled")
METRIC_KEYS: tuple[str, ...] = (
    "bbox_mAP",
    "bbox_mAP_50",
    "bbox_mAP_75",
    "bbox_mAP_s",
    "bbox_mAP_m",
    "bbox_mAP_l",
)
PARAM_KEYS: tuple[str, ...] = (
    "total",
    "backbone",
    "neck",
    "rpn_head",
    "roi_head",
    "roi_head_shared",
    "roi_head_private",
)
# CocoMetric's keys in mmengine's evaluation results -> the record's metric keys.
COCO_PREFIX = "coco/"
# pycocotools' value for a metric it cannot define (no ground truth of that size): null.
COCO_UNDEFINED = -1.0
WANDB_MODES: tuple[str, ...] = ("offline", "online", "disabled")
