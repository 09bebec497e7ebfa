// What counts as a finding: any thrown value that is not a CnabsecError ("crash"), and a
// CnabsecError that only wraps a JavaScript engine error ("wrapped": a crash behind a generic
// code, e.g. "Cannot read properties of undefined" inside TUF_UPDATE_FAILED).
import { CnabsecError } from '../dist/errors.js';

const ENGINE =
  /Cannot read propert|Cannot set propert|is not a function|is not iterable|Maximum call stack|Invalid array length|Invalid string length|Cannot convert|Invalid regular expression|Cannot create property|not extensible|Invalid typed array length|Array buffer allocation failed|Cannot destructure|is not a constructor|Cannot access '|out of memory/;

function isEngineError(e) {
  if (e instanceof ReferenceError) return true;
  return (
    (e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError) && ENGINE.test(e.message)
  );
}

function describe(e) {
  if (e instanceof Error) return { name: e.name, message: e.message, code: e.code, stack: e.stack };
  return { name: typeof e, message: String(e), stack: undefined };
}

/** {status: 'rejected' | 'crash' | 'wrapped', error, signature}. */
export function classify(e) {
  if (e instanceof CnabsecError) {
    let c = e.cause;
    for (let i = 0; i < 10 && c !== undefined && c !== null; i++) {
      if (isEngineError(c)) {
        const d = describe(c);
        return {
          status: 'wrapped',
          error: { ...describe(e), inner: d },
          signature: signatureOf('wrapped', c, e.code),
        };
      }
      c = c instanceof Error ? c.cause : undefined;
    }
    return { status: 'rejected', code: e.code };
  }
  return { status: 'crash', error: describe(e), signature: signatureOf('crash', e) };
}

/** Normalised message: numbers, hex, quoted text and paths replaced, bounded. */
export function normalize(msg) {
  return String(msg)
    .replace(/\. Received .*$/s, '. Received …')
    .replace(/\/[^\s'"`:,)]*\/[^\s'"`:,)]*/g, '<path>')
    .replace(/"(?:[^"\\]|\\.){0,400}"/g, '"…"')
    .replace(/'(?:[^'\\]|\\.){0,400}'/g, "'…'")
    .replace(/\b[0-9a-f]{8,}\b/gi, '<hex>')
    .replace(/\d+/g, 'N')
    .slice(0, 140);
}

function topFrame(e) {
  const stack = e instanceof Error && typeof e.stack === 'string' ? e.stack : '';
  for (const line of stack.split('\n').slice(1)) {
    const m = /(?:dist|node_modules)\/(.+?):\d+:\d+/.exec(line);
    if (m) return m[1].replace(/^.*node_modules\//, '');
  }
  return '?';
}

export function signatureOf(kind, e, code) {
  const name = e instanceof Error ? e.name : typeof e;
  return `${kind}${code ? `(${code})` : ''}: ${name}: ${normalize(e instanceof Error ? e.message : e)} @ ${topFrame(e)}`;
}
