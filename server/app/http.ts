/**
 * Plain node:http plumbing: bounded body reading, JSON replies, and the adapter that hands a
 * request to Apollo Server (`executeHTTPGraphQLRequest`, Apollo's documented integration point for
 * frameworks without a ready-made integration).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApolloServer, HeaderMap } from '@apollo/server';
import type { Ctx } from '../graphql/context.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = 'BAD_USER_INPUT',
  ) {
    super(message);
  }
}

/** Reads the whole body, refusing more than `limit` bytes with 413. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new HttpError(413, `request body is ${declared} bytes; the limit is ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body exceeds the ${limit}-byte limit`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Errors outside GraphQL (downloads, uploads) use the same shape and codes as GraphQL errors. */
export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

export const GRAPHQL_BODY_LIMIT = 48 * 1024 * 1024; // fits importModel's base64 of a 32 MiB file
/**
 * Without a valid token or session the body may hold only what an anonymous caller can send (a
 * login, a query): 10 concurrent 48 MiB bodies held 462 MiB before the missing token was noticed.
 */
export const ANONYMOUS_BODY_LIMIT = 64 * 1024;

/** `limit`: the body size allowed to this caller (decided from the headers, before reading it). */
export async function handleGraphQL(
  apollo: ApolloServer<Ctx>,
  req: IncomingMessage,
  res: ServerResponse,
  context: (setCookies: string[]) => Promise<Ctx>,
  limit = GRAPHQL_BODY_LIMIT,
): Promise<void> {
  const headers = new HeaderMap();
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  let body: unknown;
  if (req.method === 'POST') {
    const raw = await readBody(req, limit);
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (type.startsWith('application/json') || type.startsWith('application/graphql-response+json')) {
      try {
        body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
      } catch (e) {
        throw new HttpError(400, `request body is not valid JSON: ${(e as Error).message}`);
      }
    } else {
      body = raw.toString('utf8'); // Apollo answers with its own precise error (and CSRF checks)
    }
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const setCookies: string[] = [];
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search: url.search, body },
    context: async () => context(setCookies),
  });
  for (const [k, v] of response.headers) res.setHeader(k, v);
  if (setCookies.length) res.setHeader('set-cookie', setCookies);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}
