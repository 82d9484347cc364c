/**
 * Findings' Markdown, what is ours of it: the link filter (which targets a rendered link may carry)
 * and a plain-text digest for one-line previews. Rendering is components/Markdown.tsx
 * (react-markdown with GFM tables, KaTeX math and highlighted code; raw HTML never reaches the
 * DOM); parsing here is the same unified/remark parser, so preview and page read a body alike.
 */
import type { Root } from 'mdast';
import { toString as mdastText } from 'mdast-util-to-string';
import remarkParse from 'remark-parse';
import { unified } from 'unified';

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

/** The body's text without markup, one line, at most `max` characters (for feeds and lists). */
export function plainText(src: string, max = 140): string {
  const tree = unified().use(remarkParse).parse(src) as Root;
  const text = tree.children
    .map((b) => (b.type === 'list' ? b.children.map((item) => mdastText(item)).join(' ') : mdastText(b)))
    .filter(Boolean)
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
