{{/*
The pod template of one Flink component (jobmanager or taskmanager): the one place both ways of running the
runtime take their pods from (statefun.deployment, docs/adr/0014). Each component gets a whole template of
its own rather than sharing spec.podTemplate: the operator merges the two by list position, not by container
name, unless told otherwise. The container must be named flink-main-container.
With the operator (FlinkDeployment) the operator adds image, arguments, its ports, resources and the Flink
configuration volume; in standalone mode (Deployments of the chart's own) the template carries them itself.
*/}}
{{- define "fraud.flinkPodTemplate" -}}
{{- $root := .root }}
{{- $sf := $root.Values.statefun }}
{{- $ctx := dict "root" $root "name" "statefun-runtime" }}
{{- $standalone := eq $sf.deployment "standalone" }}
{{- $jobManager := eq .component "jobmanager" }}
{{- $ports := include "fraud.flinkPorts" . | fromYaml }}
{{- $rest := $ports.rest }}
{{- $metrics := $ports.metrics }}
metadata:
  annotations:
    # The job reads the module spec ConfigMap when it starts: a new spec must change the pods' template,
    # or nothing restarts the job with it (helm upgrade would change the ConfigMap alone).
    checksum/module-spec: {{ include "fraud.moduleSpec" $root | sha256sum }}
    {{- if $standalone }}
    # Likewise the Flink configuration, which the operator would otherwise watch for us.
    checksum/flink-config: {{ include "fraud.flinkConfiguration" $root | sha256sum }}
    {{- end }}
    {{- with $sf.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  labels:
    {{- include "fraud.podLabels" $ctx | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
    {{- include "fraud.kafkaClientLabel" $root | nindent 4 }}
spec:
  {{- if $standalone }}
  serviceAccountName: {{ include "fraud.statefunServiceAccount" $root | quote }}
  {{- end }}
  # Kubernetes HA reads and writes ConfigMaps through the API server.
  automountServiceAccountToken: true
  securityContext:
    runAsNonRoot: true
    # The flink user of the upstream image (and of the stand-in base, docs/adr/0014).
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
      {{- if $standalone }}
      image: {{ include "fraud.image" (dict "root" $root "key" "statefunRuntime") }}
      imagePullPolicy: {{ $root.Values.images.pullPolicy }}
      # The image's entrypoint contract (the upstream flink image's, and the stand-in base's: docs/adr/0014).
      {{- if $jobManager }}
      # --host: the address Kubernetes HA publishes for the TaskManagers (the leader's own, not the Service's).
      args:
        - standalone-job
        - --host
        - $(POD_IP)
        - --job-classname
        - {{ $sf.entryClass | quote }}
        - --job-id
        - {{ include "fraud.flinkJobId" $root | quote }}
      {{- else }}
      args: [taskmanager]
      {{- end }}
      # As the operator sets them: the requests from statefun.*.resource, the limits those times Flink's
      # kubernetes.<component>.{cpu,memory}.limit-factor (statefun.flinkConfiguration; 1 unset).
      resources:
        {{- $resource := ternary $sf.jobManager.resource $sf.taskManager.resource $jobManager }}
        {{- $cpu := mulf $resource.cpu 1000 }}
        {{- $memory := include "fraud.flinkMemoryMebibytes" $resource.memory | float64 }}
        {{- $cpuFactor := index $sf.flinkConfiguration (printf "kubernetes.%s.cpu.limit-factor" .component) | default 1 | float64 }}
        {{- $memoryFactor := index $sf.flinkConfiguration (printf "kubernetes.%s.memory.limit-factor" .component) | default 1 | float64 }}
        requests:
          cpu: {{ round $cpu 0 | int }}m
          memory: {{ round $memory 0 | int }}Mi
        limits:
          cpu: {{ round (mulf $cpu $cpuFactor) 0 | int }}m
          memory: {{ round (mulf $memory $memoryFactor) 0 | int }}Mi
      {{- end }}
      ports:
        - name: metrics
          containerPort: {{ $metrics }}
        {{- if $standalone }}
        {{- if $jobManager }}
        - {name: rest, containerPort: {{ $rest }}}
        - {name: rpc, containerPort: {{ $ports.jobManagerRpc }}}
        - {name: blob, containerPort: {{ $ports.blob }}}
        {{- else }}
        - {name: rpc, containerPort: {{ $ports.taskManagerRpc }}}
        - {name: data, containerPort: {{ $ports.taskManagerData }}}
        {{- end }}
        {{- end }}
      {{- if $jobManager }}
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
      {{- if $standalone }}
      # Ready while it runs the job: its state in the REST API is RUNNING (not before it is submitted or recovered,
      # nor while it restarts or waits for TaskManagers). The job's id is fixed (fraud.flinkJobId); bash's /dev/tcp
      # asks, as the image has no HTTP client. The operator assigns the id itself, so there the REST API must do.
      readinessProbe:
        exec:
          command:
            - bash
            - -c
            - >-
              exec 3<>/dev/tcp/127.0.0.1/{{ $rest }}
              && printf 'GET /jobs/{{ include "fraud.flinkJobId" $root }} HTTP/1.0\r\n\r\n' >&3
              && grep -q '"state":"RUNNING"' <&3
        periodSeconds: 5
        timeoutSeconds: 5
      {{- else }}
      readinessProbe:
        httpGet: {path: /config, port: {{ $rest }}}
        periodSeconds: 10
        timeoutSeconds: 5
      {{- end }}
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
      {{- if or $standalone (eq $sf.storage.type "s3") }}
      env:
        {{- if $standalone }}
        - name: POD_IP
          valueFrom:
            fieldRef: {fieldPath: status.podIP}
        {{- end }}
        {{- if eq $sf.storage.type "s3" }}
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
        {{- if $standalone }}
        - name: flink-config
          mountPath: /opt/flink/conf
          readOnly: true
        {{- end }}
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
    {{- if $standalone }}
    - name: flink-config
      configMap:
        name: {{ include "fraud.statefunName" $root }}-flink-config
    {{- end }}
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
{{- $current := "" }}
{{- if eq $sf.deployment "standalone" }}
{{- $live := lookup "apps/v1" "Deployment" .Release.Namespace (printf "%s-taskmanager" (include "fraud.statefunName" .)) }}
{{- $current = dig "spec" "replicas" nil $live }}
{{- else }}
{{- $live := lookup "flink.apache.org/v1beta1" "FlinkDeployment" .Release.Namespace (include "fraud.statefunName" .) }}
{{- $current = dig "spec" "taskManager" "replicas" nil $live }}
{{- end }}
{{- if not (kindIs "invalid" $current) }}
{{- $replicas = int $current }}
{{- end }}
{{- end }}
{{- $replicas }}
{{- end }}

{{/* The Flink pods' ports: the operator's defaults, fixed in standalone mode so the Services and probes can name them. */}}
{{- define "fraud.flinkPorts" -}}
rest: 8081
metrics: 9249
jobManagerRpc: 6123
blob: 6124
taskManagerRpc: 6122
taskManagerData: 6121
{{- end }}

{{/*
The job's id in standalone mode: fixed per release (from its name), so the JobManager's readiness probe can ask for
the job, and a JobManager that restarts, or a release installed again under the same name, recovers this job
from the Kubernetes HA ConfigMaps rather than submitting another.
*/}}
{{- define "fraud.flinkJobId" -}}
{{ include "fraud.statefunName" . | sha256sum | trunc 32 }}
{{- end }}

{{/* A Flink memory size of statefun.*.resource (1024m, 2g: mebibytes, gibibytes) in mebibytes. */}}
{{- define "fraud.flinkMemoryMebibytes" -}}
{{ mul (trimSuffix "g" (trimSuffix "m" .) | int) (ternary 1024 1 (hasSuffix "g" .)) }}
{{- end }}

{{/*
The job's Flink configuration, the same in both modes: every key of runtime/conf/flink-conf.yaml (files/flink-conf.yaml)
as it is, plus the keys only a cluster needs, plus statefun.flinkConfiguration. A cluster key may not redefine a file
key, nor a user key either. Standalone mode adds what the operator would otherwise set: the JobManager's address and
fixed ports, the Kubernetes HA cluster id and namespace, the processes' memory. Returned as YAML of a string map.
*/}}
{{- define "fraud.flinkConfiguration" -}}
{{- $sf := .Values.statefun }}
{{- $storage := include "fraud.storageUri" . }}
{{- $fileConf := include "fraud.flinkConfFile" . | fromYaml }}
{{- $clusterConf := dict
      "statefun.remote.module-name" (printf "file://%s/module.yaml" $sf.moduleDir)
      "scheduler-mode" "reactive"
      "taskmanager.numberOfTaskSlots" "1"
      "high-availability" "kubernetes"
      "high-availability.storageDir" (printf "%s/ha" $storage)
      "state.checkpoints.dir" (printf "%s/checkpoints" $storage)
      "state.savepoints.dir" (printf "%s/savepoints" $storage)
      "env.java.opts" (include "fraud.jvmOptions" .) }}
{{- if eq $sf.storage.type "s3" }}
{{- $_ := set $clusterConf "s3.path.style.access" (toString $sf.storage.s3.pathStyleAccess) }}
{{- with $sf.storage.s3.endpoint }}{{ $_ := set $clusterConf "s3.endpoint" . }}{{ end }}
{{- end }}
{{- if eq $sf.deployment "standalone" }}
{{- $ports := include "fraud.flinkPorts" . | fromYaml }}
{{- $_ := set $clusterConf "kubernetes.cluster-id" (include "fraud.statefunName" .) }}
{{- $_ := set $clusterConf "kubernetes.namespace" .Release.Namespace }}
{{- $_ := set $clusterConf "jobmanager.rpc.address" (printf "%s-jobmanager" (include "fraud.statefunName" .)) }}
{{- $_ := set $clusterConf "jobmanager.rpc.port" (toString $ports.jobManagerRpc) }}
{{- /* With HA the JobManager's RPC port is this one (random by default): fixed, for the NetworkPolicy and the Service. */}}
{{- $_ := set $clusterConf "high-availability.jobmanager.port" (toString $ports.jobManagerRpc) }}
{{- $_ := set $clusterConf "blob.server.port" (toString $ports.blob) }}
{{- $_ := set $clusterConf "taskmanager.rpc.port" (toString $ports.taskManagerRpc) }}
{{- $_ := set $clusterConf "taskmanager.data.port" (toString $ports.taskManagerData) }}
{{- $_ := set $clusterConf "jobmanager.memory.process.size" $sf.jobManager.resource.memory }}
{{- $_ := set $clusterConf "taskmanager.memory.process.size" $sf.taskManager.resource.memory }}
{{- end }}
{{- range $key, $_ := $clusterConf }}
{{- if hasKey $fileConf $key }}
{{- fail (printf "runtime/conf/flink-conf.yaml sets %s, which the chart also sets for the cluster" $key) }}
{{- end }}
{{- end }}
{{- range $key, $_ := $sf.flinkConfiguration }}
{{- if or (hasKey $fileConf $key) (hasKey $clusterConf $key) }}
{{- fail (printf "statefun.flinkConfiguration.%s would override a key the platform sets (runtime/conf/flink-conf.yaml or the chart)" $key) }}
{{- end }}
{{- end }}
{{- $user := dict }}
{{- range $key, $value := $sf.flinkConfiguration }}{{ $_ := set $user $key (toString $value) }}{{ end }}
{{- range $key, $value := merge (dict) $fileConf $clusterConf $user }}
{{ $key | quote }}: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* What the TaskManagers' autoscaler (HPA or KEDA) scales: the FlinkDeployment, or the standalone TaskManager Deployment. */}}
{{- define "fraud.taskManagerScaleTarget" -}}
{{- if eq .Values.statefun.deployment "standalone" -}}
apiVersion: apps/v1
kind: Deployment
name: {{ include "fraud.statefunName" . }}-taskmanager
{{- else -}}
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
name: {{ include "fraud.statefunName" . }}
{{- end }}
{{- end }}
