{{/* Names, labels and the computed addresses every template shares. */}}

{{/*
The prefix of every object's name: the release name, as chart 0.1.0 named everything (release `fraud` keeps
`fraud-functions`, `fraud-statefun`, ...); nameOverride appends to it (the slot the chart's name takes in Helm's
convention), fullnameOverride replaces it. Never silently cut: a prefix that would push a Service or a Strimzi pod
name past Kubernetes' 63 characters fails the render (_validate.tpl).
*/}}
{{- define "fraud.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{ .Values.fullnameOverride }}
{{- else if .Values.nameOverride -}}
{{ .Release.Name }}-{{ .Values.nameOverride }}
{{- else -}}
{{ .Release.Name }}
{{- end }}
{{- end }}

{{/* helm.sh/chart as Helm's convention spells it (`+` is not allowed in a label value). */}}
{{- define "fraud.chartLabel" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | quote }}
{{- end }}

{{/*
Labels of a pod template. Not the chart's version: a chart upgrade alone must not roll every pod, nor restart
the Flink job (the operator restarts it for any change of its pod templates).
*/}}
{{- define "fraud.podLabels" -}}
app.kubernetes.io/part-of: fraud-platform
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- end }}

{{/* Labels of every object the chart renders (call with (dict "root" . "name" "<component>")). */}}
{{- define "fraud.labels" -}}
{{ include "fraud.podLabels" . }}
{{ include "fraud.chartLabel" .root }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "fraud.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .name }}
{{- end }}

{{/*
Labels of the Kafka and its node pool. Not the app.kubernetes.io set nor helm.sh/chart: Strimzi copies a custom
resource's labels to the pods it makes (all but app.kubernetes.io/* other than part-of, its default exclusion
pattern), so the release's default-deny NetworkPolicy, which selects pods by app.kubernetes.io labels, would select
the brokers, and a new chart version would roll them. managed-by is excluded from the copy. The brokers' own
NetworkPolicy is Strimzi's (networkPolicyPeers in kafka.yaml).
*/}}
{{- define "fraud.kafkaLabels" -}}
fraud-platform.io/release: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels of the Strimzi objects that make no pods (topics, the exporter's ConfigMap, the PodMonitor). */}}
{{- define "fraud.kafkaObjectLabels" -}}
{{ include "fraud.kafkaLabels" . }}
{{ include "fraud.chartLabel" . }}
{{- end }}

{{/* Pods that talk to Kafka carry this label; the Kafka listener admits only them (networkPolicyPeers). */}}
{{- define "fraud.kafkaClientLabel" -}}
fraud-platform.io/kafka-client: "true"
{{- end }}

{{- define "fraud.image" -}}
{{- $image := index .root.Values.images .key -}}
{{ $image.repository }}:{{ $image.tag | default .root.Chart.AppVersion }}
{{- end }}

{{- define "fraud.functionsName" -}}{{ include "fraud.fullname" . }}-functions{{- end }}
{{- define "fraud.merchantName" -}}{{ include "fraud.fullname" . }}-merchant-service{{- end }}
{{- define "fraud.simulatorName" -}}{{ include "fraud.fullname" . }}-simulator{{- end }}
{{- define "fraud.statefunName" -}}{{ include "fraud.fullname" . }}-statefun{{- end }}
{{- define "fraud.smokeTestName" -}}{{ include "fraud.fullname" . }}-smoke-test{{- end }}
{{- define "fraud.kafkaName" -}}{{ .Values.kafka.clusterName | default (printf "%s-kafka" (include "fraud.fullname" .)) }}{{- end }}
{{- define "fraud.statefunServiceAccount" -}}{{ .Values.statefun.serviceAccount.name | default (include "fraud.statefunName" .) }}{{- end }}

{{/* The Strimzi node pool: unique per namespace (two releases may each run a Kafka there); Strimzi names its
pods <cluster>-<pool>-<id>. 0.1.0 called it dual-role: kafka.nodePoolName keeps that name for an upgrade in place. */}}
{{- define "fraud.kafkaNodePoolName" -}}{{ .Values.kafka.nodePoolName | default (printf "%s-dual-role" (include "fraud.fullname" .)) }}{{- end }}

{{/* A KafkaTopic object's name: <cluster>-<topic>, unique per namespace; `plain` keeps 0.1.0's bare topic names. */}}
{{- define "fraud.kafkaTopicObjectName" -}}
{{- if eq .root.Values.kafka.topicObjectNames "plain" -}}
{{ .topic }}
{{- else -}}
{{ include "fraud.kafkaName" .root }}-{{ .topic }}
{{- end }}
{{- end }}

{{- define "fraud.functionsEndpoint" -}}
http://{{ include "fraud.functionsName" . }}.{{ .Release.Namespace }}.svc:{{ .Values.functions.port }}/statefun
{{- end }}

{{- define "fraud.merchantUrl" -}}
http://{{ include "fraud.merchantName" . }}.{{ .Release.Namespace }}.svc:{{ .Values.merchantService.port }}
{{- end }}

{{/* Strimzi names the bootstrap Service <cluster>-kafka-bootstrap; the chart's clients use its TLS listener. */}}
{{- define "fraud.kafkaBootstrap" -}}
{{- if .Values.kafka.external.bootstrapServers -}}
{{ .Values.kafka.external.bootstrapServers }}
{{- else -}}
{{ include "fraud.kafkaName" . }}-kafka-bootstrap.{{ .Release.Namespace }}.svc:{{ .Values.kafka.listener.port }}
{{- end }}
{{- end }}

{{/* Hardened container securityContext (Pod Security Standards: restricted). */}}
{{- define "fraud.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Env entries from a map, sorted by name. */}}
{{- define "fraud.envFromMap" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/*
A container's env list from its YAML text (the chart's entries, then <component>.env, then <component>.extraEnv).
A name set twice fails the render: Kubernetes would keep the last and the first would silently not apply.
Call with (dict "env" <text> "values" "<values key>").
*/}}
{{- define "fraud.env" -}}
{{- $entries := fromYamlArray .env -}}
{{- $seen := dict -}}
{{- range $entries }}
{{- if hasKey $seen .name }}
{{- fail (printf "%s: the environment variable %s is set twice (by the chart, %s.env or %s.extraEnv): set it in one place" $.values .name $.values $.values) }}
{{- end }}
{{- $_ := set $seen .name true }}
{{- end }}
{{- toYaml $entries }}
{{- end }}

{{/*
Topology spread over nodes, for workloads that may run more than one replica. `component` (optional) narrows
the selector to one component, so the TaskManagers spread among themselves and not away from the JobManager.
*/}}
{{- define "fraud.topologySpread" -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "fraud.selector" . | nindent 8 }}
        {{- with .component }}
        app.kubernetes.io/component: {{ . }}
        {{- end }}
{{- end }}

{{/*
Where one component's pods may run: its nodeSelector, tolerations, affinity and priorityClassName values
(Kubernetes' own fields, passed through). Call with the component's values; `affinity` may be replaced by
the caller (the Flink pods add the chart's own terms to the user's).
*/}}
{{- define "fraud.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- end }}

{{/* A Python workload's ServiceAccount: <fullname>-<component> when created, else the name given; nothing (the
namespace's default, as chart 0.1.0 ran them) when neither. */}}
{{- define "fraud.serviceAccountName" -}}
{{- $sa := .values.serviceAccount -}}
{{- if $sa.create -}}
{{ $sa.name | default .name }}
{{- else -}}
{{ $sa.name }}
{{- end }}
{{- end }}

{{- define "fraud.serviceAccountField" -}}
{{- with include "fraud.serviceAccountName" . }}
serviceAccountName: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
The module spec: files/module.yaml.tmpl (runtime/conf/module.yaml.tmpl, both written by `make generate`)
with every ${NAME} replaced. Same result as `python -m fraud_dev.module_spec` for the same values
(tests/deploy checks it); a placeholder the chart has no value for fails the render.
*/}}
{{- define "fraud.moduleSpec" -}}
{{- $values := merge (dict "FUNCTIONS_ENDPOINT" (include "fraud.functionsEndpoint" .) "KAFKA_BOOTSTRAP_SERVERS" (include "fraud.kafkaBootstrap" .) "KAFKA_CLIENT_PROPERTIES" (include "fraud.kafkaClientProperties" .)) .Values.statefun.moduleSpec -}}
{{- $spec := .Files.Get "files/module.yaml.tmpl" -}}
{{- range $name, $value := $values }}
{{- $spec = replace (printf "${%s}" $name) (toString $value) $spec }}
{{- end }}
{{- $left := regexFindAll "\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}" $spec -1 }}
{{- if $left }}
{{- fail (printf "module spec placeholders without a value (set statefun.moduleSpec): %s" (join ", " (uniq $left))) }}
{{- end }}
{{- $spec }}
{{- end }}

{{/* Where checkpoints, savepoints and HA metadata go. */}}
{{- define "fraud.storageUri" -}}
{{- $s := .Values.statefun.storage -}}
{{- if eq $s.type "s3" -}}
s3://{{ required "statefun.storage.s3.bucket is required with storage type s3" $s.s3.bucket }}/{{ $s.s3.prefix }}
{{- else -}}
file://{{ $s.mountPath }}
{{- end }}
{{- end }}

{{- define "fraud.statefunClaimName" -}}
{{ .Values.statefun.storage.pvc.existingClaim | default (printf "%s-data" (include "fraud.statefunName" .)) }}
{{- end }}

{{/* The JVM flags of runtime/conf/jvm-options.txt (comments dropped), one line. */}}
{{- define "fraud.jvmOptions" -}}
{{- $flags := list -}}
{{- range splitList "\n" (.Files.Get "files/jvm-options.txt") }}
{{- $line := trim . }}
{{- if and $line (not (hasPrefix "#" $line)) }}
{{- $flags = append $flags $line }}
{{- end }}
{{- end }}
{{- join " " $flags }}
{{- end }}

{{/*
runtime/conf/flink-conf.yaml (files/flink-conf.yaml) read the way Flink 1.16 reads it (GlobalConfiguration):
line by line, everything after '#' dropped, "key: value" split at the first ": ", values kept as text.
Returned as YAML of a string map, so values such as 2.0 are not turned into numbers.
*/}}
{{- define "fraud.flinkConfFile" -}}
{{- $conf := dict -}}
{{- range splitList "\n" (.Files.Get "files/flink-conf.yaml") }}
{{- $line := trim (first (splitList "#" .)) }}
{{- if $line }}
{{- $kv := splitn ": " 2 $line }}
{{- $_ := set $conf (trim $kv._0) (trim (default "" $kv._1)) }}
{{- end }}
{{- end }}
{{- range $key, $value := $conf }}
{{ $key | quote }}: {{ $value | quote }}
{{- end }}
{{- end }}

{{/*
skaffold's file sync (devSync.enabled, set by skaffold only): the container imports the project's packages
from an emptyDir that an init container seeds from the image, and skaffold copies changed files into it,
then restarts the process (a sync hook sends SIGTERM to PID 1; the emptyDir outlives the restart).
The root filesystem stays read-only.
*/}}
{{- define "fraud.devSyncInit" -}}
{{- if .root.Values.devSync.enabled }}
initContainers:
  - name: seed-dev-src
    image: {{ .image }}
    imagePullPolicy: {{ .root.Values.images.pullPolicy }}
    command:
      - /opt/venv/bin/python
      - -c
      - "import importlib, pathlib, shutil, sys; [shutil.copytree(pathlib.Path(importlib.import_module(p).__file__).parent, pathlib.Path(sys.argv[1], p), dirs_exist_ok=True) for p in sys.argv[2:]]"
      - {{ .root.Values.devSync.path }}
      {{- range .packages }}
      - {{ . }}
      {{- end }}
    resources:
      requests: {cpu: 50m, memory: 64Mi}
      limits: {cpu: 500m, memory: 128Mi}
    securityContext:
      {{- include "fraud.containerSecurityContext" . | nindent 6 }}
    volumeMounts:
      - name: dev-src
        mountPath: {{ .root.Values.devSync.path }}
{{- end }}
{{- end }}

{{- define "fraud.devSyncEnv" -}}
{{- if .Values.devSync.enabled }}
- name: PYTHONPATH
  value: {{ .Values.devSync.path }}
{{- end }}
{{- end }}

{{- define "fraud.devSyncMount" -}}
{{- if .Values.devSync.enabled }}
- name: dev-src
  mountPath: {{ .Values.devSync.path }}
{{- end }}
{{- end }}

{{- define "fraud.devSyncVolume" -}}
{{- if .Values.devSync.enabled }}
- name: dev-src
  emptyDir:
    sizeLimit: 64Mi
{{- end }}
{{- end }}
