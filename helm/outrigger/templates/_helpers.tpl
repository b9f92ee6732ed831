{{/*
Names and labels.
*/}}
{{- define "outrigger.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "outrigger.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "outrigger.selectorLabels" -}}
app.kubernetes.io/name: {{ include "outrigger.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "outrigger.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "outrigger.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: load-balancer
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "outrigger.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "outrigger.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An env value as Kubernetes wants it: a string. YAML numbers arrive as float64 (30000 would print
as 3e+04), so whole numbers go through int64; lists (BACKENDS) are joined with commas.
*/}}
{{- define "outrigger.envValue" -}}
{{- if kindIs "float64" . }}{{ int64 . }}
{{- else if kindIs "slice" . }}{{ join "," . }}
{{- else }}{{ toString . }}
{{- end }}
{{- end }}

{{/* Milliseconds in a config key, as an integer (0 when unset). */}}
{{- define "outrigger.ms" -}}
{{- $v := index .config .key }}{{ if kindIs "invalid" $v }}0{{ else }}{{ int64 $v }}{{ end }}
{{- end }}

{{/*
terminationGracePeriodSeconds = preStop sleep + ceil((SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS)/1000)
+ extraGraceSeconds, or shutdown.terminationGracePeriodSeconds if set (never less). Takes the
outrigger values (.Values of this chart, or a parent's .Values.outrigger).
*/}}
{{- define "outrigger.terminationGracePeriodSeconds" -}}
{{- $delay := include "outrigger.ms" (dict "config" .config "key" "SHUTDOWN_DELAY_MS") | int64 }}
{{- $drain := include "outrigger.ms" (dict "config" .config "key" "DRAIN_TIMEOUT_MS") | int64 }}
{{- $derived := add (int64 .shutdown.preStopSleepSeconds) (div (add $delay $drain 999) 1000) (int64 .shutdown.extraGraceSeconds) }}
{{- $explicit := .shutdown.terminationGracePeriodSeconds }}
{{- if kindIs "invalid" $explicit }}{{ $derived }}
{{- else if lt (int64 $explicit) $derived }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds=%d is shorter than preStop + SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS + extraGraceSeconds = %d s: the kubelet would kill Outrigger mid-drain" (int64 $explicit) $derived) }}
{{- else }}{{ int64 $explicit }}
{{- end }}
{{- end }}

{{/*
Seconds an app container behind an ingress sidecar should sleep in its preStop hook so that it
keeps serving until Outrigger has finished: ceil((SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS)/1000) plus
Outrigger's own preStop sleep. Takes the outrigger values.
*/}}
{{- define "outrigger.appPreStopSleepSeconds" -}}
{{- $delay := include "outrigger.ms" (dict "config" .config "key" "SHUTDOWN_DELAY_MS") | int64 }}
{{- $drain := include "outrigger.ms" (dict "config" .config "key" "DRAIN_TIMEOUT_MS") | int64 }}
{{- add (int64 .shutdown.preStopSleepSeconds) (div (add $delay $drain 999) 1000) }}
{{- end }}

{{- define "outrigger.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (required "image.tag is required" (toString .image.tag)) }}
{{- end }}
{{- end }}

{{/*
The Outrigger container, as one list item. Arguments (a dict):
  values         the outrigger values (required)
  name           container name (default "outrigger")
  native         true: a native sidecar (put it under initContainers; adds restartPolicy: Always)
  portPrefix     prefix for the container port names, for two Outriggers in one pod (default "")
  configMapName  the ConfigMap holding CONFIG_FILE (standalone chart; sidecar users mount their own)
  secretName     the Secret holding ADMIN_TOKEN when adminToken.value is used (standalone chart)
*/}}
{{- define "outrigger.container" -}}
{{- $v := .values }}
{{- $c := $v.config }}
{{- $prefix := .portPrefix | default "" }}
{{- $adminPort := int64 (index $c "ADMIN_PORT" | default 9901) -}}
- name: {{ .name | default "outrigger" }}
  image: {{ include "outrigger.image" $v | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  {{- if .native }}
  restartPolicy: Always
  {{- end }}
  ports:
    - name: {{ printf "%straffic" $prefix | trunc 15 }}
      containerPort: {{ int64 (index $c "PROXY_PORT" | default 8080) }}
      protocol: TCP
    - name: {{ printf "%sadmin" $prefix | trunc 15 }}
      containerPort: {{ $adminPort }}
      protocol: TCP
  env:
    {{- range $key, $value := $c }}
    {{- if and (not (kindIs "invalid" $value)) (ne (include "outrigger.envValue" $value) "") }}
    {{- if and (eq $key "CONFIG_FILE") $v.configFile.enabled }}
    {{- fail "set either configFile.enabled or config.CONFIG_FILE, not both" }}
    {{- end }}
    - name: {{ $key }}
      value: {{ include "outrigger.envValue" $value | quote }}
    {{- end }}
    {{- end }}
    {{- if $v.configFile.enabled }}
    - name: CONFIG_FILE
      value: {{ printf "%s/config.json" (trimSuffix "/" $v.configFile.mountPath) | quote }}
    {{- end }}
    {{- if $v.tls.existingSecret }}
    {{- if or (index $c "TLS_CERT_FILE") (index $c "TLS_KEY_FILE") (index $c "TLS_CLIENT_CA_FILE") }}
    {{- fail "set either tls.existingSecret or config.TLS_CERT_FILE/TLS_KEY_FILE/TLS_CLIENT_CA_FILE, not both" }}
    {{- end }}
    {{- $dir := trimSuffix "/" $v.tls.mountPath }}
    - name: TLS_CERT_FILE
      value: {{ printf "%s/%s" $dir $v.tls.certKey | quote }}
    - name: TLS_KEY_FILE
      value: {{ printf "%s/%s" $dir $v.tls.keyKey | quote }}
    {{- if $v.tls.requireClientCert }}
    - name: TLS_CLIENT_CA_FILE
      value: {{ printf "%s/%s" $dir $v.tls.caKey | quote }}
    {{- end }}
    {{- end }}
    {{- if $v.adminToken.existingSecret }}
    - name: ADMIN_TOKEN
      valueFrom:
        secretKeyRef:
          name: {{ $v.adminToken.existingSecret }}
          key: {{ $v.adminToken.existingSecretKey }}
    {{- else if and $v.adminToken.value .secretName }}
    - name: ADMIN_TOKEN
      valueFrom:
        secretKeyRef:
          name: {{ .secretName }}
          key: token
    {{- end }}
    {{- with $v.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  # A native sidecar starts on /readyz: it holds the app's start until Outrigger can route (keep
  # READY_MIN_HEALTHY_BACKENDS at 0 there). Anywhere else /healthz: a restart cannot bring a backend back.
  startupProbe:
    httpGet:
      path: {{ if .native }}/readyz{{ else }}/healthz{{ end }}
      port: {{ $adminPort }}
    periodSeconds: {{ $v.probes.startup.periodSeconds }}
    timeoutSeconds: {{ $v.probes.startup.timeoutSeconds }}
    failureThreshold: {{ $v.probes.startup.failureThreshold }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: {{ $adminPort }}
    periodSeconds: {{ $v.probes.readiness.periodSeconds }}
    timeoutSeconds: {{ $v.probes.readiness.timeoutSeconds }}
    failureThreshold: {{ $v.probes.readiness.failureThreshold }}
    successThreshold: {{ $v.probes.readiness.successThreshold }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: {{ $adminPort }}
    periodSeconds: {{ $v.probes.liveness.periodSeconds }}
    timeoutSeconds: {{ $v.probes.liveness.timeoutSeconds }}
    failureThreshold: {{ $v.probes.liveness.failureThreshold }}
  {{- if gt (int64 $v.shutdown.preStopSleepSeconds) 0 }}
  lifecycle:
    preStop:
      sleep:
        seconds: {{ int64 $v.shutdown.preStopSleepSeconds }}
  {{- end }}
  {{- with $v.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  {{- if or (and $v.configFile.enabled .configMapName) $v.extraVolumeMounts $v.tls.existingSecret }}
  volumeMounts:
    {{- if and $v.configFile.enabled .configMapName }}
    - name: outrigger-config
      mountPath: {{ $v.configFile.mountPath }}
      readOnly: true
    {{- end }}
    {{- if $v.tls.existingSecret }}
    # A directory, not subPath: the kubelet's updates (certificate renewals) must reach the files.
    - name: outrigger-tls
      mountPath: {{ $v.tls.mountPath }}
      readOnly: true
    {{- end }}
    {{- with $v.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
{{- end }}

{{/*
Outrigger as a sidecar in another chart's pod template. Usage, with outrigger as a dependency:

  initContainers:   # native sidecar: starts first, stops last (egress)
    {{- include "outrigger.sidecar" (dict "values" .Values.outrigger "native" true) | nindent 8 }}
  containers:       # regular container (ingress, in front of the app)
    {{- include "outrigger.sidecar" (dict "values" .Values.outrigger) | nindent 8 }}

Same arguments as outrigger.container, except that CONFIG_FILE must be mounted by the caller
(config.CONFIG_FILE plus extraVolumeMounts) and ADMIN_TOKEN must come from adminToken.existingSecret.
Add terminationGracePeriodSeconds from outrigger.terminationGracePeriodSeconds to the pod, and with
tls.existingSecret the Secret's volume: volumes: {{- include "outrigger.tlsVolume" .Values.outrigger | nindent 8 }}.
*/}}
{{- define "outrigger.sidecar" -}}
{{- if .values.configFile.enabled }}
{{- fail "outrigger.sidecar: configFile.enabled needs this chart's ConfigMap; mount your own and set config.CONFIG_FILE" }}
{{- end }}
{{- if and .values.adminToken.value (not .values.adminToken.existingSecret) }}
{{- fail "outrigger.sidecar: use adminToken.existingSecret (the sidecar template renders no Secret)" }}
{{- end }}
{{- include "outrigger.container" (omit . "configMapName" "secretName") }}
{{- end }}

{{/* The volume of tls.existingSecret, as one list item (nothing without it). Takes the outrigger values. */}}
{{- define "outrigger.tlsVolume" -}}
{{- if .tls.existingSecret -}}
- name: outrigger-tls
  secret:
    secretName: {{ .tls.existingSecret }}
{{- end }}
{{- end }}

{{/* True (non-empty) when the traffic port speaks TLS: tls.existingSecret or config.TLS_CERT_FILE. */}}
{{- define "outrigger.tlsOn" -}}
{{- if or .tls.existingSecret (index .config "TLS_CERT_FILE") }}true{{ end }}
{{- end }}

{{/* The CONFIG_FILE JSON: settings first, then the server list. */}}
{{- define "outrigger.configFileJson" -}}
{{- $file := deepCopy .Values.configFile.settings }}
{{- $_ := set $file "servers" .Values.configFile.servers }}
{{- toPrettyJson $file }}
{{- end }}

{{/*
Refuses autoscaling values that cannot work: min above max, no metric, a CPU target without a
CPU request (the HPA computes utilization against it).
*/}}
{{- define "outrigger.checkAutoscaling" -}}
{{- $a := .Values.autoscaling }}
{{- if gt (int64 $a.minReplicas) (int64 $a.maxReplicas) }}
{{- fail (printf "autoscaling.minReplicas=%d is above autoscaling.maxReplicas=%d" (int64 $a.minReplicas) (int64 $a.maxReplicas)) }}
{{- end }}
{{- $cpu := not (kindIs "invalid" $a.targetCPUUtilizationPercentage) }}
{{- if not (or $cpu $a.podsMetric.enabled) }}
{{- fail "autoscaling.enabled needs a metric: autoscaling.targetCPUUtilizationPercentage or autoscaling.podsMetric.enabled" }}
{{- end }}
{{- if and $cpu (not (and .Values.resources .Values.resources.requests .Values.resources.requests.cpu)) }}
{{- fail "autoscaling.targetCPUUtilizationPercentage needs resources.requests.cpu (utilization is measured against the request)" }}
{{- end }}
{{- end }}

{{/*
The replica floor the PodDisruptionBudget must leave room under: autoscaling.minReplicas with the
HPA, replicaCount without. Refuses a budget that allows no eviction there (a node drain would hang).
*/}}
{{- define "outrigger.checkDisruptionBudget" -}}
{{- $pdb := .Values.podDisruptionBudget }}
{{- $floor := ternary (int64 .Values.autoscaling.minReplicas) (int64 .Values.replicaCount) (.Values.autoscaling.enabled | default false) }}
{{- $where := ternary "autoscaling.minReplicas" "replicaCount" (.Values.autoscaling.enabled | default false) }}
{{- if not (kindIs "invalid" $pdb.minAvailable) }}
{{- $min := toString $pdb.minAvailable }}
{{- if hasSuffix "%" $min }}
{{- if ge (int64 (trimSuffix "%" $min)) 100 }}
{{- fail (printf "podDisruptionBudget.minAvailable=%s allows no eviction at all (node drains would hang)" $min) }}
{{- end }}
{{- else if and (gt $floor 0) (ge (int64 $pdb.minAvailable) $floor) }}
{{- fail (printf "podDisruptionBudget.minAvailable=%d must be below %s=%d, or no pod can be evicted at that size (node drains would hang); use maxUnavailable" (int64 $pdb.minAvailable) $where $floor) }}
{{- end }}
{{- else if kindIs "invalid" $pdb.maxUnavailable }}
{{- fail "podDisruptionBudget: set maxUnavailable or minAvailable" }}
{{- else if eq (toString $pdb.maxUnavailable) "0" "0%" }}
{{- fail "podDisruptionBudget.maxUnavailable=0 allows no eviction at all (node drains would hang)" }}
{{- end }}
{{- end }}

{{/* PromQL label matchers for this release's series in the alert rules (prometheusRule.selector). */}}
{{- define "outrigger.ruleSelector" -}}
{{- if .Values.prometheusRule.selector }}{{ .Values.prometheusRule.selector }}
{{- else if .Values.standalone }}namespace="{{ .Release.Namespace }}", job="{{ include "outrigger.fullname" . }}"
{{- else }}{{ fail "prometheusRule.selector is required when standalone is false (the pods are another chart's)" }}
{{- end }}
{{- end }}

{{/* The pods of OutriggerReadinessFlapping: podRegex, or the Deployment's (<full name>-<hash>-<id>). */}}
{{- define "outrigger.readinessPodRegex" -}}
{{- $f := .Values.prometheusRule.alerts.readinessFlapping }}
{{- if $f.podRegex }}{{ $f.podRegex }}
{{- else if .Values.standalone }}{{ include "outrigger.fullname" . }}-[a-z0-9]+-[a-z0-9]+
{{- else }}{{ fail "prometheusRule.alerts.readinessFlapping.podRegex is required when standalone is false" }}
{{- end }}
{{- end }}

{{/* An alert's labels: severity, then prometheusRule.additionalAlertLabels. Takes (dict "r" prometheusRule "severity" s). */}}
{{- define "outrigger.alertLabels" -}}
severity: {{ .severity }}
{{- with .r.additionalAlertLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* runbook_url: <prometheusRule.runbookBaseUrl>#<alert name, lowercase> (nothing without a base). */}}
{{- define "outrigger.runbookUrl" -}}
{{- if .r.runbookBaseUrl -}}
runbook_url: {{ printf "%s#%s" .r.runbookBaseUrl (lower .alert) | quote }}
{{- end }}
{{- end }}
