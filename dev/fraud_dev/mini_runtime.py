"""A miniature StateFun runtime for unit tests: real protobufs, in-memory state.

It speaks the same request-reply protocol as the JVM runtime to the real
RequestReplyHandler (ToFunction in, FromFunction out), including the
missing-state round trip, and routes the functions' messages to each other so
a whole transaction can be followed. It is a test double for speed only; the
end-to-end tests prove the pipeline on the real runtime.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from statefun import RequestReplyHandler
from statefun.kafka_egress_pb2 import KafkaProducerRecord
from statefun.request_reply_pb2 import FromFunction, ToFunction, TypedValue


@dataclass
class Envelope:
    target: str  # "namespace/type"
    id: str
    typename: str
    value: bytes | None
    caller: tuple[str, str] | None = None


@dataclass
class Delayed:
    envelope: Envelope
    delay_ms: int
    cancellation_token: str


@dataclass
class Egress:
    egress: str
    topic: str
    key: str
    value: bytes

    def json(self) -> dict[str, Any]:
        return json.loads(self.value)


@dataclass
class MiniRuntime:
    handler: RequestReplyHandler
    state: dict[tuple[str, str], dict[str, TypedValue]] = field(default_factory=dict)
    registered: dict[str, dict[str, FromFunction.PersistedValueSpec]] = field(default_factory=dict)
    egress: list[Egress] = field(default_factory=list)
    delayed: list[Delayed] = field(default_factory=list)

    async def invoke(self, batch: list[Envelope]) -> list[Envelope]:
        """Send one batch (all to the same address) and apply its results; returns the outgoing messages."""
        target, address_id = batch[0].target, batch[0].id
        while True:
            response = FromFunction()
            response.ParseFromString(await self.handler.handle_async(self.request(target, address_id, batch)))
            if response.HasField("incomplete_invocation_context"):
                specs = self.registered.setdefault(target, {})
                for spec in response.incomplete_invocation_context.missing_values:
                    specs[spec.state_name] = spec
                continue
            return self._apply(target, address_id, response.invocation_result)

    async def deliver(self, *envelopes: Envelope, max_steps: int = 100) -> None:
        """Deliver messages and everything they cause, one at a time, until nothing is in flight."""
        queue = list(envelopes)
        steps = 0
        while queue:
            steps += 1
            assert steps <= max_steps, "message loop did not settle"
            queue.extend(await self.invoke([queue.pop(0)]))

    async def fire_delayed(self) -> None:
        """Deliver every pending delayed message (as if its timer fired)."""
        due, self.delayed = self.delayed, []
        await self.deliver(*[item.envelope for item in due])

    def value_of(self, target: str, address_id: str, name: str) -> TypedValue | None:
        return self.state.get((target, address_id), {}).get(name)

    def request(self, target: str, address_id: str, batch: list[Envelope]) -> bytes:
        """The ToFunction request the runtime would send for this batch, with the address's stored state."""
        request = ToFunction()
        invocation = request.invocation
        namespace, kind = target.split("/")
        invocation.target.namespace, invocation.target.type, invocation.target.id = namespace, kind, address_id
        stored = self.state.get((target, address_id), {})
        for name in self.registered.get(target, {}):
            persisted = invocation.state.add()
            persisted.state_name = name
            if name in stored:
                persisted.state_value.CopyFrom(stored[name])
        for envelope in batch:
            item = invocation.invocations.add()
            if envelope.caller:
                caller_ns, caller_type = envelope.caller[0].split("/")
                item.caller.namespace, item.caller.type, item.caller.id = caller_ns, caller_type, envelope.caller[1]
            item.argument.typename = envelope.typename
            if envelope.value is not None:
                item.argument.has_value = True
                item.argument.value = envelope.value
        return request.SerializeToString()

    def _apply(self, target: str, address_id: str, result) -> list[Envelope]:
        stored = self.state.setdefault((target, address_id), {})
        for mutation in result.state_mutations:
            if mutation.mutation_type == FromFunction.PersistedValueMutation.MutationType.Value("DELETE"):
                stored.pop(mutation.state_name, None)
            else:
                stored[mutation.state_name] = mutation.state_value
        for egress in result.outgoing_egresses:
            record = KafkaProducerRecord()
            record.ParseFromString(egress.argument.value)
            self.egress.append(
                Egress(f"{egress.egress_namespace}/{egress.egress_type}", record.topic, record.key, record.value_bytes)
            )
        for delayed in result.delayed_invocations:
            if delayed.is_cancellation_request:
                # Like the runtime: a token names one pending delayed message; an unknown one is a no-op,
                # an empty one fails the job.
                assert delayed.cancellation_token, "the runtime fails the job on a cancellation without a token"
                self.delayed = [d for d in self.delayed if d.cancellation_token != delayed.cancellation_token]
                continue
            assert not delayed.cancellation_token or delayed.cancellation_token not in {
                d.cancellation_token for d in self.delayed
            }, "the runtime fails the job on a reused token"
            self.delayed.append(
                Delayed(self._envelope(delayed, target, address_id), delayed.delay_in_ms, delayed.cancellation_token)
            )
        return [self._envelope(message, target, address_id) for message in result.outgoing_messages]

    @staticmethod
    def _envelope(message, caller_target: str, caller_id: str) -> Envelope:
        return Envelope(
            target=f"{message.target.namespace}/{message.target.type}",
            id=message.target.id,
            typename=message.argument.typename,
            value=message.argument.value if message.argument.has_value else None,
            caller=(caller_target, caller_id),
        )
