'use client';
import { useSearchParams } from 'next/navigation';
import { RequireUser } from '../../../components/Session';
import { CompareView } from '../../../components/views/CompareView';

export default function Page() {
  const ids = (useSearchParams().get('ids') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => /^\d+$/.test(s));
  return <RequireUser>{() => <CompareView ids={ids} />}</RequireUser>;
}
