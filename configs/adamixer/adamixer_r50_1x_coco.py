# AdaMixer, ResNet-50, 1x schedule, 100 queries, G=4, P_in=32 (COCO val AP 42.7 in its paper).
_base_ = [
    "../_base_/models/adamixer_r50.py",
    "../_base_/datasets/coco_detection.py",
    "../_base_/schedules/adamw_1x.py",
    "../_base_/default_runtime.py",
]
