"""Where a streaming run reads from, and how long its windows are."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StreamConfig", "WINDOW_S"]

WINDOW_S = 60.0  # seconds per fixed window (issue 11: a minute of records per file set)


@dataclass(frozen=True)
class StreamConfig:
    """One Pub/Sub source and the window length.

    ``subscription`` (``projects/P/subscriptions/S``) or ``topic``
    (``projects/P/topics/T``; the runner then makes its own subscription,
    which sees only messages published after it starts): exactly one.
    """

    subscription: str | None = None
    topic: str | None = None
    window_s: float = WINDOW_S

    def __post_init__(self) -> None:
        if (self.subscription is None) == (self.topic is None):
            raise ValueError(
                "a streaming run reads one of --input_subscription or --input_topic (exactly one)"
            )
        for name, value, kind in (
            ("--input_subscription", self.subscription, "subscriptions"),
            ("--input_topic", self.topic, "topics"),
        ):
            if value is not None and (
                len(value.split("/")) != 4 or value.split("/")[::2] != ["projects", kind]
            ):
                raise ValueError(f"{name} must look like projects/P/{kind}/NAME, got {value!r}")
        if not self.window_s > 0:
            raise ValueError(f"--window_s must be positive, got {self.window_s}")
