import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reusePortAvailable } from '../../src/proxy/accept-sockets.js';

test('reusePort is used on Linux with Node 22.12+, 23.1+ and 24+, nowhere else', () => {
  const cases: Array<[NodeJS.Platform, string, boolean]> = [
    ['linux', '20.18.1', false], ['linux', '22.11.0', false], ['linux', '22.12.0', true], ['linux', '23.0.0', false],
    ['linux', '23.1.0', true], ['linux', '24.21.0', true], ['linux', '26.0.0', true], ['darwin', '24.21.0', false], ['win32', '24.21.0', false],
  ];
  for (const [platform, version, expected] of cases) assert.equal(reusePortAvailable(platform, version), expected, `${platform} ${version}`);
});
