# The tiny workload with checkpoints that take seconds to write (20,000 small buffers) and a
# marker file touched as each save begins: tests/harness/test_slurm_faults.py sends SLURM's
# preemption signal into a save. The marker path is set per test (model.save_marker).
_base_ = ["./tiny_config.py"]
model = dict(ballast_tensors=20000, save_marker="")
