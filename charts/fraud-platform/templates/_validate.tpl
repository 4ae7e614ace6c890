{{/*
Fail-closed rules: combinations of values that would render valid objects which then hang, break or never get
what they need on a cluster. Each fails `helm template`/`install` with a message that says what to set. Rules
about network policies live with them (_networkpolicy.tpl); the values schema checks each value on its own.
*/}}

{{- define "fraud.validate" -}}
{{- include "fraud.validate.names" . }}
{{- include "fraud.validate.storage" . }}
{{- include "fraud.validate.kafka" . }}
{{- include "fraud.validate.apis" . }}
{{- include "fraud.validate.callTimeout" . }}
{{- include "fraud.validate.models" . }}
{{- end }}

{{/*
The threshold belongs to the model file (docs/adr/0015): ALERT_THRESHOLD in the function server's env would
override every model a team promotes, silently; the one way to override it is the explicit switch.
*/}}
{{- define "fraud.validate.models" -}}
{{- $f := .Values.functions }}
{{- $names := keys $f.env }}
{{- range $f.extraEnv }}{{ $names = append $names .name }}{{ end }}
{{- range $name := list "ALERT_THRESHOLD" "MODEL_PATH" "CHALLENGER_MODEL_PATH" "MODEL_RELOAD_SECONDS" }}
{{- if has $name $names }}
{{- fail (printf "functions.env/extraEnv: %s is the chart's (functions.model: champion, challenger, reloadSeconds; the threshold belongs to the model file, thresholdOverride overrides it explicitly)" $name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Names Kubernetes would refuse: a Service name or a Strimzi pod's hostname past 63 characters. */}}
{{- define "fraud.validate.names" -}}
{{- $fullname := include "fraud.fullname" . }}
{{- if gt (len $fullname) 40 }}
{{- fail (printf "the name prefix %q is %d characters; with the chart's suffixes (-merchant-service, -statefun-rest, -kafka-kafka-bootstrap) names would pass Kubernetes' 63: set fullnameOverride (or a shorter release name) of at most 40" $fullname (len $fullname)) }}
{{- end }}
{{- if and .Values.kafka.create (not .Values.kafka.external.bootstrapServers) }}
{{- $pod := printf "%s-%s-%d" (include "fraud.kafkaName" .) (include "fraud.kafkaNodePoolName" .) (sub (int .Values.kafka.replicas) 1) }}
{{- if gt (len $pod) 63 }}
{{- fail (printf "Strimzi would name the brokers %s (%d characters, more than a hostname's 63): set a shorter kafka.clusterName or kafka.nodePoolName" $pod (len $pod)) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Checkpoint storage against where the Flink pods may run (docs/adr/0011): with ReadWriteOnce they share one node,
so nothing may keep them apart and a drain must be able to move them together.
*/}}
{{- define "fraud.validate.storage" -}}
{{- $sf := .Values.statefun }}
{{- $s := $sf.storage }}
{{- if and .Values.app.enabled (eq $s.type "pvc") }}
{{- if has "ReadWriteOncePod" $s.pvc.accessModes }}
{{- fail "statefun.storage.pvc.accessModes: ReadWriteOncePod lets one pod use the claim, but the JobManager and every TaskManager mount it: use [ReadWriteOnce] (one node), [ReadWriteMany] with a storage class that provides it, or statefun.storage.type=s3" }}
{{- end }}
{{- if and (has "ReadWriteMany" $s.pvc.accessModes) (not $s.pvc.existingClaim) (not $s.pvc.storageClassName) }}
{{- fail "statefun.storage.pvc.accessModes asks for ReadWriteMany from the default storage class, which rarely provides it (the claim would stay Pending): set statefun.storage.pvc.storageClassName to a ReadWriteMany class (NFS, CephFS, EFS, Azure Files, Filestore) or use statefun.storage.type=s3" }}
{{- end }}
{{- if include "fraud.flinkColocated" . }}
{{- with dig "podAntiAffinity" "requiredDuringSchedulingIgnoredDuringExecution" nil $sf.affinity }}
{{- fail "statefun.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution could keep Flink pods on different nodes, but the ReadWriteOnce checkpoint claim makes them share one (a pod elsewhere hangs in ContainerCreating, Multi-Attach): use preferredDuringSchedulingIgnoredDuringExecution, or shared storage (statefun.storage.pvc.accessModes [ReadWriteMany] or statefun.storage.type=s3)" }}
{{- end }}
{{- with dig "podAffinity" "requiredDuringSchedulingIgnoredDuringExecution" nil $sf.affinity }}
{{- fail "statefun.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution beside the chart's own term (the Flink pods of the release on one node, for the ReadWriteOnce checkpoint claim) would leave them Pending: the scheduler looks for one pod that matches every required term, and none does: use preferredDuringSchedulingIgnoredDuringExecution, or shared storage (statefun.storage.pvc.accessModes [ReadWriteMany] or statefun.storage.type=s3)" }}
{{- end }}
{{- range $key := list "jobManagerPdb" "taskManagerPdb" }}
{{- $value := (index $sf $key).maxUnavailable }}
{{- if and (not (kindIs "invalid" $value)) (ne (toString $value) "100%") }}
{{- fail (printf "statefun.%s.maxUnavailable=%v with the ReadWriteOnce checkpoint claim would block a node drain for good (the Flink pods' replacements can only start on the node being drained): leave it unset (the chart uses 100%%) or use shared storage (statefun.storage.pvc.accessModes [ReadWriteMany] or statefun.storage.type=s3)" $key $value) }}
{{- end }}
{{- end }}
{{- end }}
{{- with $s.pvc.existingClaim }}
{{- $claim := lookup "v1" "PersistentVolumeClaim" $.Release.Namespace . }}
{{- if and $claim (not (include "fraud.flinkColocated" $)) (not (has "ReadWriteMany" (dig "spec" "accessModes" (list) $claim))) }}
{{- fail (printf "statefun.storage.pvc.accessModes says ReadWriteMany, but the existing claim %s is %v: the Flink pods would spread over nodes and hang (Multi-Attach); set statefun.storage.pvc.accessModes to the claim's modes" . (dig "spec" "accessModes" (list) $claim)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Kafka: its dashboard needs the brokers' exporter wherever monitoring is on; Strimzi has no nodeSelector. */}}
{{- define "fraud.validate.kafka" -}}
{{- $k := .Values.kafka }}
{{- $strimzi := not $k.external.bootstrapServers }}
{{- if and $strimzi $k.create .Values.monitoring.enabled (not $k.metrics.enabled) }}
{{- fail "monitoring.enabled with kafka.metrics.enabled=false leaves the Kafka dashboard empty: set kafka.metrics.enabled=true (the brokers' JMX exporter)" }}
{{- end }}
{{- if and $k.nodeSelector (dig "nodeAffinity" "requiredDuringSchedulingIgnoredDuringExecution" nil $k.affinity) }}
{{- fail "kafka.nodeSelector and kafka.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution are both set: Strimzi has no nodeSelector, so the chart writes it as that required node affinity; put the node selection in one of them" }}
{{- end }}
{{- end }}

{{/*
The APIs the rendered objects need, checked only when helm asked a cluster what it serves (helm install, upgrade,
template --validate): its API versions then name each kind (v1/ConfigMap), which `helm template` alone never lists.
A missing one fails with what to install, instead of "no matches for kind". Kubernetes' own version is Chart.yaml's
kubeVersion, which helm checks in both cases.
*/}}
{{- define "fraud.validate.apis" -}}
{{- if .Capabilities.APIVersions.Has "v1/ConfigMap" }}
{{- $needed := list }}
{{- if .Values.app.enabled }}
{{- $needed = append $needed (list "flink.apache.org/v1beta1/FlinkDeployment" "the Flink Kubernetes Operator's CRDs (1.12.1, docs/adr/0003)") }}
{{- end }}
{{- if and .Values.kafka.create (not .Values.kafka.external.bootstrapServers) }}
{{- range $kind := list "Kafka" "KafkaNodePool" "KafkaTopic" }}
{{- $needed = append $needed (list (printf "kafka.strimzi.io/v1/%s" $kind) "Strimzi 1.x, which serves kafka.strimzi.io/v1 (1.2.0, docs/adr/0003; 0.4x serves only v1beta2)") }}
{{- end }}
{{- end }}
{{- if and .Values.app.enabled .Values.monitoring.enabled }}
{{- range $kind := list "PodMonitor" "PrometheusRule" }}
{{- $needed = append $needed (list (printf "monitoring.coreos.com/v1/%s" $kind) "the prometheus-operator CRDs (kube-prometheus-stack), or monitoring.enabled=false") }}
{{- end }}
{{- end }}
{{- if and .Values.app.enabled (or .Values.functions.keda.enabled .Values.statefun.autoscaling.keda.enabled) }}
{{- $needed = append $needed (list "keda.sh/v1alpha1/ScaledObject" "KEDA 2.x (2.20.2), or the keda options off") }}
{{- end }}
{{- range $needed }}
{{- if not ($.Capabilities.APIVersions.Has (index . 0)) }}
{{- fail (printf "this cluster does not serve %s: install %s first (docs/kubernetes.md)" (index . 0) (index . 1)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The runtime's call timeout against the merchant lookup's worst case: the merchant function tries merchant-service
MERCHANT_MAX_ATTEMPTS times for MERCHANT_TIMEOUT_SECONDS each, backing off exponentially from
MERCHANT_BACKOFF_SECONDS (each backoff capped at MERCHANT_BACKOFF_MAX_SECONDS) in between
(FunctionSettings.merchant_worst_case_seconds). A runtime that gives up first fails a call the function is still
correctly retrying, sends it again, and past its budget restarts the job. The settings' defaults are
files/merchant-lookup.yaml (generated from the functions' settings), overlaid with functions.env and extraEnv.
*/}}
{{- define "fraud.validate.callTimeout" -}}
{{- if .Values.app.enabled }}
{{- $s := .Files.Get "files/merchant-lookup.yaml" | fromYaml }}
{{- range $name, $value := .Values.functions.env }}{{ if hasKey $s $name }}{{ $_ := set $s $name $value }}{{ end }}{{ end }}
{{- range .Values.functions.extraEnv }}{{ if and (hasKey $s .name) (hasKey . "value") }}{{ $_ := set $s .name .value }}{{ end }}{{ end }}
{{- $attempts := int $s.MERCHANT_MAX_ATTEMPTS }}
{{- $worst := mulf $attempts (float64 $s.MERCHANT_TIMEOUT_SECONDS) }}
{{- $backoff := float64 $s.MERCHANT_BACKOFF_SECONDS }}
{{- range until (sub $attempts 1 | int) }}
{{- $worst = addf $worst (minf $backoff (float64 $s.MERCHANT_BACKOFF_MAX_SECONDS)) }}
{{- $backoff = mulf $backoff 2 }}
{{- end }}
{{- $call := toString .Values.statefun.moduleSpec.STATEFUN_CALL_TIMEOUT | trim }}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $call }}
{{- $unit := trimPrefix $number $call | trim }}
{{- $units := dict "" 0.001 "ms" 0.001 "milli" 0.001 "millis" 0.001 "millisecond" 0.001 "milliseconds" 0.001 "s" 1 "sec" 1 "secs" 1 "second" 1 "seconds" 1 "m" 60 "min" 60 "minute" 60 "minutes" 60 "h" 3600 "hour" 3600 "hours" 3600 }}
{{- if or (not $number) (not (hasKey $units $unit)) }}
{{- fail (printf "statefun.moduleSpec.STATEFUN_CALL_TIMEOUT=%q is not a duration the runtime reads: write a number and ms, s, min or h (for example 1min)" $call) }}
{{- end }}
{{- $seconds := mulf (float64 $number) (index $units $unit) }}
{{- if le $seconds $worst }}
{{- fail (printf "statefun.moduleSpec.STATEFUN_CALL_TIMEOUT=%s (%gs) does not exceed the merchant lookup's worst case of %gs (MERCHANT_MAX_ATTEMPTS=%v attempts of MERCHANT_TIMEOUT_SECONDS=%v, backoffs from MERCHANT_BACKOFF_SECONDS=%v capped at MERCHANT_BACKOFF_MAX_SECONDS=%v): the runtime would give up on calls the merchant function is still retrying; set statefun.moduleSpec.STATEFUN_CALL_TIMEOUT above %gs, or lower those settings in functions.env" $call $seconds $worst $s.MERCHANT_MAX_ATTEMPTS $s.MERCHANT_TIMEOUT_SECONDS $s.MERCHANT_BACKOFF_SECONDS $s.MERCHANT_BACKOFF_MAX_SECONDS $worst) }}
{{- end }}
{{- end }}
{{- end }}
