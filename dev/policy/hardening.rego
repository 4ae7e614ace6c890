# The platform's hardening rules for rendered manifests (conftest test --combine).
# Pod Security Standards "restricted", resources, probes, disruption budgets and spread.
# Input: every document of one render, as [{path, contents}] (conftest --combine).
package main

import rego.v1

docs := [d.contents | some d in input; is_object(d.contents)]

# (owner, pod spec, containers checked for probes/resources by the kubelet's own rules)
pods contains {"owner": owner, "spec": t.spec, "probes": true, "ha": standalone_flink(d)} if {
	some d in docs
	d.kind in {"Deployment", "StatefulSet", "DaemonSet"}
	owner := sprintf("%s/%s", [d.kind, d.metadata.name])
	t := d.spec.template
}

# The runtime's own Deployments in standalone mode (docs/adr/0014): Kubernetes HA reads the API server.
standalone_flink(d) := object.get(d.spec.template.metadata.labels, "app.kubernetes.io/name", "") == "statefun-runtime"

pods contains {"owner": owner, "spec": d.spec, "probes": false} if {
	some d in docs
	d.kind in {"Pod", "Job"}
	owner := sprintf("%s/%s", [d.kind, d.metadata.name])
}

# Both Flink components: the operator adds image, command and resources (from spec.*.resource).
pods contains {"owner": owner, "spec": d.spec[component].podTemplate.spec, "probes": true, "flink": true} if {
	some d in docs
	d.kind == "FlinkDeployment"
	some component in {"jobManager", "taskManager"}
	owner := sprintf("FlinkDeployment/%s/%s", [d.metadata.name, component])
}

containers(spec) := array.concat(object.get(spec, "containers", []), object.get(spec, "initContainers", []))

pod_or_container(pod, container, field) := object.get(container, ["securityContext", field], object.get(pod, ["securityContext", field], null))

seccomp_type(pod, container) := t if {
	t := container.securityContext.seccompProfile.type
} else := t if {
	t := pod.securityContext.seccompProfile.type
} else := ""

allowed_volume_types := {"configMap", "emptyDir", "persistentVolumeClaim", "secret", "projected", "downwardAPI", "csi", "ephemeral"}

deny contains msg if {
	some p in pods
	some c in containers(p.spec)
	pod_or_container(p.spec, c, "runAsNonRoot") != true
	msg := sprintf("%s container %s: runAsNonRoot must be true", [p.owner, c.name])
}

deny contains msg if {
	some p in pods
	some c in containers(p.spec)
	pod_or_container(p.spec, c, "runAsUser") == 0
	msg := sprintf("%s container %s: runs as UID 0", [p.owner, c.name])
}

deny contains msg if {
	some p in pods
	some c in containers(p.spec)
	object.get(c, ["securityContext", "readOnlyRootFilesystem"], false) != true
	msg := sprintf("%s container %s: readOnlyRootFilesystem must be true", [p.owner, c.name])
}

deny contains msg if {
	some p in pods
	some c in containers(p.spec)
	object.get(c, ["securityContext", "allowPrivilegeEscalation"], true) != false
	msg := sprintf("%s container %s: allowPrivilegeEscalation must be false", [p.owner, c.name])
}

deny contains msg if {
	some p in pods
	some c in containers(p.spec)
	object.get(c, ["securityContext", "privileged"], false) == true
	msg := sprintf("%s container %s: privileged", [p.owner, c.name])
}

deny contains msg if {
	some p in pods
	some c in containers(p.spec)
	not "ALL" in object.get(c, ["securityContext", "capabilities", "drop"], [])
	msg := sprintf("%s container %s: capabilities must drop ALL", [p.owner, c.name])
}

deny contains msg if {
	some p in pods
	some c in containers(p.spec)
	count(object.get(c, ["securityContext", "capabilities", "add"], [])) > 0
	msg := sprintf("%s container %s: adds capabilities", [p.owner, c.name])
}

deny contains msg if {
	some p in pods
	some c in containers(p.spec)
	not seccomp_type(p.spec, c) in {"RuntimeDefault", "Localhost"}
	msg := sprintf("%s container %s: seccompProfile must be RuntimeDefault", [p.owner, c.name])
}

deny contains msg if {
	some p in pods
	some field in {"hostNetwork", "hostPID", "hostIPC"}
	object.get(p.spec, field, false) == true
	msg := sprintf("%s: %s", [p.owner, field])
}

deny contains msg if {
	some p in pods
	some v in object.get(p.spec, "volumes", [])
	some kind, _ in v
	kind != "name"
	not kind in allowed_volume_types
	msg := sprintf("%s volume %s: type %s is not allowed by the restricted profile", [p.owner, v.name, kind])
}

deny contains msg if {
	some p in pods
	some c in containers(p.spec)
	some port in object.get(c, "ports", [])
	object.get(port, "hostPort", 0) != 0
	msg := sprintf("%s container %s: hostPort", [p.owner, c.name])
}

# Requests and limits on every container the chart runs (Flink's come from spec.*.resource).
deny contains msg if {
	some p in pods
	not p.flink
	some c in containers(p.spec)
	some kind in {"requests", "limits"}
	some resource in {"cpu", "memory"}
	not c.resources[kind][resource]
	msg := sprintf("%s container %s: no %s.%s", [p.owner, c.name, kind, resource])
}

deny contains msg if {
	some d in docs
	d.kind == "FlinkDeployment"
	some component in {"jobManager", "taskManager"}
	some resource in {"cpu", "memory"}
	not d.spec[component].resource[resource]
	msg := sprintf("FlinkDeployment/%s: no %s.resource.%s", [d.metadata.name, component, resource])
}

# Every long-running container has its three probes.
deny contains msg if {
	some p in pods
	p.probes
	some c in object.get(p.spec, "containers", [])
	some probe in {"startupProbe", "livenessProbe", "readinessProbe"}
	not c[probe]
	msg := sprintf("%s container %s: no %s", [p.owner, c.name, probe])
}

deny contains msg if {
	some p in pods
	some c in containers(p.spec)
	c.image
	endswith(c.image, ":latest")
	msg := sprintf("%s container %s: image tag latest", [p.owner, c.name])
}

labels_match(selector, labels) if {
	count(selector) > 0
	every k, v in selector {
		labels[k] == v
	}
}

# A PodDisruptionBudget covers every Deployment and both Flink components.
deny contains msg if {
	some d in docs
	d.kind == "Deployment"
	labels := d.spec.template.metadata.labels
	not pdb_covers(labels)
	msg := sprintf("Deployment/%s: no PodDisruptionBudget selects its pods", [d.metadata.name])
}

deny contains msg if {
	some d in docs
	d.kind == "FlinkDeployment"
	some component in {"jobManager", "taskManager"}
	not pdb_covers(d.spec[component].podTemplate.metadata.labels)
	msg := sprintf("FlinkDeployment/%s %s: no PodDisruptionBudget selects its pods", [d.metadata.name, component])
}

pdb_covers(labels) if {
	some pdb in docs
	pdb.kind == "PodDisruptionBudget"
	labels_match(pdb.spec.selector.matchLabels, labels)
}

# Replicas that may exceed one are spread over nodes.
may_scale_out(d) if object.get(d.spec, "replicas", 1) > 1

may_scale_out(d) if {
	some s in docs
	s.kind in {"HorizontalPodAutoscaler", "ScaledObject"}
	s.spec.scaleTargetRef.name == d.metadata.name
}

deny contains msg if {
	some d in docs
	d.kind == "Deployment"
	may_scale_out(d)
	count(object.get(d.spec.template.spec, "topologySpreadConstraints", [])) == 0
	not deployment_colocated(d)
	msg := sprintf("Deployment/%s: more than one replica but no topologySpreadConstraints", [d.metadata.name])
}

# TaskManagers spread over nodes, unless they must share one with the JobManager (a ReadWriteOnce claim, below).
deny contains msg if {
	some d in docs
	d.kind == "FlinkDeployment"
	count(object.get(d.spec.taskManager.podTemplate.spec, "topologySpreadConstraints", [])) == 0
	not colocated(d, "taskManager")
	msg := sprintf("FlinkDeployment/%s: TaskManagers scale but have no topologySpreadConstraints", [d.metadata.name])
}

# A ReadWriteOnce claim is attached to one node at a time: every Flink pod that mounts it must be held on one
# node (a required pod affinity to the deployment's Flink pods on kubernetes.io/hostname), or a pod placed
# elsewhere hangs in ContainerCreating (Multi-Attach). docs/adr/0011.
deny contains msg if {
	some d in docs
	d.kind == "FlinkDeployment"
	some component in {"jobManager", "taskManager"}
	some v in object.get(d.spec[component].podTemplate.spec, "volumes", [])
	some claim in docs
	claim.kind == "PersistentVolumeClaim"
	claim.metadata.name == v.persistentVolumeClaim.claimName
	not "ReadWriteMany" in claim.spec.accessModes
	not colocated(d, component)
	msg := sprintf("FlinkDeployment/%s %s: mounts the ReadWriteOnce claim %s but is not held on one node with the other Flink pods", [d.metadata.name, component, claim.metadata.name])
}

# Likewise the standalone runtime's Deployments: held on one node with every Flink pod of the release.
deny contains msg if {
	some d in docs
	d.kind == "Deployment"
	standalone_flink(d)
	some v in object.get(d.spec.template.spec, "volumes", [])
	some claim in docs
	claim.kind == "PersistentVolumeClaim"
	claim.metadata.name == v.persistentVolumeClaim.claimName
	not "ReadWriteMany" in claim.spec.accessModes
	not deployment_colocated(d)
	msg := sprintf("Deployment/%s: mounts the ReadWriteOnce claim %s but is not held on one node with the other Flink pods", [d.metadata.name, claim.metadata.name])
}

# A required pod affinity on kubernetes.io/hostname to the release's Flink pods of every component.
deployment_colocated(d) if {
	standalone_flink(d)
	some term in d.spec.template.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution
	term.topologyKey == "kubernetes.io/hostname"
	labels_match(term.labelSelector.matchLabels, d.spec.template.metadata.labels)
	not term.labelSelector.matchLabels["app.kubernetes.io/component"]
}

# A required pod affinity on kubernetes.io/hostname whose selector matches both Flink components' pods.
colocated(d, component) if {
	some term in d.spec[component].podTemplate.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution
	term.topologyKey == "kubernetes.io/hostname"
	every c in {"jobManager", "taskManager"} {
		labels_match(term.labelSelector.matchLabels, d.spec[c].podTemplate.metadata.labels)
	}
}

# Service account tokens only where the API is used (Flink's Kubernetes HA).
deny contains msg if {
	some p in pods
	not p.flink
	not p.ha
	object.get(p.spec, "automountServiceAccountToken", true) != false
	msg := sprintf("%s: mounts a service account token it does not need", [p.owner])
}
