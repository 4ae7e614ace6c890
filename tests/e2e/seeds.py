"""The seeds of the e2e suite's streams, in one place because the suite shares one stack.

A seed fixes a stream's transaction ids (and a shorter stream of a seed is a prefix of a longer one), so two tests
with one seed send the same ids: the second's are dead-lettered as duplicates and look lost. Each stream has its own.
"""

from __future__ import annotations

SCENARIO = 20261127  # test_scenario: the seeded scenario, also run by the simulator's CLI
MODELS = 20261202  # test_models: the challenger, the promotion and the backtest
WRONG_PASSWORD = 20261203  # test_kafka_security: the runtime refused by the broker, then fixed

_ALL = (SCENARIO, MODELS, WRONG_PASSWORD)
if len(set(_ALL)) != len(_ALL):
    raise ValueError(f"two e2e streams share a seed: {_ALL}")
