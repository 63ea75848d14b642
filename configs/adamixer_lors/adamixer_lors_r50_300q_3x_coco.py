# AdaMixer+LORS, ResNet-50, 3x, 300 queries: the query count is set on the model itself (the
# release set a top-level variable that its base config ignored, and built 100 queries).
_base_ = ["./adamixer_lors_r50_3x_coco.py"]
model = dict(rpn_head=dict(num_queries=300))
