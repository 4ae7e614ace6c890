"""Readiness checks: an HTTP 200, a Flink job with every task running (Kafka's is in kafka.py)."""

from __future__ import annotations

import json
import urllib.request


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status == 200


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.loads(response.read())


def flink_job_running(rest_port: int) -> bool:
    """True when a job is RUNNING and so is every one of its tasks (ingress, functions, egress)."""
    return flink_job_running_at(f"http://127.0.0.1:{rest_port}")


def flink_job_running_at(base: str) -> bool:
    """flink_job_running for the REST API at `base` (a JobManager pod or Service, say)."""
    jobs = _get_json(f"{base}/jobs/overview").get("jobs", [])
    running = [job for job in jobs if job.get("state") == "RUNNING"]
    if not running:
        return False
    detail = _get_json(f"{base}/jobs/{running[0]['jid']}")
    vertices = detail.get("vertices", [])
    return bool(vertices) and all(vertex.get("status") == "RUNNING" for vertex in vertices)
