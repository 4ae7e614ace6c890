"""Names the runtime and the functions must agree on: function types and egresses.

The module spec (runtime/conf/module.yaml.tmpl) refers to the same names; a
contract test keeps the two in step.
"""

NAMESPACE = "fraud"

TRANSACTION_MANAGER = f"{NAMESPACE}/transaction-manager"
FRAUD_COUNT = f"{NAMESPACE}/fraud-count"
MERCHANT = f"{NAMESPACE}/merchant"
MODEL = f"{NAMESPACE}/model"

ALL_FUNCTIONS = (TRANSACTION_MANAGER, FRAUD_COUNT, MERCHANT, MODEL)

ALERTS_EGRESS = f"{NAMESPACE}/alerts"
DECISIONS_EGRESS = f"{NAMESPACE}/decisions"
DEAD_LETTERS_EGRESS = f"{NAMESPACE}/dead-letters"

ALL_EGRESSES = (ALERTS_EGRESS, DECISIONS_EGRESS, DEAD_LETTERS_EGRESS)
