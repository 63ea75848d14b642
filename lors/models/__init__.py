"""mmdetection 3.x modules of AdaMixer and AdaMixer+LORS, registered out of tree.

Configs load them with ``custom_imports = dict(imports=["lors.models"])``; importing this package
registers every module in mmdet's registries. Nothing of mmdet is copied or edited.
"""

from lors.models.necks import ChannelMapping

__all__ = ["ChannelMapping"]
