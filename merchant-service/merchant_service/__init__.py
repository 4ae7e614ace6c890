"""merchant-service: the external merchant risk-score API the fraud functions call.

It stands in for a third-party dependency, so besides answering it can be made
slow or flaky on purpose (fault injection) to exercise the functions' timeouts,
retries and degraded mode.
"""
