"""Names the runtime and the functions must agree on: the namespace and the egresses.

The functions themselves are declared in their modules (fraud_functions.declarations), the topics and
their ingresses and egresses in `fraud_common.contract.TOPICS`, from which the module spec is generated
(`make generate`); transaction-manager's name is here too because logs and traces name its address as the
transaction id.
"""

from fraud_common.contract import ALERTS_TOPIC, DEAD_LETTERS_TOPIC, DECISIONS_TOPIC, NAMESPACE, egress_id

TRANSACTION_MANAGER = f"{NAMESPACE}/transaction-manager"

ALERTS_EGRESS = egress_id(ALERTS_TOPIC)
DECISIONS_EGRESS = egress_id(DECISIONS_TOPIC)
DEAD_LETTERS_EGRESS = egress_id(DEAD_LETTERS_TOPIC)
