# AdaMixer, ResNet-101, 3x, 300 queries (COCO val AP 48.0 in its paper).
_base_ = ["./adamixer_r50_300q_3x_coco.py"]
model = dict(
    backbone=dict(depth=101, init_cfg=dict(type="Pretrained", checkpoint="torchvision://resnet101"))
)
