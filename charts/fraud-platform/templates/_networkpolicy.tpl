{{/* Building blocks of networkpolicies.yaml. */}}
{{- define "fraud.np.pods" -}}
podSelector:
  matchLabels:
    app.kubernetes.io/instance: {{ .root.Release.Name }}
    app.kubernetes.io/name: {{ .name }}
{{- end }}
{{- define "fraud.np.kafkaEgress" -}}
{{- if not .Values.kafka.external.bootstrapServers }}
- to:
    - podSelector:
        matchLabels:
          strimzi.io/cluster: {{ include "fraud.kafkaName" . }}
          strimzi.io/kind: Kafka
  ports:
    - {port: {{ .Values.kafka.listener.port }}, protocol: TCP}
{{- else }}
- to:
    {{- range .Values.kafka.external.cidrs }}
    - ipBlock: {cidr: {{ . }}}
    {{- end }}
{{- end }}
{{- end }}
{{- define "fraud.np.prometheus" -}}
- from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.prometheusNamespace }}
  ports:
    - {port: {{ .port }}, protocol: TCP}
{{- end }}
