'use client';
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { gql } from '../lib/graphql';
import { useSession } from './Session';

const NAV: Array<[href: string, label: string]> = [
  ['/', 'Overview'],
  ['/datasets', 'Datasets'],
  ['/models', 'Models'],
  ['/playground', 'Playground'],
  ['/experiments', 'Experiments'],
  ['/findings', 'Findings'],
  ['/circuits', 'Circuits'],
];

function Logo() {
  // A lantern beam over a grid: the search inside the maze.
  return (
    <svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true">
      <rect x="1" y="1" width="18" height="18" rx="3" fill="none" stroke="#8fb3ff" strokeWidth="1.5" />
      <path d="M1 7h12M7 13h12M7 1v6M13 13v6" stroke="#8fb3ff" strokeWidth="1.5" />
      <circle cx="4" cy="16" r="2.2" fill="#ffd43b" />
    </svg>
  );
}

export function Header() {
  const pathname = usePathname();
  const router = useRouter();
  const { me, reload } = useSession();
  const active = (href: string): boolean => (href === '/' ? pathname === '/' : pathname.startsWith(href));
  async function logout() {
    await gql('mutation Logout { logout }').catch(() => undefined);
    await reload();
    router.push('/login');
  }
  return (
    <header className="topbar">
      <Link prefetch={false} href="/" className="brand">
        <Logo /> Searchlight
      </Link>
      <nav>
        {NAV.map(([href, label]) => (
          <Link prefetch={false} key={href} href={href} className={active(href) ? 'active' : ''}>
            {label}
          </Link>
        ))}
      </nav>
      <div className="who">
        {me ? (
          <>
            <Link prefetch={false} href="/login" style={{ color: '#e8edf3' }} data-testid="me">
              {me.name}
            </Link>
            <span className="badge">{me.role.toLowerCase()}</span>
            <button type="button" onClick={logout}>
              Log out
            </button>
          </>
        ) : me === null ? (
          <Link prefetch={false} href="/login" style={{ color: '#e8edf3' }}>
            Log in
          </Link>
        ) : null}
      </div>
    </header>
  );
}
