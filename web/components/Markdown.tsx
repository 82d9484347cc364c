/**
 * A finding's Markdown as researchers write it: CommonMark with GFM tables and strikethrough
 * (remark-gfm), math in `$…$` / `$$…$$` (remark-math + KaTeX), highlighted fenced code
 * (rehype-highlight). react-markdown builds React elements from the syntax tree — it never uses
 * innerHTML — and raw HTML in a body is dropped (`skipHtml`), so no markup from the text reaches
 * the DOM; links keep only targets lib/markdown.ts' safeHref allows, and external ones open
 * without an opener. Headings are shifted below the page's own.
 */
import type { ReactNode } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import rehypeKatex from 'rehype-katex';
import remarkGfm from 'remark-gfm';
import remarkMath from 'remark-math';
import { safeHref } from '../lib/markdown';

/** A body's heading, shifted below the page's own (# → h3). */
function Heading({ level, children }: { level: number; children?: ReactNode }) {
  const Tag = `h${Math.min(6, level + 2)}` as 'h3';
  return <Tag>{children}</Tag>;
}

const components: Components = {
  a({ href, id, children }) {
    const safe = href ? safeHref(href) : null;
    if (!safe) return <>{children}</>;
    const external = /^(https?:|mailto:)/i.test(safe);
    return (
      <a href={safe} id={id} {...(external ? { target: '_blank', rel: 'noopener noreferrer nofollow' } : {})}>
        {children}
      </a>
    );
  },
  // No images from bodies (no tracking pixels, nothing loaded from elsewhere): their alt text.
  img: ({ alt }) => <>{alt ?? ''}</>,
  h1: ({ children }) => <Heading level={1}>{children}</Heading>,
  h2: ({ children }) => <Heading level={2}>{children}</Heading>,
  h3: ({ children }) => <Heading level={3}>{children}</Heading>,
  h4: ({ children }) => <Heading level={4}>{children}</Heading>,
  h5: ({ children }) => <Heading level={5}>{children}</Heading>,
  h6: ({ children }) => <Heading level={6}>{children}</Heading>,
};

export function Markdown({ source }: { source: string }) {
  return (
    <div className="md">
      <ReactMarkdown
        remarkPlugins={[remarkGfm, remarkMath]}
        rehypePlugins={[rehypeKatex, [rehypeHighlight, { detect: false }]]}
        components={components}
        skipHtml
        urlTransform={(url) => safeHref(url) ?? ''}
      >
        {source}
      </ReactMarkdown>
    </div>
  );
}
