"""fraud/model: scores one transaction's values and replies to the caller with a ModelScore.

Stateless: the models (features, weights, threshold, version) come from their
files (fraud_functions.live_models), so every instance scores identically. A
challenger, when one runs, scores the same values in the same invocation and
travels in the same reply: shadow scoring costs no round trip. ALERT_THRESHOLD,
only when explicitly set, replaces the champion file's threshold.
"""

from __future__ import annotations

from statefun import Message

from fraud_common.contract import NAMESPACE
from fraud_functions.declarations import Resources, declare
from fraud_functions.live_models import LiveModels
from fraud_functions.message_context import MessageContext
from fraud_functions.messages import ModelInput, ModelScore
from fraud_functions.metrics import MODEL_SCORES
from fraud_functions.outcomes import read_request, reject_unknown_type, reply_to_caller

MODEL = f"{NAMESPACE}/model"


@declare(
    typename=MODEL,
    summary="scores a transaction's values with the champion model file (MODEL_PATH) and, in shadow, the "
    "challenger (CHALLENGER_MODEL_PATH)",
    takes=(ModelInput.TYPENAME,),
    answers=(ModelScore.TYPENAME,),
)
class ModelFunction:
    def __init__(self, resources: Resources) -> None:
        self._models: LiveModels = resources.models
        # A value the sender did not know of (an older transaction-manager) counts as its lookup's fallback.
        self._fallbacks = {
            f"{lookup.name}.{name}": value
            for _, lookup in resources.lookups
            for name, value in lookup.fallback(resources.settings).items()
        }

    async def __call__(self, context: MessageContext, message: Message) -> None:
        if not message.is_type(ModelInput.STATEFUN_TYPE):
            reject_unknown_type(MODEL, context, message)
            return
        request = read_request(MODEL, context, message, ModelInput)
        if request is None:
            return
        values = {**self._fallbacks, **request.values}
        scored = self._models.champion.score(values)
        MODEL_SCORES.observe(scored.score)
        challenger = self._models.challenger
        shadow = None
        if challenger is not None:
            theirs = challenger.score(values)
            shadow = {
                "model_version": theirs.model_version,
                "score": theirs.score,
                "threshold": challenger.threshold,
                "features": theirs.features,
            }
        reply_to_caller(
            context,
            ModelScore(
                request.transaction_id,
                scored.score,
                scored.model_version,
                scored.reasons,
                self._models.champion_threshold(),
                scored.features,
                shadow,
            ),
        )
