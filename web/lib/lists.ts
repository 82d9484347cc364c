/** Index lists as people type them in forms (positions, heads, neurons, layers). */

/** "3, 5-7" → [3, 5, 6, 7]; "" → undefined (all); anything else → an error naming the field. */
export function parseList(text: string, what: string): number[] | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const out: number[] = [];
  for (const part of t.split(',').map((p) => p.trim())) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new Error(`${what}: "${part}" is not a number or a range a-b`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`${what}: the range ${part} runs backwards`);
    if (b - a > 4096) throw new Error(`${what}: the range ${part} is too long`);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}
