"""fraud/model: scores one transaction's values and replies to the caller with a ModelScore.

Stateless: the model itself (features, weights, threshold, version) is loaded
once per process from the model file, so every instance scores identically.
ALERT_THRESHOLD, when set, replaces the model file's threshold.
"""

from __future__ import annotations

from statefun import Message

from fraud_common.contract import NAMESPACE
from fraud_functions.declarations import Resources, declare
from fraud_functions.message_context import MessageContext
from fraud_functions.messages import ModelInput, ModelScore
from fraud_functions.metrics import MODEL_SCORES
from fraud_functions.outcomes import read_request, reject_unknown_type, reply_to_caller
from fraud_functions.scoring import Model

MODEL = f"{NAMESPACE}/model"


@declare(
    typename=MODEL,
    summary="scores a transaction's values with the model file's logistic model (MODEL_PATH)",
    takes=(ModelInput.TYPENAME,),
    answers=(ModelScore.TYPENAME,),
)
class ModelFunction:
    def __init__(self, resources: Resources) -> None:
        self._model: Model = resources.model
        # A value the sender did not know of (an older transaction-manager) counts as its lookup's fallback.
        self._fallbacks = {
            f"{lookup.name}.{name}": value
            for _, lookup in resources.lookups
            for name, value in lookup.fallback(resources.settings).items()
        }
        override = resources.settings.alert_threshold
        self._threshold = override if override is not None else self._model.threshold

    async def __call__(self, context: MessageContext, message: Message) -> None:
        if not message.is_type(ModelInput.STATEFUN_TYPE):
            reject_unknown_type(MODEL, context, message)
            return
        request = read_request(MODEL, context, message, ModelInput)
        if request is None:
            return
        scored = self._model.score({**self._fallbacks, **request.values})
        MODEL_SCORES.observe(scored.score)
        reply_to_caller(
            context,
            ModelScore(
                request.transaction_id,
                scored.score,
                scored.model_version,
                scored.reasons,
                self._threshold,
                scored.features,
            ),
        )
