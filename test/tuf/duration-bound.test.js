// A duration option (--expires, --expires-delegated, --if-expiring-within) too long for a Date
// is a typed INVALID_DURATION error, not a RangeError (exit 70) when the expiry is computed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, expiresAfter } from '../../dist/tuf/policy.js';

test('parseDuration: periods beyond 1000 years are refused, the longest accepted one is a date', () => {
  for (const text of ['99999999999999999999d', '1001y', `${1000 * 365 * 86_400 + 1}s`])
    assert.throws(() => parseDuration(text), { code: 'INVALID_DURATION' }, text);
  assert.match(expiresAfter(new Date(), parseDuration('1000y')), /^\d{4}-\d\d-\d\dT/);
  assert.equal(parseDuration('30d'), 30 * 86_400);
});
