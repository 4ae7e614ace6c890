{{/*
statefun.deployment standalone: Flink's standalone Kubernetes application mode, the chart's own objects for what the
operator would make of the FlinkDeployment (docs/adr/0014). A JobManager Deployment runs the StateFun job
(StandaloneApplicationClusterEntryPoint), a TaskManager Deployment gives it one slot per pod (reactive mode rescales
the job to them), Kubernetes HA keeps the leader and the latest checkpoint in ConfigMaps, and a Service names the
JobManager. The pods come from fraud.flinkPodTemplate, the FlinkDeployment's own pod templates.
*/}}
{{- define "fraud.flinkStandalone" -}}
{{- $name := include "fraud.statefunName" . }}
{{- $ctx := dict "root" . "name" "statefun-runtime" }}
{{- $sf := .Values.statefun }}
{{- $ports := include "fraud.flinkPorts" . | fromYaml }}
# The Flink configuration directory of both components, as the operator would write it: flink-conf.yaml is read
# line by line as `key: value` (no YAML quoting), the console logging as the FlinkDeployment's.
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $name }}-flink-config
  labels:
    {{- include "fraud.labels" $ctx | nindent 4 }}
data:
  flink-conf.yaml: |
    {{- range $key, $value := include "fraud.flinkConfiguration" . | fromYaml }}
    {{ $key }}: {{ $value }}
    {{- end }}
  log4j-console.properties: |
    {{- .Files.Get "files/log4j2.properties" | nindent 4 }}
---
# jobmanager.rpc.address: the TaskManagers find the leader through Kubernetes HA; the REST API for users and tools.
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}-jobmanager
  labels:
    {{- include "fraud.labels" $ctx | nindent 4 }}
    app.kubernetes.io/component: jobmanager
spec:
  type: ClusterIP
  selector:
    {{- include "fraud.selector" $ctx | nindent 4 }}
    app.kubernetes.io/component: jobmanager
  ports:
    - {name: rpc, port: {{ $ports.jobManagerRpc }}, targetPort: rpc}
    - {name: blob, port: {{ $ports.blob }}, targetPort: blob}
    - {name: rest, port: {{ $ports.rest }}, targetPort: rest}
{{- range $component := list "jobmanager" "taskmanager" }}
{{- $jobManager := eq $component "jobmanager" }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}-{{ $component }}
  labels:
    {{- include "fraud.labels" $ctx | nindent 4 }}
    app.kubernetes.io/component: {{ $component }}
spec:
  {{- if $jobManager }}
  replicas: {{ $sf.jobManager.replicas }}
  # A standby JobManager waits for the leader's ConfigMap lock; a rollout stops the old one first, so two leaders'
  # pods never write the same checkpoint directory.
  strategy:
    type: Recreate
  {{- else }}
  replicas: {{ include "fraud.taskManagerReplicas" $ }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "fraud.selector" $ctx | nindent 6 }}
      app.kubernetes.io/component: {{ $component }}
  template:
    {{- include "fraud.flinkPodTemplate" (dict "root" $ "component" $component) | nindent 4 }}
{{- end }}
{{- end }}
