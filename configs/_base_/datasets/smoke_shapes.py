# The smoke profile's data: the project's synthetic shapes (128 px images, 3 classes, up to 6
# shapes an image), read as COCO; horizontal flip 0.5. The resize keeps the 128 px images as they
# are; it only records the scale_factor that mmdet's heads expect.
#
# `python -m harness.launch` makes the set where it is missing (lors.data.ondemand; the same files
# as `python -m lors.data.synthetic data/smoke --seed 0`). Measured on the smoke detectors (5 seeds each, 2-core machine): with 400
# train / 100 val images of up to 3 shapes, bbox mAP varied by 4.1 AP (std) between seeds of
# AdaMixer; 2000 / 500 images of up to 6 shapes give twice the boxes per training step and
# 1,771 boxes to score, and the same 800 steps vary less: 3.5 AP (README: seed noise).
dataset_type = "CocoDataset"
data_root = "data/smoke/"
synthetic_data = dict(data_root=data_root, seed=0, num_train=2000, num_val=500, max_objects=6)
metainfo = dict(classes=("rectangle", "ellipse", "triangle"))

train_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadAnnotations", with_bbox=True),
    dict(type="Resize", scale=(128, 128), keep_ratio=True),
    dict(type="RandomFlip", prob=0.5),
    dict(type="PackDetInputs"),
]
test_pipeline = [
    dict(type="LoadImageFromFile"),
    dict(type="Resize", scale=(128, 128), keep_ratio=True),
    dict(type="LoadAnnotations", with_bbox=True),
    dict(
        type="PackDetInputs",
        meta_keys=("img_id", "img_path", "ori_shape", "img_shape", "scale_factor"),
    ),
]
# workers would only compete with training for the 2 cores a smoke run is sized for
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type="InfiniteSampler", shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file="annotations/instances_train.json",
        data_prefix=dict(img="train/"),
        filter_cfg=dict(filter_empty_gt=True),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type="DefaultSampler", shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file="annotations/instances_val.json",
        data_prefix=dict(img="val/"),
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(
    type="CocoMetric", ann_file=data_root + "annotations/instances_val.json", metric="bbox"
)
test_evaluator = val_evaluator
