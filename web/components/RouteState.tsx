'use client';
/**
 * What a route shows while its page loads (loading.tsx) and when rendering it throws
 * (error.tsx): the section's name, the error's message (never a stack) and a retry that
 * re-renders the segment, so one broken view never blanks the whole dashboard.
 */
import { ErrorBox } from './ui';

export function RouteLoading({ what }: { what: string }) {
  return (
    <div className="card" aria-busy="true">
      <p className="empty">Loading {what}…</p>
    </div>
  );
}

export function RouteError({ what, error, reset }: { what: string; error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="card" data-testid="route-error">
      <h2>The {what} page failed</h2>
      <ErrorBox error={error} />
      {error.digest ? <p className="sub">Reference for the server log: {error.digest}</p> : null}
      <button type="button" onClick={reset}>
        Try again
      </button>
    </div>
  );
}
