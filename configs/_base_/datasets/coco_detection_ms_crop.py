# The 3x recipe's data: multi-scale training (short side 480-800, long side <= 1333) with a
# DETR-style random crop half of the time; evaluation as in the 1x recipe.
_base_ = ["./coco_detection.py"]
_multi_scale = [(1333, s) for s in range(480, 801, 32)]
train_pipeline = [
    dict(type="LoadImageFromFile", backend_args=None),
    dict(type="LoadAnnotations", with_bbox=True),
    dict(type="RandomFlip", prob=0.5),
    dict(
        type="RandomChoice",
        transforms=[
            [dict(type="RandomChoiceResize", scales=_multi_scale, keep_ratio=True)],
            [
                dict(
                    type="RandomChoiceResize",
                    scales=[(1333, 400), (1333, 500), (1333, 600)],
                    keep_ratio=True,
                ),
                dict(
                    type="RandomCrop",
                    crop_type="absolute_range",
                    crop_size=(384, 600),
                    allow_negative_crop=True,
                ),
                dict(type="RandomChoiceResize", scales=_multi_scale, keep_ratio=True),
            ],
        ],
    ),
    dict(type="PackDetInputs"),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
