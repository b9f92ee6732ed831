// What users rely on in the rendered objects: probes, shutdown budget, security context,
// resources, Service/ServiceMonitor/PDB wiring, the CONFIG_FILE ConfigMap and the sidecar forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDocs, renderedFiles, podSpecs, outriggerContainers, envOf } from './lib.mjs';

const CODE_DEFAULTS = { SHUTDOWN_DELAY_MS: 5000, DRAIN_TIMEOUT_MS: 20000, ADMIN_PORT: 9901 };
const num = (env, name) => Number(env[name] ?? CODE_DEFAULTS[name]);
const kind = (docs, k) => docs.filter((d) => d.kind === k);
const workloadFiles = renderedFiles().filter((f) => !f.startsWith('notes'));

// ---- invariants for every Outrigger container anywhere (chart, sidecar example, k8s/) ----------
for (const file of workloadFiles) {
  const pods = podSpecs(loadDocs(file)).filter(([spec]) => outriggerContainers(spec).length > 0);

  // The startup probe is /readyz only for a native sidecar, where it gates the app's start, and then with
  // READY_MIN_HEALTHY_BACKENDS 0; anywhere else it is /healthz: a restart cannot bring a backend back.
  test(`${file}: probes — readiness on /readyz, liveness on /healthz, startup on /healthz (a sidecar's on /readyz with no backend minimum), on the admin port`, () => {
    assert.ok(pods.length > 0);
    for (const [spec, where] of pods) {
      for (const c of outriggerContainers(spec)) {
        const admin = num(envOf(c), 'ADMIN_PORT');
        const port = (p) => (typeof p === 'number' ? p : c.ports.find((x) => x.name === p)?.containerPort);
        const sidecar = (spec.initContainers ?? []).includes(c);
        if (sidecar) assert.equal(num(envOf(c), 'READY_MIN_HEALTHY_BACKENDS'), 0, `${where} ${c.name}: a sidecar's startup probe must not wait for backends`);
        for (const [probe, path] of [['startupProbe', sidecar ? '/readyz' : '/healthz'], ['readinessProbe', '/readyz'], ['livenessProbe', '/healthz']]) {
          assert.equal(c[probe]?.httpGet?.path, path, `${where} ${c.name} ${probe}`);
          assert.equal(port(c[probe].httpGet.port), admin, `${where} ${c.name} ${probe} port`);
        }
      }
    }
  });

  test(`${file}: shutdown — preStop + SHUTDOWN_DELAY_MS + DRAIN_TIMEOUT_MS < terminationGracePeriodSeconds`, () => {
    for (const [spec, where] of pods) {
      for (const c of outriggerContainers(spec)) {
        const env = envOf(c);
        const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
        const needed = preStop + (num(env, 'SHUTDOWN_DELAY_MS') + num(env, 'DRAIN_TIMEOUT_MS')) / 1000;
        assert.ok(spec.terminationGracePeriodSeconds > needed,
          `${where} ${c.name}: grace ${spec.terminationGracePeriodSeconds} s <= ${needed} s`);
        assert.equal(c.lifecycle?.preStop?.exec, undefined, 'no exec preStop: the image has no shell or sleep');
      }
    }
  });

  test(`${file}: restricted security context and resources`, () => {
    for (const [spec, where] of pods) {
      assert.equal(spec.securityContext?.runAsNonRoot, true, `${where} pod runAsNonRoot`);
      assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${where} pod seccomp`);
      assert.equal(spec.automountServiceAccountToken, false, `${where} automountServiceAccountToken`);
      assert.equal(spec.enableServiceLinks, false, `${where} enableServiceLinks (Service env vars could shadow ADMIN_PORT/PROXY_PORT)`);
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const sc = c.securityContext ?? {};
        assert.equal(sc.allowPrivilegeEscalation, false, `${where} ${c.name} allowPrivilegeEscalation`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${where} ${c.name} readOnlyRootFilesystem`);
        assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where} ${c.name} capabilities`);
        assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory && c.resources?.limits?.memory,
          `${where} ${c.name} resources`);
      }
    }
  });

  test(`${file}: Services and ServiceMonitors point at ports and pods that exist`, () => {
    const docs = loadDocs(file);
    const pods = podSpecs(docs).filter(([, w]) => w.startsWith('Deployment'));
    const deployments = kind(docs, 'Deployment');
    for (const svc of kind(docs, 'Service')) {
      const target = deployments.find((d) => Object.entries(svc.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
      assert.ok(target, `Service/${svc.metadata.name} selects no Deployment`);
      const spec = target.spec.template.spec;
      const names = [...(spec.initContainers ?? []), ...spec.containers].flatMap((c) => (c.ports ?? []).map((p) => p.name));
      for (const p of svc.spec.ports) {
        if (typeof p.targetPort === 'string') assert.ok(names.includes(p.targetPort), `Service/${svc.metadata.name} targetPort ${p.targetPort}`);
      }
    }
    for (const sm of kind(docs, 'ServiceMonitor')) {
      const svc = kind(docs, 'Service').find((s) => Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
      assert.ok(svc, `ServiceMonitor/${sm.metadata.name} selects no Service`);
      for (const ep of sm.spec.endpoints) {
        assert.ok(svc.spec.ports.some((p) => p.name === ep.port), `ServiceMonitor port ${ep.port}`);
        assert.equal(ep.path, '/metrics');
      }
    }
    assert.ok(pods.length > 0);
  });
}

// ---- the chart's value sets ----------------------------------------------------------------------
const chart = (name) => loadDocs(`chart-${name}.yaml`);
const deployment = (docs) => kind(docs, 'Deployment')[0];
const container = (docs) => outriggerContainers(deployment(docs).spec.template.spec)[0];

test('chart: ServiceMonitor only when enabled and monitoring.coreos.com/v1 exists', () => {
  assert.equal(kind(chart('default'), 'ServiceMonitor').length, 0);
  assert.equal(kind(chart('default-with-monitoring-api'), 'ServiceMonitor').length, 0, 'not enabled');
  assert.equal(kind(chart('servicemonitor-without-api'), 'ServiceMonitor').length, 0, 'no API');
  const [sm] = kind(chart('servicemonitor'), 'ServiceMonitor');
  assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
  assert.equal(sm.metadata.labels.release, 'kube-prometheus-stack');
  assert.equal(sm.spec.endpoints[0].interval, '15s');
});

test('chart: PodDisruptionBudget policy/v1, AlwaysAllow, selecting the Deployment', () => {
  for (const name of ['default', 'servicemonitor', 'tcp']) {
    const docs = chart(name);
    const [pdb] = kind(docs, 'PodDisruptionBudget');
    assert.equal(pdb.apiVersion, 'policy/v1');
    assert.equal(pdb.spec.unhealthyPodEvictionPolicy, 'AlwaysAllow');
    assert.deepEqual(pdb.spec.selector, deployment(docs).spec.selector);
  }
  assert.equal(kind(chart('servicemonitor'), 'PodDisruptionBudget')[0].spec.minAvailable, '50%');
});

test('chart: default shutdown numbers — grace 30 s = 5 s delay + 20 s drain + 5 s margin, no preStop', () => {
  const docs = chart('default');
  assert.equal(deployment(docs).spec.template.spec.terminationGracePeriodSeconds, 30);
  assert.equal(container(docs).lifecycle, undefined);
  const tcp = chart('tcp');
  assert.equal(deployment(tcp).spec.template.spec.terminationGracePeriodSeconds, 3 + 2 + 60 + 5);
  assert.deepEqual(container(tcp).lifecycle, { preStop: { sleep: { seconds: 3 } } });
  assert.equal(deployment(chart('http')).spec.template.spec.terminationGracePeriodSeconds, 60, 'explicit value kept');
});

test('chart: TCP mode with CONFIG_FILE from a ConfigMap, mounted as a directory, checksum annotation', async () => {
  const docs = chart('tcp');
  const c = container(docs);
  const env = envOf(c);
  assert.equal(env.MODE, 'tcp');
  assert.equal(env.BACKENDS, undefined);
  assert.equal(env.CONFIG_FILE, '/etc/outrigger/config.json');
  const [cm] = kind(docs, 'ConfigMap');
  const json = cm.data['config.json'];
  const mount = c.volumeMounts.find((m) => m.name === 'outrigger-config');
  assert.equal(mount.mountPath, '/etc/outrigger');
  assert.equal(mount.subPath, undefined, 'subPath mounts never see ConfigMap updates');
  const pod = deployment(docs).spec.template;
  assert.equal(pod.spec.volumes.find((v) => v.name === 'outrigger-config').configMap.name, cm.metadata.name);
  assert.equal(pod.metadata.annotations['checksum/config-file'], createHash('sha256').update(json.trimEnd()).digest('hex'));
  // The code's own parser accepts the rendered file.
  const { parseConfigFile } = await import('../../dist/upstream/config-file.js');
  const parsed = parseConfigFile(json, 'tcp');
  assert.equal(parsed.backends.length, 2);
  assert.equal(parsed.settings.HEALTH_CHECK_INTERVAL_MS, '10000');
  const svc = kind(docs, 'Service')[0];
  assert.equal(svc.spec.ports.find((p) => p.name === 'traffic').appProtocol, 'tcp');
  assert.equal(svc.spec.ports.find((p) => p.name === 'traffic').port, 5432);
  assert.equal(c.ports.find((p) => p.name === 'traffic').containerPort, 5432);
  assert.equal(kind(docs, 'Secret')[0].data.token, Buffer.from('change-me').toString('base64'));
});

test('chart: gRPC values: grpc health checks, the h2c appProtocol on the traffic port, http by default', async () => {
  const docs = chart('grpc');
  const env = envOf(container(docs));
  assert.equal(env.HEALTH_CHECK_TYPE, 'grpc');
  assert.equal(env.HEALTH_CHECK_GRPC_SERVICE, 'orders.v1.Orders');
  const { loadConfig } = await import('../../dist/config.js');
  assert.equal(loadConfig(env).healthCheck.type, 'grpc', 'the code accepts the rendered environment');
  assert.equal(kind(docs, 'Service')[0].spec.ports.find((p) => p.name === 'traffic').appProtocol, 'kubernetes.io/h2c');
  assert.equal(kind(chart('default'), 'Service')[0].spec.ports.find((p) => p.name === 'traffic').appProtocol, 'http');
});

test('chart: TLS from a Secret mounted as a directory, client CAs, the https Service port; plain by default', () => {
  const docs = chart('tls');
  const c = container(docs);
  const env = envOf(c);
  assert.equal(env.TLS_CERT_FILE, '/etc/outrigger/tls/tls.crt');
  assert.equal(env.TLS_KEY_FILE, '/etc/outrigger/tls/tls.key');
  assert.equal(env.TLS_CLIENT_CA_FILE, '/etc/outrigger/tls/ca.crt');
  assert.equal(env.TLS_MIN_VERSION, 'TLSv1.3');
  const mount = c.volumeMounts.find((m) => m.name === 'outrigger-tls');
  assert.equal(mount.mountPath, '/etc/outrigger/tls');
  assert.equal(mount.subPath, undefined, 'subPath mounts never see Secret updates (renewals)');
  assert.equal(mount.readOnly, true);
  const volume = deployment(docs).spec.template.spec.volumes.find((v) => v.name === 'outrigger-tls');
  assert.equal(volume.secret.secretName, 'orders-edge-tls');
  const port = kind(docs, 'Service')[0].spec.ports.find((p) => p.targetPort === 'traffic');
  assert.deepEqual([port.name, port.appProtocol, port.port], ['https', 'https', 443]);
  for (const plain of ['default', 'grpc', 'tcp']) {
    const p = kind(chart(plain), 'Service')[0].spec.ports.find((x) => x.targetPort === 'traffic');
    assert.equal(p.name, 'traffic', plain);
    assert.equal(envOf(container(chart(plain))).TLS_CERT_FILE, undefined, plain);
    assert.equal(deployment(chart(plain)).spec.template.spec.volumes?.find((v) => v.name === 'outrigger-tls'), undefined, plain);
  }
});

test('chart: BACKENDS list is joined, image user matches, helm test asks /readyz', () => {
  const docs = chart('servicemonitor');
  assert.equal(envOf(container(docs)).BACKENDS, 'dns+http://orders-api-headless.shop.svc.cluster.local:8080');
  assert.equal(deployment(docs).spec.template.spec.securityContext.runAsUser, 65532);
  const tsc = deployment(docs).spec.template.spec.topologySpreadConstraints[0];
  assert.deepEqual(tsc.labelSelector.matchLabels, deployment(docs).spec.selector.matchLabels);
  const [testPod] = kind(chart('default'), 'Pod');
  assert.equal(testPod.metadata.annotations['helm.sh/hook'], 'test');
  assert.match(testPod.spec.containers[0].command.at(-1), /^http:\/\/outrigger\.edge\.svc:9901\/readyz$/);
});

test('sidecar example: egress is a native sidecar, ingress a regular container, app outlives ingress', () => {
  const docs = loadDocs('sidecar-example.yaml');
  const spec = deployment(docs).spec.template.spec;
  const egress = spec.initContainers.find((c) => c.name === 'outrigger-egress');
  const ingress = spec.containers.find((c) => c.name === 'outrigger-ingress');
  const app = spec.containers.find((c) => c.name === 'app');
  assert.equal(egress.restartPolicy, 'Always');
  assert.equal(ingress.restartPolicy, undefined);
  assert.equal(envOf(egress).PROXY_HOST, '127.0.0.1');
  const env = envOf(ingress);
  const drain = Math.ceil((num(env, 'SHUTDOWN_DELAY_MS') + num(env, 'DRAIN_TIMEOUT_MS')) / 1000);
  assert.ok(app.lifecycle.preStop.sleep.seconds >= drain, 'app keeps serving until the ingress sidecar has drained');
  assert.ok(spec.terminationGracePeriodSeconds > app.lifecycle.preStop.sleep.seconds + 5);
  assert.deepEqual(new Set(egress.ports.map((p) => p.name)).size + new Set(ingress.ports.map((p) => p.name)).size, 4);
});

test('k8s/: the app runs Outrigger as a native sidecar; standalone variant present', () => {
  const docs = loadDocs('kustomize.yaml');
  const app = kind(docs, 'Deployment').find((d) => d.metadata.name === 'example-app').spec.template.spec;
  assert.equal(app.initContainers[0].name, 'outrigger');
  assert.equal(app.initContainers[0].restartPolicy, 'Always');
  assert.ok(kind(docs, 'Deployment').some((d) => d.metadata.name === 'outrigger'));
  assert.equal(kind(docs, 'ServiceMonitor').length, 2);
});

test('inline node scripts (helm test pod, example app) parse', () => {
  const scripts = [
    kind(chart('default'), 'Pod')[0].spec.containers[0].command[2],
    kind(loadDocs('kustomize.yaml'), 'Deployment').find((d) => d.metadata.name === 'example-app').spec.template.spec.containers[0].command[2],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'outrigger-scripts-'));
  try {
    scripts.forEach((s, i) => {
      writeFileSync(join(dir, `s${i}.cjs`), s);
      execFileSync(process.execPath, ['--check', join(dir, `s${i}.cjs`)]);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NOTES.txt: shutdown numbers and the warnings', () => {
  const [plain, monitoring, rules, autoscaling] = loadDocs('notes.yaml').map((d) => d.data.notes);
  assert.match(plain, /terminationGracePeriodSeconds=30 \(preStop 0 s \+ SHUTDOWN_DELAY_MS 5000 \+ DRAIN_TIMEOUT_MS 20000/);
  assert.match(plain, /WARNING: no backends are configured/);
  assert.doesNotMatch(monitoring, /no backends/);
  assert.match(monitoring, /does not serve monitoring\.coreos\.com\/v1/);
  assert.match(rules, /no PrometheusRule was created/);
  assert.match(rules, /ConfigMap monitoring\/outrigger-dashboard, label grafana_dashboard=1/);
  assert.match(autoscaling, /Autoscaling: 3 to 12 pods/);
  assert.doesNotMatch(plain, /PrometheusRule|Autoscaling|Grafana/);
});
