import { test } from 'node:test';
import assert from 'node:assert/strict';
import { earlyHintLink, h2Fields, respondTakesRawList } from '../../src/proxy/h2-answer.js';

test('the raw field list goes to respond only on Node releases checked to take it', () => {
  for (const v of ['22.23.3', '22.30.0', '24.21.0', '24.22.1', '25.0.0', '26.1.0']) assert.equal(respondTakesRawList(v), true, v);
  for (const v of ['20.20.2', '22.17.0', '22.22.9', '23.11.0', '24.0.0', '24.20.0']) assert.equal(respondTakesRawList(v), false, v);
});

test('h2Fields: lower-case names, repeats as arrays in order, :status, and no prototype fields', () => {
  const f = h2Fields(200, ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'constructor', 'x', 'Set-Cookie', 'c=3']);
  assert.deepEqual({ ...f }, { ':status': 200, 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2', 'c=3'], constructor: 'x' });
  assert.equal(Object.getPrototypeOf(f), null);
});

test('earlyHintLink: entries of the form <target>; params, joined; anything else refused', () => {
  assert.equal(earlyHintLink('</a.css>; rel=preload; as=style'), '</a.css>; rel=preload; as=style');
  assert.equal(earlyHintLink(['</a.css>; rel=preload', '</b.js>;rel="preload"']), '</a.css>; rel=preload, </b.js>;rel="preload"');
  assert.equal(earlyHintLink('/a.css; rel=preload'), undefined);
  assert.equal(earlyHintLink(['</a.css>; rel=preload', 'junk']), undefined);
  assert.equal(earlyHintLink('</a.css>; rel="unterminated'), undefined);
});
