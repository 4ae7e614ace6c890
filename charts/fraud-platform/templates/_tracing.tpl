{{/* Tracing (tracing.enabled): the OpenTelemetry Collector and Jaeger of tracing.yaml, and the OTEL_* environment
of the Python workloads, which export OTLP/HTTP to the collector (docs/observability.md). */}}
{{- define "fraud.collectorName" -}}{{ include "fraud.fullname" . }}-otel-collector{{- end }}
{{- define "fraud.jaegerName" -}}{{ include "fraud.fullname" . }}-jaeger{{- end }}

{{/* The standard OTEL_* variables of one Python workload; nothing when tracing is off (the services then
set up no tracer at all). Call with (dict "root" . "service" "<service.name>"). */}}
{{- define "fraud.otelEnv" -}}
{{- if .root.Values.tracing.enabled }}
- name: OTEL_SERVICE_NAME
  value: {{ .service | quote }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: "http://{{ include "fraud.collectorName" .root }}.{{ .root.Release.Namespace }}.svc:{{ .root.Values.tracing.collector.otlpHttpPort }}"
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: http/protobuf
- name: OTEL_TRACES_SAMPLER
  value: parentbased_traceidratio
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ .root.Values.tracing.samplingRatio | toString | quote }}
{{- end }}
{{- end }}
