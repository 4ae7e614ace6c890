"""Transaction simulator for the fraud-detection pipeline.

Produces workshop-compatible transactions to Kafka, prints the alerts the
pipeline raises, confirms a share of them (closing the feedback loop) and
reports throughput and latency. `scenario_transactions` is the deterministic
generator that tests and benchmarks use to predict a scenario run's outcome.
"""

from fraud_simulator.transactions import scenario_transactions

__all__ = ["scenario_transactions"]
