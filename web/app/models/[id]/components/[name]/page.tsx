'use client';
import { use } from 'react';
import { RequireUser } from '../../../../../components/Session';
import { ComponentView } from '../../../../../components/views/ComponentView';

export default function Page({ params }: { params: Promise<{ id: string; name: string }> }) {
  const { id, name } = use(params);
  return <RequireUser>{() => <ComponentView id={id} name={decodeURIComponent(name)} />}</RequireUser>;
}
