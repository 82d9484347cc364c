import { GraphQLError } from 'graphql/index.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../server/errors.js';
import { formatError } from '../../server/graphql/errors.js';
import { type Harness, codes, startHarness } from './helpers.js';

describe('error formatting', () => {
  it('an unexpected error becomes INTERNAL_SERVER_ERROR with no message details or stack outside development', () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const err = new GraphQLError('boom at /secret/path.ts:12', { path: ['x'], originalError: new TypeError('boom at /secret/path.ts:12') });
      const out = formatError(
        { message: err.message, path: ['x'], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['TypeError: boom', '  at /secret/path.ts:12'] } },
        err,
      );
      expect(out).toEqual({ message: 'internal server error', path: ['x'], locations: undefined, extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(spy).toHaveBeenCalled(); // the full error goes to the server log instead
    } finally {
      spy.mockRestore();
    }
  });

  it('a UserError thrown anywhere reaches the client as BAD_USER_INPUT with its own message', () => {
    const err = new GraphQLError('wrapped', { originalError: new UserError('grid must be at most 64') });
    expect(formatError({ message: 'wrapped', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, err)).toMatchObject({
      message: 'grid must be at most 64',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});

describe('HTTP protections', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('CSRF prevention: a simple cross-site-style request (GET without a preflight header, or text/plain POST) is refused', async () => {
    const get = await fetch(`${h.server.graphqlUrl}?query=${encodeURIComponent('{ me { id } }')}`, { headers: { authorization: `Bearer ${h.tokens.viewer}` } });
    expect(get.status).toBe(400);
    expect(await get.text()).toMatch(/CSRF/i);
    const post = await fetch(h.server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${h.tokens.viewer}` },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(post.status).toBe(400);
    const ok = await fetch(`${h.server.graphqlUrl}?query=${encodeURIComponent('{ me { name } }')}`, {
      headers: { authorization: `Bearer ${h.tokens.viewer}`, 'apollo-require-preflight': 'true' },
    });
    expect((await ok.json()).data.me.name).toBe('victor');
  });

  it('unknown routes are 404 with the same error shape; node(id) refetches any object by its global id', async () => {
    const r = await fetch(`${h.server.url}/nope`);
    expect(r.status).toBe(404);
    expect((await r.json()).errors[0].extensions.code).toBe('NOT_FOUND');
    const me = (await h.gql('{ me { id } }')).data.me.id;
    const n = await h.gql('query($id: ID!) { node(id: $id) { id ... on User { name } } }', { id: me });
    expect(n.data.node).toEqual({ id: me, name: 'rosalind' });
    // Another user by id: admins only, as `users` is (a viewer could list every name and role).
    const adminId = (await h.gql('{ me { id } }', {}, h.tokens.admin)).data.me.id;
    for (const token of [h.tokens.viewer, h.tokens.researcher]) {
      const other = await h.gql('query($id: ID!) { node(id: $id) { id ... on User { name role } } }', { id: adminId }, token);
      expect(codes(other)).toEqual(['FORBIDDEN']);
      expect(other.data?.node ?? null).toBeNull();
    }
    expect((await h.gql('query($id: ID!) { node(id: $id) { id } }', { id: me }, h.tokens.admin)).data.node).toEqual({ id: me });
    expect(codes(await h.gql('{ node(id: "nonsense") { id } }'))).toEqual(['BAD_USER_INPUT']);
  });
});
