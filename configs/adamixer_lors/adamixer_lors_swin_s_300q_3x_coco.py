# AdaMixer+LORS, Swin-S, 3x, 300 queries: the Swin-S backbone, optimiser and warm-up of plain
# AdaMixer's Swin-S config with the LORS decoder of the release.
_base_ = ["../adamixer/adamixer_swin_s_300q_3x_coco.py"]
model = dict(
    roi_head=dict(
        num_groups=2,
        in_points=64,
        lors_cfg=dict(
            _delete_=True,  # the base's lors_cfg is None: replace it, do not merge
            adaptive=True,
            adaptive_rank=16,
            adaptive_groups=[1, 1, 2, 2, 3, 3],
            static=True,
            static_rank=8,
            parts="both",
        ),
    )
)
