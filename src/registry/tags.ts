/**
 * Tag listing (distribution spec §"Listing Tags"): `GET /v2/<name>/tags/list?n=<n>` answers
 * `{"name","tags"}` and, when there are more, `Link: <…?n=…&last=…>; rel="next"` (RFC 8288).
 * Bounded: at most MAX_PAGES pages of at most MAX_PAGE_BYTES each, MAX_TAGS tags in all, and
 * a next link must stay on the registry's origin.
 */
import { parseJsonBounded, quote } from '../util/json.js';
import { RegistryError } from './errors.js';
import { readBounded } from './http.js';
import { pullScope, type Session } from './session.js';

const PAGE = 1000;
const MAX_PAGES = 100;
const MAX_PAGE_BYTES = 4 * 1024 * 1024;
const MAX_TAGS = 100_000;

/** The `rel="next"` target of a Link header; undefined when there is none. */
export function nextLink(header: string | null): string | undefined {
  if (header === null) return undefined;
  for (const part of header.slice(0, 8192).split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m !== null && /(?:^|;)\s*rel\s*=\s*"?next"?\s*(?:;|$)/i.test(m[2] as string)) return m[1];
  }
  return undefined;
}

function bad(s: Session, repository: string, why: string): RegistryError {
  return new RegistryError('REGISTRY_PROTOCOL', `${s.options.registry}/${repository}: tag list ${why}`, {
    details: { registry: s.options.registry, repository },
    hint: 'the registry does not answer as the distribution spec says for tags/list',
  });
}

function tagsOf(s: Session, repository: string, bytes: Uint8Array): string[] {
  let doc: unknown;
  try {
    doc = parseJsonBounded(bytes, { source: 'tags', maxBytes: MAX_PAGE_BYTES });
  } catch {
    throw bad(s, repository, 'is not JSON');
  }
  const tags = (doc as { tags?: unknown } | null)?.tags;
  if (tags === null || tags === undefined) return [];
  if (!Array.isArray(tags) || !tags.every((t): t is string => typeof t === 'string'))
    throw bad(s, repository, '`tags` is not a list of strings');
  return tags;
}

export async function listTagPages(s: Session, repository: string): Promise<string[]> {
  const target = { repository, kind: 'tags' };
  const out: string[] = [];
  let url: string | undefined = `/v2/${repository}/tags/list?n=${PAGE}`;
  for (let page = 0; url !== undefined; page++) {
    if (page >= MAX_PAGES || out.length > MAX_TAGS)
      throw bad(s, repository, `has more than ${MAX_PAGES} pages or ${MAX_TAGS} tags`);
    const answer = await s.call({ method: 'GET', url, scopes: [pullScope(repository)], target }, [200]);
    const bytes = await readBounded(
      answer,
      { maxBytes: MAX_PAGE_BYTES, what: `tag list of ${s.options.registry}/${repository}` },
      s.timeoutMs,
    );
    const tags = tagsOf(s, repository, bytes);
    // Checked before the spread: a 4 MiB page holds a million short tags, too many for push(...).
    if (out.length + tags.length > MAX_TAGS)
      throw bad(s, repository, `has more than ${MAX_PAGES} pages or ${MAX_TAGS} tags`);
    out.push(...tags);
    const next = nextLink(answer.response.headers.get('link'));
    if (next !== undefined && new URL(next, answer.url).origin !== s.origin) {
      throw bad(s, repository, `links to another origin ${quote(next, 200)}`);
    }
    url = next === undefined ? undefined : new URL(next, answer.url).href;
  }
  return out;
}
