"""Deduplication building blocks: MinHash maths, ranking, connected components."""
