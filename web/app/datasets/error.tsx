'use client';
import { RouteError } from '../../components/RouteState';

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return <RouteError what="datasets" error={error} reset={reset} />;
}
