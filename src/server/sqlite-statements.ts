/**
 * The prepared statements of ./sqlite-store.ts over the schema of ./sqlite-schema.ts, typed.
 * "Current" is the highest stored version of a role (the primary key's index answers it).
 */
import type Database from 'better-sqlite3';

export interface MetaRow {
  role: string;
  version: number;
  sha256: string;
  data: Buffer;
  created_at: number;
  expires_at: number | null;
}

export interface TargetRow {
  path: string;
  sha256: string;
  data: Buffer;
  created_at: number;
}

export interface ExpiringRow {
  repo: string;
  role: string;
  version: number;
  expires_at: number;
}

const COLUMNS = 'role, version, sha256, data, created_at, expires_at';

export class SqliteStatements {
  readonly current: Database.Statement<[string, string], MetaRow>;
  readonly byVersion: Database.Statement<[string, string, number], MetaRow>;
  readonly byChecksum: Database.Statement<[string, string, string], MetaRow>;
  readonly currentAll: Database.Statement<[string, string], MetaRow>;
  readonly maxVersion: Database.Statement<[string, string], { v: number }>;
  readonly versions: Database.Statement<[string], { role: string; v: number }>;
  readonly insertMeta: Database.Statement<[string, string, number, string, Buffer, number | null, number]>;
  readonly targetLatest: Database.Statement<[string, string], TargetRow>;
  readonly targetByChecksum: Database.Statement<[string, string, string], TargetRow>;
  readonly deleteTarget: Database.Statement<[string, string, string]>;
  readonly insertTarget: Database.Statement<[string, string, string, Buffer, number]>;
  readonly deleteMetas: Database.Statement<[string]>;
  readonly deleteTargets: Database.Statement<[string]>;
  readonly expiring: Database.Statement<[number, number], ExpiringRow>;

  constructor(db: Database.Database) {
    this.current = db.prepare(
      `SELECT ${COLUMNS} FROM tuf_files WHERE repo = ? AND role = ? ORDER BY version DESC LIMIT 1`,
    );
    this.byVersion = db.prepare(
      `SELECT ${COLUMNS} FROM tuf_files WHERE repo = ? AND role = ? AND version = ?`,
    );
    // Several versions may share bytes only in theory (the version is signed): the newest wins.
    this.byChecksum = db.prepare(
      `SELECT ${COLUMNS} FROM tuf_files WHERE repo = ? AND role = ? AND sha256 = ? ORDER BY version DESC LIMIT 1`,
    );
    this.currentAll = db.prepare(
      `SELECT ${COLUMNS} FROM tuf_files f WHERE repo = ? AND version =
         (SELECT MAX(version) FROM tuf_files g WHERE g.repo = ? AND g.role = f.role) ORDER BY role`,
    );
    this.maxVersion = db.prepare('SELECT MAX(version) AS v FROM tuf_files WHERE repo = ? AND role = ?');
    this.versions = db.prepare('SELECT role, MAX(version) AS v FROM tuf_files WHERE repo = ? GROUP BY role');
    this.insertMeta = db.prepare(
      'INSERT INTO tuf_files (repo, role, version, sha256, data, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.targetLatest = db.prepare(
      'SELECT path, sha256, data, created_at FROM target_files WHERE repo = ? AND path = ? ORDER BY id DESC LIMIT 1',
    );
    this.targetByChecksum = db.prepare(
      'SELECT path, sha256, data, created_at FROM target_files WHERE repo = ? AND path = ? AND sha256 = ?',
    );
    this.deleteTarget = db.prepare('DELETE FROM target_files WHERE repo = ? AND path = ? AND sha256 = ?');
    this.insertTarget = db.prepare(
      'INSERT INTO target_files (repo, path, sha256, data, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.deleteMetas = db.prepare('DELETE FROM tuf_files WHERE repo = ?');
    this.deleteTargets = db.prepare('DELETE FROM target_files WHERE repo = ?');
    this.expiring = db.prepare(
      `SELECT repo, role, version, expires_at FROM tuf_files f WHERE expires_at IS NOT NULL AND expires_at < ?
         AND version = (SELECT MAX(version) FROM tuf_files g WHERE g.repo = f.repo AND g.role = f.role)
       ORDER BY expires_at, repo, role LIMIT ?`,
    );
  }
}
