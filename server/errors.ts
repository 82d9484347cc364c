/**
 * Errors a user can fix (bad option, malformed maze text, wrong tensor shape). Interfaces print
 * their message as one line — CLI on stderr with exit 2, GraphQL as BAD_USER_INPUT — and never a
 * stack trace. Anything else is a bug and is reported as an internal error.
 *
 * Mistakes a caller may want to tell apart without reading the message carry a `code`, set where
 * the mistake is found (the model core), and passed on unchanged: GraphQL reports it as
 * `extensions.reason`, code reacts to it (a torn checkpoint pair restarts training).
 */
export type UserErrorCode =
  /** A hook name the model does not have (TransformerLens names). */
  | 'UNKNOWN_HOOK'
  /** An intervention (or cache position) that does not fit its hook: kind, positions, heads, value size. */
  | 'INVALID_INTERVENTION'
  /** A token id outside [0, d_vocab), or a token string not in the vocabulary. */
  | 'TOKEN_OUTSIDE_VOCABULARY'
  /** More positions than the model's n_ctx. */
  | 'SEQUENCE_TOO_LONG'
  /** A resume whose weights or optimizer state file is missing. */
  | 'CHECKPOINT_MISSING'
  /** A resume whose weights and optimizer state were saved by different steps (an interrupted save). */
  | 'CHECKPOINT_TORN'
  /** A value longer than its database column allows (server/db/schema.ts TEXT_LIMITS). */
  | 'VALUE_TOO_LONG';

export class UserError extends Error {
  override name = 'UserError';
  readonly code: UserErrorCode | undefined;

  constructor(message: string, opts: { code?: UserErrorCode } = {}) {
    super(message);
    this.code = opts.code;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
