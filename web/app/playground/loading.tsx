import { RouteLoading } from '../../components/RouteState';

export default function Loading() {
  return <RouteLoading what="playground" />;
}
