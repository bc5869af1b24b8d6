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
{{- include "tollgate.admission.check" . -}}
{{- if .Values.admission.enabled -}}
{{- $a := .Values.admission -}}
{{- $actions := dict "denyAt" $a.actions.denyAt "warnAt" $a.actions.warnAt -}}
{{- $rules := deepCopy ($a.actions.rules | default dict) -}}
{{- /* With TLS Secrets in scope a missing one is high, but cert-manager creates it after the Ingress. */ -}}
{{- if and .Values.certificates.enabled (not (hasKey $rules "tls-secret-missing")) (not (hasKey $rules "TG204")) -}}
{{- $_ := set $rules "tls-secret-missing" "warn" -}}
{{- end -}}
{{- with $rules -}}
{{- $_ := set $actions "rules" . -}}
{{- end -}}
{{- $_ := set $serve "admission" (dict
  "enabled" true
  "listen" "0.0.0.0:8443"
  "certFile" (printf "%s/tls.crt" (include "tollgate.admission.certDir" .))
  "keyFile" (printf "%s/tls.key" (include "tollgate.admission.certDir" .))
  "bodyBytes" (int $a.bodyBytes)
  "budgetMillis" (int $a.budgetMillis)
  "actions" $actions
  "webhookName" $a.webhookName) -}}
{{- end -}}
{{- $defaults := dict "serve" $serve "history" $history -}}
{{- toYaml (mustMergeOverwrite $defaults (deepCopy .Values.config)) -}}
{{- end -}}

{{/* Where the webhook's certificate and key are mounted (one projected volume with tollgate.yaml). */}}
{{- define "tollgate.admission.certDir" -}}
/etc/tollgate/admission-tls
{{- end -}}

{{/* The webhook's Service (a ClusterIP of its own; its DNS name is in the certificate). */}}
{{- define "tollgate.admission.serviceName" -}}
{{- printf "%s-admission" (include "tollgate.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The cert-manager Certificate of the webhook's serving certificate. */}}
{{- define "tollgate.admission.certificateName" -}}
{{- printf "%s-admission" (include "tollgate.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The Secret holding the webhook's certificate: cert-manager's, or the one named in values. */}}
{{- define "tollgate.admission.secretName" -}}
{{- if .Values.admission.certManager.enabled -}}
{{- printf "%s-admission-tls" (include "tollgate.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- .Values.admission.tls.secretName -}}
{{- end -}}
{{- end -}}

{{/*
The namespaces whose Ingresses are reviewed, the webhook's and the policies' alike: values'
namespaceSelector, else all but kube-system, Tollgate's own and those labelled
tollgate.io/admission: disabled.
*/}}
{{- define "tollgate.admission.namespaceSelector" -}}
{{- if kindIs "invalid" .Values.admission.namespaceSelector -}}
{{- $excluded := list "kube-system" -}}
{{- if ne .Release.Namespace "kube-system" -}}
{{- $excluded = append $excluded .Release.Namespace -}}
{{- end -}}
{{- toYaml (dict "matchExpressions" (list
  (dict "key" "kubernetes.io/metadata.name" "operator" "NotIn" "values" $excluded)
  (dict "key" "tollgate.io/admission" "operator" "NotIn" "values" (list "disabled")))) -}}
{{- else -}}
{{- toYaml .Values.admission.namespaceSelector -}}
{{- end -}}
{{- end -}}

{{/*
The rules of files/admission-policy.yaml (crates/tollgate-core/src/admission_policy.rs CEL_RULES),
by name and code: .ci/deploy-check fails when this list and the generated file disagree.
*/}}
{{- define "tollgate.admission.celRules" -}}
wildcard-host TG101 empty-host TG102 default-backend-catch-all TG103 ingress-in-default-namespace TG109
{{- end -}}

{{/*
Admission values the chart refuses: a webhook without a certificate or with two, a budget the API
server's timeout cannot wait for, webhook settings in `config` (they belong under `admission:`, where
the chart keeps the webhook configuration and the pods' tollgate.yaml in agreement), and policies
that would judge differently from the webhook.
*/}}
{{- define "tollgate.admission.check" -}}
{{- $a := .Values.admission -}}
{{- $config := .Values.config | default dict -}}
{{- if hasKey ($config.serve | default dict) "admission" -}}
{{- fail "config.serve.admission is set by the chart from admission.* (enabled, listen, certFile, keyFile, webhookName, actions, budgetMillis, bodyBytes): configure the webhook there" -}}
{{- end -}}
{{- if $a.enabled -}}
{{- $certManager := $a.certManager.enabled -}}
{{- $provided := or $a.tls.secretName $a.tls.caBundle -}}
{{- if and $certManager $provided -}}
{{- fail "admission: admission.certManager.enabled and admission.tls are both set: choose one TLS source" -}}
{{- end -}}
{{- if not (or $certManager $provided) -}}
{{- fail "admission.enabled needs a TLS source: admission.certManager.enabled=true (with admission.certManager.issuerRef.name or admission.certManager.selfSigned=true), or admission.tls.secretName with admission.tls.caBundle" -}}
{{- end -}}
{{- if and $provided (not (and $a.tls.secretName $a.tls.caBundle)) -}}
{{- fail "admission.tls.secretName and admission.tls.caBundle go together: the API server needs the CA that signed the Secret's certificate" -}}
{{- end -}}
{{- if and $certManager (not $a.certManager.selfSigned) (not $a.certManager.issuerRef.name) -}}
{{- fail "admission.certManager.enabled needs admission.certManager.issuerRef.name, or admission.certManager.selfSigned=true" -}}
{{- end -}}
{{- if and $certManager $a.certManager.selfSigned $a.certManager.issuerRef.name -}}
{{- fail "admission.certManager.selfSigned and admission.certManager.issuerRef.name: choose one issuer" -}}
{{- end -}}
{{- if gt (add (int $a.budgetMillis) 500) (mul (int $a.timeoutSeconds) 1000) -}}
{{- fail (printf "admission.budgetMillis (%d) must leave 500 ms of admission.timeoutSeconds (%d s): the API server would give up before Tollgate answers" (int $a.budgetMillis) (int $a.timeoutSeconds)) -}}
{{- end -}}
{{- end -}}
{{- if and $a.certManager.selfSigned (not $a.certManager.enabled) -}}
{{- fail "admission.certManager.selfSigned needs admission.certManager.enabled=true" -}}
{{- end -}}
{{- if $a.policy.enabled -}}
{{- if semverCompare "<1.30.0-0" .Capabilities.KubeVersion.Version -}}
{{- fail (printf "admission.policy.enabled needs Kubernetes 1.30 or later (admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy); this cluster is %s" .Capabilities.KubeVersion.Version) -}}
{{- end -}}
{{- $cel := splitList " " (include "tollgate.admission.celRules" .) -}}
{{- $differs := list -}}
{{- if ne (toString $a.actions.denyAt) "high" -}}
{{- $differs = append $differs "admission.actions.denyAt" -}}
{{- end -}}
{{- if ne (toString $a.actions.warnAt) "low" -}}
{{- $differs = append $differs "admission.actions.warnAt" -}}
{{- end -}}
{{- range $rule := keys ($a.actions.rules | default dict) | sortAlpha -}}
{{- if has $rule $cel -}}
{{- $differs = append $differs (printf "admission.actions.rules.%s" $rule) -}}
{{- end -}}
{{- end -}}
{{- range $rule := keys ($config.severity | default dict) | sortAlpha -}}
{{- if has $rule $cel -}}
{{- $differs = append $differs (printf "config.severity.%s" $rule) -}}
{{- end -}}
{{- end -}}
{{- range $key := list "select" "ignore" "strict" -}}
{{- if get $config $key -}}
{{- $differs = append $differs (printf "config.%s" $key) -}}
{{- end -}}
{{- end -}}
{{- with $differs -}}
{{- fail (printf "admission.policy.enabled renders the policies generated for the default rule settings (files/admission-policy.yaml), and %s would make them judge differently from the webhook: leave admission.policy off and apply the output of `tollgate generate admission-policy --config tollgate.yaml` instead" (join ", " .)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The scan interval the config sets, for the alert on scans that stopped succeeding. */}}
{{- define "tollgate.scanIntervalSeconds" -}}
{{- $scan := dig "serve" "scan" "intervalSeconds" 300 (.Values.config | default dict) -}}
{{- max 5 (int $scan) -}}
{{- end -}}
