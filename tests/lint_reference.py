"""Real inputs for the lint tests: standard-library files and a file that hangs.

The scores they are compared with come from
:func:`beam_swallow.linting.reference.cli_score`, the ``pylint`` CLI itself.
"""

from __future__ import annotations

import ast

from beam_swallow.samples import code_sample_records

# A lint timeout for tests with a hanging file: far longer than any ordinary
# test file takes on a loaded machine, far shorter than the hanging file needs.
HANG_TIMEOUT_S = 20.0


def stdlib_sources(count: int, max_bytes: int = 12_000) -> list[str]:
    """``count`` real, parseable standard-library files (a fixed pick)."""
    sources = []
    for record in code_sample_records(count * 3, max_bytes=max_bytes):
        try:
            ast.parse(record["text"])
        except SyntaxError:
            continue
        sources.append(record["text"])
        if len(sources) == count:
            break
    return sources


def hanging_source() -> str:
    """A valid file on which astroid's inference runs for hours (minutes on newer CPython).

    astroid folds integer arithmetic on constants by doing it: repeated squaring
    builds a number of ~80 million bits, then ``%`` divides a number twice that
    size by it (quadratic in CPython 3.11). Memory stays near 100 MB.
    """
    lines = ["A0 = 3 ** 99999"]
    lines += [f"A{i} = A{i - 1} * A{i - 1}" for i in range(1, 10)]
    lines += ["B = A9 * A9 + 1", "print((B % (A9 + 7)).bit_length())"]
    return "\n".join(lines) + "\n"
