"""Checks a `/statefun` request before the SDK sees it, so that no request can fail in the SDK.

First what its headers say (`screen_headers`: a StateFun request is
`application/octet-stream`, 415 otherwise, and no larger than
MAX_REQUEST_BYTES, 413 otherwise, also checked while the body arrives:
`screen_size`), then its body. The SDK raises (and the server would answer 500, which the runtime retries
until the job fails) for a body that is not a ToFunction message, a target it
does not serve, an empty address id, or a caller address it cannot reply to.
Here each of these becomes a clear answer instead: a 400/404 naming the
problem for a request that did not come from a runtime that works, and, for an
empty target id (a record whose key was empty), a normal response that
dead-letters every message of the batch, because a runtime that sends it would
otherwise retry it forever.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import DecodeError
from statefun import kafka_egress_message
from statefun.request_reply_pb2 import Address, FromFunction, ToFunction

from fraud_common.contract import (
    DEAD_LETTERS_TOPIC,
    ContractError,
    DeadLetterOrigin,
    dead_letter,
    encode,
)
from fraud_functions.addresses import DEAD_LETTERS_EGRESS
from fraud_functions.declarations import typenames

# The largest request body accepted. The runtime's largest request is one address's batch:
# maxNumBatchRequests messages of at most MAX_RECORD_BYTES each (the ingress cuts larger records
# short) plus the address's state; tests/unit/functions/test_size_limits.py checks the margin.
MAX_REQUEST_BYTES = 16 * 1024 * 1024
# What the runtime sends: both of StateFun's HTTP transports (the async one on Netty, the OkHttp one) declare it.
CONTENT_TYPE = b"application/octet-stream"


class Rejected(Exception):
    """A request the server answers itself, with an HTTP status and a reason code."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.status = status
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Screened:
    """A request that passed: the function type it addresses, and whether its id is usable."""

    typename: str
    request: ToFunction

    @property
    def has_id(self) -> bool:
        return bool(self.request.invocation.target.id)


def _complete(address: Address) -> bool:
    return bool(address.namespace and address.type and address.id)


def screen_headers(content_type: bytes | None, content_length: bytes | None) -> None:
    """Check the request's Content-Type and Content-Length headers; raises Rejected before the body is read."""
    if content_type is None or content_type.split(b";", 1)[0].strip().lower() != CONTENT_TYPE:
        shown = "none" if content_type is None else repr(content_type.decode("latin-1"))
        raise Rejected(415, "wrong_content_type", f"expected {CONTENT_TYPE.decode()}, got {shown}")
    if content_length is not None and content_length.isdigit():  # the HTTP parser refuses a malformed one
        screen_size(int(content_length))


def screen_size(size: int) -> None:
    """Raises Rejected when `size` bytes of body are more than the server accepts."""
    if size > MAX_REQUEST_BYTES:
        raise Rejected(413, "too_large", f"body of {size} bytes or more; the limit is {MAX_REQUEST_BYTES}")


def screen(body: bytes) -> Screened:
    """Parse and check a request; raises Rejected for anything the SDK could not handle."""
    if not body:
        raise Rejected(400, "empty_body", "expected a serialized io.statefun ToFunction message")
    request = ToFunction()
    try:
        request.ParseFromString(body)
    except DecodeError as err:
        raise Rejected(400, "not_protobuf", f"body is not a ToFunction protobuf message: {err}") from None
    if not request.HasField("invocation"):
        raise Rejected(400, "no_invocation", "ToFunction message carries no invocation batch")
    target = request.invocation.target
    typename = f"{target.namespace}/{target.type}"
    served = typenames()
    if typename not in served:
        raise Rejected(404, "unknown_function", f"unknown function type {typename!r}; served: {', '.join(served)}")
    for index, invocation in enumerate(request.invocation.invocations):
        if not invocation.argument.typename:
            raise Rejected(400, "untyped_argument", f"invocation {index} has an argument without a type name")
        if invocation.HasField("caller") and not _complete(invocation.caller):
            raise Rejected(400, "incomplete_caller", f"invocation {index} has a caller address with empty parts")
    return Screened(typename=typename, request=request)


def dead_letter_batch(screened: Screened) -> bytes:
    """The response to a batch addressed to an empty id: every message dead-lettered, no state touched."""
    response = FromFunction()
    result = response.invocation_result
    error = ContractError("empty_address_id", f"the runtime addressed {screened.typename} with an empty id")
    for invocation in screened.request.invocation.invocations:
        argument = invocation.argument
        caller = invocation.caller
        source = f"function:{caller.namespace}/{caller.type}" if invocation.HasField("caller") else "ingress"
        origin = DeadLetterOrigin(source=source, key=b"", value=argument.value if argument.has_value else None)
        record = dead_letter(origin, error, screened.typename, "")
        egress = kafka_egress_message(
            typename=DEAD_LETTERS_EGRESS, topic=DEAD_LETTERS_TOPIC, key="", value=encode(record)
        )
        outgoing = result.outgoing_egresses.add()
        outgoing.egress_namespace, outgoing.egress_type = DEAD_LETTERS_EGRESS.split("/")
        outgoing.argument.CopyFrom(egress.typed_value)
    serialized: bytes = response.SerializeToString()
    return serialized
