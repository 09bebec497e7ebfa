/**
 * Python's `fnmatch.fnmatch` (3.11, POSIX: case-sensitive), which in-toto artifact rules use
 * (in-toto spec §5.3.1: patterns are Unix shell-style wildcards): `*` matches any sequence
 * INCLUDING `/`, `?` one character, `[seq]` / `[!seq]` a character class; there is no escape
 * character. Character classes are built exactly as `fnmatch.translate` builds them (ranges
 * split on `-`, empty ranges dropped, `[` without `]` literal), then matched by code point.
 *
 * Matching walks the pattern tokens with single-star backtracking, which gives the same
 * result as Python's regex (whose atomic groups also commit to the first match of each
 * fixed piece) in O(len(name) * len(pattern)) at worst, with fast paths for `*`, literals,
 * `prefix*` and `*suffix`.
 */

type Range = readonly [number, number];
interface ClassToken {
  kind: 'class';
  negated: boolean;
  ranges: Range[];
}
type Token = { kind: 'star' } | { kind: 'any' } | { kind: 'lit'; cp: number } | ClassToken;

/** A compiled pattern: a predicate over names. */
export type Matcher = (name: string) => boolean;

/** Parse the body of a Python regex character class, as fnmatch.translate emits it. */
function parseClassBody(body: string): { negated: boolean; ranges: Range[] } {
  const cps = Array.from(body, (c) => c.codePointAt(0) as number);
  let i = 0;
  let negated = false;
  if (cps[0] === 0x5e /* ^ */) {
    negated = true;
    i = 1;
  }
  const ranges: Range[] = [];
  const read = (): number => {
    const c = cps[i++] as number;
    if (c === 0x5c /* \ */ && i < cps.length) return cps[i++] as number;
    return c;
  };
  while (i < cps.length) {
    const lo = read();
    if (cps[i] === 0x2d /* - */ && i + 1 < cps.length) {
      i++;
      const hi = read();
      ranges.push([lo, hi]);
    } else {
      ranges.push([lo, lo]);
    }
  }
  return { negated, ranges };
}

/** The class built by fnmatch.translate for pat[i:j] (the text between `[` and `]`). */
function translateClass(pat: string, i: number, j: number): Token | null {
  let stuff: string;
  const seg = pat.slice(i, j);
  if (!seg.includes('-')) {
    stuff = seg.replace(/\\/g, '\\\\');
  } else {
    const chunks: string[] = [];
    let start = i;
    let k = pat[i] === '!' ? i + 2 : i + 1;
    for (;;) {
      k = pat.indexOf('-', k);
      if (k < 0 || k >= j) break;
      chunks.push(pat.slice(start, k));
      start = k + 1;
      k = k + 3;
    }
    const last = pat.slice(start, j);
    if (last.length > 0) chunks.push(last);
    else chunks[chunks.length - 1] = `${chunks[chunks.length - 1] ?? ''}-`;
    // Remove empty ranges (as Python does: compare by code unit of last/first character).
    for (let m = chunks.length - 1; m > 0; m--) {
      const prev = chunks[m - 1] as string;
      const cur = chunks[m] as string;
      if (lastCp(prev) > firstCp(cur)) {
        chunks[m - 1] = prev.slice(0, prev.length - lastLen(prev)) + cur.slice(firstLen(cur));
        chunks.splice(m, 1);
      }
    }
    stuff = chunks.map((s) => s.replace(/\\/g, '\\\\').replace(/-/g, '\\-')).join('-');
  }
  stuff = stuff.replace(/([&~|])/g, '\\$1');
  if (stuff.length === 0) return null; // never matches
  if (stuff === '!') return { kind: 'any' };
  if (stuff.startsWith('!')) stuff = '^' + stuff.slice(1);
  else if (stuff.startsWith('^') || stuff.startsWith('[')) stuff = '\\' + stuff;
  return { kind: 'class', ...parseClassBody(stuff) };
}

const firstCp = (s: string): number => s.codePointAt(0) ?? -1;
const firstLen = (s: string): number => (firstCp(s) > 0xffff ? 2 : 1);
const lastCp = (s: string): number => {
  const c = s.charCodeAt(s.length - 1);
  return c >= 0xdc00 && c <= 0xdfff && s.length > 1 ? (s.codePointAt(s.length - 2) ?? c) : c;
};
const lastLen = (s: string): number => (lastCp(s) > 0xffff ? 2 : 1);

/** Tokenize like fnmatch.translate; returns null for a pattern that can never match. */
function tokenize(pat: string): Token[] | null {
  const out: Token[] = [];
  let never = false;
  let i = 0;
  const n = pat.length;
  while (i < n) {
    const cp = pat.codePointAt(i) as number;
    const c = String.fromCodePoint(cp);
    i += c.length;
    if (c === '*') {
      if (out.length === 0 || out[out.length - 1]?.kind !== 'star') out.push({ kind: 'star' });
    } else if (c === '?') {
      out.push({ kind: 'any' });
    } else if (c === '[') {
      let j = i;
      if (j < n && pat[j] === '!') j++;
      if (j < n && pat[j] === ']') j++;
      while (j < n && pat[j] !== ']') j++;
      if (j >= n) {
        out.push({ kind: 'lit', cp: 0x5b });
      } else {
        const tok = translateClass(pat, i, j);
        if (tok === null) never = true;
        else out.push(tok);
        i = j + 1;
      }
    } else {
      out.push({ kind: 'lit', cp });
    }
  }
  return never ? null : out;
}

function classHas(t: ClassToken, cp: number): boolean {
  let hit = false;
  for (const [lo, hi] of t.ranges) {
    if (cp >= lo && cp <= hi) {
      hit = true;
      break;
    }
  }
  return hit !== t.negated;
}

function tokenMatches(t: Token, cp: number): boolean {
  switch (t.kind) {
    case 'any':
      return true;
    case 'lit':
      return t.cp === cp;
    case 'class':
      return classHas(t, cp);
    case 'star':
      return false;
  }
}

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i) as number;
    out.push(c);
    if (c > 0xffff) i++;
  }
  return out;
}

function matchTokens(tokens: Token[], name: number[]): boolean {
  let ti = 0;
  let ni = 0;
  let starTi = -1;
  let starNi = 0;
  while (ni < name.length) {
    const t = tokens[ti];
    if (t !== undefined && t.kind === 'star') {
      starTi = ti++;
      starNi = ni;
    } else if (t !== undefined && tokenMatches(t, name[ni] as number)) {
      ti++;
      ni++;
    } else if (starTi >= 0) {
      ti = starTi + 1;
      ni = ++starNi;
    } else {
      return false;
    }
  }
  while (tokens[ti]?.kind === 'star') ti++;
  return ti === tokens.length;
}

const META = /[*?[]/;

/** Compile a pattern into a matcher with Python fnmatch semantics. */
export function compileFnmatch(pattern: string): Matcher {
  if (pattern === '*') return () => true;
  if (!META.test(pattern)) return (name) => name === pattern;
  const star = pattern.indexOf('*');
  if (star === pattern.length - 1 && !META.test(pattern.slice(0, -1))) {
    const prefix = pattern.slice(0, -1);
    return (name) => name.startsWith(prefix);
  }
  if (star === 0 && !META.test(pattern.slice(1))) {
    const suffix = pattern.slice(1);
    return (name) => name.endsWith(suffix);
  }
  const tokens = tokenize(pattern);
  if (tokens === null) return () => false;
  return (name) => matchTokens(tokens, codePoints(name));
}

/** `fnmatch.fnmatch(name, pattern)` on POSIX. */
export function fnmatch(name: string, pattern: string): boolean {
  return compileFnmatch(pattern)(name);
}

/** `fnmatch.filter(names, pattern)`. */
export function fnmatchFilter(names: Iterable<string>, pattern: string): string[] {
  const m = compileFnmatch(pattern);
  const out: string[] = [];
  for (const n of names) if (m(n)) out.push(n);
  return out;
}
