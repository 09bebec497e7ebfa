// Malformed uploads (issue 15 item 5) against the real stack: multipart that is not
// multipart (no boundary, unterminated, cut mid-part), too many parts or fields, headers too
// large; roles that are not JSON as TUF signs it (truncated, a BOM, NaN, 1e400, nesting 10,000
// deep, a huge string, trailing bytes) and roles with duplicate keys, refused (MALFORMED
// `duplicate-key`) because a signature over ambiguous JSON means one thing here and another to
// a client whose parser keeps the first key. Each is refused with its code and stores nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NAME } from '../../helpers/sim.js';
import { forge, roleSigners } from '../../helpers/upload.js';
import { MultipartFraming, boundaryOf } from '../../../dist/server/http-multipart.js';
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

/** `parts` with the `targets` part's bytes replaced. */
const withTargets = (parts, bytes) =>
  parts.map((p) => (p.filename === 'targets' ? { ...p, bytes: Buffer.from(bytes) } : p));

test('malformed JSON in a role: each is UPLOAD_REFUSED MALFORMED with its rule, nothing stored', async (t) => {
  const { srv, next } = await published(t);
  const parts = asParts(next);
  const tb = parts.find((p) => p.filename === 'targets').bytes.toString('utf8');
  const setVersion = (v) => tb.replace(/"version":\s*\d+/, `"version": ${v}`);
  const cases = [
    ['truncated', tb.slice(0, -5), 'json'],
    ['a byte order mark', `\ufeff${tb}`, 'json'],
    ['NaN', setVersion('NaN'), 'json'],
    ['Infinity', setVersion('Infinity'), 'json'],
    ['1e400', setVersion('1e400'), 'integers-only'],
    ['a fraction', setVersion('2.5'), 'integers-only'],
    ['an unsafe integer', setVersion('9007199254740993'), 'integers-only'],
    ['arrays nested 10,000 deep', `${'['.repeat(10_000)}${']'.repeat(10_000)}`, 'json'],
    ['objects nested 10,000 deep', `{"signed":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_001)}`, 'json'],
    [
      'a huge string',
      JSON.stringify({ signed: { _type: 'targets', x: 'a'.repeat(900_000) }, signatures: [] }),
      'shape',
    ],
    ['empty', '', 'json'],
    ['a trailing NUL', `${tb}\0`, 'json'],
    ['a second document', `${tb} {}`, 'json'],
    ['not an object', '[1,2,3]', 'shape'],
    ['a string', '"targets"', 'shape'],
  ];
  await assertNothingStored(srv, async () => {
    for (const [what, bytes, rule] of cases) {
      const e = assertEnvelope(
        await postMultipart(srv, multipart(withTargets(parts, bytes))),
        400,
        'UPLOAD_REFUSED',
        what,
      );
      assert.equal(e.detail.code, 'MALFORMED', `${what}: ${e.message}`);
      assert.equal(e.detail.role, 'targets', what);
      assert.equal(e.detail.rule, rule, `${what}: ${e.message}`);
    }
  });
});

test('duplicate JSON keys in a role, even correctly signed, are UPLOAD_REFUSED MALFORMED duplicate-key, nothing stored', async (t) => {
  const { srv, sim, next } = await published(t);
  const parts = asParts(next);
  const tb = parts.find((p) => p.filename === 'targets').bytes.toString('utf8');
  const v = Number(/"version":\s*(\d+)/.exec(tb)[1]);
  // correctly signed over what JSON.parse sees (the last key), so only the duplicate is wrong
  const signedDup = async (mutate, dup) => {
    const bytes = (await forge(Buffer.from(tb), mutate, roleSigners(sim, 'targets'))).toString('utf8');
    return dup(bytes);
  };
  const cases = [
    [
      'version twice in signed',
      tb.replace(/"version":\s*(\d+)/, `"version": ${v - 1}, "version": ${v}`),
      'version',
    ],
    ['signed twice', tb.replace(/^\{/, '{"signed": {"_type": "targets"},'), 'signed'],
    ['signatures twice', tb.replace(/^\{/, '{"signatures": [],'), 'signatures'],
    [
      'an escaped duplicate (ver\\u0073ion)',
      await signedDup(
        () => {},
        (b) => b.replace(/"version":\s*(\d+)/, (m) => `"ver\\u0073ion": ${v + 7}, ${m}`),
      ),
      'version',
    ],
    [
      'a duplicate target name',
      await signedDup(
        (s) => (s.targets['x'] = { length: 1, hashes: { sha256: 'ab'.repeat(32) } }),
        (b) => b.replace('"x":', '"x":{"length":2,"hashes":{"sha256":"' + 'cd'.repeat(32) + '"}},"x":'),
      ),
      'x',
    ],
  ];
  await assertNothingStored(srv, async () => {
    for (const [what, bytes, key] of cases) {
      const e = assertEnvelope(
        await postMultipart(srv, multipart(withTargets(parts, bytes))),
        400,
        'UPLOAD_REFUSED',
        what,
      );
      assert.equal(e.detail.code, 'MALFORMED', `${what}: ${e.message}`);
      assert.equal(e.detail.rule, 'duplicate-key', `${what}: ${e.message}`);
      assert.match(e.message, new RegExp(`"${key}" appears twice`), what);
    }
  });
  // the same release without the duplicates is accepted
  const ok = await postMultipart(srv, multipart(parts));
  assert.equal(ok.status, 200, ok.text);
});

test('malformed multipart: no boundary, unterminated, cut mid-part, too many parts, fields, huge request headers; nothing stored', async (t) => {
  const { srv, next } = await published(t);
  const parts = asParts(next);
  const body = multipart(parts);
  const post = (headers, b) => rawRequest(srv, { method: 'POST', path: TRUST, headers, body: b });
  const many = Array.from({ length: 10_001 }, (_, i) => ({
    field: 'target',
    filename: `p/${i}`,
    bytes: 'x',
  }));
  const fields = [{ field: 'f', bytes: 'x', headers: '' }];
  const cases = [
    ['no boundary', () => post({ 'content-type': 'multipart/form-data' }, body), 400, 'BAD_REQUEST'],
    [
      'an empty boundary',
      () => post({ 'content-type': 'multipart/form-data; boundary=' }, body),
      400,
      'BAD_REQUEST',
    ],
    [
      'another boundary',
      () => post({ 'content-type': 'multipart/form-data; boundary=zz' }, body),
      400,
      'BAD_REQUEST',
    ],
    ['unterminated', () => postMultipart(srv, multipart(parts, { end: false })), 400, 'BAD_REQUEST'],
    ['cut mid-part', () => postMultipart(srv, body.subarray(0, body.length - 40)), 400, 'BAD_REQUEST'],
    ['an empty body', () => postMultipart(srv, Buffer.alloc(0)), 400, 'UPLOAD_REFUSED'],
    ['10,001 parts', () => postMultipart(srv, multipart([...parts, ...many])), 413, 'TOO_LARGE'],
    ['a field part', () => postMultipart(srv, multipart([...fields, ...parts])), 400, 'BAD_REQUEST'],
    [
      'a part after the closing boundary',
      () => postMultipart(srv, Buffer.concat([body, multipart(parts.slice(0, 1))])),
      400,
      'BAD_REQUEST',
    ],
    [
      'text after the closing boundary',
      () => postMultipart(srv, Buffer.concat([body, Buffer.from('x')])),
      400,
      'BAD_REQUEST',
    ],
    [
      'a part header of 100 KB',
      () =>
        postMultipart(
          srv,
          multipart([{ ...parts[0], headers: `X-A: ${'a'.repeat(100_000)}\r\n` }, ...parts.slice(1)]),
        ),
      400,
      'BAD_REQUEST',
    ],
    [
      '500 part header lines',
      () =>
        postMultipart(
          srv,
          multipart([{ ...parts[0], headers: 'X-A: 1\r\n'.repeat(500) }, ...parts.slice(1)]),
        ),
      400,
      'BAD_REQUEST',
    ],
    [
      'request headers of 70 KB',
      () => post({ 'content-type': 'multipart/form-data; boundary=b', 'x-big': 'a'.repeat(70_000) }, body),
      431,
      'TOO_LARGE',
    ],
    [
      'a content-length far above the body limit',
      () =>
        post(
          { 'content-type': 'multipart/form-data; boundary=b', 'content-length': String(1 << 30) },
          body.subarray(0, 10),
        ),
      413,
      'TOO_LARGE',
    ],
  ];
  await assertNothingStored(srv, async () => {
    for (const [what, send, status, code] of cases) assertEnvelope(await send(), status, code, what);
  });
  // the epilogue may hold line breaks (some clients end with CRLF): accepted
  const ok = await postMultipart(srv, Buffer.concat([body, Buffer.from('\r\n')]));
  assert.equal(ok.status, 200, ok.text);
});

test('multipart framing: the same verdict however the body is cut into chunks', () => {
  const parts = [
    { field: 'files', filename: 'root', bytes: Buffer.from('\r\n--c\r-\r\n--x{}\r\n-') },
    { field: 'target', filename: 'a/b', bytes: Buffer.from([13, 10, 45, 45, 99, 13, 13, 10]) },
  ];
  const good = multipart(parts);
  const bodies = [
    [good, undefined],
    [Buffer.concat([good, Buffer.from('\r\n \t\r\n')]), undefined],
    [Buffer.concat([good, Buffer.from('--b\r\n')]), /after the closing boundary/],
    [multipart([{ ...parts[0], headers: `X: ${'a'.repeat(9000)}\r\n` }]), /above 8192 bytes/],
    [multipart([{ ...parts[0], headers: 'X: 1\r\n'.repeat(40) }]), /above 32 lines/],
  ];
  for (const [body, verdict] of bodies)
    for (const size of [1, 2, 3, 7, body.length]) {
      const f = new MultipartFraming('b');
      for (let i = 0; i < body.length; i += size) f.feed(body.subarray(i, i + size));
      if (verdict === undefined) assert.equal(f.problem, undefined, `chunks of ${size}`);
      else assert.match(f.problem ?? '', verdict, `chunks of ${size}`);
    }
  assert.equal(boundaryOf('multipart/form-data; boundary="a b"'), 'a b');
  assert.equal(boundaryOf('multipart/form-data; boundary=xyz; charset=utf-8'), 'xyz');
  assert.equal(boundaryOf('multipart/form-data'), undefined);
});
