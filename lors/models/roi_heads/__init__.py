"""AdaMixer's decoder (mmdet ``roi_head`` slot) and its parts."""

from lors.models.roi_heads.decoder import AdaMixerDecoder

__all__ = ["AdaMixerDecoder"]
