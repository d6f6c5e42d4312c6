{{- define "rp.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rp.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "rp.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "rp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "rp.selector" -}}
app.kubernetes.io/name: {{ include "rp.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "rp.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "rp.secretName" -}}
{{- default (printf "%s-secrets" (include "rp.fullname" .)) .Values.secret.existingSecret -}}
{{- end -}}

{{- define "rp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rp.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Environment shared by the API and the workers: the ConfigMap, the Secret, mTLS file paths. */}}
{{- define "rp.env" -}}
- name: EVENTSTORE_CONNECTION_STRING
  valueFrom:
    secretKeyRef:
      name: {{ include "rp.secretName" . }}
      key: EVENTSTORE_CONNECTION_STRING
- name: ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "rp.secretName" . }}
      key: ADMIN_TOKEN
- name: WEBHOOK_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "rp.secretName" . }}
      key: WEBHOOK_SECRET_KEY
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "rp.secretName" . }}
      key: TEMPORAL_API_KEY
      optional: true
- name: OTEL_SERVICE_NAME
  value: {{ printf "release-pipelines-%s" .component | quote }}
{{- if .Values.temporalTls.secretName }}
{{- if .Values.temporalTls.caKey }}
- name: TEMPORAL_TLS_CA
  value: /etc/temporal-tls/{{ .Values.temporalTls.caKey }}
{{- end }}
- name: TEMPORAL_TLS_CERT
  value: /etc/temporal-tls/{{ .Values.temporalTls.certKey }}
- name: TEMPORAL_TLS_KEY
  value: /etc/temporal-tls/{{ .Values.temporalTls.keyKey }}
{{- end }}
{{- end -}}

{{- define "rp.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "rp.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end -}}
