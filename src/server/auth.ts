/**
 * The default Authenticator (app-types.ts): it reads `Authorization: Bearer <token>` (RFC 6750
 * §2.1) and accepts every caller (issue 13 item 5: "accept and ignore it for now, but keep the
 * header path real"); issue 15 replaces it with its token scheme. A header that is present but
 * not `Bearer <token68>` is refused with UNAUTHORIZED (401, `WWW-Authenticate: Bearer`), so
 * clients learn the format now. The token is never logged nor put in an error.
 */
import type { Authenticator, Caller } from './app-types.js';
import { ServerError } from './errors.js';

/** RFC 6750 §2.1: `Bearer 1*SP b64token`, b64token = 1*( ALPHA / DIGIT / "-._~+/" ) *"=". */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token of an `Authorization` header, undefined without one; UNAUTHORIZED when malformed. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const m = BEARER.exec(authorization);
  if (m === null)
    throw new ServerError('UNAUTHORIZED', 'the Authorization header is not "Bearer <token>"', {
      hint: 'send Authorization: Bearer <token>, or no Authorization header',
    });
  return m[1];
}

/** Accepts every caller; a malformed Authorization header is still refused. */
export const acceptAllAuthenticator: Authenticator = {
  authenticate(input): Promise<Caller> {
    return new Promise((resolve) => {
      // a throw inside the executor rejects with that ServerError
      const token = bearerToken(input.authorization);
      resolve(token === undefined ? {} : { token });
    });
  },
};
