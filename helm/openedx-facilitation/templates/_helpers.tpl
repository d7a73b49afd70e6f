{{/* Names and labels. */}}
{{- define "facilitation.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "facilitation.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "facilitation.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "facilitation.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: include with (dict "ctx" $ "component" "worker"). */}}
{{- define "facilitation.selectorLabels" -}}
app.kubernetes.io/name: {{ include "facilitation.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "facilitation.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "facilitation.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "facilitation.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Chart-level invariants a JSON schema cannot express. */}}
{{- define "facilitation.validate" -}}
{{- $partitions := int .Values.kafka.topics.partitions -}}
{{- if gt (int .Values.worker.replicas) $partitions -}}
{{- fail (printf "worker.replicas (%d) must not exceed kafka.topics.partitions (%d): extra workers get no partition" (int .Values.worker.replicas) $partitions) -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.maxReplicas) $partitions) -}}
{{- fail (printf "autoscaling.maxReplicas (%d) must not exceed kafka.topics.partitions (%d)" (int .Values.autoscaling.maxReplicas) $partitions) -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" -}}
{{- end -}}
{{- if and .Values.kafka.sasl.mechanism (not .Values.kafka.sasl.existingSecret) -}}
{{- fail "kafka.sasl.mechanism is set: name the Secret holding the password in kafka.sasl.existingSecret" -}}
{{- end -}}
{{- if and .Values.kafka.sasl.mechanism (not (or .Values.kafka.sasl.username .Values.kafka.sasl.usernameKey)) -}}
{{- fail "kafka.sasl.mechanism is set: give kafka.sasl.username or kafka.sasl.usernameKey" -}}
{{- end -}}
{{- if and (or .Values.api.auth.tokensKey .Values.api.auth.serviceTokenKey) (not .Values.api.auth.existingSecret) -}}
{{- fail "api.auth.tokensKey / serviceTokenKey name keys of a Secret: set api.auth.existingSecret" -}}
{{- end -}}
{{- if and .Values.kafka.sasl.mechanism (not (hasPrefix "SASL_" .Values.kafka.securityProtocol)) -}}
{{- fail "kafka.sasl.mechanism needs kafka.securityProtocol SASL_PLAINTEXT or SASL_SSL" -}}
{{- end -}}
{{- end -}}

{{/* Paths inside the containers. */}}
{{- define "facilitation.rulesDir" -}}/etc/facilitation/rules{{- end -}}
{{- define "facilitation.rosterDir" -}}/etc/facilitation/roster{{- end -}}
{{- define "facilitation.kafkaCaDir" -}}/etc/facilitation/kafka-ca{{- end -}}
{{- define "facilitation.tokensDir" -}}/etc/facilitation/tutor-tokens{{- end -}}
{{- define "facilitation.dataDir" -}}/var/lib/facilitation{{- end -}}

{{- define "facilitation.rulesConfigMap" -}}
{{- default (printf "%s-rules" (include "facilitation.fullname" .)) .Values.rules.existingConfigMap -}}
{{- end -}}
{{- define "facilitation.rosterConfigMap" -}}
{{- default (printf "%s-roster" (include "facilitation.fullname" .)) .Values.roster.existingConfigMap -}}
{{- end -}}
{{- define "facilitation.hasRules" -}}
{{- if or .Values.rules.pack .Values.rules.existingConfigMap -}}true{{- end -}}
{{- end -}}
{{- define "facilitation.hasRoster" -}}
{{- if or .Values.roster.content .Values.roster.existingConfigMap -}}true{{- end -}}
{{- end -}}

{{/*
FACILITATION_* settings shared by the worker and the API (names: facilitation_stream/settings.py).
Secrets are referenced with secretKeyRef or mounted; no secret value is ever rendered.
*/}}
{{- define "facilitation.env" -}}
- name: FACILITATION_KAFKA_BOOTSTRAP
  value: {{ .Values.kafka.bootstrap | quote }}
- name: FACILITATION_KAFKA_SECURITY_PROTOCOL
  value: {{ .Values.kafka.securityProtocol | quote }}
{{- with .Values.kafka.sasl }}
{{- if .mechanism }}
- name: FACILITATION_KAFKA_SASL_MECHANISM
  value: {{ .mechanism | quote }}
{{- if .usernameKey }}
- name: FACILITATION_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .usernameKey }}
{{- else }}
- name: FACILITATION_KAFKA_SASL_USERNAME
  value: {{ .username | quote }}
{{- end }}
- name: FACILITATION_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .passwordKey }}
{{- end }}
{{- end }}
{{- if .Values.kafka.tls.caSecret }}
- name: FACILITATION_KAFKA_SSL_CAFILE
  value: {{ printf "%s/%s" (include "facilitation.kafkaCaDir" .) .Values.kafka.tls.caKey | quote }}
{{- end }}
- name: FACILITATION_EVENTS_TOPIC
  value: {{ .Values.kafka.topics.events | quote }}
- name: FACILITATION_ALERTS_TOPIC
  value: {{ .Values.kafka.topics.alerts | quote }}
- name: FACILITATION_DEAD_LETTER_TOPIC
  value: {{ .Values.kafka.topics.deadLetter | quote }}
- name: FACILITATION_TOPIC_PARTITIONS
  value: {{ .Values.kafka.topics.partitions | quote }}
- name: FACILITATION_TOPIC_REPLICATION
  value: {{ .Values.kafka.topics.replication | quote }}
- name: FACILITATION_APP_ID
  value: {{ .Values.kafka.appId | quote }}
{{- $redis := .Values.redis }}
{{- $scheme := ternary "rediss" "redis" $redis.tls }}
{{- if $redis.existingSecret }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $redis.existingSecret }}
      key: {{ $redis.passwordKey }}
- name: FACILITATION_REDIS_URL
  value: {{ printf "%s://:$(REDIS_PASSWORD)@%s:%d/%d" $scheme $redis.host (int $redis.port) (int $redis.db) | quote }}
{{- else }}
- name: FACILITATION_REDIS_URL
  value: {{ printf "%s://%s:%d/%d" $scheme $redis.host (int $redis.port) (int $redis.db) | quote }}
{{- end }}
{{- if include "facilitation.hasRules" . }}
- name: FACILITATION_RULES_PATH
  value: {{ printf "%s/%s" (include "facilitation.rulesDir" .) .Values.rules.packKey | quote }}
{{- end }}
{{- if include "facilitation.hasRoster" . }}
- name: FACILITATION_ROSTER_PATH
  value: {{ printf "%s/%s" (include "facilitation.rosterDir" .) .Values.roster.key | quote }}
{{- end }}
- name: FACILITATION_DEFAULT_TUTOR
  value: {{ .Values.roster.defaultTutor | quote }}
# One metric family per metric: no *_created series.
- name: PROMETHEUS_DISABLE_CREATED_SERIES
  value: "True"
{{- end -}}

{{/* Volumes for the rule pack, the roster and the Kafka CA (mounted whole, not with
subPath, so ConfigMap updates reach the running pods). */}}
{{- define "facilitation.configVolumes" -}}
{{- if include "facilitation.hasRules" . }}
- name: rules
  configMap:
    name: {{ include "facilitation.rulesConfigMap" . }}
{{- end }}
{{- if include "facilitation.hasRoster" . }}
- name: roster
  configMap:
    name: {{ include "facilitation.rosterConfigMap" . }}
{{- end }}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret }}
    items:
      - key: {{ .Values.kafka.tls.caKey }}
        path: {{ .Values.kafka.tls.caKey }}
{{- end }}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "facilitation.configMounts" -}}
{{- if include "facilitation.hasRules" . }}
- name: rules
  mountPath: {{ include "facilitation.rulesDir" . }}
  readOnly: true
{{- end }}
{{- if include "facilitation.hasRoster" . }}
- name: roster
  mountPath: {{ include "facilitation.rosterDir" . }}
  readOnly: true
{{- end }}
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: {{ include "facilitation.kafkaCaDir" . }}
  readOnly: true
{{- end }}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* Roll pods when chart-managed rules or roster change (opt-in: hot reload is the default). */}}
{{- define "facilitation.checksums" -}}
{{- if .Values.rules.rollOnChange }}
checksum/rules: {{ printf "%s|%s" .Values.rules.pack .Values.roster.content | sha256sum }}
{{- end }}
{{- end -}}
