"""Streaming runs: Pub/Sub messages in, fixed windows of files and reports out.

- :mod:`~beam_swallow.streaming.config`: the window length and the source.
- :mod:`~beam_swallow.streaming.messages`: messages -> the read stage's exits.
- :mod:`~beam_swallow.streaming.windows`: each window's three sinks and report.

The stages in between are the batch ones, except exact_dedup and near_dedup,
which become stateful (:mod:`beam_swallow.transforms.stream_dedup`).
"""

from beam_swallow.streaming.config import StreamConfig
from beam_swallow.streaming.messages import ParseMessages, ReadMessages, check_source
from beam_swallow.streaming.windows import REPORTS_DIR, WriteWindows

__all__ = [
    "REPORTS_DIR",
    "ParseMessages",
    "ReadMessages",
    "StreamConfig",
    "WriteWindows",
    "check_source",
]
