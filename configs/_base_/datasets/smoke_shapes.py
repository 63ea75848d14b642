# The smoke profile's data: the synthetic shapes set of `python -m lors.data.synthetic data/smoke
# --seed 0` (128 px images, 3 classes), read as COCO; horizontal flip 0.5. The resize keeps the
# 128 px images as they are; it only records the scale_factor that mmdet's heads expect.
dataset_type = "CocoDataset"
data_root = "data/smoke/"
# The project's own synthetic set: `python -m harness.launch` makes it where it is missing (the
# same files as `python -m lors.data.synthetic data/smoke --seed 0`; lors.data.ondemand).
synthetic_data = dict(data_root=data_root, seed=0, num_train=400, num_val=100)
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
