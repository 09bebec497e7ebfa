/** Small text helpers for messages: how near two words are, for "did you mean" advice. */

/**
 * Levenshtein distance of `a` and `b`, or `max + 1` as soon as it is known to exceed `max`
 * (each row costs O(|b|), so a bound keeps long hostile inputs cheap).
 */
export function editDistance(a: string, b: string, max = Number.MAX_SAFE_INTEGER - 1): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      row.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return prev[b.length] as number;
}
