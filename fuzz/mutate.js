// Mutations: raw bytes, and structure-aware JSON (a tree that keeps duplicate keys and raw
// number text, so that it can express inputs JSON.parse would silently normalise).

/** Interesting strings: unicode edges, path tricks, glob and regex metacharacters. */
export const NASTY_STRINGS = [
  '',
  '\u0000',
  '\ud800',
  '\udfff',
  '\udc00\ud800',
  '\ufeff',
  '\uffff',
  '\u2028\u2029',
  '\u202e',
  'e\u0301',
  '\u00e9',
  '😀',
  '\u{10ffff}',
  '../../../../etc/passwd',
  '/',
  '.',
  '..',
  'a/../b',
  '%2F%2e%2e',
  '*',
  '**',
  '[',
  '[]',
  '[!a-',
  '(',
  '\\',
  '?',
  '{a,b}',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '-1',
  '0x10',
  '1e309',
  'NaN',
  'null',
  'true',
  '\n',
  'a'.repeat(300),
];

export const NASTY_NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '2',
  '255',
  '65536',
  '4294967296',
  '9007199254740991',
  '9007199254740993',
  '-9007199254740993',
  '123456789012345678901234567890',
  '1e308',
  '1e309',
  '-1e309',
  '1e-400',
  '0.5',
  '1.0',
  '2147483648',
  '1E+2',
];

// ---- raw bytes ------------------------------------------------------------------------

const INTERESTING_BYTES = [
  0x00, 0xff, 0x7f, 0x80, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x30, 0x20,
];
const UTF8_EDGES = [
  Buffer.from([0xed, 0xa0, 0x80]), // lone surrogate (WTF-8)
  Buffer.from([0xc0, 0xaf]), // overlong '/'
  Buffer.from([0xef, 0xbb, 0xbf]), // BOM
  Buffer.from([0xf4, 0x90, 0x80, 0x80]), // beyond U+10FFFF
  Buffer.from([0xe2, 0x80, 0xa8]), // U+2028
  Buffer.from([0xff, 0xfe]),
  Buffer.from('\\ud800', 'latin1'),
  Buffer.from('\\u0000', 'latin1'),
];

/** One raw mutation of `buf` (returns a new buffer). */
export function mutateBytes(rng, buf, others = []) {
  const b = Buffer.from(buf);
  const at = () => rng.int(Math.max(1, b.length));
  const op = rng.int(11);
  switch (op) {
    case 0: {
      if (b.length === 0) return rng.bytes(rng.size(64));
      const n = rng.size(8);
      for (let k = 0; k < n; k++) b[at()] ^= 1 << rng.int(8);
      return b;
    }
    case 1: {
      if (b.length > 0) b[at()] = rng.pick(INTERESTING_BYTES);
      return b;
    }
    case 2:
      return b.subarray(0, at());
    case 3: {
      const i = at();
      return Buffer.concat([b.subarray(0, i), b.subarray(Math.min(b.length, i + rng.size(256)))]);
    }
    case 4: {
      const i = at();
      return Buffer.concat([b.subarray(0, i), rng.bytes(rng.size(64)), b.subarray(i)]);
    }
    case 5: {
      const i = at();
      const piece = b.subarray(i, i + rng.size(512));
      const j = at();
      const times = rng.chance(0.1) ? rng.size(2000) : 1;
      return Buffer.concat([b.subarray(0, j), ...Array(times).fill(piece), b.subarray(j)]);
    }
    case 6: {
      const i = at();
      return Buffer.concat([b.subarray(0, i), rng.pick(UTF8_EDGES), b.subarray(i)]);
    }
    case 7:
      return Buffer.concat([b, rng.chance(0.5) ? rng.bytes(rng.size(64)) : b]);
    case 8: {
      const other = others.length > 0 ? rng.pick(others) : b;
      const i = at();
      const j = rng.int(Math.max(1, other.length));
      return Buffer.concat([b.subarray(0, i), Buffer.from(other).subarray(j)]);
    }
    case 9: {
      // replace a run of digits with a huge or odd number
      const text = b.toString('latin1');
      const runs = [...text.matchAll(/-?\d+/g)];
      if (runs.length === 0) return b;
      const m = rng.pick(runs);
      return Buffer.from(
        text.slice(0, m.index) + rng.pick(NASTY_NUMBERS) + text.slice(m.index + m[0].length),
        'latin1',
      );
    }
    default: {
      // drop or insert a structural character
      const text = b.toString('latin1');
      const idx = [...text.matchAll(/[{}[\]",:]/g)].map((m) => m.index);
      if (idx.length === 0) return b;
      const i = rng.pick(idx);
      return rng.chance(0.5)
        ? Buffer.concat([b.subarray(0, i), b.subarray(i + 1)])
        : Buffer.concat([b.subarray(0, i), Buffer.from(text[i], 'latin1'), b.subarray(i)]);
    }
  }
}

// ---- JSON tree -----------------------------------------------------------------------

/** JSON value → tree: {t:'obj', e:[[k, node]]} | {t:'arr', v:[node]} | {t:'raw', raw} | {t:'str', v}. */
export function toTree(v) {
  if (Array.isArray(v)) return { t: 'arr', v: v.map(toTree) };
  if (v !== null && typeof v === 'object')
    return { t: 'obj', e: Object.entries(v).map(([k, x]) => [k, toTree(x)]) };
  if (typeof v === 'string') return { t: 'str', v };
  return { t: 'raw', raw: JSON.stringify(v) };
}

/** Tree → JSON text; `style` 0 compact, 1 indented (python-like), 2 spaced separators. */
export function serialize(node, style = 0, depth = 0) {
  // iterative for very deep trees made by the nesting mutation
  if (node.t === 'deep') {
    const inner = serialize(node.inner, style, depth);
    const open = node.obj ? '{"a":'.repeat(node.n) : '['.repeat(node.n);
    const close = node.obj ? '}'.repeat(node.n) : ']'.repeat(node.n);
    return open + inner + close;
  }
  const nl = style === 1 ? '\n' + ' '.repeat(depth + 1) : '';
  const end = style === 1 ? '\n' + ' '.repeat(depth) : '';
  const sep = style === 0 ? ',' : style === 1 ? ',' : ', ';
  const colon = style === 0 ? ':' : ': ';
  switch (node.t) {
    case 'obj':
      if (node.e.length === 0) return '{}';
      return `{${nl}${node.e.map(([k, x]) => `${JSON.stringify(k)}${colon}${serialize(x, style, depth + 1)}`).join(sep + nl)}${end}}`;
    case 'arr':
      if (node.v.length === 0) return '[]';
      return `[${nl}${node.v.map((x) => serialize(x, style, depth + 1)).join(sep + nl)}${end}]`;
    case 'str':
      return JSON.stringify(node.v);
    default:
      return node.raw;
  }
}

/** Every node with its parent slot: [{node, set(newNode), parent, key}]. */
function slots(root) {
  const out = [];
  const stack = [{ node: root, set: null, depth: 0 }];
  while (stack.length > 0 && out.length < 20000) {
    const s = stack.pop();
    out.push(s);
    const n = s.node;
    if (n.t === 'obj')
      n.e.forEach((entry, i) =>
        stack.push({ node: entry[1], set: (x) => (n.e[i][1] = x), parent: n, index: i, depth: s.depth + 1 }),
      );
    else if (n.t === 'arr')
      n.v.forEach((x, i) =>
        stack.push({ node: x, set: (y) => (n.v[i] = y), parent: n, index: i, depth: s.depth + 1 }),
      );
  }
  return out;
}

function clone(node) {
  return structuredClone(node);
}

function randomLeaf(rng) {
  return rng.weighted([
    [3, { t: 'raw', raw: rng.pick(['null', 'true', 'false']) }],
    [4, { t: 'raw', raw: rng.pick(NASTY_NUMBERS) }],
    [4, { t: 'str', v: rng.pick(NASTY_STRINGS) }],
    [1, { t: 'str', v: 'x'.repeat(rng.size(1_000_000)) }],
    [1, { t: 'obj', e: [] }],
    [1, { t: 'arr', v: [] }],
  ]);
}

function mutateString(rng, s) {
  return rng.weighted([
    [3, () => rng.pick(NASTY_STRINGS)],
    [3, () => s + rng.pick(NASTY_STRINGS)],
    [2, () => rng.pick(NASTY_STRINGS) + s],
    [2, () => s.slice(0, rng.int(s.length + 1))],
    [1, () => s.repeat(rng.size(10_000))],
    [1, () => s.toUpperCase()],
    [1, () => s.normalize('NFD')],
    [
      1,
      () =>
        `${s.slice(0, rng.int(s.length + 1))}${String.fromCharCode(rng.int(0x10000))}${s.slice(rng.int(s.length + 1))}`,
    ],
  ])();
}

/** One structure-aware mutation of a tree (in place on a clone; returns the new root). */
export function mutateTree(rng, root, donors = []) {
  root = clone(root);
  const all = slots(root);
  const s = rng.pick(all);
  const n = s.node;
  const replace = (x) => {
    if (s.set === null) root = x;
    else s.set(x);
  };
  const objs = all.filter((x) => x.node.t === 'obj' && x.node.e.length > 0);
  const op = rng.weighted([
    [4, 'typeswap'],
    [2, 'number'],
    [3, 'string'],
    [2, 'delete'],
    [3, 'dupkey'],
    [2, 'addkey'],
    [1, 'nest'],
    [2, 'array'],
    [2, 'copy'],
    [1, 'donor'],
    [1, 'renamekey'],
  ]);
  switch (op) {
    case 'typeswap':
      replace(randomLeaf(rng));
      break;
    case 'number': {
      const nums = all.filter((x) => x.node.t === 'raw' && /^-?\d/.test(x.node.raw));
      const t = nums.length > 0 ? rng.pick(nums) : s;
      const repl = { t: 'raw', raw: rng.pick(NASTY_NUMBERS) };
      if (t.set === null) root = repl;
      else t.set(repl);
      break;
    }
    case 'string': {
      const strs = all.filter((x) => x.node.t === 'str');
      const t = strs.length > 0 ? rng.pick(strs) : s;
      const repl = { t: 'str', v: mutateString(rng, t.node.t === 'str' ? t.node.v : '') };
      if (t.set === null) root = repl;
      else t.set(repl);
      break;
    }
    case 'delete': {
      if (objs.length === 0) break;
      const o = rng.pick(objs).node;
      o.e.splice(rng.int(o.e.length), 1);
      break;
    }
    case 'dupkey': {
      if (objs.length === 0) break;
      const o = rng.pick(objs).node;
      const [k, v] = o.e[rng.int(o.e.length)];
      const dup = rng.chance(0.5) ? randomLeaf(rng) : clone(v);
      if (rng.chance(0.5)) o.e.push([k, dup]);
      else o.e.unshift([k, dup]);
      break;
    }
    case 'addkey': {
      const targets = all.filter((x) => x.node.t === 'obj');
      if (targets.length === 0) break;
      const o = rng.pick(targets).node;
      const key = rng.chance(0.5) ? rng.pick(NASTY_STRINGS) : mutateString(rng, o.e[0]?.[0] ?? 'k');
      o.e.splice(rng.int(o.e.length + 1), 0, [key, randomLeaf(rng)]);
      break;
    }
    case 'renamekey': {
      if (objs.length === 0) break;
      const o = rng.pick(objs).node;
      const i = rng.int(o.e.length);
      o.e[i][0] = mutateString(rng, o.e[i][0]);
      break;
    }
    case 'nest':
      replace({
        t: 'deep',
        n: rng.chance(0.3) ? rng.size(200_000) : rng.range(30, 200),
        obj: rng.chance(0.5),
        inner: n,
      });
      break;
    case 'array': {
      const arrs = all.filter((x) => x.node.t === 'arr');
      if (arrs.length === 0) {
        replace({ t: 'arr', v: [n] });
        break;
      }
      const a = rng.pick(arrs).node;
      const r = rng.int(4);
      if (r === 0 && a.v.length > 0) a.v.splice(rng.int(a.v.length), 1);
      else if (r === 1 && a.v.length > 0) {
        const x = a.v[rng.int(a.v.length)];
        const times = rng.chance(0.2) ? rng.size(20_000) : 1;
        for (let k = 0; k < times; k++) a.v.push(clone(x));
      } else if (r === 2) a.v.reverse();
      else a.v.push(randomLeaf(rng));
      break;
    }
    case 'copy': {
      const src = rng.pick(all).node;
      replace(clone(src.t === 'deep' ? src.inner : src));
      break;
    }
    case 'donor': {
      if (donors.length === 0) break;
      const d = slots(rng.pick(donors));
      replace(clone(rng.pick(d).node));
      break;
    }
  }
  return root;
}
