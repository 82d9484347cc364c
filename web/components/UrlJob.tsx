'use client';
/**
 * The job named by the URL's `job` parameter, with live progress, so a reload or a shared link
 * shows the same job. `children` renders what the finished job made (e.g. a link to it).
 */
import type { JobQuery } from '../lib/generated/operations';
import { useState } from 'react';
import { fullId } from '../lib/graphql';
import { useQuery } from '../lib/hooks';
import { JOB } from './UrlJob.queries';
import { useUrlState } from '../lib/url';
import type { Job } from '../lib/types';
import { JobProgress } from './JobProgress';
import { ErrorBox } from './ui';

export function UrlJob({ kind, onDone, children }: { kind: string; onDone?: (j: Job) => void; children?: (finished: Job) => React.ReactNode }) {
  const url = useUrlState();
  const jobId = url.get('job');
  const q = useQuery<JobQuery>(JOB, { id: fullId('Job', jobId) }, { skip: !jobId });
  const [finished, setFinished] = useState<Job>();
  const job = q.data?.job;
  if (!jobId || !job || job.kind !== kind) return <ErrorBox error={q.error} />;
  const last = finished?.id === job.id ? finished : job;
  return (
    <div style={{ marginTop: 12 }}>
      <JobProgress
        job={job}
        canCancel
        onDone={(j) => {
          setFinished(j);
          onDone?.(j);
        }}
      />
      {last.status === 'COMPLETED' && children ? children(last) : null}
    </div>
  );
}
