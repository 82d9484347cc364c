'use client';
import { use } from 'react';
import { RequireUser } from '../../../../../components/Session';
import { SaeFeatureView } from '../../../../../components/views/experiment/SaeFeatureView';

export default function Page({ params }: { params: Promise<{ id: string; latent: string }> }) {
  const { id, latent } = use(params);
  return <RequireUser>{() => <SaeFeatureView id={id} latent={latent} />}</RequireUser>;
}
