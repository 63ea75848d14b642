# An mmengine config of the tiny workload (tests/harness/tiny/model.py): about 1 s of training.
custom_imports = dict(
    imports=["tests.harness.tiny.model", "lors.engine"], allow_failed_imports=False
)
runner_type = "LorsRunner"  # resumes mmengine checkpoints under torch >= 2.6
model = dict(type="TinyClassifier", hidden=8, step_delay_s=0.0)
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    dataset=dict(type="TinyPoints", num_samples=64, seed=0),
    sampler=dict(type="InfiniteSampler", shuffle=True),  # DefaultSampler sleeps 2 s per restart
    collate_fn=dict(type="default_collate"),
)
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    dataset=dict(type="TinyPoints", num_samples=32, seed=1),
    sampler=dict(type="DefaultSampler", shuffle=False),
    collate_fn=dict(type="default_collate"),
)
val_evaluator = dict(type="TinyAccuracy")
val_cfg = dict()
train_cfg = dict(by_epoch=False, max_iters=20, val_interval=10)
optim_wrapper = dict(optimizer=dict(type="SGD", lr=0.1, momentum=0.9))
default_hooks = dict(
    checkpoint=dict(type="CheckpointHook", interval=5, by_epoch=False, max_keep_ckpts=2),
    logger=dict(type="LoggerHook", interval=5),
)
default_scope = "mmengine"
log_level = "WARNING"
