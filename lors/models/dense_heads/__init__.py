"""Dense heads: AdaMixer's initial query generator (it takes the ``rpn_head`` slot)."""

from lors.models.dense_heads.query_generator import AdaMixerQueryGenerator

__all__ = ["AdaMixerQueryGenerator"]
