'use client';
import { use } from 'react';
import { RequireUser } from '../../../components/Session';
import { MazeView } from '../../../components/views/MazeView';

export default function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = use(params);
  return <RequireUser>{(me) => <MazeView id={id} me={me} />}</RequireUser>;
}
