'use client';
/** /login: password sign-in (the API sets an httpOnly session cookie); signed in: API tokens. */
import { useRouter, useSearchParams } from 'next/navigation';
import { useState } from 'react';
import { type GqlError, gql } from '../../lib/graphql';
import { LOGIN } from './LoginView.queries';
import { useSession } from '../Session';
import { sameSitePath } from '../../lib/markdown';
import { ErrorBox, Title } from '../ui';
import { ApiTokens } from './ApiTokens';

/** Only same-site paths are followed after login (no open redirect). */
function safeNext(v: string | null): string {
  return (v?.trim().startsWith('/') && sameSitePath(v as string)) || '/';
}

export function LoginView() {
  const { me, reload } = useSession();
  const router = useRouter();
  const next = safeNext(useSearchParams().get('next'));
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<GqlError>();
  const [busy, setBusy] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await gql(LOGIN, { name, password });
      await reload();
      router.push(next);
    } catch (err) {
      setError(err as GqlError);
    } finally {
      setBusy(false);
    }
  }

  if (me) {
    return (
      <>
        <Title sub={`${me.role.toLowerCase()} · ${me.id}`}>Signed in as {me.name}</Title>
        <ApiTokens />
      </>
    );
  }
  return (
    <div className="card login">
      <h1>Log in to Searchlight</h1>
      <form onSubmit={submit}>
        <label>
          User name
          <input name="name" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        <button className="primary" type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <ErrorBox error={error} />
      </form>
      <p className="sub">
        No account? An admin creates one with <code>searchlight users create --name you --role researcher --password-stdin</code>.
      </p>
    </div>
  );
}
