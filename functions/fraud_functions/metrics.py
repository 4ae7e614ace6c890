"""Prometheus metrics of the function server.

Names start with `fraud_`; labels are bounded sets (function types, reason
codes), never ids. One process per container (ADR 0005), so the default
registry is the whole truth.
"""

from collections.abc import Iterable
from functools import cache

from prometheus_client import Counter, Gauge, Histogram

from fraud_common.contract import Outcome

MESSAGES = Counter(
    "fraud_function_messages_total",
    "Messages handled, by function and message type.",
    ["function", "message_type"],
)
DEAD_LETTERS = Counter(
    "fraud_dead_letters_total",
    "Records sent to the dead-letters egress, by function and reason.",
    ["function", "reason"],
)
UNEXPECTED = Counter(
    "fraud_unexpected_messages_total",
    "Late, duplicate or unreadable internal messages that were dropped, by function and reason.",
    ["function", "reason"],
)
FUNCTION_ERRORS = Counter(
    "fraud_function_errors_total",
    "Bugs caught by the invocation guard (the message was dead-lettered instead of failing the job).",
    ["function"],
)
DECISIONS = Counter(
    "fraud_decisions_total",
    "Transactions decided, by outcome (alert, no_alert, dead_letter, expired) and whether a feature "
    "was degraded (a fallback score that kept a transaction below the threshold shows as no_alert, true).",
    ["outcome", "degraded"],
)
MERCHANT_LOOKUPS = Counter(
    "fraud_merchant_lookups_total",
    "Merchant score answers, by source (cache, service, fallback).",
    ["source"],
)
MERCHANT_RETRIES = Counter(
    "fraud_merchant_service_retries_total",
    "Attempts to merchant-service after the first one of a lookup.",
)
MERCHANT_LOOKUP_DURATION = Histogram(
    "fraud_merchant_service_lookup_seconds",
    "Time of one merchant score lookup, retries and backoff included.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8),
)
TRANSACTIONS_STARTED = Counter(
    "fraud_transactions_started_total",
    "Transactions accepted by transaction-manager (each gets one decision later; started minus decided is in flight).",
)
MERCHANT_ATTEMPTS = Counter(
    "fraud_merchant_service_attempts_total",
    "HTTP attempts to merchant-service, by outcome.",
    ["outcome"],
)
MODEL_SCORES = Histogram(
    "fraud_model_score",
    "Distribution of model scores (0..1).",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
)
# By model version and role (champion, challenger): versions are few at a time (a champion, a challenger, the
# one before a promotion), so the label set stays small.
MODEL_INFO = Gauge(
    "fraud_model_info",
    "1 for the model version running in each role (champion decides, challenger is scored in shadow).",
    ["role", "version"],
)
MODEL_LOADED = Gauge(
    "fraud_model_loaded_timestamp_seconds",
    "When each role's running model was loaded (Unix time): a promotion or rollback moves it.",
    ["role"],
)
MODEL_RELOADS = Counter(
    "fraud_model_reloads_total",
    "Changed model files, by role and result (loaded, or refused: the running version keeps deciding).",
    ["role", "result"],
)
VERSION_SCORES = Histogram(
    "fraud_model_version_score",
    "Scores of decided transactions by model role and version (0..1).",
    ["role", "version"],
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0),
)
VERSION_DECISIONS = Counter(
    "fraud_model_decisions_total",
    "Scored decisions by model role and version and whether that model alerts (would alert, for a challenger): "
    "its alert rate.",
    ["role", "version", "alert"],
)
CHALLENGER_AGREEMENT = Counter(
    "fraud_model_agreement_total",
    "Decisions scored by a challenger, by champion and challenger version and whether both reached the same outcome.",
    ["champion", "challenger", "agree"],
)
DECISION_LATENCY = Histogram(
    "fraud_transaction_decision_seconds",
    "Time from a transaction reaching transaction-manager to its decision.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
REJECTED_REQUESTS = Counter(
    "fraud_rejected_requests_total",
    "Requests to /statefun answered without reaching a function, by reason (e.g. not_protobuf, unknown_function).",
    ["reason"],
)
BATCH_SIZE = Histogram(
    "fraud_function_batch_size",
    "Messages in one request from the runtime (it batches messages for an address while one is in flight).",
    ["function"],
    buckets=(1, 2, 5, 10, 20, 50, 100),
)
REQUEST_DURATION = Histogram(
    "fraud_function_request_seconds",
    "Time to handle one request-reply batch from the runtime, by function.",
    ["function"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# The labelled children the request path uses, looked up once per label set: `.labels()` takes a lock
# and builds the label tuple on every call.
messages = cache(MESSAGES.labels)
batch_size = cache(BATCH_SIZE.labels)
request_duration = cache(REQUEST_DURATION.labels)
version_scores = cache(VERSION_SCORES.labels)
version_decisions = cache(VERSION_DECISIONS.labels)
challenger_agreement = cache(CHALLENGER_AGREEMENT.labels)


def publish_known_series(functions: Iterable[str]) -> None:
    """Create, at zero, the labelled series whose label values are known at start.

    A series that first appears with the value 1 has no earlier sample, so `rate()`
    and `increase()` miss that first error or expired decision; existing at 0 from
    the start, it counts. (Dead-letter and rejection reasons have no catalog; their
    series appear with their first occurrence.)
    """
    for function in functions:
        FUNCTION_ERRORS.labels(function)
        batch_size(function)
        request_duration(function)
    for outcome in Outcome:
        for degraded in ("true", "false"):
            DECISIONS.labels(outcome, degraded)
