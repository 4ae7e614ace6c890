{{/*
The pod template of one Flink component (jobmanager or taskmanager). Each component gets a whole
template of its own rather than sharing spec.podTemplate: the operator merges the two by list
position, not by container name, unless told otherwise.
The container must be named flink-main-container; the operator adds image, command, ports and resources.
*/}}
{{- define "fraud.flinkPodTemplate" -}}
{{- $root := .root }}
{{- $sf := $root.Values.statefun }}
{{- $ctx := dict "root" $root "name" "statefun-runtime" }}
{{- $rest := 8081 }}
{{- $metrics := 9249 }}
metadata:
  annotations:
    # The job reads the module spec ConfigMap when it starts: a new spec must change the FlinkDeployment,
    # or the operator never restarts the job with it (helm upgrade would change the ConfigMap alone).
    checksum/module-spec: {{ include "fraud.moduleSpec" $root | sha256sum }}
    {{- with $sf.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  labels:
    {{- include "fraud.podLabels" $ctx | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
    {{- include "fraud.kafkaClientLabel" $root | nindent 4 }}
spec:
  # Kubernetes HA reads and writes ConfigMaps through the API server.
  automountServiceAccountToken: true
  securityContext:
    runAsNonRoot: true
    # The flink user of the upstream image.
    runAsUser: 9999
    runAsGroup: 9999
    fsGroup: 9999
    seccompProfile:
      type: RuntimeDefault
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- include "fraud.scheduling" (dict "nodeSelector" $sf.nodeSelector "tolerations" $sf.tolerations "priorityClassName" $sf.priorityClassName "affinity" (include "fraud.flinkAffinity" $root | fromYaml)) | nindent 2 }}
  {{- if not (include "fraud.flinkColocated" $root) }}
  # Shared storage: each component spreads over nodes (a standby JobManager away from the leader).
  {{- include "fraud.topologySpread" (dict "root" $root "name" "statefun-runtime" "component" .component) | nindent 2 }}
  {{- end }}
  containers:
    - name: flink-main-container
      ports:
        - name: metrics
          containerPort: {{ $metrics }}
      {{- if eq .component "jobmanager" }}
      # The REST API (and web UI) answers once the JobManager runs.
      startupProbe:
        httpGet: {path: /config, port: {{ $rest }}}
        periodSeconds: 5
        failureThreshold: 60
      livenessProbe:
        httpGet: {path: /config, port: {{ $rest }}}
        periodSeconds: 15
        timeoutSeconds: 5
        failureThreshold: 4
      readinessProbe:
        httpGet: {path: /config, port: {{ $rest }}}
        periodSeconds: 10
        timeoutSeconds: 5
      {{- else }}
      # The TaskManager has no REST API; its Prometheus reporter answers while the process lives.
      startupProbe:
        httpGet: {path: /metrics, port: {{ $metrics }}}
        periodSeconds: 5
        failureThreshold: 60
      livenessProbe:
        httpGet: {path: /metrics, port: {{ $metrics }}}
        periodSeconds: 15
        timeoutSeconds: 5
        failureThreshold: 4
      readinessProbe:
        httpGet: {path: /metrics, port: {{ $metrics }}}
        periodSeconds: 10
        timeoutSeconds: 5
      {{- end }}
      securityContext:
        {{- include "fraud.containerSecurityContext" $root | nindent 8 }}
      {{- if eq $sf.storage.type "s3" }}
      env:
        - name: AWS_ACCESS_KEY_ID
          valueFrom:
            secretKeyRef:
              name: {{ required "statefun.storage.s3.credentialsSecret.name is required with storage type s3" $sf.storage.s3.credentialsSecret.name }}
              key: {{ $sf.storage.s3.credentialsSecret.accessKeyIdKey }}
        - name: AWS_SECRET_ACCESS_KEY
          valueFrom:
            secretKeyRef:
              name: {{ $sf.storage.s3.credentialsSecret.name }}
              key: {{ $sf.storage.s3.credentialsSecret.secretAccessKeyKey }}
      {{- end }}
      volumeMounts:
        # RocksDB working files, blobs, pid files: the only writable paths besides the storage.
        - name: tmp
          mountPath: /tmp
        - name: flink-log
          mountPath: /opt/flink/log
        - name: module-spec
          mountPath: {{ $sf.moduleDir }}
          readOnly: true
        {{- if eq $sf.storage.type "pvc" }}
        - name: flink-data
          mountPath: {{ $sf.storage.mountPath }}
        {{- end }}
        {{- if eq .component "taskmanager" }}
        # The Kafka credentials, read by the ingresses' and egresses' clients (the module spec names these files).
        {{- include "fraud.kafkaClientMounts" (dict "root" $root "component" "statefun-runtime") | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 2Gi
    - name: flink-log
      emptyDir:
        sizeLimit: 256Mi
    - name: module-spec
      configMap:
        name: {{ include "fraud.statefunName" $root }}-module
    {{- if eq $sf.storage.type "pvc" }}
    - name: flink-data
      persistentVolumeClaim:
        claimName: {{ include "fraud.statefunClaimName" $root }}
    {{- end }}
    {{- if eq .component "taskmanager" }}
    {{- include "fraud.kafkaClientVolumes" (dict "root" $root "component" "statefun-runtime") | nindent 4 }}
    {{- end }}
{{- end }}


{{/*
"true" when every Flink pod of the release must run on one node: the checkpoint claim is ReadWriteOnce, which a
node attaches alone, so a pod on another node would hang in ContainerCreating (Multi-Attach). docs/adr/0011.
*/}}
{{- define "fraud.flinkColocated" -}}
{{- $s := .Values.statefun.storage -}}
{{- if and (eq $s.type "pvc") (not (has "ReadWriteMany" $s.pvc.accessModes)) -}}true{{- end }}
{{- end }}

{{/*
The Flink pods' affinity: statefun.affinity, plus, with ReadWriteOnce storage, a required affinity to the
release's other Flink pods on kubernetes.io/hostname. The first of them goes wherever the scheduler puts it (a pod
whose own labels match its affinity term may start where nothing matches yet); every later one follows it.
*/}}
{{- define "fraud.flinkAffinity" -}}
{{- $affinity := deepCopy .Values.statefun.affinity }}
{{- if include "fraud.flinkColocated" . }}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (fromYaml (include "fraud.selector" (dict "root" . "name" "statefun-runtime")))) }}
{{- $podAffinity := default (dict) $affinity.podAffinity }}
{{- $required := default (list) $podAffinity.requiredDuringSchedulingIgnoredDuringExecution }}
{{- $_ := set $podAffinity "requiredDuringSchedulingIgnoredDuringExecution" (append $required $term) }}
{{- $_ := set $affinity "podAffinity" $podAffinity }}
{{- end }}
{{- toYaml $affinity }}
{{- end }}

{{/*
maxUnavailable of one Flink component's PodDisruptionBudget (`pdb`: statefun.jobManagerPdb or taskManagerPdb).
Unset, it is 1 with shared storage and 100% with co-located pods: their replacements can only start on the node
being drained, so a budget of one at a time would block the drain for good (docs/adr/0011).
*/}}
{{- define "fraud.flinkMaxUnavailable" -}}
{{- $value := .pdb.maxUnavailable }}
{{- if kindIs "invalid" $value }}
{{- $value = ternary "100%" 1 (eq (include "fraud.flinkColocated" .root) "true") }}
{{- end }}
{{- $value | toJson }}
{{- end }}

{{/*
spec.taskManager.replicas. With an autoscaler (HPA or KEDA) the count it set is kept: on `helm upgrade` the chart
renders the live FlinkDeployment's count, so an upgrade neither resets the autoscaler nor restarts the job for it.
statefun.taskManager.replicas is then only the count of a first install (the field must exist: on a FlinkDeployment
without it the scale subresource the autoscaler reads answers `the spec replicas field ".spec.taskManager.replicas"
does not exist`). `helm template` sees no cluster.
*/}}
{{- define "fraud.taskManagerReplicas" -}}
{{- $sf := .Values.statefun }}
{{- $replicas := int $sf.taskManager.replicas }}
{{- if or $sf.autoscaling.hpa.enabled $sf.autoscaling.keda.enabled }}
{{- $live := lookup "flink.apache.org/v1beta1" "FlinkDeployment" .Release.Namespace (include "fraud.statefunName" .) }}
{{- $current := dig "spec" "taskManager" "replicas" nil $live }}
{{- if not (kindIs "invalid" $current) }}
{{- $replicas = int $current }}
{{- end }}
{{- end }}
{{- $replicas }}
{{- end }}
