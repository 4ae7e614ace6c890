"""Thousands of random, truncated and mutated bodies sent to the live function server's /statefun.

Every answer is a 2xx (a mutation that is still a valid request) or a 4xx with
the reason, never a 5xx or a dropped connection; the server keeps serving and
the pipeline behind it keeps deciding: a transaction sent afterwards gets exactly its one decision, as the
oracle says, and nothing reaches the dead letters, without a job restart.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import aiohttp
from statefun.request_reply_pb2 import ToFunction

from fraud_common.contract import Transaction
from fraud_dev.ingress_records import ingress_record
from fraud_dev.ledger import LedgerReader
from fraud_dev.pipeline import new_id, restarts, transaction_record
from tests.reliability import names
from tests.reliability.conftest import record
from tests.support.oracle import Inputs, assert_decided_as_the_inputs_say

BODIES = 4000
SEED = 6601
TM = ("fraud", "transaction-manager", "t")
STATES = {"transaction-manager": ["pending", "decided"], "fraud-count": ["count"], "merchant": ["cached"], "model": []}


def request(
    function: str, address_id: str, typename: str, value: bytes, caller: tuple[str, str, str] | None, copies: int
) -> bytes:
    """A request as the runtime sends it once the function's state is registered."""
    message = ToFunction()
    target = message.invocation.target
    target.namespace, target.type, target.id = "fraud", function, address_id
    for name in STATES[function]:
        message.invocation.state.add().state_name = name
    for _ in range(copies):
        invocation = message.invocation.invocations.add()
        if caller:
            invocation.caller.namespace, invocation.caller.type, invocation.caller.id = caller
        invocation.argument.typename, invocation.argument.has_value, invocation.argument.value = typename, True, value
    return message.SerializeToString()


def valid_requests(rng: random.Random) -> list[bytes]:
    """One real request of each function (and one of an unknown message type), 1-3 messages each."""
    _, payload = ingress_record(
        "transactions", b"fuzz-tx", b'{"account":"a","merchant":"M","amount":1,"timestamp":"2026-01-01"}'
    )
    query = b'{"transaction_id":"t","account":"acct","merchant":"Fuzzshop","amount":5,"timestamp":"2026-01-01"}'
    model_input = b'{"transaction_id":"t","values":{"fraud_count.count":0,"merchant.score":50,"transaction.amount":5}}'
    specs = [
        ("transaction-manager", "fuzz-tx", "fraud/Transaction", payload, None),
        ("fraud-count", "acct", "fraud/LookupQuery", query, TM),
        ("merchant", "Fuzzshop", "fraud/LookupQuery", query, TM),
        ("model", "t", "fraud/ModelInput", model_input, TM),
        ("model", "t", "fraud/Unknown", b"{}", TM),
    ]
    return [request(*spec, copies=rng.randint(1, 3)) for spec in specs]


def mutate(rng: random.Random, body: bytes) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:  # truncated
        return body[: rng.randrange(len(body))]
    if kind == 1:  # bytes flipped
        data = bytearray(body)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if kind == 2:  # bytes inserted
        at = rng.randrange(len(body))
        return body[:at] + rng.randbytes(rng.randint(1, 32)) + body[at:]
    if kind == 3:  # pure noise
        return rng.randbytes(rng.randint(0, 4096))
    return body  # unchanged


async def fire(url: str, bodies: list[bytes]) -> Counter:
    statuses: Counter = Counter()
    limit = asyncio.Semaphore(16)
    async with aiohttp.ClientSession() as session:

        async def one(body: bytes) -> None:
            async with limit:
                try:
                    async with session.post(url, data=body) as response:
                        await response.read()
                        statuses[response.status] += 1
                except aiohttp.ClientError as err:
                    statuses[f"connection error: {type(err).__name__}"] += 1

        await asyncio.gather(*(one(body) for body in bodies))
    return statuses


def test_fuzzed_statefun_requests_get_4xx_never_5xx_and_the_pipeline_keeps_deciding(stack, kafka):
    rng = random.Random(SEED)
    valid = valid_requests(rng)
    bodies = [mutate(rng, rng.choice(valid)) for _ in range(BODIES)]
    restarts_before = restarts(stack)
    port = stack.config.ports.functions

    statuses = asyncio.run(fire(f"http://127.0.0.1:{port}/statefun", bodies))

    assert sum(statuses.values()) == BODIES
    assert all(isinstance(s, int) and (200 <= s < 300 or 400 <= s < 500) for s in statuses), statuses
    assert any(isinstance(s, int) and 400 <= s < 500 for s in statuses), "the fuzzing reached the screen"
    assert any(isinstance(s, int) and 200 <= s < 300 for s in statuses), "and, intact, the functions"

    reader = LedgerReader(kafka)
    transaction = Transaction(new_id("fuzz-after-"), new_id("acct-"), "Goodshop", 10, "2026-11-28T10:00:00")
    sent = time.monotonic()
    kafka.produce("transactions", [transaction_record(transaction)])
    report = reader.collect({transaction.transaction_id}, timeout=60)  # and on, to see a duplicate
    restarts_after = restarts(stack)
    record(
        names.FUZZ,
        report,
        restarts_after - restarts_before,
        "answers: " + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items(), key=str)),
    )
    report.assert_exact()  # the pipeline still decides: once, with its alert if any, nothing else
    assert_decided_as_the_inputs_say(report, Inputs([transaction], velocity_span_s=time.monotonic() - sent))
    assert report.dead_letters == [], "the fuzzing reached the functions over HTTP, never the topics"
    assert restarts_after == restarts_before
