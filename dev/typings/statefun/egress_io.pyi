from statefun.core import Type
from statefun.messages import EgressMessage

def kafka_egress_message(
    typename: str,
    topic: str,
    value: str | bytes | bytearray | int | float,
    value_type: Type | None = None,
    key: str | None = None,
) -> EgressMessage: ...
