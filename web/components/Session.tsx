'use client';
/**
 * Who is signed in (`me`), loaded once per page load and shared; `RequireUser` sends a visitor
 * without a session to /login?next=<this view>, so a shared URL still lands on its view after
 * logging in.
 */
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import { gql } from '../lib/graphql';
import type { User } from '../lib/types';

interface SessionValue {
  me: User | null | undefined; // undefined while loading
  reload: () => Promise<void>;
}

const SessionContext = createContext<SessionValue>({ me: undefined, reload: async () => undefined });

const ME = 'query Me { me { id name role } }';
const fetchMe = (): Promise<User | null> =>
  gql<{ me: User | null }>(ME).then(
    (d) => d.me,
    () => null,
  );
// Asked as soon as this module loads in the browser, before React hydrates and runs effects.
let firstMe: Promise<User | null> | null = typeof window === 'undefined' ? null : fetchMe();

export function SessionProvider({ children }: { children: React.ReactNode }) {
  const [me, setMe] = useState<User | null | undefined>(undefined);
  const reload = useCallback(async () => {
    const pending = firstMe ?? fetchMe();
    firstMe = null;
    setMe(await pending);
  }, []);
  useEffect(() => void reload(), [reload]);
  return <SessionContext.Provider value={{ me, reload }}>{children}</SessionContext.Provider>;
}

export const useSession = (): SessionValue => useContext(SessionContext);

const PENDING: User = { id: '', name: '', role: 'VIEWER' };

export function RequireUser({ children }: { children: (me: User) => React.ReactNode }) {
  const { me } = useSession();
  const router = useRouter();
  const pathname = usePathname();
  const sp = useSearchParams();
  useEffect(() => {
    if (me === null) {
      const here = sp.toString() ? `${pathname}?${sp.toString()}` : pathname;
      router.replace(`/login?next=${encodeURIComponent(here)}`);
    }
  }, [me, router, pathname, sp]);
  if (me === null) return <p className="empty">Redirecting to log in…</p>;
  // While `me` loads, the view renders as a viewer's (read-only) and starts its own queries in
  // parallel; write controls appear when the session says the user may write.
  return <>{children(me ?? PENDING)}</>;
}

/** Researchers and admins create, run and annotate; viewers read. */
export const canWrite = (me: User): boolean => me.role === 'ADMIN' || me.role === 'RESEARCHER';
