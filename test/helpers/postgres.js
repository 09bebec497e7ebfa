// A private PostgreSQL cluster for the PostgreSQL store tests (issue 15 item 1;
// ../shared/facts/server-oci-notary.md §2): Debian's PostgreSQL 15 binaries, `initdb` and
// `pg_ctl` run as the `postgres` user (runuser when we are root) in a temp dir (0700) on a free
// 127.0.0.1 port, trust auth, fsync off (tests only). One cluster per test FILE (started on first
// use, stopped and removed after the file's last test), one fresh database per call.
//
//   const pg = await startPostgres(t);   // undefined (and t.skip with the reason) when unavailable
//   pg.url                               // postgres://postgres@127.0.0.1:PORT/t_N
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, chmodSync, chownSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { freePort } from './registry.js';

const PGBIN = process.env.CNABSEC_TEST_PGBIN ?? '/usr/lib/postgresql/15/bin';

/** Why PostgreSQL cannot run here, or undefined when it can. */
export function postgresUnavailable() {
  for (const bin of ['initdb', 'pg_ctl'])
    if (!existsSync(path.join(PGBIN, bin))) return `no ${path.join(PGBIN, bin)} (apt-get install postgresql)`;
  if (userInfo().uid === 0) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'no postgres user to run initdb as (we are root)';
    }
  }
  return undefined;
}

/** Run a PostgreSQL binary, as the postgres user when we are root. */
function runPg(bin, args) {
  const file = path.join(PGBIN, bin);
  const [cmd, argv] =
    userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  execFileSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
}

let cluster;
let dbCount = 0;

// Registered at import, so on the file's root: runs once after the file's last test.
after(async () => {
  if (cluster !== undefined) (await cluster.catch(() => undefined))?.stop();
});

async function startCluster() {
  const dir = mkdtempSync(path.join(tmpdir(), 'cnabsec-pg-'));
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const stop = () => {
    try {
      runPg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    runPg('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ]);
    const opts = `-p ${port} -k ${dir} -h 127.0.0.1 -c fsync=off -c max_connections=200`;
    runPg('pg_ctl', ['-D', data, '-l', path.join(dir, 'pg.log'), '-w', '-o', opts, 'start']);
  } catch (e) {
    stop();
    throw new Error(`PostgreSQL did not start: ${e.stderr?.toString() ?? e.message}`);
  }
  return { port, dir, stop, base: `postgres://postgres@127.0.0.1:${port}` };
}

/**
 * A fresh database on this file's cluster: { url, port, dir, stop } (stop: the cluster's, for
 * tests that need PostgreSQL gone). Skips `t` with the reason, and returns undefined, where
 * PostgreSQL cannot run.
 */
export async function startPostgres(t) {
  const why = postgresUnavailable();
  if (why !== undefined) {
    t.skip(`PostgreSQL not available: ${why}`);
    return undefined;
  }
  cluster ??= startCluster();
  const c = await cluster;
  const name = `t_${process.pid}_${++dbCount}`;
  const admin = new pg.Client({ connectionString: `${c.base}/postgres` });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return { url: `${c.base}/${name}`, port: c.port, dir: c.dir, stop: c.stop };
}
