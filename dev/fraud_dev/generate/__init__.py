"""`make generate`: every file that is made from a declaration, written by one command and checked by another.

From `fraud_common.contract.TOPICS` (the topics: key, value, partitions, which ingress reads each and which
function it targets, or which egress writes it) and the function declarations (`fraud_functions.declarations`):
  - runtime/conf/module.yaml.tmpl, the StateFun module spec template (module_spec.py), and the chart's copy;
  - charts/fraud-platform/files/topics.yaml, the chart's KafkaTopics (chart.py);
  - charts/fraud-platform/files/kafka-users.yaml, each component's ACLs for its KafkaUser (chart.py), from the
    topics and `fraud_common.contract.kafka_access`;
  - docs/architecture.md's function and topic tables (docs.py).
From the settings classes (`fraud_common.settings.setting`): docs/configuration.md's tables (docs.py).
From the chart's values.schema.json and values.yaml: the values reference in its README (values_reference.py).
From runtime/conf and observability/: the chart's copies (chart.py).
From the chart, by `helm template`: the kustomize tree (kustomize.py).
The local broker creates the contract's topics and the components' ACLs itself (fraud_dev.stack.kafka,
kafka_security), so it needs no file.

`python -m fraud_dev.generate` writes them; `--check` changes nothing and fails, with a diff, when any file
differs from what would be written (`make test` runs it first; the deploy suite checks the kustomize part,
which needs helm).
"""
