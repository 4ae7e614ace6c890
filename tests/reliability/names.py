"""Every scenario's name in the results table, one place: the tests record under these names, and
tests/unit/test_reliability_table.py holds docs/reliability.md's generated table to exactly this set."""

from __future__ import annotations

FUZZ = "4000 fuzzed POST /statefun bodies, then one transaction"
MERCHANT_DOWN = "merchant-service down (12 s)"
MERCHANT_SLOW = "merchant-service slower than the client timeout (12 s)"
MERCHANT_FAILING = "merchant-service failing half its calls (12 s)"
POISON = "poison records, every class, both topics"
FUNCTION_SERVER_KILL = "kill -9 function server, restart after 3 s"
STATEFUN_JVM_KILL = "kill -9 StateFun JVM, restore from checkpoint"
KAFKA_BROKER_KILL = "kill -9 Kafka broker, restart after 3 s"
SOAK = "soak at 100 tx/s"
OVERLOAD = "overload: three times the measured rate, then a drain"

SCENARIOS = (
    FUZZ,
    MERCHANT_DOWN,
    MERCHANT_SLOW,
    MERCHANT_FAILING,
    POISON,
    FUNCTION_SERVER_KILL,
    STATEFUN_JVM_KILL,
    KAFKA_BROKER_KILL,
    SOAK,
    OVERLOAD,
)
