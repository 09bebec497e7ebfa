// Fuzz campaign driver: runs each target's cases in child processes (./worker.js) under a
// watchdog — a case that does not finish within `hangMs` or a worker whose RSS exceeds
// `rssLimit` is killed and recorded, and the campaign goes on in a fresh worker. Failing
// inputs are saved under <findingsDir>/<target>/<hash>.bin with a <hash>.json description.
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));
export const DEFAULTS = {
  seed: 1,
  slowMs: 2000,
  hangMs: 10_000,
  rssLimit: 1024 * 1024 * 1024,
  setupMs: 120_000,
  chunk: 5000,
  jobs: 1,
  findingsDir: '.fuzz-findings',
  /** Count a CnabsecError that wraps an engine error as a refusal, not a finding. */
  allowWrapped: false,
};

function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Live workers, killed if this process exits first. */
const live = new Map();
process.on('exit', () => {
  for (const [c, dir] of live) {
    c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

async function spawnWorker() {
  const dir = await mkdtemp(path.join(tmpdir(), 'cnabsec-fuzz-'));
  const child = fork(WORKER, [], {
    // The heap may grow past the RSS limit so that the watchdog, not V8, reports a blow-up.
    execArgv: ['--max-old-space-size=3072'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // in-toto inspections must not find commands on PATH if a mutation ever creates one
    env: {
      ...process.env,
      PATH: '',
      FUZZ_PATH: process.env.FUZZ_PATH ?? process.env.PATH,
      CNABSEC_HOME: path.join(dir, 'home'),
    },
  });
  live.set(child, dir);
  child.once('exit', () => live.delete(child));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    dir,
    stderr: () => stderr,
    exited,
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Run cases [from, to) of one target in one worker until done or a kill:
 * resolves {end: 'finished'} or {end: 'hang'|'memory'|'exit', i, detail}.
 */
function drive(w, job, opts, onDone) {
  return new Promise((resolve) => {
    let current;
    let lastDone;
    let timer;
    let settled = false;
    const finish = (r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poll);
      resolve(r);
    };
    const arm = (ms, what) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        w.child.kill('SIGKILL');
        finish({ end: what, i: current, detail: `no answer within ${ms} ms` });
      }, ms);
    };
    const poll = setInterval(() => {
      const rss = rssOf(w.child.pid);
      if (rss > opts.rssLimit) {
        w.child.kill('SIGKILL');
        finish({ end: 'memory', i: current, detail: `RSS ${Math.round(rss / 2 ** 20)} MiB` });
      }
    }, 50);
    w.child.on('message', (m) => {
      if (m.type === 'ready') clearTimeout(timer);
      else if (m.type === 'start') {
        current = m.i;
        arm(opts.hangMs, 'hang');
      } else if (m.type === 'done') {
        clearTimeout(timer);
        lastDone = m.i;
        current = undefined;
        onDone(m);
      } else if (m.type === 'unhandled')
        onDone({ type: 'done', i: current, out: { status: 'crash', unhandled: m.message } });
      else if (m.type === 'finished') finish({ end: 'finished' });
      else if (m.type === 'error') finish({ end: 'setup-error', i: current, detail: m.message });
    });
    w.exited.then(({ code, signal }) =>
      code === 3 && current === undefined
        ? finish({ end: 'restart', i: lastDone })
        : finish({
            end: current === undefined && lastDone === undefined ? 'setup-error' : 'exit',
            i: current ?? lastDone,
            detail: `worker exit ${code ?? signal}: ${w.stderr().slice(-600)}`,
          }),
    );
    arm(opts.setupMs, 'setup-hang');
    w.child.send({
      type: 'run',
      target: job.target,
      seed: opts.seed,
      from: job.from,
      to: job.to,
      dir: w.dir,
      slowMs: opts.slowMs,
      rssLimit: opts.rssLimit,
    });
  });
}

/** The input of case i (or of each case of a list), generated in a fresh worker (after a kill). */
export async function regenerate(target, seed, i) {
  const w = await spawnWorker();
  const list = Array.isArray(i) ? i : [i];
  const out = [];
  try {
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('regenerate timed out')), 120_000);
      w.child.on('message', (m) => {
        if (m.type === 'error') {
          clearTimeout(t);
          reject(new Error(m.message));
        } else if (m.type === 'input') {
          out.push({ label: m.label, bytes: Buffer.from(m.bytes, 'base64') });
          if (out.length === list.length) {
            clearTimeout(t);
            resolve();
          }
        }
      });
      for (const c of list) w.child.send({ type: 'gen', target, seed, i: c, dir: w.dir });
    });
    return Array.isArray(i) ? out : out[0];
  } finally {
    await w.close();
  }
}

export function newStats(target) {
  return {
    target,
    cases: 0,
    ok: 0,
    rejected: 0,
    crash: 0,
    wrapped: 0,
    slow: 0,
    hang: 0,
    memory: 0,
    abort: 0,
    signatures: new Map(),
  };
}

export function failures(s) {
  return s.crash + s.wrapped + s.slow + s.hang + s.memory + s.abort;
}

async function record(stats, opts, f) {
  const sig = f.signature;
  const entry = stats.signatures.get(sig) ?? { kind: f.kind, count: 0, first: undefined };
  entry.count++;
  stats.signatures.set(sig, entry);
  if (entry.first === undefined && f.input !== undefined) {
    entry.first = { case: f.i }; // claimed now: records of one signature may run concurrently
    const bytes = f.input.bytes;
    const hash = createHash('sha256').update(f.input.label).update(bytes).digest('hex').slice(0, 16);
    const dir = path.join(opts.findingsDir, stats.target);
    await mkdir(dir, { recursive: true });
    const base = path.join(dir, hash);
    await writeFile(`${base}.bin`, bytes);
    const info = {
      target: stats.target,
      seed: opts.seed,
      case: f.i,
      label: f.input.label,
      bytes: bytes.length,
      kind: f.kind,
      signature: sig,
      error: f.error,
      ms: f.ms,
      rss: f.rss,
      reproduce: `npm run fuzz -- --target ${stats.target} --seed ${opts.seed} --case ${f.i}`,
      replay: `npm run fuzz -- --replay ${base}.json`,
    };
    await writeFile(`${base}.json`, JSON.stringify(info, null, 2) + '\n');
    entry.first = {
      case: f.i,
      file: `${base}.bin`,
      label: f.input.label,
      bytes: bytes.length,
      error: f.error,
    };
  }
}

function outcomeOf(m, opts) {
  const o = m.out;
  if (o.status === 'harness') return { kind: 'abort', signature: o.signature, error: o.error };
  if (o.status === 'crash' || (o.status === 'wrapped' && !opts.allowWrapped)) {
    const signature = o.signature ?? `crash: unhandled rejection: ${o.unhandled}`;
    return { kind: o.status, signature, error: o.error ?? { message: o.unhandled } };
  }
  if (o.ms > opts.slowMs)
    return {
      kind: 'slow',
      signature: `slow: > ${opts.slowMs} ms (${o.status}${o.code ? ` ${o.code}` : ''})`,
      error: { message: `${Math.round(o.ms)} ms` },
    };
  if (o.rss > opts.rssLimit)
    return {
      kind: 'memory',
      signature: `memory: RSS > ${Math.round(opts.rssLimit / 2 ** 20)} MiB`,
      error: { message: `${o.rss} bytes` },
    };
  return undefined;
}

/** Run one job {target, from, to}; adds into `stats`. */
export async function runJob(job, opts, stats, log = () => {}) {
  let next = job.from;
  while (next < job.to) {
    const w = await spawnWorker();
    const pending = [];
    let r;
    try {
      r = await drive(w, { ...job, from: next }, opts, (m) => {
        stats.cases++;
        const f = outcomeOf(m, opts);
        if (f === undefined && m.out.status === 'ok') stats.ok++;
        else if (f === undefined) stats.rejected++;
        if (f !== undefined) {
          stats[f.kind]++;
          const input =
            m.input === undefined
              ? undefined
              : { label: m.input.label, bytes: Buffer.from(m.input.bytes, 'base64') };
          pending.push(record(stats, opts, { ...f, i: m.i, input, ms: m.out.ms, rss: m.out.rss }));
          log(`${stats.target} case ${m.i}: ${f.signature}`);
        }
      });
    } finally {
      await w.close();
    }
    await Promise.all(pending);
    if (r.end === 'finished') break;
    if (r.end === 'restart') {
      next = r.i + 1; // the worker left after a case that grew its RSS past the limit
      continue;
    }
    if (r.end === 'setup-error' || r.end === 'setup-hang')
      throw new Error(`${job.target}: seed setup failed: ${r.detail}`);
    // killed or died during case r.i
    stats.cases++;
    const kind = r.end === 'hang' ? 'hang' : r.end === 'memory' ? 'memory' : 'abort';
    stats[kind]++;
    const signature =
      kind === 'abort'
        ? `abort: ${normalizeDetail(r.detail)}`
        : `${kind}: ${kind === 'hang' ? `killed after ${opts.hangMs} ms` : `killed at RSS > ${Math.round(opts.rssLimit / 2 ** 20)} MiB`}`;
    log(`${stats.target} case ${r.i}: ${signature}`);
    const input = await regenerate(job.target, opts.seed, r.i).catch(() => undefined);
    await record(stats, opts, { kind, signature, i: r.i, input, error: { message: r.detail } });
    next = r.i + 1;
  }
}

function normalizeDetail(d) {
  return String(d).includes('heap out of memory')
    ? 'V8 heap out of memory'
    : String(d).split('\n')[0].slice(0, 100);
}

/**
 * A campaign: `cases` per target (or {target: n}), split into chunks run by `jobs` workers in
 * parallel. Returns the stats per target.
 */
export async function runCampaign(targets, casesPerTarget, options = {}, log) {
  const opts = { ...DEFAULTS, ...options };
  const jobs = [];
  const stats = new Map(targets.map((t) => [t, newStats(t)]));
  for (const t of targets) {
    const n = typeof casesPerTarget === 'number' ? casesPerTarget : casesPerTarget[t];
    const chunk = Math.max(1, Math.min(opts.chunk, Math.ceil(n / Math.max(1, opts.jobs))));
    for (let from = 0; from < n; from += chunk) jobs.push({ target: t, from, to: Math.min(n, from + chunk) });
  }
  const queue = [...jobs];
  const lanes = Array.from({ length: Math.max(1, opts.jobs) }, async () => {
    while (queue.length > 0) {
      const job = queue.shift();
      await runJob(job, opts, stats.get(job.target), log);
    }
  });
  await Promise.all(lanes);
  return [...stats.values()];
}

/** Summary table. */
export function table(all) {
  const head = [
    'target',
    'cases',
    'ok',
    'rejected',
    'crashes',
    'wrapped',
    'slow',
    'hangs',
    'mem',
    'aborts',
    'signatures',
  ];
  const rows = all.map((s) => [
    s.target,
    s.cases,
    s.ok,
    s.rejected,
    s.crash,
    s.wrapped,
    s.slow,
    s.hang,
    s.memory,
    s.abort,
    s.signatures.size,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) =>
    r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ');
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)].join('\n');
}
