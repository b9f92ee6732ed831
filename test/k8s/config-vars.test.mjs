// The chart, its schema and the manifests against the code's own table of configuration
// variables (CONFIG_VARIABLES in dist/config.js): same names, same defaults, nothing unknown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../dist/config.js';
import { loadDocs, renderedFiles, podSpecs, outriggerContainers, envOf } from './lib.mjs';

const repo = new URL('../../', import.meta.url);
const values = parse(readFileSync(new URL('helm/outrigger/values.yaml', repo), 'utf8'));
const schema = JSON.parse(readFileSync(new URL('helm/outrigger/values.schema.json', repo), 'utf8'));
const chart = parse(readFileSync(new URL('helm/outrigger/Chart.yaml', repo), 'utf8'));
const pkg = JSON.parse(readFileSync(new URL('package.json', repo), 'utf8'));
const byName = new Map(CONFIG_VARIABLES.map((v) => [v.name, v]));
const names = [...byName.keys()].sort();
// Set through adminToken (a Secret), never as a plain value.
const SECRET_ONLY = ['ADMIN_TOKEN'];
// Environment the chart may set that is not Outrigger configuration (ci/http-values.yaml extraEnv).
const NOT_CONFIG = ['NODE_OPTIONS'];

/** A values.yaml value as the chart renders it into env (see outrigger.envValue). */
const asEnv = (v) => (v === null || v === undefined || v === '' ? undefined : Array.isArray(v) ? v.join(',') : String(v));

test('CONFIG_VARIABLES is the SPEC §2 table', () => {
  assert.ok(names.length >= 37, `only ${names.length} variables`);
  for (const n of ['BACKENDS', 'CONFIG_FILE', 'SHUTDOWN_DELAY_MS', 'DRAIN_TIMEOUT_MS', 'ADMIN_TOKEN']) assert.ok(byName.has(n), n);
});

test('values.yaml config has one key per variable (ADMIN_TOKEN via adminToken), no other', () => {
  assert.deepEqual(Object.keys(values.config).sort(), names.filter((n) => !SECRET_ONLY.includes(n)));
  assert.ok('existingSecret' in values.adminToken && 'value' in values.adminToken);
});

test('values.yaml defaults are the code defaults', () => {
  const differ = Object.entries(values.config)
    .filter(([name, v]) => asEnv(v) !== byName.get(name).default)
    .map(([name, v]) => `${name}: chart ${JSON.stringify(asEnv(v))}, code ${JSON.stringify(byName.get(name).default)}`);
  assert.deepEqual(differ, []);
});

test('values.schema.json knows exactly the same variables and refuses others', () => {
  const cfg = schema.properties.config;
  assert.equal(cfg.additionalProperties, false);
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(Object.keys(cfg.properties).sort(), Object.keys(values.config).sort());
  assert.deepEqual(Object.keys(schema.properties).sort(), [...Object.keys(values), 'global'].sort());
});

test('the default render sets every variable the chart lists, with the code default', () => {
  const [[spec]] = podSpecs(loadDocs('chart-default.yaml'));
  const env = envOf(outriggerContainers(spec)[0]);
  for (const [name, value] of Object.entries(env)) {
    assert.ok(byName.has(name), `${name} is not a configuration variable`);
    assert.equal(value, byName.get(name).default, name);
  }
  const unset = names.filter((n) => !(n in env));
  assert.deepEqual(unset, names.filter((n) => byName.get(n).default === undefined), 'only the variables without a default are unset');
  assert.ok(unset.includes('TLS_CERT_FILE') && unset.includes('BACKENDS'));
});

test('every env variable set anywhere (chart, sidecar example, k8s/) is a known variable', () => {
  for (const file of renderedFiles().filter((f) => !f.startsWith('notes'))) {
    for (const [spec, where] of podSpecs(loadDocs(file))) {
      for (const c of outriggerContainers(spec)) {
        for (const name of Object.keys(envOf(c))) {
          assert.ok(byName.has(name) || NOT_CONFIG.includes(name), `${file} ${where} ${c.name}: ${name} is not a configuration variable`);
        }
      }
    }
  }
});

test('across the value sets the chart sets every variable, ADMIN_TOKEN from a Secret', () => {
  const seen = new Map();
  for (const file of renderedFiles('chart-')) {
    for (const [spec] of podSpecs(loadDocs(file))) {
      for (const c of outriggerContainers(spec)) for (const e of c.env ?? []) seen.set(e.name, e);
    }
  }
  assert.deepEqual(names.filter((n) => !seen.has(n)), []);
  assert.ok(seen.get('ADMIN_TOKEN').valueFrom?.secretKeyRef, 'ADMIN_TOKEN comes from a secretKeyRef');
});

test('image tag, chart appVersion and package version agree', () => {
  assert.equal(values.image.tag, chart.appVersion);
  assert.equal(chart.appVersion, pkg.version);
});
