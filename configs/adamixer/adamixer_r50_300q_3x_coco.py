# AdaMixer, ResNet-50, 3x multi-scale + crop recipe, 300 queries (COCO val AP 47.0 in its paper).
# The query count is set on the model itself: the test-time box count follows it.
_base_ = [
    "../_base_/models/adamixer_r50.py",
    "../_base_/datasets/coco_detection_ms_crop.py",
    "../_base_/schedules/adamw_3x.py",
    "../_base_/default_runtime.py",
]
model = dict(rpn_head=dict(num_queries=300))
