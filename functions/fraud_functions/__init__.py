"""The fraud pipeline's StateFun remote functions, served over HTTP.

`fraud/transaction-manager` joins the features of one transaction,
`fraud/fraud-count` keeps a sliding window of confirmed frauds per account,
`fraud/merchant` caches merchant-service scores and `fraud/model` scores
feature vectors. All state lives in the StateFun runtime; this process is
stateless and can be scaled or restarted freely.
"""
