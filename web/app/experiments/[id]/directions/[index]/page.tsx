'use client';
import { use } from 'react';
import { RequireUser } from '../../../../../components/Session';
import { DirectionView } from '../../../../../components/views/experiment/DirectionView';

export default function Page({ params }: { params: Promise<{ id: string; index: string }> }) {
  const { id, index } = use(params);
  return <RequireUser>{() => <DirectionView id={id} index={index} />}</RequireUser>;
}
