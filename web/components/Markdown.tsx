/**
 * Renders lib/markdown.ts' tree as React elements: text is always escaped by React, links only
 * carry the safe hrefs the parser kept, and external links open without an opener.
 */
import { Fragment } from 'react';
import { type Block, type Inline, parseMarkdown } from '../lib/markdown';

function inline(xs: Inline[]): React.ReactNode[] {
  return xs.map((x, i) => {
    switch (x.t) {
      case 'text':
        return <Fragment key={i}>{x.v}</Fragment>;
      case 'code':
        return <code key={i}>{x.v}</code>;
      case 'strong':
        return <strong key={i}>{inline(x.c)}</strong>;
      case 'em':
        return <em key={i}>{inline(x.c)}</em>;
      case 'link': {
        const external = /^(https?:|mailto:)/i.test(x.href);
        return (
          <a key={i} href={x.href} {...(external ? { target: '_blank', rel: 'noopener noreferrer nofollow' } : {})}>
            {inline(x.c)}
          </a>
        );
      }
    }
  });
}

function block(b: Block, i: number): React.ReactNode {
  switch (b.t) {
    case 'p':
      return <p key={i}>{inline(b.c)}</p>;
    case 'h': {
      const Tag = `h${Math.min(6, b.level + 2)}` as 'h3'; // keep findings' headings below the page's
      return <Tag key={i}>{inline(b.c)}</Tag>;
    }
    case 'pre':
      return (
        <pre key={i}>
          <code>{b.v}</code>
        </pre>
      );
    case 'quote':
      return <blockquote key={i}>{b.c.map(block)}</blockquote>;
    case 'ul':
      return (
        <ul key={i}>
          {b.items.map((it, j) => (
            <li key={j}>{inline(it)}</li>
          ))}
        </ul>
      );
    case 'ol':
      return (
        <ol key={i}>
          {b.items.map((it, j) => (
            <li key={j}>{inline(it)}</li>
          ))}
        </ol>
      );
    case 'hr':
      return <hr key={i} />;
  }
}

export function Markdown({ source }: { source: string }) {
  return <div className="md">{parseMarkdown(source).map(block)}</div>;
}
