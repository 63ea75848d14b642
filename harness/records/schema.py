"""The vocabulary of run records (docs/record.md, schema 1): statuses, metric and parameter keys.

Pure data, imported by the spec loader (to check a ``table`` block) and by the writers.
"""

from __future__ import annotations

SCHEMA = 1
RECORD_NAME = "record.json"
RECORD_STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed")
PLAN_STATUSES: tuple[str, ...] = ("new", "queued", "running", "done", "failed", "stale")
EXITS: tuple[str, ...] = ("completed", "failed", "timeout", "preempted", "killed")
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
WANDB_MODES: tuple[str, ...] = ("offline", "online", "disabled")
