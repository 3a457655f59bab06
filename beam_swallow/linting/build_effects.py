"""Side effects of building a library module, present only when the CLI has them.

The ``pylint`` CLI checks one file in a fresh process, so astroid builds a
library module at the moment that file's analysis first asks for it, and the
build's side effects on the rest of astroid happen then. A warm linter built
the module for some earlier file and only looks it up; two side effects must
be replayed at that moment, or the file's score can differ from the CLI's:

- **cross-module writes.** astroid records each ``x.attr = ...`` on the object
  ``x`` infers to, even in another module: building ``tkinter`` adds
  ``last_type`` to astroid's ``sys``. Left in place after the file that
  needed ``tkinter``, every later file would see ``sys.last_type`` and miss a
  ``no-member`` the CLI reports.
- **inference-cache resets.** A transform that replaces a node while a module
  is built clears astroid's global inference cache. Later inferences in the
  file then start over, and can land on different objects: an attribute a
  file assigns to ``types.ModuleType('x')`` is seen by the CLI or not
  depending on whether such a build happened in between.

:class:`BuildEffects` records both for every library module when it is built
(the writes are found afterwards, by inference, and taken out again), along
with the modules each build asked for. While a file is checked, the first
time astroid asks its cache for such a module its effects are replayed, and
those of the modules its build asked for; after the file, the writes are
taken out again. The writes of the file itself are simply removed, its
module is evicted anyway.

Modules already cached when this is installed are left as they are: the CLI
builds them before any file too. Everything here leans on facts of astroid
4: its module cache is read only as ``cache[name]``, a source module asks for
other modules while being built only inside ``AstroidBuilder._post_build``,
and the inference cache is only ever emptied by ``clear()``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import astroid
from astroid import context, nodes
from astroid.builder import AstroidBuilder
from astroid.manager import AstroidManager

__all__ = ["BuildEffects"]


@dataclass(frozen=True)
class _Write:
    """``node`` listed under ``attrname`` in another module's ``table``."""

    table: dict[str, list[nodes.NodeNG]]
    attrname: str
    node: nodes.AssignAttr


def _foreign_writes(module: nodes.Module) -> list[_Write]:
    """The attribute assignments of ``module`` that astroid filed on other modules.

    Found the way astroid made them: infer each assignment's target object and
    look for the node in that object's ``locals`` or ``instance_attrs``.
    """
    writes = []
    for assign in module.nodes_of_class(nodes.AssignAttr):
        try:
            targets = list(assign.expr.infer())
        except astroid.AstroidError:
            continue
        for target in targets:
            owner = getattr(target, "_proxied", target)
            try:
                if owner.root() is module:
                    continue
            except AttributeError:
                continue
            for table in (getattr(owner, "locals", None), getattr(owner, "instance_attrs", None)):
                if isinstance(table, dict) and assign in table.get(assign.attrname, ()):
                    writes.append(_Write(table, assign.attrname, assign))
    return writes


def _remove_writes(writes: list[_Write]) -> None:
    """Take the writes out of their tables, dropping names left with no value."""
    for write in writes:
        values = write.table.get(write.attrname)
        if values and write.node in values:
            values.remove(write.node)
            if not values:
                del write.table[write.attrname]


def _apply_writes(writes: list[_Write]) -> None:
    for write in writes:
        values = write.table.setdefault(write.attrname, [])
        if write.node not in values:
            values.append(write.node)


class _RequestTrackingCache(dict):
    """astroid's module cache, telling :class:`BuildEffects` each time a module is asked for."""

    def __init__(self, contents: dict[str, nodes.Module], effects: BuildEffects) -> None:
        super().__init__(contents)
        self._effects = effects

    def __getitem__(self, name: str) -> nodes.Module:
        module = super().__getitem__(name)
        self._effects._requested(name)
        return module


class _ClearTrackingCache(dict):
    """astroid's inference cache, telling :class:`BuildEffects` when it is reset."""

    def __init__(self, effects: BuildEffects) -> None:
        super().__init__()
        self._effects = effects

    def clear(self) -> None:
        self._effects._inference_cache_cleared()
        super().clear()


class BuildEffects:
    """The process-wide record of what building each library module did.

    Use :meth:`installed` (astroid's state is process-global, so is this) and
    call :meth:`file_done` after every file.
    """

    _instance: BuildEffects | None = None

    @classmethod
    def installed(cls) -> BuildEffects:
        """The record of this process, hooked into astroid on first use."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def __init__(self) -> None:
        manager = AstroidManager()
        self._known = set(manager.astroid_cache)
        self._writes: dict[str, list[_Write]] = {}
        # Who asked for whom while being built, in order (a dict as ordered set).
        self._requests: dict[str, dict[str, None]] = {}
        self._resets: set[str] = set()
        self._active: set[str] = set()
        self._building: list[str] = []
        self._paused = False
        cache = _RequestTrackingCache(manager.astroid_cache, self)
        AstroidManager.brain["astroid_cache"] = cache
        astroid.MANAGER.astroid_cache = cache
        context._INFERENCE_CACHE = _ClearTrackingCache(self)
        self._watch_builds()

    def _watch_builds(self) -> None:
        """Bracket every source module's post-build steps, where it asks for others.

        ``AstroidBuilder._post_build`` caches the new module, then resolves its
        ``from x import *`` and attribute assignments (inferring, hence asking
        for other modules) and runs the transforms; whatever is asked for in
        between, the CLI's build of that module would ask for too.
        """
        post_build = AstroidBuilder._post_build
        effects = self

        @functools.wraps(post_build)
        def bracketed(builder: AstroidBuilder, module: nodes.Module, *args, **kwargs):
            effects._requested(module.name)
            effects._building.append(module.name)
            try:
                return post_build(builder, module, *args, **kwargs)
            finally:
                effects._building.pop()

        AstroidBuilder._post_build = bracketed

    def _requested(self, name: str) -> None:
        """astroid asked for ``name``: note who asked, replay its build's effects."""
        if self._building and self._building[-1] != name:
            self._requests.setdefault(self._building[-1], {})[name] = None
        if not self._paused:
            self._replay(name)

    def _inference_cache_cleared(self) -> None:
        if self._building:
            self._resets.add(self._building[-1])

    def _replay(self, name: str) -> None:
        if name in self._active or not (
            name in self._writes or name in self._requests or name in self._resets
        ):
            return
        self._active.add(name)
        _apply_writes(self._writes.get(name, []))
        for requested in self._requests.get(name, {}):
            self._replay(requested)
        if name in self._resets:
            dict.clear(context._INFERENCE_CACHE)

    def file_done(self, file_module: str) -> None:
        """Return astroid to the state the next file expects.

        The file's module is evicted and its writes removed; the writes
        replayed for this file are taken out again; library modules first
        built for this file have their writes recorded and taken out.
        """
        cache = AstroidManager().astroid_cache
        self._paused = True
        try:
            module = cache.pop(file_module, None)
            if module is not None:
                _remove_writes(_foreign_writes(module))
            self._requests.pop(file_module, None)
            self._resets.discard(file_module)
            for name in self._active:
                _remove_writes(self._writes.get(name, []))
            self._active.clear()
            # Finding the writes infers, which can build more modules.
            while new := [name for name in cache if name not in self._known]:
                for name in new:
                    self._known.add(name)
                    writes = _foreign_writes(cache[name])
                    _remove_writes(writes)
                    if writes:
                        self._writes[name] = writes
        finally:
            self._paused = False
