"""strawberry's schema-extension runner, with each extension class's hooks looked up
once per process instead of on every request.

For every operation strawberry builds four context managers (operation, parsing,
validation, execution), each asking every extension of the request (13 here) whether
its class overrides the hook (``getattr`` of the class, ``inspect`` of the function)
and wrapping the hooks it finds in a new ``contextlib.contextmanager`` (a fresh
``functools.wraps`` each time); then it asks every extension for its results. That is
some 700 Python calls of a request's ~1,100 for ``{ ping }``, for an answer that
depends only on the extension's class.

Here the answer is kept per (class, hook): the class's own generator hook wrapped
once by ``contextlib.contextmanager`` (called with the extension, it builds the same
generator context manager strawberry's ``MethodType`` wrapping builds), or none when
the class keeps ``SchemaExtension``'s. Any other kind of hook (an async generator, a
plain or async function: none here) goes through strawberry's own ``get_hook``.
Entering and leaving the hooks is strawberry's (``ExitStack``, same order), and
``get_results`` is asked of the classes that override it, in order, as before."""

import contextlib
import functools
import inspect
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

_STRAWBERRYS = object()  # a hook kind strawberry's own ``get_hook`` wraps


@functools.cache
def _hook_of(extension_class: type, name: str):
    """None (the default hook: nothing to run), the class's generator hook as a
    context-manager factory taking the extension, or ``_STRAWBERRYS``."""
    hook = getattr(extension_class, name)
    if hook is getattr(SchemaExtension, name):
        return None
    if inspect.isgeneratorfunction(hook):
        return contextlib.contextmanager(hook)
    return _STRAWBERRYS


@functools.cache
def _own_results(extension_class: type) -> bool:
    """Whether the class answers ``get_results`` itself (the default answers {})."""
    return extension_class.get_results is not SchemaExtension.get_results


class _KeptHooks:
    """The hooks of a lifecycle step from the per-class answers (mixed into
    strawberry's context managers, in front of their ``__init__``)."""

    __slots__ = ()

    def __init__(self, extensions: list[SchemaExtension]) -> None:
        self.hooks = []
        self.default_hook = getattr(SchemaExtension, self.HOOK_NAME)
        for extension in extensions:
            factory = _hook_of(type(extension), self.HOOK_NAME)
            if factory is None:
                continue
            if factory is _STRAWBERRYS:
                hook = self.get_hook(extension)
            else:
                hook = WrappedHook(
                    extension=extension,
                    hook=functools.partial(factory, extension),
                    is_async=False,
                )
            if hook:
                self.hooks.append(hook)


class _Operation(_KeptHooks, OperationContextManager):
    __slots__ = ()


class _Validation(_KeptHooks, ValidationContextManager):
    __slots__ = ()


class _Parsing(_KeptHooks, ParsingContextManager):
    __slots__ = ()


class _Executing(_KeptHooks, ExecutingContextManager):
    __slots__ = ()


class KeptHooksRunner(SchemaExtensionsRunner):
    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)

    def get_extensions_results_sync(self) -> dict[str, Any]:
        answering = [e for e in self.extensions if _own_results(type(e))]
        if not answering:
            return {}
        return SchemaExtensionsRunner(
            self.execution_context, answering
        ).get_extensions_results_sync()


class Schema(strawberry.Schema):
    """strawberry's schema with ``KeptHooksRunner``."""

    def create_extensions_runner(self, execution_context, extensions):
        return KeptHooksRunner(
            execution_context=execution_context, extensions=extensions
        )
