# AdaMixer with a ResNet-50 backbone (method.md section 3): 6 stages, 100 queries, G=4, P_in=32,
# P_out=128. The knob contract (method.md section 7) is the keys model.roi_head.num_stages,
# num_groups, in_points, out_points, lors_cfg and model.rpn_head.num_queries: every stage and the
# test-time box count derive from them.
content_dim = 256
model = dict(
    type="SparseRCNN",  # mmdet's two-stage detector whose rpn_head makes learned queries
    data_preprocessor=dict(
        type="DetDataPreprocessor",
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32,
    ),
    backbone=dict(
        type="ResNet",
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type="BN", requires_grad=True),
        norm_eval=True,
        style="pytorch",
        init_cfg=dict(type="Pretrained", checkpoint="torchvision://resnet50"),
    ),
    neck=dict(
        type="ChannelMapping",
        in_channels=[256, 512, 1024, 2048],
        out_channels=content_dim,
        num_groups=32,
    ),
    rpn_head=dict(type="AdaMixerQueryGenerator", num_queries=100, content_dim=content_dim),
    roi_head=dict(
        type="AdaMixerDecoder",
        num_stages=6,
        num_groups=4,
        in_points=32,
        out_points=128,
        lors_cfg=None,
        num_classes=80,
        content_dim=content_dim,
        num_heads=8,
        feedforward_channels=2048,
        strides=(4, 8, 16, 32),
        loss_cls=dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=2.0),
        loss_bbox=dict(type="L1Loss", loss_weight=5.0),
        loss_iou=dict(type="GIoULoss", loss_weight=2.0),
    ),
    train_cfg=dict(
        rpn=None,
        rcnn=dict(
            # one-to-one matching per stage, with the loss weights as costs
            assigner=dict(
                type="HungarianAssigner",
                match_costs=[
                    dict(type="FocalLossCost", weight=2.0),
                    dict(type="BBoxL1Cost", weight=5.0, box_format="xyxy"),
                    dict(type="IoUCost", iou_mode="giou", weight=2.0),
                ],
            )
        ),
    ),
    # max_per_img=None: as many boxes per image as queries (model.rpn_head.num_queries)
    test_cfg=dict(rpn=None, rcnn=dict(max_per_img=None)),
)
