{{/*
Names, labels and the decisions several templates share (store, replicas, Secrets), in one place so
that the Deployment, the RBAC objects and the NOTES cannot disagree.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "tollgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The object name prefix: the release name alone when it already contains the chart name. */}}
{{- define "tollgate.fullname" -}}
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

{{/* Labels on every object. */}}
{{- define "tollgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "tollgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tollgate
{{- end -}}

{{/* What selects the Tollgate pods (the component keeps the bundled PostgreSQL out). */}}
{{- define "tollgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tollgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{/* What selects the bundled PostgreSQL pod. */}}
{{- define "tollgate.postgresql.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tollgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: database
{{- end -}}

{{- define "tollgate.postgresql.fullname" -}}
{{- printf "%s-postgresql" (include "tollgate.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tollgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tollgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Lease the replicas elect the recording one with. */}}
{{- define "tollgate.leaseName" -}}
{{- printf "%s-leader" (include "tollgate.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "true" when a database several pods can share is configured, else "". */}}
{{- define "tollgate.sharedDatabase" -}}
{{- if and .Values.postgresql.enabled (or .Values.externalDatabase.url .Values.externalDatabase.existingSecret) -}}
{{- fail "postgresql.enabled and externalDatabase are both set: choose one database" -}}
{{- end -}}
{{- if or .Values.postgresql.enabled .Values.externalDatabase.url .Values.externalDatabase.existingSecret -}}
true
{{- end -}}
{{- end -}}

{{/* The replica count: 1 with SQLite, 2 with a shared database, unless set; never >1 on SQLite. */}}
{{- define "tollgate.replicas" -}}
{{- $shared := include "tollgate.sharedDatabase" . -}}
{{- if kindIs "invalid" .Values.replicas -}}
{{- ternary 2 1 (eq $shared "true") -}}
{{- else -}}
{{- $n := int .Values.replicas -}}
{{- if and (gt $n 1) (ne $shared "true") -}}
{{- fail (printf "replicas: %d needs a shared database: SQLite is one file on one volume and cannot be shared by several pods. Set postgresql.enabled=true or externalDatabase, or replicas: 1." $n) -}}
{{- end -}}
{{- $n -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the tokens, whoever creates it. */}}
{{- define "tollgate.tokenSecretName" -}}
{{- default (printf "%s-tokens" (include "tollgate.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{/* "true" when the chart creates the token Secret, else "". */}}
{{- define "tollgate.createTokenSecret" -}}
{{- if not .Values.auth.existingSecret -}}
{{- if or .Values.auth.readToken .Values.auth.intakeToken -}}
{{- if not (and .Values.auth.readToken .Values.auth.intakeToken) -}}
{{- fail "auth.readToken and auth.intakeToken go together: set both, or neither" -}}
{{- end -}}
true
{{- else if .Values.auth.generate -}}
true
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The Secret and key holding the bundled PostgreSQL password. */}}
{{- define "tollgate.postgresql.secretName" -}}
{{- default (include "tollgate.postgresql.fullname" .) .Values.postgresql.existingSecret -}}
{{- end -}}

{{/* The Secret holding an external database's URL. */}}
{{- define "tollgate.externalDatabase.secretName" -}}
{{- default (printf "%s-database" (include "tollgate.fullname" .)) .Values.externalDatabase.existingSecret -}}
{{- end -}}

{{/* The image reference: a digest wins over the tag. */}}
{{- define "tollgate.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (toString (default .appVersion .image.tag)) -}}
{{- end -}}
{{- end -}}

{{/* The controller ConfigMaps grouped by namespace: {"ns": ["name", ...]}. */}}
{{- define "tollgate.controllerConfigMapsByNamespace" -}}
{{- $byNamespace := dict -}}
{{- range .Values.rbac.controllerConfigMaps -}}
{{- $parts := splitList "/" . -}}
{{- if ne (len $parts) 2 -}}
{{- fail (printf "rbac.controllerConfigMaps: %q is not namespace/name" .) -}}
{{- end -}}
{{- $names := get $byNamespace (index $parts 0) | default list -}}
{{- $_ := set $byNamespace (index $parts 0) (append $names (index $parts 1)) -}}
{{- end -}}
{{- toJson $byNamespace -}}
{{- end -}}

{{/*
tollgate.yaml: the chart's defaults with .Values.config merged over them (a deep merge in which the
user's values win and lists replace).
*/}}
{{- define "tollgate.config" -}}
{{- $serve := dict "listen" (printf "0.0.0.0:%d" (int .Values.service.port)) -}}
{{- $_ := set $serve "watch" (dict "lease" (printf "%s/%s" .Release.Namespace (include "tollgate.leaseName" .))) -}}
{{- if .Values.ingress.enabled -}}
{{- $_ := set $serve "publicUrl" (printf "https://%s" .Values.ingress.host) -}}
{{- end -}}
{{- $history := dict -}}
{{- if ne (include "tollgate.sharedDatabase" .) "true" -}}
{{- $_ := set $history "store" "sqlite:///var/lib/tollgate/tollgate.db" -}}
{{- end -}}
{{- if .Values.clusterName -}}
{{- $_ := set $history "cluster" .Values.clusterName -}}
{{- end -}}
{{- if .Values.rbac.controllerConfigMaps -}}
{{- $_ := set $history "configMaps" .Values.rbac.controllerConfigMaps -}}
{{- end -}}
{{- $defaults := dict "serve" $serve "history" $history -}}
{{- toYaml (mustMergeOverwrite $defaults (deepCopy .Values.config)) -}}
{{- end -}}

{{/* The scan interval the config sets, for the alert on scans that stopped succeeding. */}}
{{- define "tollgate.scanIntervalSeconds" -}}
{{- $scan := dig "serve" "scan" "intervalSeconds" 300 (.Values.config | default dict) -}}
{{- max 5 (int $scan) -}}
{{- end -}}
