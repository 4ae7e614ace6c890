"""The project's local Kubernetes control plane: real etcd, kube-apiserver, controller-manager and
scheduler as processes on loopback, with kwok's fake nodes, and the pinned operators' CRDs installed.

It validates and schedules what the Kubernetes packaging will deploy (RBAC, Pod Security admission,
CRD schemas) without Docker; `python -m fraud_dev.cluster up|down|status`. With a real node instead
(realnode.py, in a network namespace of its own: netns.py; podcluster.py brings it all up), the chart's
pods run for real on images built from the Dockerfile (images.py), Kafka and the runtime beside them.
"""
