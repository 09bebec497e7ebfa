/**
 * PostgreSQL URLs and driver errors for ./pg-store.ts and ./pg-online-keys.ts (ADR 0031): the
 * password of a URL never reaches a log or a message (`redactUrl`); `pg` errors become the
 * TrustStore port's codes (unique violation: VERSION_CONFLICT; lock timeout, serialization
 * failure, deadlock, cancel: STORE_BUSY; everything else from the driver: STORE_IO).
 */
import pg from 'pg';
import { ServerError } from './errors.js';

/** The URL with its password replaced, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

/** Whether `db` names a PostgreSQL database (else it is a SQLite file path). */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

export function storeIo(message: string, cause: unknown): ServerError {
  return new ServerError('STORE_IO', message, {
    cause,
    hint: 'check the PostgreSQL URL, that the database server runs and accepts this user',
  });
}

/** A driver error as the port's codes; ServerErrors and programming errors pass through. */
export function mapPgError(e: unknown, what: string): unknown {
  if (e instanceof ServerError) return e;
  if (e instanceof pg.DatabaseError) {
    const code = e.code ?? '';
    if (code === '23505')
      return new ServerError('VERSION_CONFLICT', `${what}: that version is already stored`, {
        cause: e,
        hint: 'someone published first: pull the current state and retry',
      });
    if (code === '55P03' || code === '40001' || code === '40P01' || code === '57014')
      return new ServerError('STORE_BUSY', `${what}: the repository is locked by another writer`, {
        cause: e,
        hint: 'retry in a moment',
      });
    return storeIo(`${what}: ${e.message} (${code})`, e);
  }
  if (e instanceof Error && ('code' in e || /connect|terminat|timeout/i.test(e.message)))
    return storeIo(`${what}: ${e.message}`, e);
  return e;
}
