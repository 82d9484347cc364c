'use client';
import { RequireUser } from '../../components/Session';
import { CircuitsView } from '../../components/views/CircuitsView';

export default function Page() {
  return <RequireUser>{() => <CircuitsView />}</RequireUser>;
}
