'use client';
/**
 * A maze drawn from a stored token sequence (an experiment's pair, a lens detail row): the API
 * parses it back (Query.parseMazeTokensList, with the page's other mazes) and draws it; `lit`
 * cells ("r,c") are outlined, e.g. the position a drill-down opened. Used where an aggregate links
 * to the maze behind it.
 */
import DataLoader from 'dataloader';
import { useEffect, useState } from 'react';
import type { ParseMazeTokensListQuery } from '../lib/generated/operations';
import { GqlError, gqlWithErrors } from '../lib/graphql';
import { MazeSvg } from './MazeSvg';
import { PARSE_MAZE_TOKENS_LIST } from './TokensMaze.queries';
import { ErrorBox } from './ui';

interface MazeTokens {
  tokens: string;
  tokenizer: string;
  rows: number | null;
  cols: number | null;
}

/**
 * Every TokensMaze mounted in one render asks for its maze in the same tick; DataLoader (the
 * batching library the server's resolvers use) gathers those asks into one parseMazeTokensList
 * request of up to 32 (the API's bound). An item the API could not read fails alone, with its error.
 * No cache: a page drawn again asks again (the answers are cheap, the sequences many).
 */
const mazes = new DataLoader<MazeTokens, string>(
  async (items) => {
    const r = await gqlWithErrors<ParseMazeTokensListQuery>(PARSE_MAZE_TOKENS_LIST, { items: [...items] });
    const list = r.data?.parseMazeTokensList;
    return items.map((_, i) => {
      const svg = list?.[i]?.svg;
      if (svg != null) return svg;
      const own = r.errors.filter((e) => e.path?.[1] === i);
      return new GqlError(own.length ? own : r.errors.length ? r.errors : [{ message: 'the server returned no maze' }], r.status);
    });
  },
  { cache: false, maxBatchSize: 32 },
);

export function TokensMaze({
  tokens,
  tokenizer,
  grid,
  lit,
  predicted,
  heat,
  heatMax,
  label,
  testId = 'tokens-maze',
}: {
  tokens: readonly string[];
  /** The model's tokenizer (config.tokenizer): the sequence is read in its format. */
  tokenizer: string;
  /** [rows, cols] when known; else inferred from the coordinates. */
  grid?: readonly number[] | null;
  lit?: readonly string[];
  /** Cells joined by a dashed red line (e.g. a fork and the way the model chose). */
  predicted?: ReadonlyArray<readonly [number, number] | null>;
  /** [rows·cols] values drawn on the cells (e.g. a probe's probability), on [0, heatMax]. */
  heat?: ArrayLike<number> | null;
  heatMax?: number;
  label: string;
  testId?: string;
}) {
  const rows = grid?.length === 2 ? grid[0] : null;
  const cols = grid?.length === 2 ? grid[1] : null;
  const text = tokens.join(' ');
  const [drawn, setDrawn] = useState<{ key: string; svg?: string; error?: GqlError } | null>(null);
  const key = JSON.stringify([text, tokenizer, rows, cols]);
  useEffect(() => {
    let live = true;
    mazes.load({ tokens: text, tokenizer, rows, cols }).then(
      (svg) => live && setDrawn({ key, svg }),
      (e: unknown) => live && setDrawn({ key, error: e instanceof GqlError ? e : new GqlError([{ message: String(e) }]) }),
    );
    return () => {
      live = false;
    };
  }, [key, text, tokenizer, rows, cols]);
  const current = drawn?.key === key ? drawn : null;
  return (
    <figure className="tokens-maze" data-testid={testId}>
      <ErrorBox error={current?.error} />
      {current?.svg ? (
        <MazeSvg svg={current.svg} lit={lit} predicted={predicted} heat={heat} heatMax={heatMax} label={label} />
      ) : !current ? (
        <p className="empty">Drawing…</p>
      ) : null}
      <figcaption className="sub">{label}</figcaption>
    </figure>
  );
}
