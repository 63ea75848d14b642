# The tiny workload with a wider hidden layer and one key the plain tiny config lacks: a case's
# own base config in tests/harness/test_case_base.py.
_base_ = ["./tiny_config.py"]
model = dict(hidden=16)
extra_setting = 1
