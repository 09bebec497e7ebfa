// The online backup of the server's database (src/server/backup.ts): a consistent copy that
// includes what is still only in the WAL (which a plain file copy misses), a single 0600 file,
// never overwriting, and one-line STORE_IO errors naming the paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readdir, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { backupDatabase } from '../../dist/server/backup.js';
import { tempDir } from '../helpers/tmp.js';

/** A WAL database with `rows` rows that are all still in the WAL (no checkpoint), kept open. */
function walDatabase(t, file, rows) {
  const db = new Database(file);
  t.after(() => db.close());
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE meta (id INTEGER PRIMARY KEY, data BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO meta (data) VALUES (?)');
  for (let i = 0; i < rows; i++) insert.run(Buffer.alloc(100, i));
  return db;
}

const count = (file) => {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) AS n FROM meta').get().n;
  } finally {
    db.close();
  }
};

test('backup: the copy holds what is only in the WAL, is one 0600 file, and passes its check', async (t) => {
  const dir = await tempDir(t);
  const db = path.join(dir, 'cnabsec.db');
  const live = walDatabase(t, db, 50);
  // why not cp: the main file alone does not have the rows yet
  await copyFile(db, path.join(dir, 'plain-copy.db'));
  assert.throws(() => count(path.join(dir, 'plain-copy.db')), /no such table/);
  const out = path.join(dir, 'backup.db');
  const r = await backupDatabase(db, out);
  assert.deepEqual(r, { db, out, bytes: (await stat(out)).size });
  assert.equal(count(out), 50);
  assert.equal((await stat(out)).mode & 0o777, 0o600);
  // the writer goes on; the backup is the state at its time
  live.prepare('INSERT INTO meta (data) VALUES (?)').run(Buffer.from('later'));
  assert.equal(count(out), 50);
  const files = (await readdir(dir)).filter((f) => f.startsWith('backup'));
  assert.deepEqual(files, ['backup.db'], 'no WAL, journal or temporary file left next to the copy');
});

test('backup: never overwrites; a missing database is STORE_IO naming it; nothing is left behind', async (t) => {
  const dir = await tempDir(t);
  const db = path.join(dir, 'cnabsec.db');
  walDatabase(t, db, 1);
  const out = path.join(dir, 'old-backup.db');
  await writeFile(out, 'precious');
  await assert.rejects(backupDatabase(db, out), (e) => {
    assert.equal(e.code, 'STORE_IO');
    assert.match(e.message, /old-backup\.db: already exists; a backup never overwrites/);
    return true;
  });
  const missing = path.join(dir, 'nope.db');
  await assert.rejects(backupDatabase(missing, path.join(dir, 'b.db')), (e) => {
    assert.equal(e.code, 'STORE_IO');
    assert.equal(e.message, `${missing}: no such database`);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
  await assert.rejects(backupDatabase(db, path.join(dir, 'no-such-dir', 'b.db')), { code: 'STORE_IO' });
  assert.deepEqual((await readdir(dir)).sort(), [
    'cnabsec.db',
    'cnabsec.db-shm',
    'cnabsec.db-wal',
    'old-backup.db',
  ]);
});
