# Smoke profile of AdaMixer+LORS: the plain smoke detector with LORS on its mixing block, in the
# release's layout scaled to 3 stages: LORS_A on M and S with K=[1, 2, 3], LORS_T with rank 8 on
# the output projection. Rank 8 rather than the release's 16: at C_g=16 a rank-16 private core
# generator outgrows the plain generator (decoder 1.43 M against 1.21 M parameters); rank 8 gives
# 0.81 M. It keeps the plain smoke's sampling (G=4, P_in=16): the release's G=2 with twice the
# points learned more slowly at this scale (bbox mAP_50 after 800 iterations, one seed: 0.18
# against 0.44 with LORS r=16, 0.31 against 0.47 without LORS).
_base_ = ["./adamixer_smoke.py"]
model = dict(
    roi_head=dict(
        lors_cfg=dict(
            _delete_=True,  # the base's lors_cfg is None: replace it, do not merge
            adaptive=True,
            adaptive_rank=8,
            adaptive_groups=[1, 2, 3],
            static=True,
            static_rank=8,
            parts="both",
        ),
    )
)
