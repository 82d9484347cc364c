/**
 * A small, safe Markdown subset for findings: it parses to a tree that components/Markdown.tsx
 * renders as React elements, so no HTML from the text ever reaches the DOM — `<script>` or
 * `<img onerror>` in a body shows as the literal text. Links keep only safe targets (http, https,
 * mailto, same-site paths and fragments); any other link (javascript:, data:, //host) renders
 * as plain text.
 *
 * Blocks: paragraphs, # headings (1-6), ``` fenced code, > quotes, - / * / + and 1. lists
 * (one level), --- rules. Inline: `code`, **strong**, *em* / _em_, [text](url), bare
 * http(s) URLs, and backslash escapes.
 */

export type Inline =
  | { t: 'text'; v: string }
  | { t: 'code'; v: string }
  | { t: 'strong'; c: Inline[] }
  | { t: 'em'; c: Inline[] }
  | { t: 'link'; href: string; c: Inline[] };

export type Block =
  | { t: 'p'; c: Inline[] }
  | { t: 'h'; level: number; c: Inline[] }
  | { t: 'pre'; v: string; lang: string }
  | { t: 'quote'; c: Block[] }
  | { t: 'ul' | 'ol'; items: Inline[][] }
  | { t: 'hr' };

// Links are checked as the browser will resolve them (WHATWG URL: tabs and newlines dropped,
// "\\" read as "/"), against a base no real site has; "/\t/evil.example/" resolves off-site.
const BASE = 'https://same-site.invalid/';
const BASE_ORIGIN = new URL(BASE).origin;

/** A same-site path as the browser resolves `url` (path, query and fragment), or null when it leaves the site. */
export function sameSitePath(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url.trim(), BASE);
  } catch {
    return null;
  }
  return parsed.origin === BASE_ORIGIN ? parsed.pathname + parsed.search + parsed.hash : null;
}

/** The href to use, or null when the target is not safe to link. */
export function safeHref(url: string): string | null {
  const u = url.trim();
  if (/^(https?:|mailto:)/i.test(u)) {
    if (/[\s<>"']/.test(u)) return null;
    try {
      return new URL(u).href; // what the browser will follow, exactly
    } catch {
      return null;
    }
  }
  // In-page anchors and queries stay relative to the current page; nothing in them can leave it.
  if ((u.startsWith('#') || u.startsWith('?')) && !/[\s\\]/.test(u)) return u;
  // Site paths only (a bare "mazes/3" would resolve against the current page): any other scheme
  // (javascript:, data:, …) and anything resolving off-site is refused.
  return u.startsWith('/') ? sameSitePath(u) : null;
}

const ESCAPABLE = new Set('\\`*_[]()#+-.!>~|'.split(''));

export function parseInline(src: string): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const flush = (): void => {
    if (text) out.push({ t: 'text', v: text });
    text = '';
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (ch === '\\' && i + 1 < src.length && ESCAPABLE.has(src[i + 1])) {
      text += src[i + 1];
      i += 2;
      continue;
    }
    if (ch === '`') {
      const end = src.indexOf('`', i + 1);
      if (end > i + 1) {
        flush();
        out.push({ t: 'code', v: src.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if (src.startsWith('**', i)) {
      const end = src.indexOf('**', i + 2);
      if (end > i + 2) {
        flush();
        out.push({ t: 'strong', c: parseInline(src.slice(i + 2, end)) });
        i = end + 2;
        continue;
      }
    }
    // *em*, and _em_ only at word boundaries (so snake_case names stay intact).
    if ((ch === '*' || (ch === '_' && !/\w/.test(src[i - 1] ?? ''))) && src[i + 1] && src[i + 1] !== ' ') {
      const end = src.indexOf(ch, i + 1);
      if (end > i + 1 && src[end - 1] !== ' ' && (ch === '*' || !/\w/.test(src[end + 1] ?? ''))) {
        flush();
        out.push({ t: 'em', c: parseInline(src.slice(i + 1, end)) });
        i = end + 1;
        continue;
      }
    }
    if (ch === '[') {
      const m = /^\[([^\]]*)\]\(([^()\s]*)\)/.exec(src.slice(i));
      if (m) {
        flush();
        const href = safeHref(m[2]);
        const label = parseInline(m[1] || m[2]);
        if (href) out.push({ t: 'link', href, c: label });
        else out.push(...label);
        i += m[0].length;
        continue;
      }
    }
    if ((ch === 'h' || ch === 'H') && !/\w/.test(src[i - 1] ?? '')) {
      const m = /^https?:\/\/[^\s<>"'()]+[^\s<>"'().,;:!?]/i.exec(src.slice(i));
      if (m) {
        flush();
        out.push({ t: 'link', href: m[0], c: [{ t: 'text', v: m[0] }] });
        i += m[0].length;
        continue;
      }
    }
    text += ch;
    i++;
  }
  flush();
  return out;
}

const LIST_RE = /^\s{0,3}([-*+]|\d{1,9}[.)])\s+(.*)$/;

export function parseMarkdown(src: string): Block[] {
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let para: string[] = [];
  const endPara = (): void => {
    if (para.length) blocks.push({ t: 'p', c: parseInline(para.join(' ')) });
    para = [];
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^\s{0,3}(```|~~~)\s*([\w-]*)\s*$/.exec(line);
    if (fence) {
      endPara();
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence[1])) body.push(lines[i++]);
      i++; // the closing fence (or the end)
      blocks.push({ t: 'pre', v: body.join('\n'), lang: fence[2] });
      continue;
    }
    if (!line.trim()) {
      endPara();
      i++;
      continue;
    }
    const h = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      endPara();
      blocks.push({ t: 'h', level: h[1].length, c: parseInline(h[2]) });
      i++;
      continue;
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      endPara();
      blocks.push({ t: 'hr' });
      i++;
      continue;
    }
    if (/^\s{0,3}>/.test(line)) {
      endPara();
      const inner: string[] = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i])) inner.push(lines[i++].replace(/^\s{0,3}>\s?/, ''));
      blocks.push({ t: 'quote', c: parseMarkdown(inner.join('\n')) });
      continue;
    }
    const li = LIST_RE.exec(line);
    if (li) {
      endPara();
      const ordered = /\d/.test(li[1]);
      const items: string[] = [];
      while (i < lines.length) {
        const m = LIST_RE.exec(lines[i]);
        if (m && /\d/.test(m[1]) === ordered) items.push(m[2]);
        else if (lines[i].trim() && /^\s+/.test(lines[i]) && items.length) items[items.length - 1] += ` ${lines[i].trim()}`;
        else break;
        i++;
      }
      blocks.push({ t: ordered ? 'ol' : 'ul', items: items.map(parseInline) });
      continue;
    }
    para.push(line.trim());
    i++;
  }
  endPara();
  return blocks;
}

/** Plain text of a body (for previews and titles). */
export function plainText(src: string, max = 140): string {
  const flat = (xs: Inline[]): string => xs.map((x) => ('v' in x ? x.v : flat(x.c))).join('');
  const text = parseMarkdown(src)
    .map((b) => (b.t === 'p' || b.t === 'h' ? flat(b.c) : b.t === 'pre' ? b.v : b.t === 'ul' || b.t === 'ol' ? b.items.map(flat).join('; ') : ''))
    .filter(Boolean)
    .join(' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
