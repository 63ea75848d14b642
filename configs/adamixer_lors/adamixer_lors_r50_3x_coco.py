# AdaMixer+LORS, ResNet-50, 3x multi-scale + crop recipe, 100 queries.
_base_ = [
    "../_base_/models/adamixer_lors_r50.py",
    "../_base_/datasets/coco_detection_ms_crop.py",
    "../_base_/schedules/adamw_3x.py",
    "../_base_/default_runtime.py",
]
