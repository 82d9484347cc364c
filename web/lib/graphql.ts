/**
 * A tiny GraphQL client: POST to the same-origin /graphql with the session cookie. Errors keep the
 * API's `extensions.code` (BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT,
 * RATE_LIMITED, INTERNAL_SERVER_ERROR) and, for CONFLICT, `extensions.current` (the current state).
 */

export interface GqlErrorEntry {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; current?: unknown; [k: string]: unknown };
}

export class GqlError extends Error {
  override name = 'GqlError';
  constructor(
    readonly errors: GqlErrorEntry[],
    readonly status = 200,
  ) {
    super(errors.map((e) => e.message).join('; ') || `request failed with HTTP ${status}`);
  }
  /** The first error's code, e.g. "CONFLICT". */
  get code(): string {
    return String(this.errors[0]?.extensions?.code ?? (this.status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'NETWORK'));
  }
  /** For CONFLICT: the object's current state as the server holds it. */
  get current(): unknown {
    return this.errors[0]?.extensions?.current;
  }
}

export type Vars = Record<string, unknown>;

export async function gql<T>(query: string, variables: Vars = {}, signal?: AbortSignal): Promise<T> {
  const { data, errors, status } = await gqlWithErrors<T>(query, variables, signal);
  if (errors.length) throw new GqlError(errors, status);
  if (data == null) throw new GqlError([{ message: 'the server returned no data' }], status);
  return data;
}

/**
 * The same request, answering data and errors side by side: for a list whose items fail one by one
 * (an item is null with its error at its index) the caller sorts them out.
 */
export async function gqlWithErrors<T>(
  query: string,
  variables: Vars = {},
  signal?: AbortSignal,
): Promise<{ data: T | null; errors: GqlErrorEntry[]; status: number }> {
  let res: Response;
  try {
    // application/json is a non-simple content type, which satisfies Apollo's CSRF prevention.
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ query, variables }),
      signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new GqlError([{ message: `cannot reach the Searchlight server: ${(e as Error).message}` }], 0);
  }
  let body: { data?: T | null; errors?: GqlErrorEntry[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new GqlError([{ message: `the server answered HTTP ${res.status} without a GraphQL body` }], res.status);
  }
  return { data: body.data ?? null, errors: body.errors ?? [], status: res.status };
}

/** "Dataset:12" → "12" (for URLs); "12" → "Dataset:12" (for the API). */
export const shortId = (id: string): string => id.slice(id.indexOf(':') + 1);
export const fullId = (type: string, short: string): string => (short.includes(':') ? short : `${type}:${short}`);
