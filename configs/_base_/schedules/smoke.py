# The smoke schedule: fixed by iteration count (wall time on a shared machine varies by 30 %),
# one evaluation at the end (hooks and logging by iteration: configs/smoke/adamixer_smoke.py).
max_iters = 800
train_cfg = dict(type="IterBasedTrainLoop", max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
optim_wrapper = dict(
    type="OptimWrapper",
    # fused: one kernel for all parameters (the per-tensor loop took 9 % of a CPU step)
    optimizer=dict(type="AdamW", lr=1e-3, weight_decay=1e-4, fused=True),
    clip_grad=dict(max_norm=1.0, norm_type=2),
)
param_scheduler = [
    dict(type="LinearLR", start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type="CosineAnnealingLR", by_epoch=False, begin=100, end=max_iters, eta_min=5e-6),
]
randomness = dict(seed=0)
