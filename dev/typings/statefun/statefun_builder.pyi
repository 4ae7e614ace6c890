from collections.abc import Callable
from typing import Any

from statefun.core import ValueSpec

class StatefulFunctions:
    def __init__(self) -> None: ...
    # `fun` takes (context, message), as a plain or a coroutine function.
    def register(self, typename: str, fun: Callable[..., Any], specs: list[ValueSpec] | None = None) -> None: ...
