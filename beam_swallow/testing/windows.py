"""Reading a streaming run's windows back, and the conservation law on them.

Each window report (``DIR/reports/*.json``) must balance on its own, its files
must hold exactly the records it counts, and every message must leave through
exactly one exit of one window.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from beam_swallow.streaming import REPORTS_DIR
from beam_swallow.streaming.messages import PUBSUB
from beam_swallow.testing.outputs import EXITS, assert_conserved, read_jsonl_file

__all__ = [
    "MessageKey",
    "Window",
    "assert_windows_conserved",
    "message_exits",
    "pubsub_id",
    "read_windows",
]

Window = tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]


def read_windows(out: Path) -> dict[str, Window]:
    """Every window with a report under ``out``: name -> (report, records per exit)."""
    windows = {}
    for path in sorted((Path(out) / REPORTS_DIR).glob("*.json")):
        report = json.loads(path.read_text(encoding="utf-8"))
        files = report["files"]
        outputs = {
            sink: read_jsonl_file(Path(out) / files[sink]["path"]) if sink in files else []
            for sink in EXITS
        }
        windows[path.stem] = (report, outputs)
    return windows


MessageKey = Callable[[dict[str, Any]], Hashable]  # an output record -> its message


def pubsub_id(record: dict[str, Any]) -> str:
    """The Pub/Sub message an output record came from."""
    return record[PUBSUB]["message_id"]


def message_exits(
    windows: dict[str, Window], key: MessageKey = pubsub_id
) -> dict[Hashable, list[tuple[str, str]]]:
    """message (``key`` of a record) -> every ``(window, exit)`` it left through."""
    found: dict[Hashable, list[tuple[str, str]]] = {}
    for name, (_, outputs) in windows.items():
        for sink, records in outputs.items():
            for record in records:
                found.setdefault(key(record), []).append((name, sink))
    return found


def assert_windows_conserved(
    windows: dict[str, Window], message_ids: list[Hashable], key: MessageKey = pubsub_id
) -> None:
    """Each window balanced and matching its files; each message in exactly one exit."""
    for name, (report, outputs) in windows.items():
        assert_conserved(report, outputs)
        counted = {
            sink: entry["records"] for sink, entry in report["files"].items() if entry["records"]
        }
        on_disk = {sink: len(records) for sink, records in outputs.items() if records}
        assert counted == on_disk, (name, counted, on_disk)
    exits = message_exits(windows, key)
    assert sorted(exits) == sorted(message_ids), (sorted(exits), sorted(message_ids))
    twice = {mid: where for mid, where in exits.items() if len(where) != 1}
    assert not twice, twice
    assert sum(report["input"] for report, _ in windows.values()) == len(message_ids)
    assert Counter(message_ids).most_common(1)[0][1] == 1, "message ids must be unique"
