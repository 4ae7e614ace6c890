{{/* Names, labels and the computed addresses every template shares. */}}

{{- define "fraud.labels" -}}
app.kubernetes.io/part-of: fraud-platform
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- end }}

{{- define "fraud.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .name }}
{{- end }}

{{/*
Labels of the Strimzi resources. Not the app.kubernetes.io set: Strimzi copies a custom resource's labels to
the pods it makes, and the release's default-deny NetworkPolicy selects pods by that set; the brokers'
own NetworkPolicy is Strimzi's (networkPolicyPeers in kafka.yaml).
*/}}
{{- define "fraud.kafkaLabels" -}}
fraud-platform.io/release: {{ .Release.Name }}
{{- end }}

{{/* Pods that talk to Kafka carry this label; the Kafka listener admits only them (networkPolicyPeers). */}}
{{- define "fraud.kafkaClientLabel" -}}
fraud-platform.io/kafka-client: "true"
{{- end }}

{{- define "fraud.image" -}}
{{- $image := index .root.Values.images .key -}}
{{ $image.repository }}:{{ $image.tag | default .root.Chart.AppVersion }}
{{- end }}

{{- define "fraud.functionsName" -}}{{ .Release.Name }}-functions{{- end }}
{{- define "fraud.merchantName" -}}{{ .Release.Name }}-merchant-service{{- end }}
{{- define "fraud.simulatorName" -}}{{ .Release.Name }}-simulator{{- end }}
{{- define "fraud.statefunName" -}}{{ .Release.Name }}-statefun{{- end }}
{{- define "fraud.kafkaName" -}}{{ .Values.kafka.clusterName | default (printf "%s-kafka" .Release.Name) }}{{- end }}
{{- define "fraud.statefunServiceAccount" -}}{{ .Values.statefun.serviceAccount.name | default (include "fraud.statefunName" .) }}{{- end }}

{{- define "fraud.functionsEndpoint" -}}
http://{{ include "fraud.functionsName" . }}.{{ .Release.Namespace }}.svc:{{ .Values.functions.port }}/statefun
{{- end }}

{{- define "fraud.merchantUrl" -}}
http://{{ include "fraud.merchantName" . }}.{{ .Release.Namespace }}.svc:{{ .Values.merchantService.port }}
{{- end }}

{{/* Strimzi names the bootstrap Service <cluster>-kafka-bootstrap. */}}
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

{{/* Topology spread over nodes, for workloads that may run more than one replica. */}}
{{- define "fraud.topologySpread" -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "fraud.selector" . | nindent 8 }}
{{- end }}

{{/*
The module spec: files/module.yaml.tmpl (runtime/conf/module.yaml.tmpl, both written by `make generate`)
with every ${NAME} replaced. Same result as `python -m fraud_dev.module_spec` for the same values
(tests/deploy checks it); a placeholder the chart has no value for fails the render.
*/}}
{{- define "fraud.moduleSpec" -}}
{{- $values := merge (dict "FUNCTIONS_ENDPOINT" (include "fraud.functionsEndpoint" .) "KAFKA_BOOTSTRAP_SERVERS" (include "fraud.kafkaBootstrap" .)) .Values.statefun.moduleSpec -}}
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
