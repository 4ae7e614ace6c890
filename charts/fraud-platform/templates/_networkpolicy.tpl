{{/* Building blocks of the NetworkPolicies (networkpolicies.yaml, tracing.yaml) and Strimzi's listener peers. */}}

{{/* The release's pods of one component: (dict "root" . "name" component). */}}
{{- define "fraud.np.pods" -}}
podSelector:
  matchLabels:
    {{- include "fraud.selector" . | nindent 4 }}
{{- end }}

{{/* Non-empty when a {namespaceSelector, podSelector} value selects anybody (both empty: nobody). */}}
{{- define "fraud.np.selects" -}}
{{- if or .namespaceSelector .podSelector }}yes{{ end }}
{{- end }}

{{/* A peer of a {namespaceSelector, podSelector} value: an empty namespaceSelector selects every namespace,
     a missing podSelector every pod of them. */}}
{{- define "fraud.np.peer" -}}
{{- if .namespaceSelector -}}
- namespaceSelector:
    matchLabels:
      {{- toYaml .namespaceSelector | nindent 6 }}
{{- else -}}
- namespaceSelector: {}
{{- end }}
{{- with .podSelector }}
  podSelector:
    matchLabels:
      {{- toYaml . | nindent 6 }}
{{- end }}
{{- end }}

{{/* An ingress rule from a {namespaceSelector, podSelector} value to TCP ports, empty when it selects nobody:
     (dict "from" value "ports" list). Callers indent it only when there is one: `with include ...`. */}}
{{- define "fraud.np.ingressFrom" -}}
{{- if include "fraud.np.selects" .from -}}
- from:
    {{- include "fraud.np.peer" .from | nindent 4 }}
  ports:
    {{- range .ports }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
{{- end }}
{{- end }}

{{/* Prometheus scrapes a metrics port: (dict "Values" .Values "port" port). */}}
{{- define "fraud.np.prometheus" -}}
{{- include "fraud.np.ingressFrom" (dict "from" .Values.networkPolicy.prometheus "ports" (list .port)) }}
{{- end }}

{{/* The ports an external Kafka's brokers answer on: kafka.external.ports, else those of bootstrapServers. */}}
{{- define "fraud.np.externalKafkaPorts" -}}
{{- $ports := .Values.kafka.external.ports }}
{{- if not $ports }}
{{- range splitList "," .Values.kafka.external.bootstrapServers }}
{{- $port := regexFind "[0-9]+$" (trim .) }}
{{- if not (regexMatch ":[0-9]+$" (trim .)) }}
{{- fail (printf "kafka.external.bootstrapServers: %q has no port; set kafka.external.ports to the brokers' ports" (trim .)) }}
{{- end }}
{{- $ports = append $ports (int $port) }}
{{- end }}
{{- end }}
{{- toJson (uniq $ports) }}
{{- end }}

{{/* Egress of a Kafka client: to the Strimzi brokers on the listener's port, or to the external Kafka. */}}
{{- define "fraud.np.kafkaEgress" -}}
{{- if not .Values.kafka.external.bootstrapServers -}}
- to:
    - podSelector:
        matchLabels:
          strimzi.io/cluster: {{ include "fraud.kafkaName" . }}
          strimzi.io/kind: Kafka
  ports:
    - {port: {{ .Values.kafka.listener.port }}, protocol: TCP}
{{- else -}}
- to:
    {{- range .Values.kafka.external.cidrs }}
    - ipBlock: {cidr: {{ . }}}
    {{- end }}
  ports:
    {{- range include "fraud.np.externalKafkaPorts" . | fromJsonArray }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
{{- end }}
{{- end }}

{{/* An egress rule to CIDRs on TCP ports: (dict "cidrs" list "ports" list). */}}
{{- define "fraud.np.egressTo" -}}
- to:
    {{- range .cidrs }}
    - ipBlock: {cidr: {{ . }}}
    {{- end }}
  ports:
    {{- range .ports }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
{{- end }}

{{/* Non-empty when a NetworkPolicyPeer selects every address or every pod (its selectors all empty). */}}
{{- define "fraud.np.openPeer" -}}
{{- if .ipBlock }}
{{- if hasSuffix "/0" .ipBlock.cidr }}yes{{ end }}
{{- else }}
{{- $selective := false }}
{{- range $key := list "namespaceSelector" "podSelector" }}
{{- with get $ $key }}{{ if or .matchLabels .matchExpressions }}{{ $selective = true }}{{ end }}{{ end }}
{{- end }}
{{- if not $selective }}yes{{ end }}
{{- end }}
{{- end }}

{{/*
Fail-closed: values that would render a policy open to every address or pod, or one that breaks the pipeline,
fail the render with what to set. (An egress rule without peers allows every destination.)
*/}}
{{- define "fraud.np.validate" -}}
{{- $np := .Values.networkPolicy }}
{{- $off := "or networkPolicy.enabled=false where the CNI enforces no NetworkPolicy" }}
{{- if and .Values.kafka.external.bootstrapServers (not .Values.kafka.external.cidrs) }}
{{- fail (printf "networkPolicy: kafka.external.cidrs is empty, so the Kafka clients' egress would be open to every address: set kafka.external.cidrs to the addresses of the brokers of %s (%s)" .Values.kafka.external.bootstrapServers $off) }}
{{- end }}
{{- if not (or (include "fraud.np.selects" $np.dns) $np.dns.cidrs) }}
{{- fail "networkPolicy.dns selects nothing, so no pod could resolve a name: set networkPolicy.dns.namespaceSelector/podSelector to the cluster DNS pods or networkPolicy.dns.cidrs to its addresses (NodeLocal DNSCache: its link-local address and the kube-dns Service IP)" }}
{{- end }}
{{- if and (eq $np.kubeApiServer.mode "cidrs") (not $np.kubeApiServer.cidrs) }}
{{- fail "networkPolicy.kubeApiServer.mode is cidrs but networkPolicy.kubeApiServer.cidrs is empty, so the Flink pods' egress would be open to every address: set the API server's addresses (kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes) or mode ports" }}
{{- end }}
{{- if and (eq .Values.statefun.storage.type "s3") (not $np.objectStorage.cidrs) }}
{{- fail "networkPolicy.objectStorage.cidrs is empty with statefun.storage.type s3, so the Flink pods' egress would be open to every address: set the object store's addresses (0.0.0.0/0 for any)" }}
{{- end }}
{{- if not (include "fraud.np.selects" $np.flinkOperator) }}
{{- fail "networkPolicy.flinkOperator selects nobody, so the Flink Kubernetes Operator could not reach the JobManager's REST API: set its namespaceSelector/podSelector to the operator's pods" }}
{{- end }}
{{- if and .Values.monitoring.enabled (not (include "fraud.np.selects" $np.prometheus)) }}
{{- fail "monitoring.enabled with networkPolicy.prometheus selecting nobody: every scrape would be refused; set networkPolicy.prometheus to your Prometheus pods" }}
{{- end }}
{{- if and .Values.monitoring.enabled .Values.tracing.enabled (not (include "fraud.np.selects" $np.grafana)) }}
{{- fail "monitoring.enabled and tracing.enabled with networkPolicy.grafana selecting nobody: Grafana's Jaeger datasource would be refused; set networkPolicy.grafana to your Grafana pods" }}
{{- end }}
{{- if and (not .Values.kafka.external.bootstrapServers) .Values.statefun.autoscaling.keda.enabled (not (include "fraud.np.selects" $np.keda)) }}
{{- fail "statefun.autoscaling.keda.enabled with networkPolicy.keda selecting nobody: KEDA could not read the consumer lag from the Strimzi listener; set networkPolicy.keda to KEDA's operator pods" }}
{{- end }}
{{- range $np.extraRuntimePeers }}
{{- if include "fraud.np.openPeer" . }}
{{- fail (printf "networkPolicy.extraRuntimePeers: %s selects every address or every pod, which would let anything call the functions: name the runtime's pods or addresses" (toJson .)) }}
{{- end }}
{{- end }}
{{- end }}
