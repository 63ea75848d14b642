# AdaMixer+LORS, ResNet-50, 1x, 100 queries, the release's settings: G=2, P_in=64, LORS_A with
# r=16 and K=[1,1,2,2,3,3] on M and S, LORS_T with rank 8 on the output projection.
_base_ = [
    "../_base_/models/adamixer_lors_r50.py",
    "../_base_/datasets/coco_detection.py",
    "../_base_/schedules/adamw_1x.py",
    "../_base_/default_runtime.py",
]
