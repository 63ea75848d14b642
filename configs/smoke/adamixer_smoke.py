# Smoke profile of plain AdaMixer: a from-scratch ResNet-18 at width 32 on the 128 px synthetic
# shapes, 3 stages, 30 queries, content 64; trains and evaluates on 2 CPU cores in minutes.
# The knob keys are those of the paper configs (model.roi_head.num_stages, ... and
# model.rpn_head.num_queries).
_base_ = [
    "../_base_/models/adamixer_r50.py",
    "../_base_/datasets/smoke_shapes.py",
    "../_base_/schedules/smoke.py",
    "../_base_/default_runtime.py",
]
smoke_dim = 64
model = dict(
    backbone=dict(
        depth=18,
        base_channels=32,
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None,  # from scratch: no ImageNet weights in the smoke profile
    ),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=smoke_dim, num_groups=32),
    rpn_head=dict(num_queries=30, content_dim=smoke_dim),
    roi_head=dict(
        num_stages=3,
        num_groups=4,
        in_points=16,
        out_points=32,
        num_classes=3,
        content_dim=smoke_dim,
        num_heads=4,
        feedforward_channels=256,
    ),
)
# a checkpoint every 100 iterations, so that a stopped run resumes close to where it stopped
default_hooks = dict(
    logger=dict(type="LoggerHook", interval=50),
    checkpoint=dict(type="CheckpointHook", interval=100, by_epoch=False, max_keep_ckpts=2),
)
log_processor = dict(by_epoch=False)
