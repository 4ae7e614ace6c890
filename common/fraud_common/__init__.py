"""Code shared by the functions, the merchant-service and the simulator.

Kept deliberately small: the Kafka contract (one place that says what a valid
record is), typed environment settings and JSON logging.
"""
