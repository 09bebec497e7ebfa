/**
 * docker credential helpers (docker/docker-credential-helpers, `client.Get`): the config.json's
 * `credHelpers` / `credsStore` name a program `docker-credential-<name>` on PATH; `get` with the
 * server address on stdin prints `{"ServerURL","Username","Secret"}`, or exits non-zero with
 * "credentials not found in native keychain". The user `<token>` means the Secret is an
 * identity token (an OAuth2 refresh token), which the client only sends to a Bearer token
 * service (auth.ts), never as a Basic password.
 *
 * Run with execFile (no shell), the name checked (no path, so no `../../evil`), a 10 s timeout
 * and at most 64 KiB of output. The Secret never appears in an error.
 */
import { execFileSync } from 'node:child_process';
import { parseJsonBounded, quote } from '../util/json.js';
import { trace } from '../util/trace.js';
import { RegistryError } from './errors.js';
import type { Credentials } from './docker-config.js';

export const HELPER_TIMEOUT_MS = 10_000;
export const MAX_HELPER_OUTPUT = 64 * 1024;
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NOT_FOUND = 'credentials not found in native keychain';
/** docker-credential-helpers `credentials.tokenUsername`. */
export const IDENTITY_TOKEN_USER = '<token>';

interface HelperContext {
  /** The config.json that named the helper, for messages. */
  file: string;
  env: NodeJS.ProcessEnv;
}

function helperError(program: string, ctx: HelperContext, why: string, cause?: unknown): RegistryError {
  return new RegistryError('REGISTRY_BAD_CONFIG', `${ctx.file}: credential helper ${program}: ${why}`, {
    cause,
    details: { file: ctx.file, helper: program },
    hint: `check that ${program} is installed on PATH and works (\`echo <registry> | ${program} get\`), or remove it from credsStore/credHelpers`,
  });
}

function textOf(v: unknown): string {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : '';
}

const MISSING = Symbol('missing helper');

function run(program: string, server: string, ctx: HelperContext): string | undefined | typeof MISSING {
  try {
    return execFileSync(program, ['get'], {
      input: server,
      env: ctx.env,
      timeout: HELPER_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      maxBuffer: MAX_HELPER_OUTPUT,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stdout?: unknown; stderr?: unknown; signal?: string | null };
    // a config.json copied from Docker Desktop names a helper this machine lacks: as if it had
    // nothing, so the auths entry (or anonymous access) is used; trace says why
    if (err.code === 'ENOENT') {
      trace(() => `registry credentials: ${program} not found on PATH (${ctx.file}); using auths`);
      return MISSING;
    }
    if (err.code === 'ENOBUFS')
      throw helperError(program, ctx, `wrote more than ${MAX_HELPER_OUTPUT} bytes`, e);
    if (err.code === 'ETIMEDOUT' || err.signal === 'SIGKILL')
      throw helperError(program, ctx, `gave no answer within ${HELPER_TIMEOUT_MS / 1000} s`, e);
    const said = `${textOf(err.stdout)} ${textOf(err.stderr)}`.trim();
    if (said.toLowerCase().includes(NOT_FOUND)) return undefined;
    throw helperError(program, ctx, `failed${said === '' ? '' : `: ${quote(said, 200)}`}`, e);
  }
}

/**
 * The credentials a helper has for `server` (the registry host, or the Hub's v1 URL): undefined
 * when it has none, `'missing'` when the program is not on PATH.
 */
export function helperCredentials(
  name: string,
  server: string,
  ctx: HelperContext,
): Credentials | undefined | 'missing' {
  if (!HELPER_NAME.test(name)) {
    throw new RegistryError(
      'REGISTRY_BAD_CONFIG',
      `${ctx.file}: ${quote(name, 80)} is not a credential helper name`,
      {
        details: { file: ctx.file },
        hint: 'credsStore and credHelpers name a helper such as "pass" or "secretservice" (docker-credential-<name> on PATH)',
      },
    );
  }
  const program = `docker-credential-${name}`;
  const out = run(program, server, ctx);
  if (out === MISSING) return 'missing';
  if (out === undefined) return undefined;
  let doc: unknown;
  try {
    doc = parseJsonBounded(out, { source: program, maxBytes: MAX_HELPER_OUTPUT });
  } catch (e) {
    throw helperError(program, ctx, 'did not answer JSON', e);
  }
  const d = (doc ?? {}) as { Username?: unknown; Secret?: unknown };
  if (typeof d.Username !== 'string' || typeof d.Secret !== 'string')
    throw helperError(program, ctx, 'answered without a Username and Secret string');
  if (d.Secret === '') return undefined;
  if (d.Username === IDENTITY_TOKEN_USER)
    return { username: IDENTITY_TOKEN_USER, password: '', identityToken: d.Secret };
  if (d.Username === '') throw helperError(program, ctx, 'answered an empty Username');
  return { username: d.Username, password: d.Secret };
}
