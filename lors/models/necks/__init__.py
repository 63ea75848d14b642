"""Necks: the ChannelMapping neck of AdaMixer."""

from lors.models.necks.channel_mapping import ChannelMapping

__all__ = ["ChannelMapping"]
