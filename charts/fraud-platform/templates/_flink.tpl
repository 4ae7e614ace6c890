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
  labels:
    {{- include "fraud.labels" $ctx | nindent 4 }}
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
  {{- if eq .component "taskmanager" }}
  {{- include "fraud.topologySpread" (dict "root" $root "name" "statefun-runtime") | nindent 2 }}
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
