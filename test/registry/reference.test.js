// Image references in the docker grammar (src/registry/reference.ts): docker.io and library/
// defaults, hosts with ports, tags and digests, and bad references refused as
// REGISTRY_BAD_REFERENCE naming the text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReference, parseReference } from '../../dist/registry/index.js';

const D = `sha256:${'ab'.repeat(32)}`;

test('names without a registry are on docker.io, one-component names under library/', () => {
  assert.deepEqual(parseReference('alpine'), { registry: 'docker.io', repository: 'library/alpine' });
  assert.deepEqual(parseReference('alpine:3.19'), {
    registry: 'docker.io',
    repository: 'library/alpine',
    tag: '3.19',
  });
  assert.deepEqual(parseReference('org/bundle'), { registry: 'docker.io', repository: 'org/bundle' });
  assert.deepEqual(parseReference('index.docker.io/nginx'), {
    registry: 'docker.io',
    repository: 'library/nginx',
  });
  assert.deepEqual(parseReference('docker.io/org/b:1'), {
    registry: 'docker.io',
    repository: 'org/b',
    tag: '1',
  });
});

test('registry hosts with ports, localhost, nested paths, tags and digests', () => {
  assert.deepEqual(parseReference('localhost:5000/a/b/c:v1.0-rc_1'), {
    registry: 'localhost:5000',
    repository: 'a/b/c',
    tag: 'v1.0-rc_1',
  });
  assert.deepEqual(parseReference('localhost/x'), { registry: 'localhost', repository: 'x' });
  assert.deepEqual(parseReference(`ghcr.io/org/my.bundle__x--y@${D}`), {
    registry: 'ghcr.io',
    repository: 'org/my.bundle__x--y',
    digest: D,
  });
  assert.deepEqual(parseReference(`127.0.0.1:5000/org/b:1.0@${D}`), {
    registry: '127.0.0.1:5000',
    repository: 'org/b',
    tag: '1.0',
    digest: D,
  });
});

test('formatReference writes what parseReference reads back', () => {
  for (const text of [
    'ghcr.io/org/b:1',
    `localhost:5000/a/b@${D}`,
    `r.example.com/x:t@${D}`,
    'docker.io/library/alpine',
  ]) {
    const r = parseReference(text);
    assert.equal(formatReference(r), text);
    assert.deepEqual(parseReference(formatReference(r)), r);
  }
  assert.equal(formatReference(parseReference('alpine')), 'docker.io/library/alpine');
});

test('bad references are REGISTRY_BAD_REFERENCE naming the text', () => {
  const bad = [
    '',
    'org/Bundle',
    'ghcr.io/Org/bundle',
    'ghcr.io/org//bundle',
    'ghcr.io/org/bundle/',
    'ghcr.io/-org/bundle',
    'ghcr.io/org/bundle:',
    'ghcr.io/org/bundle:.tag',
    `ghcr.io/org/bundle:${'t'.repeat(129)}`,
    'ghcr.io/org/bundle@sha256:abc',
    `ghcr.io/org/bundle@sha512:${'ab'.repeat(64)}`,
    `ghcr.io/org/bundle@sha256:${'AB'.repeat(32)}`,
    'ghcr.io:99999/org/b',
    'gh_cr.io/org/b',
    `ghcr.io/${'a'.repeat(256)}`,
    'org/bundle:1 ',
  ];
  for (const text of bad) {
    assert.throws(
      () => parseReference(text),
      (e) =>
        e.code === 'REGISTRY_BAD_REFERENCE' &&
        e.message.includes(JSON.stringify(text).slice(0, 40)) &&
        !e.message.includes('\n'),
      `accepted ${JSON.stringify(text)}`,
    );
  }
});
