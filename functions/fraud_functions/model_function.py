"""fraud/model: scores a FeatureVector and replies to the caller with a ModelScore.

Stateless: the model itself (weights and version) is loaded once per process
from the model file, so every instance scores identically.
"""

from __future__ import annotations

from statefun import Context, Message

from fraud_functions.addresses import MODEL
from fraud_functions.messages import FeatureVector, ModelScore
from fraud_functions.metrics import MODEL_SCORES
from fraud_functions.model import Model
from fraud_functions.outcomes import read_request, reply_to_caller


class ModelScorer:
    def __init__(self, model: Model) -> None:
        self._model = model

    async def __call__(self, context: Context, message: Message) -> None:
        features = read_request(MODEL, context, message, FeatureVector)
        if features is None:
            return
        scored = self._model.score(features)
        MODEL_SCORES.observe(scored.score)
        reply_to_caller(context, ModelScore(transaction_id=features.transaction_id, score=scored.score,
                                            model_version=scored.model_version, reasons=scored.reasons))
