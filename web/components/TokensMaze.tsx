'use client';
/**
 * A maze drawn from a stored token sequence (an experiment's pair, a lens detail row): the API
 * parses it back (Query.parseMazeTokens) and draws it; `lit` cells ("r,c") are outlined, e.g. the
 * position a drill-down opened. Used where an aggregate links to the maze behind it.
 */
import type { ParseMazeTokensQuery } from '../lib/generated/operations';
import { useQuery } from '../lib/hooks';
import { MazeSvg } from './MazeSvg';
import { PARSE_MAZE_TOKENS } from './TokensMaze.queries';
import { ErrorBox } from './ui';

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
  const q = useQuery<ParseMazeTokensQuery>(PARSE_MAZE_TOKENS, {
    tokens: tokens.join(' '),
    tokenizer,
    rows: grid?.length === 2 ? grid[0] : null,
    cols: grid?.length === 2 ? grid[1] : null,
  });
  return (
    <figure className="tokens-maze" data-testid={testId}>
      <ErrorBox error={q.error} />
      {q.data ? (
        <MazeSvg svg={q.data.parseMazeTokens.svg} lit={lit} predicted={predicted} heat={heat} heatMax={heatMax} label={label} />
      ) : q.loading ? (
        <p className="empty">Drawing…</p>
      ) : null}
      <figcaption className="sub">{label}</figcaption>
    </figure>
  );
}
