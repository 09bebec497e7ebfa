// Run every test/**/*.test.js with node:test (Node 20's --test does not expand globs).
// Extra arguments are passed to node --test (e.g. --test-name-pattern, --test-reporter=tap).
//
// Bounded in time, so that a hang is a named failure rather than a CI run that never ends
// (one CI run on a fresh machine stopped reporting and was killed at 90 minutes):
// - every test has a timeout (--test-timeout, CNABSEC_TEST_TIMEOUT_S, default 240 s);
// - a watchdog kills a test file (and every process it started) that runs longer than
//   CNABSEC_TEST_FILE_LIMIT_S (default 600 s), after printing what it was running, so the
//   runner reports that file as failed and goes on with the others.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../test', import.meta.url));
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
const seconds = (name, dflt) => {
  const v = Number(process.env[name] ?? dflt);
  return Number.isInteger(v) && v > 0 ? v : dflt;
};
const TEST_TIMEOUT_S = seconds('CNABSEC_TEST_TIMEOUT_S', 240);
const FILE_LIMIT_S = seconds('CNABSEC_TEST_FILE_LIMIT_S', 600);

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return d.name === 'fixtures' ? [] : find(p);
    return d.name.endsWith('.test.js') ? [p] : [];
  });
}

const files = find(root)
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

/** Every process on the machine: pid → { ppid, args } (Linux /proc; empty elsewhere). */
function processes() {
  const out = new Map();
  let entries = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.set(Number(pid), { ppid, args });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

function descendants(all, pid) {
  const found = [];
  for (const [p, info] of all) if (info.ppid === pid) found.push(p, ...descendants(all, p));
  return found;
}

// The compact reporter (scripts/test-reporter.js) unless the caller chose one (--test-reporter=tap).
const reporter = flags.some((f) => f.startsWith('--test-reporter'))
  ? []
  : [
      `--test-reporter=${fileURLToPath(new URL('./test-reporter.js', import.meta.url))}`,
      '--test-reporter-destination=stdout',
    ];
const child = spawn(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    `--test-timeout=${TEST_TIMEOUT_S * 1000}`,
    ...reporter,
    ...flags,
    ...files,
  ],
  { stdio: 'inherit' },
);

const firstSeen = new Map();
const watchdog = setInterval(() => {
  const all = processes();
  const now = Date.now();
  for (const pid of descendants(all, child.pid)) {
    const info = all.get(pid);
    const file = info?.args.find((a) => a.endsWith('.test.js'));
    if (info === undefined || file === undefined || info.ppid !== child.pid) continue;
    const key = `${pid} ${file}`;
    if (!firstSeen.has(key)) firstSeen.set(key, now);
    if (now - firstSeen.get(key) < FILE_LIMIT_S * 1000) continue;
    const tree = [pid, ...descendants(all, pid)];
    console.error(
      `\ntest watchdog: ${path.relative(process.cwd(), file)} ran for more than ${FILE_LIMIT_S} s; killing it`,
    );
    for (const p of tree) console.error(`  ${p}: ${(all.get(p)?.args ?? []).join(' ').slice(0, 300)}`);
    for (const p of tree.reverse()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    firstSeen.delete(key);
  }
}, 5000);
watchdog.unref();

child.on('exit', (code) => {
  clearInterval(watchdog);
  process.exit(code ?? 1);
});
