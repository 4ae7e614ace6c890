"""The fraud pipeline's StateFun remote functions, served over HTTP.

`fraud/transaction-manager` sends one query for a transaction's features down
the chain of keys and scores what comes back; `fraud/account` answers the
account's features (fraud count, velocity, threshold) and `fraud/merchant` the
merchant's (a cached merchant-service score), each in one invocation. All
state lives in the StateFun runtime; this process is stateless and can be
scaled or restarted freely.
"""
