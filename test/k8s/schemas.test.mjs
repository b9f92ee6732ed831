// Every rendered object validates against its Kubernetes schema (kubernetes-models, and the
// Prometheus Operator models for ServiceMonitor), and uses only field names its type has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDocs, renderedFiles, validateObject, unknownFields } from './lib.mjs';

const files = renderedFiles();
test('there are rendered files to check', () => {
  for (const prefix of ['chart-', 'sidecar-example', 'kustomize', 'notes']) {
    assert.ok(files.some((f) => f.startsWith(prefix)), `no ${prefix}* file in ${files.join(', ')}`);
  }
});

for (const file of files) {
  test(`${file}: every object validates against the Kubernetes schemas`, () => {
    const docs = loadDocs(file);
    assert.ok(docs.length > 0);
    for (const obj of docs) {
      assert.doesNotThrow(() => validateObject(obj), `${obj.kind}/${obj.metadata?.name}`);
    }
  });
  test(`${file}: no unknown field names in workloads, containers, probes, services`, () => {
    const problems = loadDocs(file).flatMap(unknownFields);
    assert.deepEqual(problems, []);
  });
}

test('the schema and field checks catch mistakes (they would fail if the checks broke)', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
    spec: { containers: [{ name: 'c', image: 'i', readinesProbe: { httpGet: { path: '/', port: 1 } },
      securityContext: { runAsNonroot: true }, lifecycle: { preStop: { sleep: { seconds: 3 } } } }] } };
  assert.deepEqual(unknownFields(pod), [
    'Pod/p.spec.containers[0].readinesProbe (not a field of CoreV1Container)',
    'Pod/p.spec.containers[0].securityContext.runAsNonroot (not a field of CoreV1SecurityContext)',
  ]);
  assert.throws(() => validateObject({ ...pod, spec: { containers: [{ name: 'c', ports: [{ containerPort: 'x' }] }] } }));
  assert.throws(() => validateObject({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p' },
    spec: { unhealthyPodEvictionPolicy: 7 } }));
  assert.throws(() => validateObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor',
    metadata: { name: 's' }, spec: { endpoints: 'admin' } }));
});
