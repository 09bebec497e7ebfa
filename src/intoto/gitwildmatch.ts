/**
 * Exclude patterns for artifact recording, with the semantics python in-toto gets from
 * `pathspec` 0.11 `PathSpec.from_lines('gitwildmatch', patterns)`: gitignore-style patterns
 * matched against the path relative to the base path (e.g. `*.pyc` matches in any directory,
 * `build/` matches the directory and all below it, `!pattern` re-includes, the last matching
 * pattern decides). Each pattern is translated to a regular expression as pathspec does.
 */
import { FormatError } from './errors.js';

/** python in-toto's default ARTIFACT_EXCLUDE_PATTERNS (used when no --exclude is given). */
export const DEFAULT_EXCLUDE_PATTERNS: readonly string[] = ['*.link*', '.git', '*.pyc', '*~'];

interface Compiled {
  regex: RegExp;
  include: boolean;
}

function escapeChar(c: string): string {
  return /[A-Za-z0-9_]/.test(c) ? c : `\\u{${(c.codePointAt(0) as number).toString(16)}}`;
}

/** A python regex class body (after `[` / `[^`) as a JS (u-flag) class body. */
function classBody(body: string): string {
  const cps = Array.from(body);
  let out = '';
  let i = 0;
  const read = (): string => {
    const c = cps[i++] as string;
    if (c === '\\' && i < cps.length) return cps[i++] as string;
    return c;
  };
  while (i < cps.length) {
    const lo = read();
    if (cps[i] === '-' && i + 1 < cps.length) {
      i++;
      const hi = read();
      if ((lo.codePointAt(0) as number) > (hi.codePointAt(0) as number))
        throw new Error('bad character range');
      out += `${escapeChar(lo)}-${escapeChar(hi)}`;
    } else {
      out += escapeChar(lo);
    }
  }
  return out;
}

/** pathspec GitWildMatchPattern._translate_segment_glob. */
function translateSegment(pattern: string): string {
  const chars = Array.from(pattern);
  let escape = false;
  let regex = '';
  let i = 0;
  const end = chars.length;
  while (i < end) {
    const ch = chars[i++] as string;
    if (escape) {
      escape = false;
      regex += escapeChar(ch);
    } else if (ch === '\\') {
      escape = true;
    } else if (ch === '*') {
      regex += '[^/]*';
    } else if (ch === '?') {
      regex += '[^/]';
    } else if (ch === '[') {
      let j = i;
      if (j < end && chars[j] === '!') j++;
      if (j < end && chars[j] === ']') j++;
      while (j < end && chars[j] !== ']') j++;
      if (j < end) {
        j++;
        let neg = false;
        let body = '';
        if (chars[i] === '!') {
          neg = true;
          i++;
        } else if (chars[i] === '^') {
          body = '\\^';
          i++;
        }
        // pathspec copies pattern[i:j] (which includes the closing "]") with "\" doubled.
        body += chars
          .slice(i, j - 1)
          .join('')
          .replace(/\\/g, '\\\\');
        regex += `[${neg ? '^' : ''}${classBody(body)}]`;
        i = j;
      } else {
        regex += '\\[';
      }
    } else {
      regex += escapeChar(ch);
    }
  }
  if (escape) throw new Error('escape character with nothing to escape');
  return regex;
}

/** pathspec GitWildMatchPattern.pattern_to_regex; null for comments and empty lines. */
function compilePattern(original: string): Compiled | null {
  let pattern = original.trim();
  if (pattern === '' || pattern.startsWith('#') || pattern === '/') return null;
  let include = true;
  if (pattern.startsWith('!')) {
    include = false;
    pattern = pattern.slice(1);
  }
  let segs = pattern.split('/');
  for (let i = segs.length - 1; i > 0; i--) if (segs[i - 1] === '**' && segs[i] === '**') segs.splice(i, 1);
  let override: string | undefined;
  if (segs.length === 2 && segs[0] === '**' && !segs[1]) override = '^.+/.*$';
  if (!segs[0]) segs = segs.slice(1);
  else if (segs.length === 1 || (segs.length === 2 && !segs[1])) {
    if (segs[0] !== '**') segs.unshift('**');
  }
  if (segs.length === 0) throw new Error('invalid pattern');
  if (!segs[segs.length - 1] && segs.length > 1) segs[segs.length - 1] = '**';
  let source = override;
  if (source === undefined) {
    const out = ['^'];
    let needSlash = false;
    const end = segs.length - 1;
    segs.forEach((seg, i) => {
      if (seg === '**') {
        if (i === 0 && i === end) out.push('[^/]+(?:/.*)?');
        else if (i === 0) {
          out.push('(?:.+/)?');
          needSlash = false;
        } else if (i === end) out.push('/.*');
        else {
          out.push('(?:/.+)?');
          needSlash = true;
        }
      } else {
        if (needSlash) out.push('/');
        out.push(seg === '*' ? '[^/]+' : translateSegment(seg));
        if (i === end) out.push('(?:/.*)?');
        needSlash = true;
      }
    });
    out.push('$');
    source = out.join('');
  }
  // Python's "." and "$" (no DOTALL, no MULTILINE): "." excludes "\n", "$" also before a final "\n".
  source = source.replace(/\.(?=[*+])/g, '[^\\n]').replace(/\$$/, '\\n?$');
  return { regex: new RegExp(source, 'u'), include };
}

/** A compiled list of exclude patterns. */
export class ExcludeFilter {
  readonly #patterns: Compiled[];

  constructor(patterns: readonly string[]) {
    this.#patterns = [];
    for (const p of patterns) {
      let c: Compiled | null;
      try {
        c = compilePattern(p);
      } catch (e) {
        throw new FormatError('INTOTO_BAD_FORMAT', `invalid exclude pattern ${JSON.stringify(p)}`, {
          cause: e,
        });
      }
      if (c !== null) this.#patterns.push(c);
    }
  }

  get empty(): boolean {
    return this.#patterns.length === 0;
  }

  /** Is the path (relative, "/"-separated) excluded? pathspec normalizes a leading "/" or "./". */
  excludes(path: string): boolean {
    let p = path;
    if (p.startsWith('/')) p = p.slice(1);
    else if (p.startsWith('./')) p = p.slice(2);
    let matched = false;
    for (const pat of this.#patterns) if (pat.regex.test(p)) matched = pat.include;
    return matched;
  }
}
