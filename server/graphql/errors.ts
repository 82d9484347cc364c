/**
 * API errors. Every GraphQL error leaves the server with `extensions.code`, one of
 *   BAD_USER_INPUT (a UserError: fix the input), UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT,
 *   RATE_LIMITED (compute mutations, login attempts; extensions.retryAfterSeconds), INTERNAL_SERVER_ERROR,
 * and never a stack trace outside development (NODE_ENV=development). Apollo's protocol-level
 * client errors (parse/validation failures, bad requests) are reported as BAD_USER_INPUT with the
 * original code kept in `extensions.reason`.
 */
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema, isEnumType } from 'graphql/index.js';
import { type UserError, isUserError } from '../errors.js';
import { storageUserError } from '../services/database.js';

export type ErrorCode = 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'RATE_LIMITED' | 'INTERNAL_SERVER_ERROR';

const OURS = new Set<string>(['BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'RATE_LIMITED', 'INTERNAL_SERVER_ERROR']);
const CLIENT_PROTOCOL = new Set<string>([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export function apiError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export const unauthenticated = (): GraphQLError =>
  apiError('UNAUTHENTICATED', 'authentication required: send "Authorization: Bearer <token>" (searchlight users create prints one) or log in');
export const forbidden = (what: string): GraphQLError => apiError('FORBIDDEN', what);
export const notFound = (what: string): GraphQLError => apiError('NOT_FOUND', `${what} not found`);
export const conflict = (message: string, current: unknown): GraphQLError => apiError('CONFLICT', message, { current });
export const badInput = (message: string, extra: Record<string, unknown> = {}): GraphQLError => apiError('BAD_USER_INPUT', message, extra);

export function isDevelopment(): boolean {
  return process.env.NODE_ENV === 'development';
}

/**
 * graphql-js refuses a value outside an enum ('Value "x" does not exist in "E" enum.', or for a
 * string literal in the document 'Enum "E" cannot represent non-enum value: "x".') without saying
 * which values there are: this names them right after the enum, so the message alone tells the
 * caller what to send.
 */
export function withEnumValues(schema: GraphQLSchema): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  const ENUM = /does not exist in "(\w+)" enum|Enum "(\w+)" cannot represent non-enum value/;
  return (formatted, error) => {
    const m = ENUM.exec(formatted.message);
    const t = m ? schema.getType(m[1] ?? m[2]) : undefined;
    const out =
      m && t && isEnumType(t)
        ? {
            ...formatted,
            message: formatted.message.replace(
              m[0],
              `${m[0]} (one of: ${t
                .getValues()
                .map((v) => v.name)
                .join(', ')})`,
            ),
          }
        : formatted;
    return formatError(out, error);
  };
}

/** Apollo `formatError`: maps every error onto our codes; hides internal details outside development. */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  let original: unknown = error;
  while (original instanceof GraphQLError && original.originalError) original = original.originalError;
  const ext = { ...(formatted.extensions ?? {}) };
  const code = String(ext.code ?? '');
  original = storageUserError(original) ?? original;
  if (isUserError(original)) {
    const reason = (original as UserError).code;
    return { ...formatted, message: (original as Error).message, extensions: { ...ext, code: 'BAD_USER_INPUT', ...(reason ? { reason } : {}) } };
  }
  if (OURS.has(code) && code !== 'INTERNAL_SERVER_ERROR') return formatted;
  if (CLIENT_PROTOCOL.has(code)) return { ...formatted, extensions: { ...ext, code: 'BAD_USER_INPUT', reason: code } };
  // A bug or an unexpected failure: log it in full here, tell the client only that it happened.
  const err = original instanceof Error ? original : new Error(String(original));
  process.stderr.write(`[graphql] internal error${formatted.path ? ` at ${formatted.path.join('.')}` : ''}: ${err.stack ?? err.message}\n`);
  if (isDevelopment()) return { ...formatted, extensions: { ...ext, code: 'INTERNAL_SERVER_ERROR' } };
  return { message: 'internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
