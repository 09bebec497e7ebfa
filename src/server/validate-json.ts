/**
 * Duplicate object keys in an uploaded role (issue 15 item 5). JSON.parse keeps the last of
 * two equal keys, other parsers the first: a role whose `signed` holds `"version": 2, "version":
 * 9` means one thing to the signature check here and another to a client. TUF signs canonical
 * JSON, which has no duplicates, so a role with one is refused before it is parsed (ADR 0007:
 * the bytes stored are the bytes served). Keys are compared decoded (`"ver\u0073ion"` is
 * `"version"`). One pass, no recursion: nesting is bounded by parseJsonBounded already.
 */

interface Frame {
  keys: Set<string> | undefined;
  expectKey: boolean;
}

/** The end of the string token opening at `start` (the index of its closing quote), or -1. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i;
  }
  return -1;
}

/** The first key that appears twice in one object of `text` (valid JSON), or undefined. */
export function duplicateKey(text: string): string | undefined {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '{') stack.push({ keys: new Set(), expectKey: true });
    else if (c === '[') stack.push({ keys: undefined, expectKey: false });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',' && top?.keys !== undefined) top.expectKey = true;
    else if (c === '"') {
      const end = stringEnd(text, i);
      if (end === -1) return undefined;
      if (top?.keys !== undefined && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end;
    }
  }
  return undefined;
}
