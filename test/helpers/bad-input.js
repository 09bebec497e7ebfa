// Checks shared by the bad-input tables (test/cli/bad-input*.test.js): the real CLI in a child
// process, exit status 1 for a user error (2 for a usage error), never a stack trace or exit 70,
// exactly one error line plus a hint, nothing on stdout, and the watched directories (the
// repository, the key store, the trust store) byte-for-byte unchanged.
//
// Naming convention, read by test/cli/command-coverage.test.js: every case title is a string
// literal beginning with the command path, `'<command path>: <what is wrong>'` (e.g.
// `'intoto layout new: unknown step'`), so that the coverage test can check that every leaf
// command of `cnabsec --help` has at least one case.
import assert from 'node:assert/strict';
import { runCli, snapshotTree } from './cli.js';

/** What differs between two snapshots: `+ path`, `- path`, `~ path`. */
export function treeChanges(before, after) {
  const out = [];
  for (const [p, h] of Object.entries(after)) {
    if (!(p in before)) out.push(`+ ${p}`);
    else if (before[p] !== h) out.push(`~ ${p}`);
  }
  for (const p of Object.keys(before)) if (!(p in after)) out.push(`- ${p}`);
  return out;
}

function transcript(args, r) {
  return `cnabsec ${args.join(' ')}\n--- status ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

async function unchanged(watch, before, out) {
  for (const [i, d] of watch.entries()) {
    const changes = treeChanges(before[i], await snapshotTree(d));
    assert.deepEqual(changes, [], `nothing written under ${d}\n${out}`);
  }
}

/**
 * A user error: exit 1, `cnabsec: error [CODE]: ...` naming each of `names`, one `  hint:` line
 * (matching `hint` when given), nothing else on stderr, nothing on stdout, `watch` unchanged.
 */
export async function expectUserError({ args, env, cwd, code, names = [], watch = [], hint }) {
  const before = await Promise.all(watch.map((d) => snapshotTree(d)));
  const r = runCli(args, { env, ...(cwd === undefined ? {} : { cwd }) });
  const out = transcript(args, r);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `no stack trace\n${out}`);
  assert.equal(r.status, 1, `exit status 1 (user error)\n${out}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  const first = lines[0] ?? '';
  assert.match(first, new RegExp(`^cnabsec: error \\[${code}\\]: \\S`), out);
  for (const n of names) assert.ok(first.includes(n), `the error line names ${n}\n${out}`);
  assert.match(lines[1] ?? '', /^ {2}hint: \S/, `a hint line follows\n${out}`);
  if (hint !== undefined) assert.match(lines[1] ?? '', hint, out);
  assert.equal(lines.length, 2, `one error line and one hint line only\n${out}`);
  assert.equal(r.stdout, '', `nothing on stdout\n${out}`);
  await unchanged(watch, before, out);
  return r;
}

/**
 * A usage error: exit 2, no stack trace, nothing on stdout, at most two lines on stderr (the
 * error and where to find the usage), the first naming each of `names`; `watch` unchanged.
 */
export async function expectUsageError({ args, env, cwd, names = [], watch = [] }) {
  const before = await Promise.all(watch.map((d) => snapshotTree(d)));
  const r = runCli(args, { env, ...(cwd === undefined ? {} : { cwd }) });
  const out = transcript(args, r);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `no stack trace\n${out}`);
  assert.equal(r.status, 2, `exit status 2 (usage error)\n${out}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.ok(lines.length >= 1 && lines.length <= 2, `one error line (and a usage pointer)\n${out}`);
  for (const n of names) assert.ok(lines[0].includes(n), `the error line names ${n}\n${out}`);
  assert.equal(r.stdout, '', `nothing on stdout\n${out}`);
  await unchanged(watch, before, out);
  return r;
}
