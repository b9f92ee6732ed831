/** Hop-by-hop stripping and forwarded headers over Node's flat raw header arrays. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addForwarded, clientAddress, connectionTokens, headerValue, makeTraceparentRoom, stripHopByHop, allowedTrailers } from '../../src/proxy/headers.js';

/** [[name, value], …] → Node's flat rawHeaders. */
function flat(pairs: ReadonlyArray<readonly [string, string]>): string[] {
  return pairs.flatMap(([n, v]) => [n, v]);
}

describe('stripHopByHop', () => {
  test('removes every fixed hop-by-hop header, whatever its case', () => {
    const raw = flat([
      ['Host', 'example.com'], ['CONNECTION', 'keep-alive'], ['Keep-Alive', 'timeout=5'], ['proxy-connection', 'keep-alive'],
      ['TE', 'gzip'], ['Trailer', 'X-Checksum'], ['Transfer-Encoding', 'chunked'], ['upgrade', 'websocket'], ['Accept', '*/*'],
    ]);
    assert.deepEqual(stripHopByHop(raw), flat([['Host', 'example.com'], ['Accept', '*/*']]));
  });

  test('removes headers named in Connection, case-insensitively, across several Connection headers', () => {
    const raw = flat([
      ['Connection', 'X-Trace-Hop, close'], ['X-Keep', '1'], ['x-trace-hop', 'a'], ['connection', ' X-Other ,,'],
      ['X-OTHER', 'b'], ['Close', 'not-a-real-header'], ['X-Last', '2'],
    ]);
    assert.deepEqual(stripHopByHop(raw), flat([['X-Keep', '1'], ['X-Last', '2']]));
  });

  test('a header named in Connection is removed even when it appears before the Connection header', () => {
    const raw = flat([['X-Secret-Hop', 'v'], ['Accept', 'a'], ['Connection', 'x-secret-hop']]);
    assert.deepEqual(stripHopByHop(raw), flat([['Accept', 'a']]));
  });

  test('connectionTokens collects lower-cased tokens of every Connection header', () => {
    assert.deepEqual([...connectionTokens(flat([['Connection', 'Keep-Alive, X-A'], ['x', 'y'], ['CONNECTION', 'x-b']]))], ['keep-alive', 'x-a', 'x-b']);
  });

  test('TE is kept only when it is exactly "trailers" and keepTeTrailers is set', () => {
    const cases: Array<[string, boolean, boolean]> = [
      ['trailers', true, true],
      ['Trailers', true, true],
      ['trailers', false, false],
      ['trailers, deflate', true, false],
      ['gzip', true, false],
      ['trailers;q=1', true, false],
    ];
    for (const [value, keepTeTrailers, kept] of cases) {
      const out = stripHopByHop(flat([['TE', value], ['Accept', '*/*']]), { keepTeTrailers });
      assert.deepEqual(out, kept ? flat([['TE', value], ['Accept', '*/*']]) : flat([['Accept', '*/*']]), `TE: ${value}, keepTeTrailers=${keepTeTrailers}`);
    }
  });

  test('a Connection token naming Host or Content-Length is ignored: the message keeps them', () => {
    const raw = flat([['Host', 'a'], ['Connection', 'Host, content-length, X-Hop'], ['Content-Length', '2'], ['X-Hop', '1'], ['Accept', '*/*']]);
    assert.deepEqual(stripHopByHop(raw), flat([['Host', 'a'], ['Content-Length', '2'], ['Accept', '*/*']]));
    assert.deepEqual(stripHopByHop(flat([['Connection', 'upgrade, HOST'], ['host', 'b']]), { keepUpgrade: true }), flat([['Connection', 'Upgrade'], ['host', 'b']]));
  });

  test('TE: trailers survives even when Connection names TE (as clients must send it)', () => {
    const out = stripHopByHop(flat([['Connection', 'TE'], ['TE', 'trailers'], ['Accept', '*/*']]), { keepTeTrailers: true });
    assert.deepEqual(out, flat([['TE', 'trailers'], ['Accept', '*/*']]));
  });

  test('Upgrade is kept only with keepUpgrade, with Connection reduced to "Upgrade"', () => {
    const raw = flat([['Host', 'h'], ['Connection', 'keep-alive, Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Key', 'k']]);
    assert.deepEqual(stripHopByHop(raw), flat([['Host', 'h'], ['Sec-WebSocket-Key', 'k']]));
    assert.deepEqual(
      stripHopByHop(raw, { keepUpgrade: true }),
      flat([['Host', 'h'], ['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Key', 'k']]),
    );
  });

  test('keepUpgrade still removes the other hop-by-hop headers and Connection-named ones', () => {
    const raw = flat([['Connection', 'Upgrade, X-Hop'], ['Upgrade', 'websocket'], ['X-Hop', '1'], ['Keep-Alive', 'timeout=1'], ['Transfer-Encoding', 'chunked']]);
    assert.deepEqual(stripHopByHop(raw, { keepUpgrade: true }), flat([['Connection', 'Upgrade'], ['Upgrade', 'websocket']]));
  });

  test('everything else keeps its name, case, value and order, duplicates included', () => {
    const raw = flat([
      ['Set-Cookie', 'a=1; Path=/'], ['x-MiXeD-Case', '  spaced value  '], ['Set-Cookie', 'b=2; HttpOnly'], ['Content-Type', 'text/plain'],
      ['set-cookie', 'c=3'], ['Cache-Control', 'no-cache'], ['Cache-Control', 'no-store'], ['Connection', 'close'],
    ]);
    assert.deepEqual(stripHopByHop(raw), raw.slice(0, -2));
  });

  test('does not modify its input', () => {
    const raw = flat([['Connection', 'x-a'], ['X-A', '1'], ['B', '2']]);
    const copy = [...raw];
    stripHopByHop(raw, { keepUpgrade: true, keepTeTrailers: true });
    assert.deepEqual(raw, copy);
  });
});

describe('addForwarded', () => {
  const info = { clientIp: '203.0.113.7', proto: 'http' as const, newRequestId: () => 'generated-id' };

  test('adds X-Forwarded-For/Proto/Host and a generated X-Request-Id to a bare request', () => {
    const headers = flat([['Host', 'shop.example:8080'], ['Accept', '*/*']]);
    assert.equal(addForwarded(headers, info), 'generated-id');
    assert.deepEqual(headers, flat([
      ['Host', 'shop.example:8080'], ['Accept', '*/*'], ['X-Forwarded-For', '203.0.113.7'], ['X-Forwarded-Proto', 'http'],
      ['X-Forwarded-Host', 'shop.example:8080'], ['X-Request-Id', 'generated-id'],
    ]));
  });

  test('appends the client to the LAST X-Forwarded-For header, in place', () => {
    const headers = flat([['X-Forwarded-For', '198.51.100.1'], ['Host', 'h'], ['x-forwarded-for', '10.0.0.1, 10.0.0.2'], ['Accept', '*/*']]);
    addForwarded(headers, info);
    assert.equal(headers[1], '198.51.100.1');
    assert.equal(headers[4], 'x-forwarded-for');
    assert.equal(headers[5], '10.0.0.1, 10.0.0.2, 203.0.113.7');
    assert.equal(headers.filter((h) => h.toLowerCase() === 'x-forwarded-for').length, 2);
  });

  test('an empty X-Forwarded-For becomes just the client', () => {
    const headers = flat([['Host', 'h'], ['X-Forwarded-For', ' ']]);
    addForwarded(headers, info);
    assert.equal(headerValue(headers, 'x-forwarded-for'), '203.0.113.7');
  });

  test('keeps an existing X-Forwarded-Proto, X-Forwarded-Host and X-Request-Id', () => {
    const headers = flat([['Host', 'inner'], ['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', 'outer.example'], ['X-Request-Id', 'abc-123']]);
    let generated = 0;
    const id = addForwarded(headers, { ...info, newRequestId: () => { generated += 1; return 'nope'; } });
    assert.equal(id, 'abc-123');
    assert.equal(generated, 0);
    assert.deepEqual(headers, flat([
      ['Host', 'inner'], ['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', 'outer.example'], ['X-Request-Id', 'abc-123'],
      ['X-Forwarded-For', '203.0.113.7'],
    ]));
  });

  test('no Host header → no X-Forwarded-Host', () => {
    const headers: string[] = [];
    addForwarded(headers, { ...info, proto: 'https' });
    assert.equal(headerValue(headers, 'x-forwarded-host'), undefined);
    assert.equal(headerValue(headers, 'x-forwarded-proto'), 'https');
  });
});

describe('small helpers', () => {
  test('clientAddress shows IPv4-mapped IPv6 as IPv4 and leaves the rest alone', () => {
    assert.equal(clientAddress('::ffff:1.2.3.4'), '1.2.3.4');
    assert.equal(clientAddress('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(clientAddress('10.0.0.1'), '10.0.0.1');
    assert.equal(clientAddress('2001:db8::1'), '2001:db8::1');
    assert.equal(clientAddress('::ffff:abcd'), '::ffff:abcd');
    assert.equal(clientAddress(undefined), 'unknown');
  });

  test('headerValue finds the first value case-insensitively', () => {
    assert.equal(headerValue(flat([['A', '1'], ['x-id', 'first'], ['X-ID', 'second']]), 'x-id'), 'first');
    assert.equal(headerValue(flat([['A', '1']]), 'b'), undefined);
  });

  test('allowedTrailers turns the flat list into pairs, duplicates and order kept', () => {
    assert.deepEqual(allowedTrailers(flat([['X-Sum', 'a'], ['grpc-status', '0'], ['x-sum', 'b']])), { pairs: [['X-Sum', 'a'], ['grpc-status', '0'], ['x-sum', 'b']], dropped: 0 });
  });
});

describe('allowedTrailers drops what RFC 9110 §6.5.1 forbids in trailers, whatever the case', () => {
  const forbidden: ReadonlyArray<readonly [string, string]> = [
    ['framing', 'Content-Length'], ['framing', 'transfer-encoding'], ['framing', 'Trailer'], ['hop-by-hop', 'Connection'], ['hop-by-hop', 'TE'],
    ['routing', 'Host'], ['request modifier', 'Expect'], ['request modifier', 'If-None-Match'], ['request modifier', 'Range'],
    ['authentication', 'Authorization'], ['authentication', 'Proxy-Authorization'], ['authentication', 'WWW-Authenticate'],
    ['authentication', 'Cookie'], ['authentication', 'Set-Cookie'], ['response control', 'Cache-Control'], ['response control', 'Location'],
    ['response control', 'Retry-After'], ['response control', 'Vary'], ['content processing', 'Content-Encoding'], ['content processing', 'CONTENT-TYPE'],
    ['only Outrigger vouches for a client certificate', 'X-Forwarded-Client-Cert'],
  ];
  for (const [why, name] of forbidden) {
    test(`${name} (${why})`, () => {
      assert.deepEqual(allowedTrailers(flat([['X-Before', '1'], [name, 'v'], ['X-After', '2']])), { pairs: [['X-Before', '1'], ['X-After', '2']], dropped: 1 });
    });
  }
  for (const name of ['X-Checksum', 'grpc-status', 'grpc-message', 'Server-Timing', 'Digest', 'X-Host', 'Content-MD5']) {
    test(`${name} is kept`, () => assert.equal(allowedTrailers([name, 'v']).dropped, 0));
  }
});

describe('makeTraceparentRoom', () => {
  test('keeps the first traceparent in place (its name as sent), removes others, keeps tracestate', () => {
    const h = flat([['Host', 'a'], ['TraceParent', 'x'], ['tracestate', 'k=v'], ['traceparent', 'y'], ['Accept', '*/*']]);
    const at = makeTraceparentRoom(h, false);
    assert.equal(at, 3);
    h[at] = 'mine';
    assert.deepEqual(h, flat([['Host', 'a'], ['TraceParent', 'mine'], ['tracestate', 'k=v'], ['Accept', '*/*']]));
  });

  test('appends one when there is none; drops every tracestate of a trace not continued', () => {
    const h = flat([['Host', 'a'], ['Tracestate', 'k=v'], ['tracestate', 'l=w']]);
    const at = makeTraceparentRoom(h, true);
    h[at] = 'mine';
    assert.deepEqual(h, flat([['Host', 'a'], ['traceparent', 'mine']]));
  });
});
