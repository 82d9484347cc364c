'use client';
/** A job's live state: a progress bar fed by the `jobProgress` subscription until it finishes. */
import { useEffect, useRef, useState } from 'react';
import { gql } from '../lib/graphql';
import { useSubscription } from '../lib/hooks';
import { CANCEL_JOB, JOB_PROGRESS } from './JobProgress.queries';
import type { Job } from '../lib/types';

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export function fraction(job: Job): number {
  if (job.status === 'COMPLETED') return 1;
  const p = job.progress;
  return p && typeof p.done === 'number' && typeof p.total === 'number' && p.total > 0 ? Math.min(1, p.done / p.total) : 0;
}

export function ProgressBar({ value, state }: { value: number; state?: 'done' | 'failed' }) {
  return (
    <div className={`progress ${state ?? ''}`} role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(value * 100)}>
      <div style={{ width: `${(value * 100).toFixed(1)}%` }} />
    </div>
  );
}

export function JobProgress({ job: initial, onDone, canCancel }: { job: Job; onDone?: (j: Job) => void; canCancel?: boolean }) {
  const [job, setJob] = useState(initial);
  const done = useRef(false);
  useEffect(() => setJob(initial), [initial]);
  const live = !TERMINAL.has(initial.status);
  const subError = useSubscription<{ jobProgress: Job }>(JOB_PROGRESS, live ? { id: initial.id } : null, (d) => setJob(d.jobProgress));
  useEffect(() => {
    if (TERMINAL.has(job.status) && !done.current) {
      done.current = true;
      onDone?.(job);
    }
  }, [job, onDone]);
  const p = job.progress ?? {};
  const f = fraction(job);
  return (
    <div className="job" data-testid="job" data-status={job.status} data-job={job.id}>
      <div className="meta">
        <span className={`badge ${job.status}`}>{job.status}</span>
        <span className="mono">{job.kind}</span>
        <span>{job.id}</span>
        {typeof p.done === 'number' && typeof p.total === 'number' ? (
          <span>
            {p.done.toLocaleString()} / {p.total.toLocaleString()}
          </span>
        ) : null}
        {p.phase ? <span>{String(p.phase)}</span> : null}
        {canCancel && !TERMINAL.has(job.status) ? (
          <button
            type="button"
            onClick={() =>
              void gql<{ cancelJob: Job }>(CANCEL_JOB, { id: job.id }).then(
                (d) => setJob(d.cancelJob),
                () => undefined,
              )
            }
          >
            Cancel
          </button>
        ) : null}
      </div>
      <ProgressBar value={f} state={job.status === 'COMPLETED' ? 'done' : job.status === 'FAILED' || job.status === 'CANCELLED' ? 'failed' : undefined} />
      {p.message ? <small className="sub">{String(p.message)}</small> : null}
      {job.error ? <div className="error">{job.error}</div> : null}
      {subError ? <div className="error">Live updates unavailable: {subError.message}</div> : null}
    </div>
  );
}
