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
EXITS: tuple[str, ...] = ("completed", "failed", "timeout", "preempted", "killed", "pruned")
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
