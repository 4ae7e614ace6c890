"""Start-up retry and the producer wrapper, without a broker."""

import asyncio
import io

import pytest

from fraud_simulator.kafka_io import KafkaUnavailable, ProducerSink, connect_with_retry
from fraud_simulator.status import Counters

from .fakes import FakeClock


async def test_retries_with_growing_backoff_then_succeeds():
    clock = FakeClock()
    attempts = []

    async def connect():
        attempts.append(clock.now)
        if len(attempts) < 4:
            raise ConnectionError("no broker")
        return "client"

    err = io.StringIO()
    assert await connect_with_retry(connect, "producer", 60, err=err, sleep=clock.sleep, clock=clock) == "client"
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert err.getvalue().count("Kafka not reachable") == 3


async def test_gives_up_after_the_timeout_with_a_clear_error():
    clock = FakeClock()

    async def connect():
        raise ConnectionError("no broker")

    with pytest.raises(KafkaUnavailable, match="producer: Kafka not reachable"):
        await connect_with_retry(connect, "producer", 10, err=io.StringIO(), sleep=clock.sleep, clock=clock)
    assert sum(clock.sleeps) == pytest.approx(10)


async def test_a_stop_request_ends_the_retry_loop_as_giving_up():
    clock = FakeClock()
    stop = asyncio.Event()
    attempts = []

    async def connect():
        attempts.append(clock.now)
        stop.set()
        raise ConnectionError("no broker")

    with pytest.raises(KafkaUnavailable, match=r"producer: stopped before Kafka was reached \(1 attempts\)"):
        await connect_with_retry(connect, "producer", 60, stop=stop, err=io.StringIO(), sleep=clock.sleep, clock=clock)
    assert len(attempts) == 1 and sum(clock.sleeps) < 60, "it stops at the request, not at the timeout"


async def test_producer_sink_counts_failed_deliveries():
    loop = asyncio.get_running_loop()

    class FakeProducer:
        def __init__(self):
            self.futures = []
            self.sent = []

        async def send(self, topic, value=None, key=None):
            self.sent.append((topic, key, value))
            future = loop.create_future()
            self.futures.append(future)
            return future

    producer = FakeProducer()
    sink = ProducerSink(producer)
    counters = Counters()
    sink.counters = counters
    await sink.send("transactions", b"k1", b"v1")
    await sink.send("transactions", b"k2", b"v2")
    producer.futures[0].set_result(None)
    producer.futures[1].set_exception(RuntimeError("broker said no"))
    await asyncio.sleep(0)  # let the done-callbacks run
    assert producer.sent == [("transactions", b"k1", b"v1"), ("transactions", b"k2", b"v2")]
    assert sink.delivery_failures == 1
    assert counters.delivery_failures == 1
