"""Datasets of the project: the synthetic COCO-format shapes set of the smoke profile.

``python -m lors.data.synthetic data/smoke --seed 0`` writes it; the smoke configs read it.
"""
