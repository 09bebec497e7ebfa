// Path traversal (issue 15 item 5) against the real stack, over raw HTTP (node:http sends the
// path as given; fetch would normalise `..` and `%2e%2e` away): in the repository name of
// GET, upload (POST) and DELETE URLs, in GET target paths, and in the names of upload parts
// (role file names, target file names). Each is refused with its code (400 BAD_REQUEST naming
// the path part, or UPLOAD_REFUSED MALFORMED naming the rule) and the repository, every file
// it serves and its neighbour are exactly as before. app.test.js pins the messages of the
// simpler cases on an injected app; this is the listening server and the stored state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NAME } from '../../helpers/sim.js';
import {
  asParts,
  assertEnvelope,
  assertNothingStored,
  multipart,
  postMultipart,
  published,
  rawRequest,
} from './kit.js';

const TRUST = `/v2/${NAME}/_trust/tuf/`;

/** Repository names that must never reach the store: `..`, encodings of it and of `/`, absolute, NUL, `\`, overlong UTF-8. */
const BAD_REPOS = [
  'example.com/org/../org/bundle',
  'example.com/org/bundle/..',
  'example.com/org/./bundle',
  '..',
  'example.com/org/%2e%2e/org/bundle',
  'example.com/org/%2E%2E/org/bundle',
  // %2F decodes to the very repository: refused all the same (a proxy reading the raw path sees another name)
  'example.com/org%2Fbundle',
  'example.com%2Forg%2Fbundle',
  'example.com/org/bundle%2F..',
  'example.com%252Forg/bundle',
  '/example.com/org/bundle',
  '%2Fexample.com/org/bundle',
  'example.com/org/bundle%00',
  'example.com/org/bundle%00/x',
  'example.com\\org\\bundle',
  'example.com/org/bundle%5C..',
  'example.com/%c0%ae%c0%ae/org/bundle',
  'example.com/org/bundle%c0%af..',
  'example.com/org/bun%e2%80%8Bdle',
];

test('paths: traversal and encodings in the repository name of GET, HEAD, upload and DELETE URLs are 400, nothing stored or deleted', async (t) => {
  const { srv, next } = await published(t);
  const body = multipart(asParts(next));
  await assertNothingStored(srv, async () => {
    for (const repo of BAD_REPOS) {
      const urls = [
        ['GET', `/v2/${repo}/_trust/tuf/root.json`],
        ['GET', `/v2/${repo}/_trust/tuf/targets/${NAME}/in-toto-metadata/root.layout`],
        ['HEAD', `/v2/${repo}/_trust/tuf/timestamp.json`],
        ['GET', `/v2/${repo}/_trust/tuf/timestamp.key`],
        ['POST', `/v2/${repo}/_trust/tuf/`],
        ['DELETE', `/v2/${repo}/_trust/tuf/`],
      ];
      for (const [method, path] of urls) {
        const post = method === 'POST';
        const res = await rawRequest(srv, {
          method,
          path,
          headers: post ? { 'content-type': 'multipart/form-data; boundary=b' } : {},
          body: post ? body : undefined,
        });
        const what = `${method} ${path}`;
        if (method === 'HEAD') {
          assert.equal(res.status, 400, what);
          continue;
        }
        const e = assertEnvelope(res, 400, 'BAD_REQUEST', what);
        // an undecodable URL (overlong UTF-8) is refused by the router before ours sees it
        if (e.detail.part !== undefined) assert.equal(e.detail.part, 'repo', what);
      }
    }
  });
  // and the repository is still there and still takes its next release
  const ok = await postMultipart(srv, body);
  assert.equal(ok.status, 200, ok.text);
});

test('paths: traversal in GET target paths is 400 BAD_REQUEST (part path), never a file outside the repository', async (t) => {
  const { srv } = await published(t);
  const paths = [
    '..%2F..%2F..%2Fetc%2Fpasswd',
    '%2e%2e/%2e%2e/etc/passwd',
    '%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    `${NAME}/in-toto-metadata/..%2F..%2F..%2Fx`,
    `${NAME}/in-toto-metadata/%2e%2e/root.layout`,
    '%2Fetc%2Fpasswd',
    '/etc/passwd',
    'a%00b',
    `${NAME}/in-toto-metadata/root.layout%00.png`,
    'a%5C..%5Cb',
    'C:%5CWindows',
    'a/%2e/b',
    '..',
    '.',
    `${'a/'.repeat(2100)}x`,
  ];
  await assertNothingStored(srv, async () => {
    for (const p of paths) {
      const res = await rawRequest(srv, { path: `${TRUST}targets/${p}` });
      const e = assertEnvelope(res, 400, 'BAD_REQUEST', p.slice(0, 60));
      assert.equal(e.detail.part, 'path', p.slice(0, 60));
    }
    // decoded once only: a double-encoded `/` or `..` is a literal `%2F` / `%2e` name, not found
    for (const p of [
      `${NAME}%252Fin-toto-metadata%252Froot.layout`,
      `%252e%252e/${NAME}/in-toto-metadata/root.layout`,
    ])
      assertEnvelope(await rawRequest(srv, { path: `${TRUST}targets/${p}` }), 404, 'NOT_FOUND', p);
    // overlong UTF-8 cannot be decoded: 400 before any route
    for (const p of ['%c0%ae%c0%ae/x', '%e0%80%ae%e0%80%ae/x']) {
      assertEnvelope(await rawRequest(srv, { path: `${TRUST}targets/${p}` }), 400, 'BAD_REQUEST', p);
    }
  });
});

test('paths: traversal in upload part names (role file names, target file names) is UPLOAD_REFUSED MALFORMED, nothing stored', async (t) => {
  const { srv, next } = await published(t);
  const roles = [
    '../root',
    '../../root',
    'targets/../root',
    'targets/a/../../x',
    '/root',
    '/etc/passwd',
    'root\0',
    'ro\0ot',
    'targets\\x',
    '..',
    '.',
    'targets/./x',
    'targets//x',
    'targets/',
  ];
  const targets = [
    '../../etc/passwd',
    `${NAME}/in-toto-metadata/../../../x`,
    '/abs',
    'a/../b',
    'a\\b',
    'C:\\x',
    'a\0b',
    `${NAME}/in-toto-metadata/root.layout\0`,
    'a\u001bb',
    'a//b',
    './a',
    'a/.',
    'x'.repeat(4097),
  ];
  await assertNothingStored(srv, async () => {
    for (const [field, names, rule] of [
      ['files', roles, 'unknown-role'],
      ['target', targets, 'target-path'],
    ])
      for (const name of names) {
        const extra = { field, filename: name, bytes: Buffer.from('{}') };
        const res = await postMultipart(srv, multipart([...asParts(next), extra]));
        const what = `${field} part ${JSON.stringify(name.slice(0, 40))}`;
        const e = assertEnvelope(res, 400, 'UPLOAD_REFUSED', what);
        assert.equal(e.detail.code, 'MALFORMED', `${what}: ${e.message}`);
        assert.equal(e.detail.rule, rule, `${what}: ${e.message}`);
      }
  });
});
