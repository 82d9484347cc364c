/**
 * Relay cursor pagination (https://relay.dev/graphql/connections.htm) over integer keys. Cursors
 * are opaque (base64url of "<kind>:<key>"); keyset pagination, so pages stay stable while rows are
 * added and cost no OFFSET scans.
 */
import { badInput } from './errors.js';

export const MAX_PAGE = 500;

export function encodeCursor(kind: string, key: number): string {
  return Buffer.from(`${kind}:${key}`).toString('base64url');
}

export function decodeCursor(kind: string, cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^([a-z]+):(-?\d{1,16})$/.exec(text);
  if (!m || m[1] !== kind) throw badInput(`invalid cursor ${JSON.stringify(cursor)}: pass an endCursor returned by this same field`);
  return Number(m[2]);
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** Validated page size and the key to continue after (undefined on the first page). */
export function pageArgs(kind: string, args: PageArgs, defaultFirst = 20): { first: number; afterKey: number | undefined } {
  const first = args.first ?? defaultFirst;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE) throw badInput(`first must be an integer between 0 and ${MAX_PAGE}, got ${first}`);
  return { first, afterKey: args.after ? decodeCursor(kind, args.after) : undefined };
}

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** A count query, run only when asked for (GraphQL resolves the promise). */
  totalCount: number | Promise<number>;
}

/**
 * Builds a connection from up to first+1 rows fetched after the cursor (the extra row only tells
 * whether there is a next page). `total` is evaluated only if the client asks for totalCount.
 */
export function connection<T>(
  kind: string,
  rows: T[],
  first: number,
  key: (row: T) => number,
  hadCursor: boolean,
  total: () => Promise<number>,
): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ cursor: encodeCursor(kind, key(node)), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > first, hasPreviousPage: hadCursor, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    get totalCount() {
      return total();
    },
  };
}
