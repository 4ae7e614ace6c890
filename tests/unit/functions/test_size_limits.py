"""Size limits that agree end to end, so no record can make a request or a response the other side refuses.

The chain: a Kafka record's value reaches the functions whole up to the ingress's
maxValueBytes (larger ones cut short, then dead-lettered as too_large); at most
maxNumBatchRequests (+1) messages for one address go in one request, which must
fit the function server's body limit; the answer (a dead letter per message in
the worst case) must fit the runtime's payload_max_bytes. Measured here on the
largest batch the real handler can be sent, with a factor of two to spare.
"""

from __future__ import annotations

import pytest
from statefun.request_reply_pb2 import FromFunction

from fraud_common.contract import MAX_RECORD_BYTES, TRANSACTION_RECORD
from fraud_dev import module_spec
from fraud_dev.ingress_records import envelope
from fraud_dev.mini_runtime import Envelope
from fraud_functions.addresses import TRANSACTION_MANAGER
from fraud_functions.request_screen import MAX_REQUEST_BYTES


@pytest.fixture(scope="module")
def endpoint_and_ingresses() -> tuple[dict, list[dict]]:
    docs = module_spec.documents(module_spec.rendered({}))
    (endpoint,) = [d["spec"] for d in docs if d["kind"] == "io.statefun.endpoints.v2/http"]
    return endpoint, [d["spec"] for d in docs if d["kind"] == "io.fraudplatform.kafka.v1/ingress"]


async def test_the_largest_batch_and_its_answer_fit_their_limits_twice_over(runtime, endpoint_and_ingresses):
    endpoint, ingresses = endpoint_and_ingresses
    max_value = max(ingress["maxValueBytes"] for ingress in ingresses)
    assert max_value == MAX_RECORD_BYTES
    batch_size = endpoint["maxNumBatchRequests"] + 1  # the runtime blocks only after exceeding it
    # Control characters: the value that makes the largest dead letter (it goes as base64).
    value = b"\x01" * max_value
    batch = [
        Envelope(
            TRANSACTION_MANAGER,
            "k" * 128,
            TRANSACTION_RECORD,
            envelope("transactions", 2**31 - 1, 2**63 - 1, 2**63 - 1, b"k" * 128, value),
        )
        for _ in range(batch_size)
    ]
    await runtime.invoke(batch[:1])  # state registered: the batch below carries it
    request = runtime.request(TRANSACTION_MANAGER, "k" * 128, batch)
    response = await runtime.handler.handle_async(request)

    assert FromFunction.FromString(response).invocation_result.outgoing_egresses, "the batch was dead-lettered"
    print(f"largest request {len(request)} bytes, its answer {len(response)} bytes")
    assert 2 * len(request) <= MAX_REQUEST_BYTES, f"request of {len(request)} bytes"
    payload_max = endpoint["transport"]["payload_max_bytes"]
    assert 2 * len(response) <= payload_max, f"response of {len(response)} bytes"


def test_a_record_over_the_limit_reaches_the_functions_no_larger_than_the_limit():
    payload = envelope("transactions", 0, 1, 0, b"k", b"x" * (10 * 1024 * 1024))
    assert len(payload) < MAX_RECORD_BYTES
