{{/*
How each component connects to Kafka, and the KafkaUsers it connects as. Nothing secret is ever a value: every
credential is a file of a Secret mounted into the pod that needs it (Strimzi's Secrets for its KafkaUsers and its
cluster CA; yours for an external Kafka), and the runtime's Kafka properties name those files
(docs/security.md). The components are fraud_common.contract.kafka_access's: statefun-runtime, simulator,
smoke-test, keda.
*/}}

{{- define "fraud.kafkaSecretsDir" -}}/etc/fraud/kafka{{- end }}

{{/* The KafkaUser of a component (call with (dict "root" $ "component" "<component>")): <fullname>-<component>. */}}
{{- define "fraud.kafkaUserName" -}}{{ include "fraud.fullname" .root }}-{{ .component }}{{- end }}

{{/* Whether the release has a KafkaUser for a component: the runtime and the smoke test always, the others when on. */}}
{{- define "fraud.kafkaUserWanted" -}}
{{- $v := .root.Values -}}
{{- if eq .component "simulator" -}}{{ ternary "yes" "" $v.simulator.enabled }}
{{- else if eq .component "keda" -}}{{ ternary "yes" "" $v.statefun.autoscaling.keda.enabled }}
{{- else -}}yes
{{- end }}
{{- end }}

{{/*
How a component connects (call with (dict "root" $ "component" "<component>")), as YAML for fromYaml: protocol,
mechanism, user (a name, or a file), the password, CA, certificate and key files, and the Secret volumes holding
the files. Strimzi: its TLS listener with SCRAM-SHA-512 (the user's Secret's `password`) or mutual TLS (its
`user.crt`, `user.key`), trusting the cluster CA. External: kafka.external.security.
*/}}
{{- define "fraud.kafkaClient" -}}
{{- $k := .root.Values.kafka -}}
{{- $dir := include "fraud.kafkaSecretsDir" .root -}}
{{- $client := dict "protocol" "PLAINTEXT" "mechanism" "" "username" "" "usernameFile" "" "passwordFile" "" "caFile" "" "certificateFile" "" "keyFile" "" -}}
{{- $volumes := list -}}
{{- if $k.external.bootstrapServers -}}
{{- $s := $k.external.security -}}
{{- $creds := index $s.credentials .component | default dict -}}
{{- $_ := set $client "protocol" $s.protocol -}}
{{- $userItems := list -}}
{{- if hasPrefix "SASL_" $s.protocol -}}
{{- $secret := required (printf "kafka.external.security.credentials.%s.secretName: %s needs the Secret holding the %s's user and password" .component $s.protocol .component) $creds.secretName -}}
{{- $_ := set $client "mechanism" $s.saslMechanism -}}
{{- $_ := set $client "usernameFile" (printf "%s/user/%s" $dir $creds.usernameKey) -}}
{{- $_ := set $client "passwordFile" (printf "%s/user/%s" $dir $creds.passwordKey) -}}
{{- $userItems = list (dict "key" $creds.usernameKey "path" $creds.usernameKey) (dict "key" $creds.passwordKey "path" $creds.passwordKey) -}}
{{- $volumes = append $volumes (dict "name" "kafka-user" "secret" (dict "secretName" $secret "items" $userItems)) -}}
{{- end -}}
{{- if and (hasSuffix "SSL" $s.protocol) $s.caSecret.name -}}
{{- $_ := set $client "caFile" (printf "%s/ca/%s" $dir $s.caSecret.key) -}}
{{- $volumes = append $volumes (dict "name" "kafka-ca" "secret" (dict "secretName" $s.caSecret.name "items" (list (dict "key" $s.caSecret.key "path" $s.caSecret.key)))) -}}
{{- end -}}
{{- if and (hasSuffix "SSL" $s.protocol) $creds.certificateSecret -}}
{{- $_ := set $client "certificateFile" (printf "%s/certificate/tls.crt" $dir) -}}
{{- $_ := set $client "keyFile" (printf "%s/certificate/tls.key" $dir) -}}
{{- $volumes = append $volumes (dict "name" "kafka-certificate" "secret" (dict "secretName" $creds.certificateSecret "items" (list (dict "key" "tls.crt" "path" "tls.crt") (dict "key" "tls.key" "path" "tls.key")))) -}}
{{- end -}}
{{- else -}}
{{- $user := include "fraud.kafkaUserName" . -}}
{{- if eq $k.listener.authentication "tls" -}}
{{- $_ := set $client "protocol" "SSL" -}}
{{- $_ := set $client "certificateFile" (printf "%s/user/user.crt" $dir) -}}
{{- $_ := set $client "keyFile" (printf "%s/user/user.key" $dir) -}}
{{- $volumes = append $volumes (dict "name" "kafka-user" "secret" (dict "secretName" $user "items" (list (dict "key" "user.crt" "path" "user.crt") (dict "key" "user.key" "path" "user.key")))) -}}
{{- else -}}
{{- $_ := set $client "protocol" "SASL_SSL" -}}
{{- $_ := set $client "mechanism" "SCRAM-SHA-512" -}}
{{- $_ := set $client "username" $user -}}
{{- $_ := set $client "passwordFile" (printf "%s/user/password" $dir) -}}
{{- $volumes = append $volumes (dict "name" "kafka-user" "secret" (dict "secretName" $user "items" (list (dict "key" "password" "path" "password")))) -}}
{{- end -}}
{{- $_ := set $client "caFile" (printf "%s/ca/ca.crt" $dir) -}}
{{- $volumes = append $volumes (dict "name" "kafka-ca" "secret" (dict "secretName" (printf "%s-cluster-ca-cert" (include "fraud.kafkaName" .root)) "items" (list (dict "key" "ca.crt" "path" "ca.crt")))) -}}
{{- end -}}
{{- $_ := set $client "volumes" $volumes -}}
{{ toYaml $client }}
{{- end }}

{{/* The KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_* and KAFKA_SSL_* env entries of a Python component (fraud_common.kafka_security). */}}
{{- define "fraud.kafkaClientEnv" -}}
{{- $c := include "fraud.kafkaClient" . | fromYaml -}}
{{- $env := dict "KAFKA_SECURITY_PROTOCOL" $c.protocol "KAFKA_SASL_MECHANISM" $c.mechanism "KAFKA_SASL_USERNAME" $c.username "KAFKA_SASL_USERNAME_FILE" $c.usernameFile "KAFKA_SASL_PASSWORD_FILE" $c.passwordFile "KAFKA_SSL_CA_FILE" $c.caFile "KAFKA_SSL_CERTIFICATE_FILE" $c.certificateFile "KAFKA_SSL_KEY_FILE" $c.keyFile -}}
{{- range $name := keys $env | sortAlpha }}
{{- with index $env $name }}
- name: {{ $name }}
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* The component's credential volumes (none for PLAINTEXT). */}}
{{- define "fraud.kafkaClientVolumes" -}}
{{- with (include "fraud.kafkaClient" . | fromYaml).volumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Their mounts, read-only, each under fraud.kafkaSecretsDir. */}}
{{- define "fraud.kafkaClientMounts" -}}
{{- $dir := include "fraud.kafkaSecretsDir" .root -}}
{{- range (include "fraud.kafkaClient" . | fromYaml).volumes }}
- name: {{ .name }}
  mountPath: {{ $dir }}/{{ trimPrefix "kafka-" .name }}
  readOnly: true
{{- end }}
{{- end }}

{{/*
The runtime's Kafka client properties (the module spec's KAFKA_CLIENT_PROPERTIES): the same entries, in the same
order and spelling, as fraud_dev.module_spec.client_properties and flow_entries make from the same settings
(tests/deploy checks both agree). Files by reference: Kafka's DirectoryConfigProvider reads them when a client
starts.
*/}}
{{- define "fraud.kafkaClientProperties" -}}
{{- $c := include "fraud.kafkaClient" (dict "root" . "component" "statefun-runtime") | fromYaml -}}
{{- $sasl := hasPrefix "SASL_" $c.protocol -}}
{{- $props := list (dict "security.protocol" $c.protocol) -}}
{{- if or $sasl $c.certificateFile -}}
{{- $props = append $props (dict "config.providers" "dir") -}}
{{- $props = append $props (dict "config.providers.dir.class" "org.apache.kafka.common.config.provider.DirectoryConfigProvider") -}}
{{- end -}}
{{- if $sasl -}}
{{- $module := ternary "org.apache.kafka.common.security.plain.PlainLoginModule" "org.apache.kafka.common.security.scram.ScramLoginModule" (eq $c.mechanism "PLAIN") -}}
{{- $user := $c.username | default (printf "${dir:%s:%s}" (dir $c.usernameFile) (base $c.usernameFile)) -}}
{{- $password := printf "${dir:%s:%s}" (dir $c.passwordFile) (base $c.passwordFile) -}}
{{- $props = append $props (dict "sasl.mechanism" $c.mechanism) -}}
{{- $props = append $props (dict "sasl.jaas.config" (printf "%s required username=\"%s\" password=\"%s\";" $module $user $password)) -}}
{{- end -}}
{{- if $c.caFile -}}
{{- $props = append $props (dict "ssl.truststore.type" "PEM") -}}
{{- $props = append $props (dict "ssl.truststore.location" $c.caFile) -}}
{{- end -}}
{{- if $c.certificateFile -}}
{{- $props = append $props (dict "ssl.keystore.type" "PEM") -}}
{{- $props = append $props (dict "ssl.keystore.certificate.chain" (printf "${dir:%s:%s}" (dir $c.certificateFile) (base $c.certificateFile))) -}}
{{- $props = append $props (dict "ssl.keystore.key" (printf "${dir:%s:%s}" (dir $c.keyFile) (base $c.keyFile))) -}}
{{- end -}}
{{- $entries := list -}}
{{- range $props }}{{ $entries = append $entries (toJson .) }}{{ end -}}
{{- join ", " $entries -}}
{{- end }}
