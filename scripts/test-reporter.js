// A compact node:test reporter for scripts/test.js: one line per test file (tests, failures,
// seconds), every failure in full where it happens, and the totals at the end. The default
// TAP output of a non-terminal run is about 190 kB for this suite, and what CI shows of a run
// is its tail; this keeps the whole run to a few kilobytes, so the failures and totals are
// always in view.
import * as path from 'node:path';

const rel = (file) => (file === undefined ? '(runner)' : path.relative(process.cwd(), file));

function errorText(error) {
  const cause = error?.cause ?? error;
  const lines = [];
  if (cause?.code !== undefined && cause.code !== 'ERR_TEST_FAILURE') lines.push(`code: ${cause.code}`);
  const text = String(cause?.stack ?? cause?.message ?? cause);
  lines.push(...text.split('\n').slice(0, 30));
  if (error?.failureType !== undefined && error.failureType !== 'testCodeFailure')
    lines.push(`(${error.failureType})`);
  return lines.map((l) => `    ${l}`).join('\n');
}

export default async function* compact(source) {
  const totals = { pass: 0, fail: 0, skip: 0, todo: 0 };
  const failures = [];
  let current;
  let stats;
  const flush = function* () {
    if (current === undefined) return;
    const mark = stats.fail > 0 ? 'FAIL' : 'ok  ';
    const extra = [
      stats.skip > 0 ? `${stats.skip} skipped` : '',
      stats.fail > 0 ? `${stats.fail} failed` : '',
    ]
      .filter(Boolean)
      .join(', ');
    yield `${mark} ${rel(current)}  ${stats.tests} tests${extra ? ` (${extra})` : ''}  ${(stats.ms / 1000).toFixed(1)} s\n`;
  };
  for await (const { type, data } of source) {
    if (type !== 'test:pass' && type !== 'test:fail' && type !== 'test:stderr') continue;
    if (data.file !== current) {
      yield* flush();
      current = data.file;
      stats = { tests: 0, fail: 0, skip: 0, ms: 0 };
    }
    if (type === 'test:stderr') {
      yield `     ${rel(data.file)}: ${String(data.message).trimEnd()}\n`;
      continue;
    }
    stats.tests += 1;
    if (data.nesting === 0) stats.ms += data.details?.duration_ms ?? 0;
    if (data.skip !== undefined) {
      stats.skip += 1;
      totals.skip += 1;
    } else if (data.todo !== undefined) totals.todo += 1;
    else if (type === 'test:pass') totals.pass += 1;
    else {
      const error = data.details?.error;
      // a parent whose subtests failed says only that; the subtest's own failure is reported
      if (error?.failureType === 'subtestsFailed') continue;
      stats.fail += 1;
      totals.fail += 1;
      const where = `${rel(data.file)} > ${data.name}`;
      failures.push(where);
      yield `\nnot ok ${where}\n${errorText(error)}\n\n`;
    }
  }
  yield* flush();
  yield `\n# tests ${totals.pass + totals.fail + totals.skip + totals.todo}\n# pass ${totals.pass}\n# fail ${totals.fail}\n# skipped ${totals.skip}\n# todo ${totals.todo}\n`;
  if (failures.length > 0) yield `\nfailed:\n${failures.map((f) => `  ${f}`).join('\n')}\n`;
}
