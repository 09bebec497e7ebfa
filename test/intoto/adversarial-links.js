// Generator of adversarial link texts for the fast-path property tests (signable-text.ts):
// a seeded PRNG builds a JSON token tree (objects keep their key order, duplicates included,
// numbers keep their tokens), then writes it as a file text (random whitespace and escapes)
// and as the "naive" signed bytes a careless signer signs (compact, keys as listed, only `"`
// and `\` escaped, numbers as written).

/** mulberry32: a small seeded PRNG; `rnd(n)` is an integer in [0, n). */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rnd = (n) => Math.floor(next() * n);
  return { rnd, pick: (list) => list[rnd(list.length)], chance: (p) => next() < p };
}

const KEY_BASES = ['x', 'a', 'src/a.c', 'é', '😀', '\ue000', '\uffff', '\ufffd', '', 'x y'];
/** Suffixes that sort below the closing quote (0x22), escapes, and characters near it. */
const KEY_SUFFIXES = [
  ...['', ' ', '!', '\n', '\t', '\u0001', '\u001f', '#', '/', '0', 'a', '~', '\u007f', 'é'],
  ...['😀', '\ue000', '\uffff', 'x', ' !', '!!', '  '],
];
const KEY_UNSIGNABLE = ['"', '\\', 'a"', '\\n', '\ud800'];
const SAFE_NUMBERS = ['0', '7', '-3', '100', '9007199254740991', '-9007199254740991', '1234567890123456'];
const UNSAFE_NUMBERS = [
  ...['9007199254740992', '9007199254740993', '-9007199254740993', '12345678901234567890'],
  ...['1.0', '1.5', '1e3', '1E3', '-0', '-0.0', '2e-3', '0.0', '1E+2', '10000000000000000'],
];
const STRING_CHARS = ['a', ' ', '"', '\\', '/', '\n', '\t', '\u0000', 'é', '😀', '\ue000', '\uffff', '!'];

const HEX = '0123456789abcdef';

/** A random generator of token trees; `clean` ones hold only what canonical JSON writes. */
export function generator(seed) {
  const g = prng(seed);
  const { rnd, pick, chance } = g;
  const str = (s) => ({ t: 'str', s });
  const key = (clean) => {
    if (!clean && chance(0.1)) return pick(KEY_BASES) + pick(KEY_UNSIGNABLE);
    let k = pick(KEY_BASES);
    for (let n = rnd(3); n > 0; n--) k += pick(KEY_SUFFIXES);
    return k;
  };
  const text = (clean) => {
    let s = '';
    for (let n = rnd(6); n > 0; n--) s += pick(STRING_CHARS);
    return !clean && chance(0.05) ? `${s}\udc00` : s;
  };
  const number = (clean) => ({
    t: 'num',
    tok: clean || chance(0.7) ? pick(SAFE_NUMBERS) : pick(UNSAFE_NUMBERS),
  });
  /** Keys in an order: canonical (code point), or one of the ways a signer gets it wrong. */
  const order = (keys, mode) => {
    const cp = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const withQuote = (a, b) => Buffer.compare(Buffer.from(`${a}"`), Buffer.from(`${b}"`));
    if (mode === 'canonical') return [...new Set(keys)].sort(cp);
    if (mode === 'quote') return [...new Set(keys)].sort(withQuote); // compared with the closing quote
    if (mode === 'utf16') return [...new Set(keys)].sort();
    if (mode === 'duplicate') {
      const s = [...new Set(keys)].sort(cp);
      const i = rnd(s.length);
      return [...s.slice(0, i + 1), ...s.slice(i)];
    }
    const s = [...new Set(keys)].sort(cp); // swap: two neighbours exchanged
    const i = rnd(Math.max(1, s.length - 1));
    if (s.length > 1) [s[i], s[i + 1]] = [s[i + 1], s[i]];
    return s;
  };
  const object = (entries, mode) => {
    const keys = order(
      entries.map(([k]) => k),
      mode,
    );
    const byKey = new Map(entries);
    return { t: 'obj', entries: keys.map((k) => [k, byKey.get(k) ?? str('dup')]) };
  };
  const value = (depth, clean, mode) => {
    const k = rnd(depth > 2 ? 4 : 7);
    if (k === 0) return str(text(clean));
    if (k === 1) return number(clean);
    if (k === 2) return { t: 'lit', v: pick(['true', 'false', 'null']) };
    if (k === 3) return str(text(clean));
    if (k === 4)
      return { t: 'arr', items: Array.from({ length: rnd(3) }, () => value(depth + 1, clean, mode)) };
    const entries = [];
    for (let n = rnd(5); n > 0; n--) entries.push([key(clean), value(depth + 1, clean, mode)]);
    return object(entries, mode);
  };
  const digest = () => {
    let h = '';
    for (let i = 0; i < 64; i++) h += HEX[rnd(16)];
    return h;
  };
  const hashes = (clean) => {
    if (!clean && chance(0.05)) return pick([str('ab'), number(false), { t: 'arr', items: [] }]);
    const d = !clean && chance(0.05) ? pick(['xyz', '', digest().toUpperCase()]) : digest();
    return { t: 'obj', entries: [['sha256', d === '' && chance(0.5) ? { t: 'lit', v: 'null' } : str(d)]] };
  };
  const artifacts = (clean, mode, pad) => {
    const entries = [];
    for (let n = rnd(6); n > 0; n--) entries.push([key(clean), hashes(clean)]);
    for (let i = 0; i < pad; i++) entries.push([`pad/${String(i).padStart(6, '0')}`, hashes(true)]);
    return object(entries, mode);
  };
  /** A link envelope: `signed` holds every field python fills; `pad` artifacts make it large. */
  const link = ({ pad = 0, name } = {}) => {
    const clean = chance(0.4);
    const mode = chance(0.35) ? 'canonical' : pick(['quote', 'quote', 'utf16', 'duplicate', 'swap']);
    const inner = (d) => value(d, clean, mode);
    const signed = {
      t: 'obj',
      entries: [
        ['_type', str('link')],
        [
          'byproducts',
          object(
            [
              ['stdout', str(text(clean))],
              [key(clean), inner(1)],
              [key(clean), inner(1)],
            ],
            mode,
          ),
        ],
        ['command', { t: 'arr', items: [str('make'), inner(1)] }],
        ['environment', object([[key(clean), inner(1)]], mode)],
        ['materials', artifacts(clean, mode, pad)],
        ['name', str(name ?? text(clean))],
        ['products', artifacts(clean, mode, 0)],
      ],
    };
    return { signed, clean, mode };
  };
  return { ...g, link };
}

const SHORT = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const u = (c) => `\\u${c.toString(16).padStart(4, '0')}`;

/** JSON string text of `s`, escaped in a random style (raw, python's ASCII, mixed). */
function writeString(s, g, style) {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const c = s.charCodeAt(i);
    const escape = style === 'ascii' ? c > 0x7e : style === 'mixed' && g.chance(0.3);
    if (c >= 0xd800 && c <= 0xdfff) {
      const pair = c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (pair && !escape) out += s.slice(i, ++i + 1);
      else out += u(c); // a lone surrogate must be escaped; a pair may be
    } else if (ch === '"' || ch === '\\' || c < 0x20) out += escape ? u(c) : (SHORT[ch] ?? u(c));
    else if (ch === '/' && escape) out += '\\/';
    else out += escape ? u(c) : ch;
  }
  return `${out}"`;
}

/** File text of a token tree, with random whitespace and string escapes. */
export function writeText(tree, g, style = g.pick(['raw', 'ascii', 'mixed'])) {
  const spaces = g.chance(0.5) ? [''] : ['', ' ', '\n', '\t', '\r\n  ', ' \n '];
  const ws = () => g.pick(spaces);
  const w = (v) => {
    if (v.t === 'str') return writeString(v.s, g, style);
    if (v.t === 'num') return v.tok;
    if (v.t === 'lit') return v.v;
    if (v.t === 'arr') return `[${ws()}${v.items.map((x) => `${w(x)}${ws()}`).join(`,${ws()}`)}]`;
    return `{${ws()}${v.entries.map(([k, x]) => `${writeString(k, g, style)}${ws()}:${ws()}${w(x)}${ws()}`).join(`,${ws()}`)}}`;
  };
  return w(tree);
}

/** The naive signed bytes of a tree: compact, keys as listed, only `"` and `\` escaped. */
export function naiveBytes(tree) {
  const s = (x) => `"${x.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const w = (v) => {
    if (v.t === 'str') return s(v.s);
    if (v.t === 'num') return v.tok;
    if (v.t === 'lit') return v.v;
    if (v.t === 'arr') return `[${v.items.map(w).join(',')}]`;
    return `{${v.entries.map(([k, x]) => `${s(k)}:${w(x)}`).join(',')}}`;
  };
  return Buffer.from(w(tree));
}

/** An envelope text around `signed`: signatures first (canonical order) or, rarely, after. */
export function envelopeText(signedText, signature, g) {
  const sigs = `[{"keyid": "${signature.keyid}", "sig": "${signature.sig}"}]`;
  if (g.chance(0.05)) return `{"signed": ${signedText}, "signatures": ${sigs}}`;
  return `{"signatures": ${sigs},\n "signed": ${signedText}\n}`;
}
