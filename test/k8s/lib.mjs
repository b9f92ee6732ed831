// Shared helpers for the rendered-manifest tests: loading, schema validation with
// kubernetes-models, and a field-name check that kubernetes-models does not do.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const require = createRequire(import.meta.url);
export const renderedDir = process.env.OUTRIGGER_RENDERED ?? '';

/** Every YAML document in a rendered file, as plain objects (empty documents dropped). */
export function loadDocs(file) {
  const docs = parseAllDocuments(readFileSync(join(renderedDir, file), 'utf8'));
  for (const d of docs) if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0].message}`);
  return docs.map((d) => d.toJS()).filter((o) => o !== null && o !== undefined);
}

export function renderedFiles(prefix = '') {
  return readdirSync(renderedDir).filter((f) => f.endsWith('.yaml') && f.startsWith(prefix)).sort();
}

/** The kubernetes-models class for an object's apiVersion and kind. */
export function modelFor({ apiVersion, kind }) {
  if (apiVersion === 'monitoring.coreos.com/v1') {
    return require(`@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`)[kind];
  }
  const group = apiVersion.includes('/') ? apiVersion : `core/${apiVersion}`;
  const path = group === 'core/v1' ? `kubernetes-models/v1/${kind}` : `kubernetes-models/${group}/${kind}`;
  return require(path)[kind];
}

/** Throws (with the schema's message) unless the object validates against its Kubernetes schema. */
export function validateObject(obj) {
  const Model = modelFor(obj);
  if (typeof Model !== 'function') throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();
}

// ---- field names ----------------------------------------------------------------------------------
// kubernetes-models' schemas allow unknown properties (so does the OpenAPI they come from), and a
// misspelt field (readinesProbe, runAsNonroot) is silently dropped by a lenient apiserver. The
// property names of each type are read from kubernetes-models' compiled validator for that type.
const schemaDir = join(require.resolve('kubernetes-models/package.json'), '..', '_schemas');
const fieldCache = new Map();
function fieldsOf(type) {
  if (!fieldCache.has(type)) {
    const src = readFileSync(join(schemaDir, `IoK8sApi${type}.js`), 'utf8');
    const names = new Set();
    for (const m of src.matchAll(/\bdata(?:\.([A-Za-z_$][\w$]*)|\["([^"]+)"\])/g)) names.add(m[1] ?? m[2]);
    names.delete('length');
    fieldCache.set(type, names);
  }
  return fieldCache.get(type);
}

// The types we template, and the type of each of their nested fields we also check.
const children = {
  AppsV1Deployment: { spec: 'AppsV1DeploymentSpec' },
  AppsV1DeploymentSpec: { template: 'CoreV1PodTemplateSpec', strategy: 'AppsV1DeploymentStrategy' },
  AppsV1DeploymentStrategy: { rollingUpdate: 'AppsV1RollingUpdateDeployment' },
  AppsV1RollingUpdateDeployment: {},
  CoreV1PodTemplateSpec: { spec: 'CoreV1PodSpec' },
  CoreV1Pod: { spec: 'CoreV1PodSpec' },
  CoreV1PodSpec: {
    containers: ['CoreV1Container'], initContainers: ['CoreV1Container'],
    securityContext: 'CoreV1PodSecurityContext', volumes: ['CoreV1Volume'],
  },
  CoreV1PodSecurityContext: { seccompProfile: 'CoreV1SeccompProfile' },
  CoreV1Container: {
    ports: ['CoreV1ContainerPort'], env: ['CoreV1EnvVar'], startupProbe: 'CoreV1Probe',
    readinessProbe: 'CoreV1Probe', livenessProbe: 'CoreV1Probe', lifecycle: 'CoreV1Lifecycle',
    resources: 'CoreV1ResourceRequirements', securityContext: 'CoreV1SecurityContext',
    volumeMounts: ['CoreV1VolumeMount'],
  },
  CoreV1ContainerPort: {},
  CoreV1EnvVar: { valueFrom: 'CoreV1EnvVarSource' },
  CoreV1EnvVarSource: { secretKeyRef: 'CoreV1SecretKeySelector' },
  CoreV1SecretKeySelector: {},
  CoreV1Probe: { httpGet: 'CoreV1HTTPGetAction' },
  CoreV1HTTPGetAction: {},
  CoreV1Lifecycle: { preStop: 'CoreV1LifecycleHandler' },
  CoreV1LifecycleHandler: { sleep: 'CoreV1SleepAction' },
  CoreV1SleepAction: {},
  CoreV1ResourceRequirements: {},
  CoreV1SecurityContext: { capabilities: 'CoreV1Capabilities', seccompProfile: 'CoreV1SeccompProfile' },
  CoreV1Capabilities: {},
  CoreV1SeccompProfile: {},
  CoreV1VolumeMount: {},
  CoreV1Volume: { configMap: 'CoreV1ConfigMapVolumeSource' },
  CoreV1ConfigMapVolumeSource: {},
  CoreV1Service: { spec: 'CoreV1ServiceSpec' },
  CoreV1ServiceSpec: { ports: ['CoreV1ServicePort'] },
  CoreV1ServicePort: {},
  PolicyV1PodDisruptionBudget: { spec: 'PolicyV1PodDisruptionBudgetSpec' },
  PolicyV1PodDisruptionBudgetSpec: {},
  AutoscalingV2HorizontalPodAutoscaler: { spec: 'AutoscalingV2HorizontalPodAutoscalerSpec' },
  AutoscalingV2HorizontalPodAutoscalerSpec: {
    scaleTargetRef: 'AutoscalingV2CrossVersionObjectReference', metrics: ['AutoscalingV2MetricSpec'],
    behavior: 'AutoscalingV2HorizontalPodAutoscalerBehavior',
  },
  AutoscalingV2CrossVersionObjectReference: {},
  AutoscalingV2MetricSpec: { resource: 'AutoscalingV2ResourceMetricSource', pods: 'AutoscalingV2PodsMetricSource' },
  AutoscalingV2ResourceMetricSource: { target: 'AutoscalingV2MetricTarget' },
  AutoscalingV2PodsMetricSource: { metric: 'AutoscalingV2MetricIdentifier', target: 'AutoscalingV2MetricTarget' },
  AutoscalingV2MetricIdentifier: {},
  AutoscalingV2MetricTarget: {},
  AutoscalingV2HorizontalPodAutoscalerBehavior: { scaleUp: 'AutoscalingV2HPAScalingRules', scaleDown: 'AutoscalingV2HPAScalingRules' },
  AutoscalingV2HPAScalingRules: { policies: ['AutoscalingV2HPAScalingPolicy'] },
  AutoscalingV2HPAScalingPolicy: {},
  CoreV1ConfigMap: {},
};
const rootType = {
  'apps/v1/Deployment': 'AppsV1Deployment', 'v1/Pod': 'CoreV1Pod', 'v1/Service': 'CoreV1Service',
  'policy/v1/PodDisruptionBudget': 'PolicyV1PodDisruptionBudget',
  'autoscaling/v2/HorizontalPodAutoscaler': 'AutoscalingV2HorizontalPodAutoscaler', 'v1/ConfigMap': 'CoreV1ConfigMap',
};

/** Field names in obj (at the typed paths above) that its Kubernetes type does not have. */
export function unknownFields(obj) {
  const type = rootType[`${obj.apiVersion}/${obj.kind}`];
  const problems = [];
  const walk = (value, t, path) => {
    if (value === null || typeof value !== 'object') return;
    const known = fieldsOf(t);
    for (const [key, child] of Object.entries(value)) {
      if (!known.has(key)) problems.push(`${path}.${key} (not a field of ${t})`);
      const sub = children[t]?.[key];
      if (Array.isArray(sub) && Array.isArray(child)) child.forEach((c, i) => walk(c, sub[0], `${path}.${key}[${i}]`));
      else if (typeof sub === 'string') walk(child, sub, `${path}.${key}`);
    }
  };
  if (type !== undefined) walk(obj, type, `${obj.kind}/${obj.metadata?.name}`);
  return problems;
}

/** [podSpec, where] for every object that carries a pod template. */
export function podSpecs(docs) {
  const out = [];
  for (const d of docs) {
    if (d.kind === 'Deployment') out.push([d.spec.template.spec, `Deployment/${d.metadata.name}`]);
    if (d.kind === 'Pod') out.push([d.spec, `Pod/${d.metadata.name}`]);
  }
  return out;
}

/** The Outrigger containers of a pod spec (named outrigger or outrigger-*). */
export function outriggerContainers(spec) {
  return [...(spec.initContainers ?? []), ...spec.containers].filter((c) => /^outrigger(-|$)/.test(c.name));
}

export function envOf(container) {
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
}
