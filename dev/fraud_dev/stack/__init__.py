"""The local stack: the real pipeline as processes on one machine, no Docker needed.

A KRaft Kafka broker and the StateFun runtime (JVMs, jars from Maven Central),
merchant-service, the function server and the simulator, each started after
the one before it is ready, each logging to its own file, stopped in reverse
order. `make run` and the end-to-end tests both use it.
"""
