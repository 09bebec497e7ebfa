#!/usr/bin/env node
/**
 * tuf-scale: time to add one bundle and publish in a flat repository (no delegations) with N
 * targets, and the metadata bytes a client downloads for one update. See bench/README.md,
 * section "tuf-scale".
 *
 * For each N (default 1 000, 10 000, 100 000):
 *  - fixture: a repository with N targets (root/targets/snapshot/timestamp v1 published by the
 *    library, then targets/snapshot/timestamp v2 with the N targets written directly, in the
 *    exact format the library writes, so that making the fixture does not take the time the
 *    library takes for large N);
 *  - @tufjs/models: Metadata.fromJSON and toJSON of the targets metadata alone (every library
 *    step parses and serializes it, so this is the floor of every other figure);
 *  - library: LocalRepository.open + addTarget + publish with in-memory signers (median of up
 *    to 3 runs);
 *  - CLI: whole-process `cnabsec bundle add` then `cnabsec publish` with key-store keys, and the
 *    peak RSS (VmHWM) of the publish process;
 *  - bytes: what a fresh client downloads (root + timestamp + snapshot + targets), and what an
 *    up-to-date client downloads after one new bundle (timestamp + snapshot + targets), computed
 *    from the files and measured with a counting fetcher in the unmodified tuf-js Updater;
 *  - client time, side by side: `cnabsec lookup` (whole process, fresh trust) and the unmodified
 *    tuf-js `Updater` (in process, fresh cache): refresh() + getTargetInfo();
 *  - library build of the N-target repository: one staged edit + publish.
 *
 * Every step runs in its own process group under a time budget (--step-budget, default 20 s);
 * a step over budget is killed and reported as "> budget", so the run stays within minutes.
 *
 * Usage: npm run build && node bench/tuf-scale.js [--sizes 1000,10000,100000] [--runs 3]
 *        [--step-budget 20]
 * Prints markdown tables on stdout (progress on stderr); asserts nothing.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { canonicalize } from '@tufjs/canonical-json';
import { Metadata, MetadataKind } from '@tufjs/models';
import { BaseFetcher, Updater } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';
import { KeyStore } from '../dist/crypto/index.js';
import {
  DEFAULT_EXPIRY,
  FsMetadataStore,
  LocalRepository,
  SPEC_VERSION,
  addTarget,
  expiresAfter,
  publish,
} from '../dist/tuf/index.js';

const SELF = fileURLToPath(import.meta.url);
const CLI = fileURLToPath(new URL('../dist/bin/cnabsec.cjs', import.meta.url));
const NAME = 'example.com/bench/bundle';
const PASSPHRASE = 'bench passphrase';
const ROLES = ['root', 'targets', 'snapshot', 'timestamp'];
const RAISED = { targetsMaxLength: 256 * 1024 * 1024 };

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const BUNDLE = {
  schemaVersion: 'v1.0.0',
  name: 'helloworld',
  version: '0.1.0',
  invocationImages: [{ imageType: 'docker', image: 'cnab/helloworld:0.1.0' }],
};

function targetInfo(i) {
  return {
    length: 1000 + (i % 5000),
    hashes: { sha256: createHash('sha256').update(`bundle ${i}`).digest('hex') },
  };
}

/** Paths of one size's working directory. */
function layout(work) {
  return {
    home: path.join(work, 'home'),
    repo: path.join(work, 'repo'),
    metadata: path.join(work, 'repo', 'metadata'),
    root: path.join(work, 'repo', 'metadata', '1.root.json'),
    bundle: path.join(work, 'bundle.json'),
    before: path.join(work, 'cache-before'),
  };
}

// ---- child side: one step, results as JSON lines on stdout -------------------------------------

const emit = (k, v) => process.stdout.write(JSON.stringify({ k, v }) + '\n');

async function signersOf(home) {
  const store = new KeyStore(home);
  const signers = new Map();
  for (const k of await store.list())
    signers.set(k.keyid, await store.signer(k.keyid, async () => PASSPHRASE));
  return (_role, keyid) => Promise.resolve(signers.get(keyid));
}

/** Signed metadata file bytes in the library's format: {"signatures":[...],"signed":{...}}. */
async function metadataFile(signed, signer) {
  const sig = Buffer.from(await signer.sign(Buffer.from(canonicalize(signed)))).toString('hex');
  return Buffer.from(JSON.stringify({ signatures: [{ keyid: signer.keyid, sig }], signed }));
}

/** targets, snapshot and timestamp version `v` over `targets` (field order as the library writes). */
async function topLevel(v, targets, sign, keyOf) {
  const t = new Date();
  const targetsFile = await metadataFile(
    {
      _type: 'targets',
      spec_version: SPEC_VERSION,
      version: v,
      expires: expiresAfter(t, DEFAULT_EXPIRY.targets),
      targets,
    },
    await sign('targets', keyOf.targets),
  );
  const snapshotFile = await metadataFile(
    {
      _type: 'snapshot',
      meta: { 'targets.json': { version: v } },
      spec_version: SPEC_VERSION,
      version: v,
      expires: expiresAfter(t, DEFAULT_EXPIRY.snapshot),
    },
    await sign('snapshot', keyOf.snapshot),
  );
  const timestampFile = await metadataFile(
    {
      _type: 'timestamp',
      spec_version: SPEC_VERSION,
      version: v,
      expires: expiresAfter(t, DEFAULT_EXPIRY.timestamp),
      meta: {
        'snapshot.json': {
          version: v,
          length: snapshotFile.length,
          hashes: { sha256: createHash('sha256').update(snapshotFile).digest('hex') },
        },
      },
    },
    await sign('timestamp', keyOf.timestamp),
  );
  return { targetsFile, snapshotFile, timestampFile };
}

const STEPS = {
  /** Keys, a published v1, then v2 with N targets written directly. */
  async fixture(n, L) {
    await fsp.writeFile(L.bundle, canonicalize(BUNDLE));
    const store = new KeyStore(L.home);
    const roles = {};
    const keyOf = {};
    for (const role of ROLES) {
      const info = await store.generate('ed25519', role, async () => PASSPHRASE);
      roles[role] = { keys: [info.publicKey], threshold: 1 };
      keyOf[role] = info.keyid;
    }
    const sign = await signersOf(L.home);
    const repo = await LocalRepository.create(new FsMetadataStore(L.repo), { name: NAME, roles });
    await publish(repo, { signers: sign });
    const targets = {};
    for (let i = 0; i < n; i++) targets[`${NAME}:t${i}`] = targetInfo(i);
    const v2 = await topLevel(2, targets, sign, keyOf);
    await fsp.writeFile(path.join(L.metadata, '2.targets.json'), v2.targetsFile);
    await fsp.writeFile(path.join(L.metadata, '2.snapshot.json'), v2.snapshotFile);
    await fsp.writeFile(path.join(L.metadata, 'timestamp.json'), v2.timestampFile);
    const rootBytes = (await fsp.stat(L.root)).size;
    emit('targetsBytes', v2.targetsFile.length);
    emit('freshBytes', rootBytes + v2.timestampFile.length + v2.snapshotFile.length + v2.targetsFile.length);
    // The same repository with one more bundle: what an up-to-date client then downloads.
    const bundle = Buffer.from(canonicalize(BUNDLE));
    targets[`${NAME}:cli`] = {
      length: bundle.length,
      hashes: { sha256: createHash('sha256').update(bundle).digest('hex') },
    };
    const v3 = await topLevel(3, targets, sign, keyOf);
    emit('updateBytes', v3.timestampFile.length + v3.snapshotFile.length + v3.targetsFile.length);
  },

  /** @tufjs/models alone: parse and serialize the N-target targets metadata. */
  async models(n, L) {
    const json = JSON.parse(await fsp.readFile(path.join(L.metadata, '2.targets.json'), 'utf8'));
    let t0 = now();
    const md = Metadata.fromJSON(MetadataKind.Targets, json);
    emit('modelsFromMs', now() - t0);
    t0 = now();
    md.toJSON();
    emit('modelsToMs', now() - t0);
  },

  /** Library: open + add one target + publish, up to --runs times. */
  async lib(n, L, runs) {
    const signers = await signersOf(L.home);
    for (let r = 0; r < runs; r++) {
      const t0 = now();
      const repo = await LocalRepository.open(new FsMetadataStore(L.repo));
      const t1 = now();
      emit(`lib${r}.open`, t1 - t0);
      addTarget(repo, `${NAME}:lib${r}`, targetInfo(n + r));
      const t2 = now();
      emit(`lib${r}.add`, t2 - t1);
      await publish(repo, { signers });
      emit(`lib${r}.publish`, now() - t2);
    }
  },

  /** The unmodified tuf-js Updater as a fresh client (cache: the pinned root only), up to --runs times. */
  async tufjs(n, L, runs, configName) {
    for (let r = 0; r < runs; r++) {
      const cache = await fsp.mkdtemp(path.join(path.dirname(L.repo), 'tufjs-'));
      await fsp.copyFile(L.root, path.join(cache, 'root.json'));
      const res = await tufjsLookup(L, cache, arg('target', `${NAME}:cli`), configName);
      emit(`${configName}${r}`, res);
      if (res.error !== undefined) return;
    }
  },

  /** An up-to-date tuf-js client (cache from before the CLI publish) fetching the new bundle. */
  async update(n, L, runs, configName) {
    emit(configName, await tufjsLookup(L, L.before, `${NAME}:cli`, configName));
  },

  /** Library build: N targets in one staged edit, then publish, into a new repository. */
  async build(n, L) {
    const dir = path.join(path.dirname(L.repo), 'build-repo');
    const store = new KeyStore(L.home);
    const keys = await store.list();
    const roles = {};
    for (const role of ROLES) {
      const k = keys.find((x) => x.label === role);
      roles[role] = { keys: [k.publicKey], threshold: 1 };
    }
    const signers = await signersOf(L.home);
    const t0 = now();
    const repo = await LocalRepository.create(new FsMetadataStore(dir), { name: NAME, roles });
    repo.edit('targets', (signed) => {
      for (let i = 0; i < n; i++) signed.targets[`${NAME}:t${i}`] = targetInfo(i);
    });
    const t1 = now();
    emit('buildEditMs', t1 - t0);
    await publish(repo, { signers });
    emit('buildPublishMs', now() - t1);
  },
};

/** file:// fetcher for tuf-js counting the bytes it serves; a missing file is a 404. */
class CountingFileFetcher extends BaseFetcher {
  bytes = 0;
  files = [];
  async fetch(url) {
    const file = fileURLToPath(url);
    let size;
    try {
      size = (await fsp.stat(file)).size;
    } catch {
      throw new DownloadHTTPError(`${file} not found`, 404);
    }
    this.bytes += size;
    this.files.push(path.basename(file));
    return Readable.toWeb(createReadStream(file));
  }
}

async function tufjsLookup(L, cache, target, configName) {
  const fetcher = new CountingFileFetcher();
  const updater = new Updater({
    metadataDir: cache,
    metadataBaseUrl: pathToFileURL(L.metadata).href,
    fetcher,
    ...(configName === 'raised' ? { config: RAISED } : {}),
  });
  const t0 = now();
  try {
    await updater.refresh();
    if ((await updater.getTargetInfo(target)) === undefined) throw new Error(`${target} not found`);
    return { ms: now() - t0, bytes: fetcher.bytes, files: fetcher.files };
  } catch (e) {
    return { error: `${e.constructor.name}: ${e.message}`, bytes: fetcher.bytes, files: fetcher.files };
  }
}

// ---- parent side -------------------------------------------------------------------------------

const log = (line) => process.stderr.write(`[tuf-scale] ${line}\n`);

/**
 * Run a process in its own process group under a time budget. Returns {status, ms, killed,
 * stdout, stderr, rssKb} (rssKb: peak resident set size of the process, from /proc VmHWM).
 */
function run(cmd, args, { env, budgetMs }) {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn(cmd, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let rssKb;
    let killed = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const poll = setInterval(() => {
      fsp
        .readFile(`/proc/${child.pid}/status`, 'utf8')
        .then((s) => {
          const m = /VmHWM:\s+(\d+) kB/.exec(s);
          if (m !== null) rssKb = Math.max(rssKb ?? 0, Number(m[1]));
        })
        .catch(() => undefined);
    }, 10);
    const timer = setTimeout(() => {
      killed = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, budgetMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ status, ms: now() - t0, killed, stdout, stderr, rssKb });
    });
  });
}

function childEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** Run a bench step in a child; returns {results: {k: v}, killed, ms, error}. */
async function step(name, n, work, budgetMs, extra = []) {
  log(`N=${n}: ${name} ${extra.join(' ')}`);
  const r = await run(process.execPath, [SELF, '--step', name, '--n', String(n), '--work', work, ...extra], {
    env: childEnv(),
    budgetMs,
  });
  const results = {};
  for (const line of r.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const { k, v } = JSON.parse(line);
    results[k] = v;
  }
  const error = !r.killed && r.status !== 0 ? r.stderr.trim().split('\n').slice(-3).join(' ') : undefined;
  if (error !== undefined) log(`N=${n}: ${name} failed: ${error}`);
  return { results, killed: r.killed, ms: r.ms, error };
}

/** The CLI as a child under budget. */
function cli(args, env, budgetMs) {
  return run(process.execPath, [CLI, ...args], { env: childEnv(env), budgetMs });
}

async function latest(dir, role) {
  const files = await fsp.readdir(dir);
  return files
    .map((f) => new RegExp(`^(\\d+)\\.${role}\\.json$`).exec(f))
    .filter((m) => m !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]))[0]?.[0];
}

async function measure(n, work, runs, budgetMs) {
  const L = layout(work);
  const row = { n };
  const env = { CNABSEC_HOME: L.home, CNABSEC_PASSPHRASE: PASSPHRASE, CI: 'true' };
  const over = (ms) => ({ over: ms });

  const fx = await step('fixture', n, work, Math.max(budgetMs, 120_000));
  if (fx.killed || fx.error !== undefined) throw new Error(`fixture: ${fx.error ?? 'over budget'}`);
  Object.assign(row, fx.results);

  const models = await step('models', n, work, budgetMs);
  row.modelsFrom = models.results.modelsFromMs ?? (models.killed ? over(budgetMs) : undefined);
  row.modelsTo =
    models.results.modelsToMs ??
    (models.killed
      ? models.results.modelsFromMs === undefined
        ? 'not reached'
        : over(budgetMs - models.results.modelsFromMs)
      : undefined);

  // Library: open + add + publish; runs after the first only within the same budget.
  const lib = await step('lib', n, work, budgetMs, ['--runs', String(runs)]);
  const phase = (p) =>
    Object.entries(lib.results)
      .filter(([k]) => k.endsWith(`.${p}`))
      .map(([, v]) => v);
  const done = phase('publish').length;
  const phases = ['open', 'add', 'publish'];
  row.libRuns = done;
  if (done > 0) {
    for (const p of phases) row[`lib_${p}`] = median(phase(p).slice(0, done));
    const totals = [...Array(done).keys()].map((r) =>
      phases.reduce((a, p) => a + lib.results[`lib${r}.${p}`], 0),
    );
    row.lib_total = median(totals);
  } else if (lib.killed) {
    let spent = 0;
    let reached = true;
    for (const p of phases) {
      const v = phase(p)[0];
      if (v !== undefined) {
        row[`lib_${p}`] = v;
        spent += v;
      } else {
        row[`lib_${p}`] = reached ? over(budgetMs - spent) : 'not reached';
        reached = false;
      }
    }
    row.lib_total = over(budgetMs);
  } else if (lib.error !== undefined) {
    row.lib_total = { error: lib.error };
  }

  // The cache an up-to-date client holds before the CLI publishes one more bundle.
  await fsp.mkdir(L.before, { recursive: true });
  await fsp.copyFile(L.root, path.join(L.before, 'root.json'));
  await fsp.copyFile(path.join(L.metadata, 'timestamp.json'), path.join(L.before, 'timestamp.json'));
  await fsp.copyFile(
    path.join(L.metadata, await latest(L.metadata, 'snapshot')),
    path.join(L.before, 'snapshot.json'),
  );
  await fsp.copyFile(
    path.join(L.metadata, await latest(L.metadata, 'targets')),
    path.join(L.before, 'targets.json'),
  );

  // CLI: bundle add + publish, whole process.
  log(`N=${n}: cnabsec bundle add`);
  const add = await cli(['bundle', 'add', L.repo, 'cli', '--thin', L.bundle], env, budgetMs);
  row.cliAdd = add.killed ? over(budgetMs) : add.status === 0 ? add.ms : { error: add.stderr.split('\n')[0] };
  if (add.status === 0) {
    log(`N=${n}: cnabsec publish`);
    const pub = await cli(['publish', L.repo], env, budgetMs);
    row.cliPublish = pub.killed
      ? over(budgetMs)
      : pub.status === 0
        ? pub.ms
        : { error: pub.stderr.split('\n')[0] };
    row.cliPublishRssKb = pub.rssKb;
    row.cliPublishRssPartial = pub.killed;
  } else {
    row.cliPublish = 'not run';
  }
  const published = row.cliPublish !== undefined && typeof row.cliPublish === 'number';
  const files = {};
  for (const role of ['snapshot', 'targets'])
    files[role] = (await fsp.stat(path.join(L.metadata, await latest(L.metadata, role)))).size;
  files.timestamp = (await fsp.stat(path.join(L.metadata, 'timestamp.json'))).size;
  if (published) row.updateBytesFiles = files.timestamp + files.snapshot + files.targets;

  // An up-to-date tuf-js client after the new bundle (measured bytes).
  if (published) {
    const up = await step('update', n, work, budgetMs, ['--config', 'default']);
    let r = up.results.default;
    if (r?.error !== undefined)
      r = (await step('update', n, work, budgetMs, ['--config', 'raised'])).results.raised;
    row.updateMeasured =
      r === undefined ? over(budgetMs) : r.error !== undefined ? { error: r.error } : r.bytes;
    row.updateMeasuredFiles = r?.files;
  } else {
    row.updateMeasured = 'not run';
  }

  // Fresh clients: cnabsec lookup (whole process) and the tuf-js Updater (in process), looking
  // up the new bundle (or, when the CLI did not publish it, the last fixture target).
  const target = published ? `${NAME}:cli` : `${NAME}:t${n - 1}`;
  row.clientTarget = target;
  const lookups = [];
  for (let r = 0; r < runs; r++) {
    const cenv = { ...env, CNABSEC_HOME: path.join(work, `client-${r}`) };
    const t = await cli(
      ['trust', 'add', NAME, '--root', L.root, '--url', pathToFileURL(L.metadata).href],
      cenv,
      budgetMs,
    );
    if (t.status !== 0) throw new Error(`trust add: ${t.stderr}`);
    log(`N=${n}: cnabsec lookup ${r + 1}/${runs}`);
    const l = await cli(['lookup', target], cenv, budgetMs);
    if (l.killed) {
      row.lookup = over(budgetMs);
      break;
    }
    if (l.status !== 0) {
      row.lookup = { error: l.stderr.split('\n')[0].replace(/^cnabsec: error /, '') };
      break;
    }
    lookups.push(l.ms);
  }
  if (lookups.length > 0) row.lookup = median(lookups);

  for (const cfg of ['default', 'raised']) {
    const t = await step('tufjs', n, work, budgetMs, [
      '--runs',
      String(runs),
      '--config',
      cfg,
      '--target',
      target,
    ]);
    const rs = Object.entries(t.results)
      .filter(([k]) => k.startsWith(cfg))
      .map(([, v]) => v);
    const ok = rs.filter((x) => x.error === undefined);
    const failed = rs.find((x) => x.error !== undefined);
    row[`tufjs_${cfg}`] =
      failed !== undefined
        ? { error: failed.error }
        : ok.length > 0
          ? median(ok.map((x) => x.ms))
          : t.killed
            ? over(budgetMs)
            : t.error !== undefined
              ? { error: t.error }
              : undefined;
    if (ok[0] !== undefined) row.freshFetched = ok[0].bytes;
    if (failed === undefined && cfg === 'default') {
      // Succeeded: the raised limit changes nothing. Killed: it would be killed too.
      if (ok.length === 0) row.tufjs_raised = 'not run';
      break;
    }
  }

  // Library build of the whole N-target repository (1 staged edit + publish).
  const b = await step('build', n, work, budgetMs);
  row.buildEdit = b.results.buildEditMs ?? (b.killed ? over(budgetMs) : undefined);
  row.buildPublish =
    b.results.buildPublishMs ??
    (b.killed
      ? b.results.buildEditMs === undefined
        ? 'not reached'
        : over(budgetMs - b.results.buildEditMs)
      : undefined);
  return row;
}

// ---- formatting --------------------------------------------------------------------------------

const fmtN = (n) => n.toLocaleString('en-US').replace(/,/g, ' ');
const bytes = (b) =>
  b === undefined
    ? '-'
    : b >= 1e6
      ? `${(b / 1e6).toFixed(2)} MB`
      : b >= 1e3
        ? `${(b / 1e3).toFixed(1)} kB`
        : `${b} B`;
function time(v) {
  if (v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return v < 10_000 ? `${(v / 1000).toFixed(2)} s` : `${(v / 1000).toFixed(1)} s`;
  if (v.over !== undefined) return `> ${(v.over / 1000).toFixed(0)} s (killed)`;
  if (v.error !== undefined) {
    const e = v.error.replace(/\s+/g, ' ');
    // cnabsec errors: keep the code and the wrapped tuf-js message, drop the URL in between.
    const m = /^(\[[A-Z_]+\]):.*(\(.*\))$/.exec(e);
    return `fails: ${m === null ? e.slice(0, 110) : `${m[1]} … ${m[2]}`}`;
  }
  return JSON.stringify(v);
}
const byteCell = (v) => (typeof v === 'number' ? bytes(v) : time(v));

function tables(rows, runs, budgetMs, totalMs) {
  const c = cpus();
  const out = [];
  out.push(
    `tuf-scale — flat repository, ed25519 keys, threshold 1 · node ${process.version} · ${c.length} cores (${c[0]?.model.trim()}) · ${Math.round(totalmem() / 2 ** 30)} GiB · ${new Date().toISOString().slice(0, 10)} · step budget ${budgetMs / 1000} s · total ${(totalMs / 1000).toFixed(0)} s`,
  );
  out.push('');
  out.push('Repository side: add one bundle and publish');
  out.push('');
  out.push(
    '| targets | targets.json | @tufjs/models fromJSON / toJSON of targets.json | library open | addTarget | publish | open+add+publish (median) | CLI `bundle add` | CLI `publish` | CLI publish peak RSS | library build: 1 staged edit / publish |',
  );
  out.push('|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    if (r.failed !== undefined) {
      out.push(`| ${fmtN(r.n)} | failed: ${r.failed} |  |  |  |  |  |  |  |  |  |`);
      continue;
    }
    const rss =
      r.cliPublishRssKb === undefined
        ? '-'
        : `${(r.cliPublishRssKb / 1024).toFixed(0)} MB${r.cliPublishRssPartial ? ' (when killed)' : ''}`;
    const total =
      r.lib_total === undefined
        ? '-'
        : `${time(r.lib_total)}${r.libRuns > 0 ? ` (${r.libRuns} run${r.libRuns === 1 ? '' : 's'})` : ''}`;
    out.push(
      `| ${fmtN(r.n)} | ${bytes(r.targetsBytes)} | ${time(r.modelsFrom)} / ${time(r.modelsTo)} | ${time(r.lib_open)} | ${time(r.lib_add)} | ${time(r.lib_publish)} | ${total} | ${time(r.cliAdd)} | ${time(r.cliPublish)} | ${rss} | ${time(r.buildEdit)} / ${time(r.buildPublish)} |`,
    );
  }
  out.push('');
  out.push('Client side: metadata bytes and time for one update');
  out.push('');
  out.push(
    '| targets | fresh client: root + timestamp + snapshot + targets | up-to-date client after one new bundle: timestamp + snapshot + targets (files) | same, measured in the tuf-js Updater | fresh `cnabsec lookup` (whole process) | fresh tuf-js `Updater` refresh + getTargetInfo (default config) | same, `targetsMaxLength` raised |',
  );
  out.push('|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    if (r.failed !== undefined) continue;
    const upd = r.updateBytesFiles ?? r.updateBytes;
    out.push(
      `| ${fmtN(r.n)} | ${bytes(r.freshBytes)} | ${bytes(upd)}${r.updateBytesFiles === undefined ? ' (computed)' : ''} | ${byteCell(r.updateMeasured)} | ${time(r.lookup)} | ${time(r.tufjs_default)} | ${r.tufjs_raised === undefined ? 'not needed' : time(r.tufjs_raised)} |`,
    );
  }
  out.push('');
  out.push(
    `Medians over up to ${runs} runs; "> N s (killed)": the step was stopped at its time budget. Fresh clients look up the bundle the CLI published, or the last fixture target when the CLI did not finish.`,
  );
  return out.join('\n') + '\n';
}

// ---- entry -------------------------------------------------------------------------------------

const stepName = arg('step', undefined);
if (stepName !== undefined) {
  const fn = STEPS[stepName];
  if (fn === undefined) throw new Error(`unknown step ${stepName}`);
  await fn(
    Number(arg('n', '0')),
    layout(arg('work', '.')),
    Number(arg('runs', '1')),
    arg('config', 'default'),
  );
} else {
  const sizes = arg('sizes', '1000,10000,100000').split(',').map(Number);
  const runs = Number(arg('runs', '3'));
  const budgetMs = Number(arg('step-budget', '20')) * 1000;
  const started = now();
  const rows = [];
  for (const n of sizes) {
    const work = await fsp.mkdtemp(path.join(tmpdir(), `tuf-scale-${n}-`));
    try {
      rows.push(await measure(n, work, runs, budgetMs));
    } catch (e) {
      log(`N=${n}: FAILED ${e instanceof Error ? e.stack : String(e)}`);
      rows.push({ n, failed: (e instanceof Error ? e.message : String(e)).split('\n')[0] });
    } finally {
      await fsp.rm(work, { recursive: true, force: true });
    }
    log(`N=${n}: done, ${((now() - started) / 1000).toFixed(0)} s so far`);
  }
  process.stdout.write(tables(rows, runs, budgetMs, now() - started));
}
