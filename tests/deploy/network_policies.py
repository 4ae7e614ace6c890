"""Checks over rendered NetworkPolicies that no schema makes: does a policy open what it should not, and does
it still reach the pods it was written for?

- An egress rule without peers allows every destination, an ingress rule without peers every source; a
  peer whose selectors are all empty selects every pod. The one rule allowed to name no peers is the API
  server's in mode `ports` (any address on those ports, for CNIs that cannot match the API server by CIDR).
- A policy or a pod peer in the release's namespace that selects no rendered pod protects or admits
  nothing: labels drift silently otherwise.
- An ingress port no selected pod declares admits nothing.
Each check returns problems, empty when the render holds; test_network_policies.py breaks copies to show
each one fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.deploy.wiring import Doc, Problems, container_port, of_kind, pod_templates

# Labels of pods the chart does not render but names: Strimzi's brokers (checked against the rendered Kafka).
STRIMZI_CLUSTER = "strimzi.io/cluster"


def matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A Kubernetes LabelSelector (matchLabels and matchExpressions) against a pod's labels."""
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if not {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]:
            return False
    return True


def _empty(selector: Mapping[str, Any] | None) -> bool:
    return selector is not None and not selector.get("matchLabels") and not selector.get("matchExpressions")


def peer_selects_everything(peer: Mapping[str, Any]) -> bool:
    if "ipBlock" in peer:
        return peer["ipBlock"]["cidr"].endswith("/0")
    selectors = [peer.get("namespaceSelector"), peer.get("podSelector")]
    return all(s is None or _empty(s) for s in selectors)


def _rules(policy: Doc) -> list[tuple[str, Doc]]:
    spec = policy["spec"]
    return [("ingress", rule) for rule in spec.get("ingress") or []] + [
        ("egress", rule) for rule in spec.get("egress") or []
    ]


def _pods(docs: list[Doc]) -> list[tuple[str, Doc]]:
    return [(owner, template) for owner, template in pod_templates(docs) if "metadata" in template]


def check_no_open_rules(docs: list[Doc], api_server_ports: set[int]) -> Problems:
    problems = []
    for policy in of_kind(docs, "NetworkPolicy"):
        name = policy["metadata"]["name"]
        for direction, rule in _rules(policy):
            peers = rule.get("from" if direction == "ingress" else "to") or []
            ports = {port["port"] for port in rule.get("ports") or []}
            if not peers and not (direction == "egress" and ports and ports <= api_server_ports):
                problems.append(f"NetworkPolicy {name}: an {direction} rule without peers (ports {sorted(ports)})")
            problems += [
                f"NetworkPolicy {name}: {direction} peer {peer} selects every pod or address"
                for peer in peers
                if peer_selects_everything(peer) and not ("ipBlock" in peer and direction == "egress")
            ]
    return problems


def any_address_ports(docs: list[Doc]) -> set[int]:
    """The ports of the egress rules that name no peers (the API server's, in mode `ports`)."""
    return {
        port["port"]
        for policy in of_kind(docs, "NetworkPolicy")
        for rule in policy["spec"].get("egress") or []
        if not rule.get("to")
        for port in rule.get("ports") or []
    }


def check_selectors_reach_pods(docs: list[Doc]) -> Problems:
    """Each policy selects a rendered pod; each pod peer of the release's namespace selects one, or names the
    rendered Strimzi cluster."""
    pods = _pods(docs)
    kafkas = {doc["metadata"]["name"] for doc in of_kind(docs, "Kafka")}

    def selected(selector: Mapping[str, Any]) -> list[tuple[str, Doc]]:
        return [(owner, pod) for owner, pod in pods if matches(selector, pod["metadata"].get("labels") or {})]

    problems = []
    for policy in of_kind(docs, "NetworkPolicy"):
        name = policy["metadata"]["name"]
        if not selected(policy["spec"]["podSelector"]):
            problems.append(f"NetworkPolicy {name} selects no rendered pod")
        for direction, rule in _rules(policy):
            for peer in rule.get("from" if direction == "ingress" else "to") or []:
                if "podSelector" not in peer or "namespaceSelector" in peer:
                    continue  # addresses and other namespaces' pods are the user's
                cluster = (peer["podSelector"].get("matchLabels") or {}).get(STRIMZI_CLUSTER)
                if cluster is not None:
                    if kafkas and cluster not in kafkas:
                        problems.append(f"NetworkPolicy {name}: {direction} to Strimzi cluster {cluster}, not rendered")
                elif not selected(peer["podSelector"]):
                    problems.append(f"NetworkPolicy {name}: {direction} peer {peer} selects no rendered pod")
    return problems


def check_ingress_ports_are_served(docs: list[Doc], flink_operator_ports: set[int]) -> Problems:
    """Each ingress port is declared by a pod the policy selects (the Flink pods also serve the ports the
    operator adds to their containers, such as the JobManager's REST port)."""
    problems = []
    pods = _pods(docs)
    for policy in of_kind(docs, "NetworkPolicy"):
        name = policy["metadata"]["name"]
        targets = [
            (owner, pod)
            for owner, pod in pods
            if matches(policy["spec"]["podSelector"], pod["metadata"].get("labels") or {})
        ]
        for rule in policy["spec"].get("ingress") or []:
            for port in rule.get("ports") or []:
                if not any(
                    container_port(pod, port["port"])
                    or (owner.startswith("FlinkDeployment/") and port["port"] in flink_operator_ports)
                    for owner, pod in targets
                ):
                    problems.append(f"NetworkPolicy {name}: ingress port {port['port']} that no selected pod declares")
    return problems
