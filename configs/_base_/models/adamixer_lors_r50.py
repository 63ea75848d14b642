# AdaMixer+LORS, the release's settings (method.md section 4): G=2, P_in=64 (the same 128 points
# per query), LORS_A on M and S with r=16, K=[1,1,2,2,3,3], LORS_T on the output projection with
# rank 8. A different num_stages needs adaptive_groups of that length (or one int).
_base_ = ["./adamixer_r50.py"]
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
