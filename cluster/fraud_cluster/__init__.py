"""The project's local Kubernetes control plane: real etcd, kube-apiserver, controller-manager and
scheduler as processes on loopback, with kwok's fake nodes, and the pinned operators' CRDs installed.

It validates and schedules what the Kubernetes packaging will deploy (RBAC, Pod Security admission,
CRD schemas) without Docker; nothing runs a real container yet. `python -m fraud_cluster up|down|status`.
"""
