"""One warm, in-process pylint that checks one file at a time.

Why not ``pylint.lint.Run`` per file: it rebuilds the linter and its option
parser every time and searches the disk for rc files. :class:`WarmLinter`
builds one ``PyLinter`` with :data:`~beam_swallow.linting.score.PYLINT_FLAGS`
and no configuration file at all, then checks each file on its own (one file
per check: batching files turns on cross-file checks such as duplicate-code
that change scores), the way pylint's own parallel workers do.

Everything that would let one file's analysis leak into the next is undone
after each file, so the note equals what the CLI prints for that file alone:

- each file gets a unique module name and path (astroid caches modules by
  both, so a reused temp path would return the previous file's AST), and its
  module is evicted from astroid's caches afterwards;
- attributes the file assigned onto other modules' objects (``os.x = 1``
  adds ``x`` to astroid's cached ``os`` module) are removed again;
- what building a library module does to the rest of astroid (attributes it
  assigns onto other modules, resets of the inference cache) happens when
  the file's analysis first uses the module, as in the CLI's fresh process
  (see :mod:`~beam_swallow.linting.build_effects`);
- the inference caches that hold the file's nodes are cleared, which also
  keeps memory from growing with every file.

What stays warm is the point of the exercise: the parsed standard library and
installed packages that files import. The source is written to the linter's
private directory, in the encoding its coding line declares (see
:mod:`~beam_swallow.linting.source`), and always removed afterwards. A file
pylint cannot read or parse (``syntax-error`` or ``parse-error`` and no
statement: an unknown codec, bytes its codec cannot decode, a grammar this
Python lacks) raises :class:`Unparsable` with pylint's message. Not thread-safe: one per
process (astroid's manager is process-global).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from astroid.context import _invalidate_cache
from astroid.inference_tip import clear_inference_tip_cache
from astroid.manager import AstroidManager
from astroid.nodes._base_nodes import LookupMixIn
from pylint.checkers.clear_lru_cache import clear_lru_caches
from pylint.config.config_initialization import _config_initialization
from pylint.lint import PyLinter
from pylint.reporters import CollectingReporter
from pylint.typing import FileItem
from pylint.utils import LinterStats

from beam_swallow.linting.build_effects import BuildEffects
from beam_swallow.linting.score import PYLINT_FLAGS, printed_score, pylint_note
from beam_swallow.linting.source import encode_source

__all__ = ["LinterCrash", "Unparsable", "WarmLinter"]

# Messages pylint emits when astroid or a checker breaks on a file; the CLI
# turns such a crash into a fatal message and a score of 0, we call it an error.
_CRASH_MESSAGES = frozenset({"astroid-error", "fatal"})
# Messages pylint emits when it cannot read or parse a file at all.
_UNPARSABLE_MESSAGES = frozenset({"syntax-error", "parse-error"})
_FILE_NAME = "<file>"  # stands for the temporary path in messages


class LinterCrash(RuntimeError):
    """pylint or astroid broke on a file (not a judgement of the code)."""


class Unparsable(ValueError):
    """pylint could not read or parse a file; the message is pylint's."""


class WarmLinter:
    """A configured PyLinter reused for many files, one file per check.

    ``workdir`` must be a private, otherwise empty directory; it is where the
    file under check is written (and what the CLI would have on ``sys.path``
    as the file's directory).
    """

    def __init__(self, workdir: str | os.PathLike[str], prefix: str = "swallow") -> None:
        self._dir = Path(workdir)
        self._prefix = f"{prefix}_{os.getpid()}_"
        self._counter = itertools.count()
        self._linter = PyLinter()
        self._linter.load_default_plugins()
        self._reporter = CollectingReporter()
        # config_file=None: no rc file is searched for or read, whatever the
        # cwd, $HOME or $PYLINTRC hold.
        _config_initialization(self._linter, list(PYLINT_FLAGS), self._reporter, config_file=None)
        self._linter.initialize()
        self._build_effects = BuildEffects.installed()

    def note(self, source: str) -> float | None:
        """pylint's note for ``source`` as the CLI prints it; None without statements.

        Raises :class:`Unparsable` when pylint cannot read or parse the file,
        :class:`LinterCrash` when pylint or astroid break on it.
        """
        modname = f"{self._prefix}{next(self._counter)}"
        path = self._dir / f"{modname}.py"
        path.write_bytes(encode_source(source))
        try:
            stats = self._check(FileItem(modname, str(path), modname))
            unparsable = [m for m in self._reporter.messages if m.symbol in _UNPARSABLE_MESSAGES]
        finally:
            path.unlink(missing_ok=True)
            self._forget(modname, str(path))
        if unparsable and not stats.statement:
            message = unparsable[0]
            text = message.msg.replace(str(path), _FILE_NAME)
            raise Unparsable(f"{message.msg_id} ({message.symbol}): {text}")
        note = pylint_note(
            fatal=stats.fatal,
            error=stats.error,
            warning=stats.warning,
            refactor=stats.refactor,
            convention=stats.convention,
            statement=stats.statement,
        )
        return None if note is None else printed_score(note)

    def _check(self, item: FileItem) -> LinterStats:
        linter = self._linter
        linter.stats = LinterStats()
        linter.msg_status = 0
        self._reporter.reset()
        linter.open()
        try:
            linter.check_single_file_item(item)
        except Exception as exc:
            raise LinterCrash(f"{type(exc).__name__}: {exc}") from exc
        crashes = [m for m in self._reporter.messages if m.symbol in _CRASH_MESSAGES]
        if crashes:
            raise LinterCrash(f"{crashes[0].symbol}: {crashes[0].msg}")
        return linter.stats

    def _forget(self, modname: str, path: str) -> None:
        """Undo everything the file left in astroid's process-wide state."""
        self._build_effects.file_done(modname)
        manager = AstroidManager()
        stale = [key for key in manager._mod_file_cache if modname in key or path in key]
        for key in stale:
            del manager._mod_file_cache[key]
        clear_inference_tip_cache()
        _invalidate_cache()
        clear_lru_caches()
        LookupMixIn.lookup.cache_clear()
        self._reporter.reset()
