'use client';
/** API tokens for scripts: list, create (shown once), revoke. */
import type { ApiTokensQuery, CreateApiTokenMutation } from '../../lib/generated/operations';
import { useState } from 'react';
import { useMutation, useQuery } from '../../lib/hooks';
import { API_TOKENS, CREATE_TOKEN, REVOKE_TOKEN } from './ApiTokens.queries';
import { ErrorBox, ago } from '../ui';

export function ApiTokens() {
  const q = useQuery<ApiTokensQuery>(API_TOKENS);
  const create = useMutation<CreateApiTokenMutation>(CREATE_TOKEN);
  const revoke = useMutation(REVOKE_TOKEN);
  const [name, setName] = useState('');
  const [fresh, setFresh] = useState<string>();

  async function add(e: React.FormEvent) {
    e.preventDefault();
    const r = await create.run({ name });
    if (r) {
      setFresh(r.createApiToken.token);
      setName('');
      q.reload();
    }
  }

  return (
    <div className="card">
      <h2>API tokens</h2>
      <p className="sub">
        Scripts send <code>Authorization: Bearer &lt;token&gt;</code> to <code>/graphql</code> and <code>/files/…</code>.
      </p>
      <ErrorBox error={q.error ?? create.error ?? revoke.error} />
      {fresh ? (
        <div className="notice">
          Copy this token now — it is not shown again:
          <div className="secret" data-testid="new-token">
            {fresh}
          </div>
        </div>
      ) : null}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Prefix</th>
            <th>Created</th>
            <th>Last used</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(q.data?.apiTokens ?? []).map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td className="mono">{t.prefix}…</td>
              <td>{ago(t.createdAt)}</td>
              <td>{t.lastUsedAt ? ago(t.lastUsedAt) : 'never'}</td>
              <td>
                {t.revoked ? (
                  <span className="badge FAILED">revoked</span>
                ) : (
                  <button type="button" onClick={() => void revoke.run({ id: t.id }).then(q.reload)}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form className="inline" onSubmit={add} style={{ marginTop: 12 }}>
        <label>
          New token name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. notebook" required />
        </label>
        <button type="submit" className="primary" disabled={create.busy}>
          Create token
        </button>
      </form>
    </div>
  );
}
