"""A tiny mmengine model, dataset and metric that train in seconds: the harness's test workload.

It exercises everything the harness needs from a run (mmengine Runner, checkpoints, resume,
evaluation, W&B) without a detector, so the harness tests stay fast. The real smoke detectors
run through the harness in ``sweeps/examples/tiny.yaml``.
"""
