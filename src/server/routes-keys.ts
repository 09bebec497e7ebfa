/**
 * The server-managed keys (doc 302: timestamp and snapshot keys held by the server, as Docker
 * Content Trust does; notary's `GET`/`POST /v2/<gun>/_trust/tuf/<role>.key`). GET returns the
 * role's key, created on first call (ADR 0021: GETs create keys, never metadata); POST a new
 * pending key, active only once a root listing it is uploaded. Body: the TUF key object exactly
 * as root.json's `keys` holds it (TUF spec §4.2), the key id in `X-Cnabsec-Keyid`. Never cached.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NO_STORE, type RouteContext } from './http-context.js';
import type { TrustPath } from './http-paths.js';
import type { OnlinePublicKey } from './service-types.js';

function sendKey(reply: FastifyReply, key: OnlinePublicKey): FastifyReply {
  return reply
    .code(200)
    .headers({ 'cache-control': NO_STORE, 'x-cnabsec-keyid': key.keyid })
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(key.public));
}

/** GET …/<timestamp|snapshot>.key. Creating a key is a write (notary: push and pull). */
export async function getKey(
  ctx: RouteContext,
  path: TrustPath & { kind: 'key' },
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  await ctx.authenticate(request, path.repo, 'write');
  return sendKey(reply, await ctx.service.publicKey(path.repo, path.role));
}

/** POST …/<timestamp|snapshot>.key: rotation (a new pending key); admin with tokens (ADR 0032). */
export async function rotateKey(
  ctx: RouteContext,
  path: TrustPath & { kind: 'key' },
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  await ctx.authenticate(request, path.repo, 'rotate');
  return sendKey(reply, await ctx.service.rotateKey(path.repo, path.role));
}
