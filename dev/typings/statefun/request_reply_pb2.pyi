# Generated protobuf classes: untyped here (Any), as protoc made them.
from typing import Any

def __getattr__(name: str) -> Any: ...
