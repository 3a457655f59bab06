"""Test and benchmark support, as ``apache_beam.testing`` is for Beam.

``outputs`` reads a run's exits and states the conservation law once;
``servers`` starts local servers; ``lint_reference`` is the ``pylint`` CLI the
lint scores are held to, with real inputs; ``planted`` makes corpora with
planted near copies (also the ``dedup`` pipeline's sample); ``accuracy``
measures near-dedup against brute force; ``flink`` drives the local Flink cluster under test.
"""

from beam_swallow.testing.outputs import (
    EXITS,
    assert_conserved,
    read_jsonl_dir,
    read_outputs,
    read_report,
)
from beam_swallow.testing.servers import free_port, wait_for_port

__all__ = [
    "EXITS",
    "assert_conserved",
    "free_port",
    "read_jsonl_dir",
    "read_outputs",
    "read_report",
    "wait_for_port",
]
