// A real docker-registry 2.8 (Debian's /usr/bin/docker-registry, scripts/install-peers.sh) for
// the registry client tests: filesystem storage in a temp dir, 127.0.0.1 on a free port,
// deletes enabled, and auth none, basic (a bcrypt htpasswd file) or token (a token issuer of
// ours on 127.0.0.1: ES256 JWTs with an x5c certificate the registry trusts, as
// ../shared/facts/server-oci-notary.md §3 describes). Stopped by the test (t.after).
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import { sign, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './tmp.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
const SERVICE = 'cnabsec-test-registry';
const ISSUER = 'cnabsec-test-issuer';

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export async function freePort() {
  const s = netServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** Parse `repository:name:a,b` scopes (the name may hold ':' only in a host, not here). */
function parseScope(scope) {
  const parts = scope.split(':');
  if (parts.length < 3) return undefined;
  return { type: parts[0], name: parts.slice(1, -1).join(':'), actions: parts.at(-1).split(',') };
}

/**
 * The token issuer: GET /token?service=&scope=…  with Basic credentials (or none: anonymous,
 * granted nothing). Grants a known user every action asked for. Records each request's scopes.
 */
async function startTokenIssuer(t, dir, credentials) {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      '/CN=cnabsec-test-issuer',
      '-days',
      '2',
      '-keyout',
      path.join(dir, 'tok.key'),
      '-out',
      path.join(dir, 'tok.crt'),
    ],
    { stdio: 'ignore' },
  );
  const key = readFileSync(path.join(dir, 'tok.key'));
  const pem = readFileSync(path.join(dir, 'tok.crt'), 'utf8');
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const requests = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const scopes = url.searchParams.getAll('scope');
    const auth = req.headers.authorization;
    const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    requests.push({ scopes, service: url.searchParams.get('service'), authorized: auth === expected });
    if (auth !== undefined && auth !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access =
      auth === undefined
        ? []
        : scopes
            .flatMap((s) => s.split(' '))
            .map(parseScope)
            .filter(Boolean);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [der.toString('base64')] };
    const claims = {
      iss: ISSUER,
      sub: auth === undefined ? '' : credentials.username,
      aud: SERVICE,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const data = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' });
    const token = `${data}.${b64url(sig)}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
    );
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return {
    url: `http://127.0.0.1:${server.address().port}/token`,
    requests,
    cert: path.join(dir, 'tok.crt'),
  };
}

function configYaml(dir, port, auth) {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: not-a-secret-test-only',
  ];
  if (auth !== undefined) lines.push('auth:', ...auth.map((l) => `  ${l}`));
  return `${lines.join('\n')}\n`;
}

async function waitUntilUp(url, child, output) {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null)
      throw new Error(`docker-registry exited (${child.exitCode}): ${output.join('')}`);
    try {
      const r = await fetch(`${url}/v2/`);
      await r.body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`docker-registry did not answer on ${url}: ${output.join('')}`);
}

/**
 * Start a docker-registry. Returns {url, host, storageDir, credentials, tokenRequests, close}:
 * `host` is `127.0.0.1:<port>` (the registry name to give the client, with insecure: true),
 * `credentials` {username, password} for basic and token auth, `tokenRequests` what the token
 * issuer was asked (token auth only).
 */
export async function startRegistry(t, { auth = 'none' } = {}) {
  const dir = await tempDir(t, 'cnabsec-registry-');
  const port = await freePort();
  const credentials = auth === 'none' ? undefined : { username: 'alice', password: 's3cret' };
  let authYaml;
  let tokenRequests;
  if (auth === 'basic') {
    const line = execFileSync('htpasswd', ['-Bbn', credentials.username, credentials.password], {
      encoding: 'utf8',
    });
    writeFileSync(path.join(dir, 'htpasswd'), line);
    authYaml = ['htpasswd:', '  realm: cnabsec-test', `  path: ${path.join(dir, 'htpasswd')}`];
  } else if (auth === 'token') {
    const issuer = await startTokenIssuer(t, dir, credentials);
    tokenRequests = issuer.requests;
    authYaml = [
      'token:',
      `  realm: ${issuer.url}`,
      `  service: ${SERVICE}`,
      `  issuer: ${ISSUER}`,
      `  rootcertbundle: ${issuer.cert}`,
    ];
  }
  const configFile = path.join(dir, 'config.yml');
  writeFileSync(configFile, configYaml(dir, port, authYaml));
  const child = spawn(REGISTRY_BIN, ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  const keep = (d) => output.length < 50 && output.push(String(d));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  t.after(close);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(url, child, output);
  return {
    url,
    host: `127.0.0.1:${port}`,
    storageDir: path.join(dir, 'data'),
    credentials,
    tokenRequests,
    close,
  };
}

/** The file docker-registry keeps a blob's bytes in (filesystem driver layout). */
export function blobDataPath(storageDir, digest) {
  const hex = digest.slice('sha256:'.length);
  return path.join(storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}
