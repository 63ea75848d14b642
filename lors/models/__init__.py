"""mmdetection 3.x modules of AdaMixer and AdaMixer+LORS, registered out of tree.

Configs load them with ``custom_imports = dict(imports=["lors.models", "lors.engine"])``;
importing this package registers every module in mmdet's registries. Nothing of mmdet is copied
or edited: the detector is mmdet's ``SparseRCNN`` (a two-stage detector whose ``rpn_head`` makes
queries), with these modules in its slots:

- ``neck``: ``ChannelMapping`` (1x1 conv per level, one shared GroupNorm);
- ``rpn_head``: ``AdaMixerQueryGenerator`` (the initial query contents: ``num_queries x C``);
- ``roi_head``: ``AdaMixerDecoder`` (all stages, their heads and losses, and the mixing block,
  with LORS when ``lors_cfg`` asks for it).
"""

from lors.models.dense_heads import AdaMixerQueryGenerator
from lors.models.necks import ChannelMapping
from lors.models.roi_heads import AdaMixerDecoder

__all__ = ["AdaMixerDecoder", "AdaMixerQueryGenerator", "ChannelMapping"]
