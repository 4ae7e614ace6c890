import abc
from datetime import timedelta
from typing import Any

class SdkAddress:
    namespace: str
    name: str
    id: str
    typename: str
    def __init__(self, namespace: str, name: str, id: str, typename: str) -> None: ...

class TypeSerializer(metaclass=abc.ABCMeta):
    @abc.abstractmethod
    def serialize(self, value: Any) -> bytes: ...
    @abc.abstractmethod
    def deserialize(self, byte: bytes) -> Any: ...

class Type(metaclass=abc.ABCMeta):
    typename: str
    def __init__(self, typename: str) -> None: ...
    @abc.abstractmethod
    def serializer(self) -> TypeSerializer: ...

class ValueSpec:
    name: str
    type: Type
    duration: int
    after_call: bool
    after_write: bool
    def __init__(
        self,
        name: str,
        type: Type,
        expire_after_call: timedelta | None = None,
        expire_after_write: timedelta | None = None,
    ) -> None: ...
