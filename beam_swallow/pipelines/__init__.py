"""Pipelines: wiring of stages only, no stage logic."""
