# The paper's optimisation (method.md section 5): AdamW lr 2.5e-5, weight decay 1e-4, gradient
# norm clipped at 1, 16 images per batch (2 per GPU on 8 GPUs); 12 epochs, lr x0.1 at epochs 8
# and 11, linear warm-up over 500 iterations from 0.001 of the lr.
max_epochs = 12
train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type="ValLoop")
test_cfg = dict(type="TestLoop")
optim_wrapper = dict(
    type="OptimWrapper",
    optimizer=dict(type="AdamW", lr=2.5e-5, weight_decay=1e-4),
    clip_grad=dict(max_norm=1.0, norm_type=2),
)
param_scheduler = [
    dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(
        type="MultiStepLR",
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1,
    ),
]
# the lr above is for 16 images per batch; enable to rescale it for another total batch size
auto_scale_lr = dict(enable=False, base_batch_size=16)
