// src/cli/output.ts with --json (docs/cli-json.md rules 1, 3 and 7): an action prints one
// document when it ends, its warnings added as `warnings`; an error replaces the result; the
// error object has no JS class name; an internal error is a JSON document too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printJson, runAction, warn } from '../../dist/cli/output.js';
import { CnabsecError } from '../../dist/errors.js';
import { TufError } from '../../dist/tuf/errors.js';

/** Run `fn` with stdout and stderr captured; returns {stdout, stderr, exitCode}. */
async function captured(fn) {
  const out = { stdout: '', stderr: '' };
  const write = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = (s) => ((out.stdout += s), true);
  process.stderr.write = (s) => ((out.stderr += s), true);
  const exitCode = process.exitCode;
  try {
    await fn();
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
  }
  const code = process.exitCode;
  process.exitCode = exitCode;
  return { ...out, exitCode: code };
}

test('--json: the document is printed once the action ended, with the warnings given after it', async () => {
  const r = await captured(() =>
    runAction(async () => {
      printJson({ role: 'targets' });
      warn('targets v2 expires in 1d');
      warn('targets v2 expires in 1d');
      warn('snapshot v3 expires in 1h');
    })({ json: true }),
  );
  assert.deepEqual(JSON.parse(r.stdout), {
    role: 'targets',
    warnings: ['targets v2 expires in 1d', 'snapshot v3 expires in 1h'],
  });
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('cnabsec: warning: ')).length, 3);
  assert.equal(r.exitCode, undefined);
});

test('--json: no warnings, no `warnings` key; without --json the warning is on stderr only', async () => {
  const quiet = await captured(() => runAction(async () => printJson({ a: 1 }))({ json: true }));
  assert.deepEqual(JSON.parse(quiet.stdout), { a: 1 });
  const human = await captured(() => runAction(async () => warn('w'))({}));
  assert.equal(human.stdout, '');
  assert.equal(human.stderr, 'cnabsec: warning: w\n');
});

test('--json: an error after the result replaces it: one error document, with the warnings so far', async () => {
  const r = await captured(() =>
    runAction(async () => {
      printJson({ published: [] });
      warn('near expiry');
      throw new TufError('THRESHOLD_NOT_MET', 'targets: 1/2 valid signatures', {
        hint: 'sign with another key',
        cause: new TufError('BAD_SIGNATURE', 'inner'),
      });
    })({ json: true }),
  );
  assert.deepEqual(JSON.parse(r.stdout), {
    error: {
      code: 'THRESHOLD_NOT_MET',
      message: 'targets: 1/2 valid signatures',
      hint: 'sign with another key',
      cause: { code: 'BAD_SIGNATURE', message: 'inner' },
    },
    warnings: ['near expiry'],
  });
  assert.equal(r.exitCode, 1);
});

test('--json: a second document in one action is a bug: exit 70 and an INTERNAL error document', async () => {
  const r = await captured(() =>
    runAction(async () => {
      printJson({ a: 1 });
      printJson({ b: 2 });
    })({ json: true }),
  );
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(doc), ['error']);
  assert.equal(doc.error.code, 'INTERNAL');
  assert.match(doc.error.message, /^internal error \(please report\): printJson/);
  assert.equal(r.exitCode, 70);
  assert.match(r.stderr, /internal error/, 'the stack goes to stderr for the report');
});

test('CnabsecError.toJSON: code, message, hint, details, cause; never the class name', () => {
  const e = new TufError('ROLE_UNKNOWN', 'no role x', {
    details: { role: 'x' },
    cause: new TypeError('bad'),
  });
  assert.deepEqual(e.toJSON(), {
    code: 'ROLE_UNKNOWN',
    message: 'no role x',
    details: { role: 'x' },
    cause: { message: 'bad' },
  });
  assert.deepEqual(new CnabsecError('X', 'm', { cause: 'why' }).toJSON().cause, { message: 'why' });
  assert.deepEqual(new CnabsecError('X', 'm', { cause: { a: 1 } }).toJSON().cause, { message: '{"a":1}' });
  assert.deepEqual(new CnabsecError('X', 'm', { cause: 10n }).toJSON().cause, { message: 'bigint' });
  assert.ok(!JSON.stringify(e.toJSON()).includes('Error'));
});
