"""Names the runtime and the functions must agree on: the namespace and the egresses.

The functions themselves are declared in their modules (fraud_functions.declarations);
transaction-manager's name is here too because logs and traces name its address
as the transaction id. The module spec (runtime/conf/module.yaml.tmpl) refers to
the same names; a contract test keeps the two in step.
"""

NAMESPACE = "fraud"

TRANSACTION_MANAGER = f"{NAMESPACE}/transaction-manager"

ALERTS_EGRESS = f"{NAMESPACE}/alerts"
DECISIONS_EGRESS = f"{NAMESPACE}/decisions"
DEAD_LETTERS_EGRESS = f"{NAMESPACE}/dead-letters"

ALL_EGRESSES = (ALERTS_EGRESS, DECISIONS_EGRESS, DEAD_LETTERS_EGRESS)
