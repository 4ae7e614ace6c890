"""Unit tests of the fraud simulator (no Kafka, no real time)."""
