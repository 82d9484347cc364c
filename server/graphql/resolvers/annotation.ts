/**
 * Findings: annotations on model components, comments, votes and circuits. Edits carry the
 * version they were made on; a stale edit is refused with CONFLICT and the current state
 * (extensions.current), so nothing is silently overwritten. Every change is published to
 * `annotationEvents(modelId)` and written to the audit log.
 */
import { and, count, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import { UserError } from '../../errors.js';
import { audit } from '../../db/audit.js';
import { annotations, circuitEditors, circuits, comments, users, votes } from '../../db/schema.js';
import type { Ctx } from '../context.js';
import { conflict, forbidden, notFound } from '../errors.js';
import { hasRole, type Role } from '../../auth/roles.js';
import type { AnnotationEventKind, Resolvers } from '../generated/types.js';
import { requireOwnerOrAdmin, requireRole, requireUser } from '../guard.js';
import { rowId, toId } from '../ids.js';
import type { AnnotationRow, CommentRow } from '../mappers.js';
import { connection, pageArgs } from '../pagination.js';

export const annotationTopic = (modelId: number): string => `annotations:${modelId}`;

interface AnnotationEventPayload {
  kind: AnnotationEventKind;
  annotation: AnnotationRow;
  comment: CommentRow | null;
  actorId: number;
}

/** Validates a component target and returns its canonical key, e.g. "head:2.1". */
export function targetKey(target: unknown): string {
  const t = target as Record<string, unknown>;
  if (!t || typeof t !== 'object' || Array.isArray(t)) throw new UserError('target must be an object like {"kind":"head","layer":0,"head":1}');
  const int = (k: string): number => {
    if (!Number.isInteger(t[k]) || (t[k] as number) < 0) throw new UserError(`target.${k} must be a non-negative integer for kind "${t.kind}", got ${JSON.stringify(t[k])}`);
    return t[k] as number;
  };
  switch (t.kind) {
    case 'embed': case 'pos_embed': case 'unembed': return String(t.kind);
    case 'head': return `head:${int('layer')}.${int('head')}`;
    case 'mlp': return `mlp:${int('layer')}`;
    case 'neuron': return `neuron:${int('layer')}.${int('neuron')}`;
    case 'hook': {
      if (typeof t.hook !== 'string' || !t.hook) throw new UserError('target.hook must be a hook name such as "blocks.0.hook_resid_pre"');
      return `hook:${t.hook}${t.position !== undefined ? `@${int('position')}` : ''}`;
    }
    case 'experiment': return `experiment:${int('experimentId')}`;
    default: throw new UserError(`target.kind must be one of embed, pos_embed, unembed, head, mlp, neuron, hook, experiment; got ${JSON.stringify(t.kind)}`);
  }
}

function checkBody(body: string, what = 'body'): string {
  if (!body.trim() || body.length > 100_000) throw new UserError(`${what} must be 1-100000 characters`);
  return body;
}

function checkTags(tags: readonly string[] | null | undefined): string[] {
  const out = [...new Set((tags ?? []).map((t) => t.trim()).filter(Boolean))];
  if (out.length > 50 || out.some((t) => t.length > 50)) throw new UserError('tags: at most 50 tags of at most 50 characters each');
  return out;
}

function publish(ctx: Ctx, ev: AnnotationEventPayload): void {
  ctx.app.pubsub.publish(annotationTopic(ev.annotation.modelId), ev);
}

function getAnnotation(ctx: Ctx, id: string): AnnotationRow {
  const n = rowId(id, 'Annotation');
  const a = ctx.db.select().from(annotations).where(eq(annotations.id, n)).get();
  if (!a) throw notFound(`Annotation:${n}`);
  return a;
}

/** Most editors one circuit may name. */
const MAX_CIRCUIT_EDITORS = 50;

/** The caller is the circuit's owner, an admin, or one of the editors its owner named. */
function mayEditCircuit(ctx: Ctx, circuitId: number, ownerId: number | null): boolean {
  const u = ctx.user;
  if (!u) return false;
  if (u.role === 'admin' || u.id === ownerId) return true;
  return ctx.db.select({ c: circuitEditors.circuitId }).from(circuitEditors).where(and(eq(circuitEditors.circuitId, circuitId), eq(circuitEditors.userId, u.id))).get() !== undefined;
}

export const annotationResolvers: Resolvers<Ctx> = {
  Query: {
    annotations(_p, args, ctx) {
      requireUser(ctx);
      const modelId = rowId(args.modelId, 'Model');
      const { first, afterKey } = pageArgs('annotation', args);
      const q = args.search?.trim() ? `%${args.search.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
      const search = q ? or(sql`${annotations.body} LIKE ${q} ESCAPE '\\'`, sql`${annotations.tags} LIKE ${q} ESCAPE '\\'`) : undefined;
      const base = and(eq(annotations.modelId, modelId), search);
      const rows = ctx.db.select().from(annotations).where(and(base, afterKey !== undefined ? lt(annotations.id, afterKey) : undefined)).orderBy(desc(annotations.id)).limit(first + 1).all();
      return connection('annotation', rows, first, (r) => r.id, afterKey !== undefined, () => ctx.db.select({ n: count() }).from(annotations).where(base).get()!.n);
    },
    async annotation(_p, { id }, ctx) {
      requireUser(ctx);
      return (await ctx.loaders.annotation.load(rowId(id, 'Annotation'))) ?? null;
    },
    circuits(_p, { modelId, first }, ctx) {
      requireUser(ctx);
      const n = first ?? 100;
      if (!Number.isInteger(n) || n < 1 || n > 500) throw new UserError(`circuits: first must be an integer between 1 and 500, got ${n}`);
      if (modelId) return ctx.db.select().from(circuits).where(eq(circuits.modelId, rowId(modelId, 'Model'))).orderBy(circuits.id).limit(n).all();
      return ctx.db.select().from(circuits).orderBy(desc(circuits.updatedAt), desc(circuits.id)).limit(n).all();
    },
    circuit(_p, { id }, ctx) {
      requireUser(ctx);
      return ctx.db.select().from(circuits).where(eq(circuits.id, rowId(id, 'Circuit'))).get() ?? null;
    },
  },
  Mutation: {
    async createAnnotation(_p, { input }, ctx) {
      const user = requireRole(ctx, 'researcher', 'createAnnotation');
      const modelId = rowId(input.modelId, 'Model');
      if (!(await ctx.loaders.model.load(modelId))) throw notFound(`Model:${modelId}`);
      const key = targetKey(input.target);
      const row = ctx.db.transaction((tx) => {
        const a = tx.insert(annotations).values({
          modelId, target: input.target, targetKey: key, body: checkBody(input.body), status: input.status ?? 'HYPOTHESIS',
          tags: checkTags(input.tags), evidence: input.evidence ?? [], authorId: user.id, createdAt: Date.now(), updatedAt: Date.now(),
        }).returning().get();
        audit(tx, user.id, 'create', 'annotation', a.id, { modelId, target: key });
        return a;
      });
      publish(ctx, { kind: 'CREATED', annotation: row, comment: null, actorId: user.id });
      return row;
    },
    updateAnnotation(_p, { input }, ctx) {
      const current = getAnnotation(ctx, input.id);
      const user = requireOwnerOrAdmin(ctx, current.authorId, 'updateAnnotation');
      const patch: Partial<AnnotationRow> = { updatedAt: Date.now() };
      if (input.body != null) patch.body = checkBody(input.body);
      if (input.status != null) patch.status = input.status;
      if (input.tags != null) patch.tags = checkTags(input.tags);
      if (input.evidence !== undefined && input.evidence !== null) patch.evidence = input.evidence;
      const row = ctx.db.transaction((tx) => {
        const r = tx.update(annotations).set({ ...patch, version: sql`${annotations.version} + 1` })
          .where(and(eq(annotations.id, current.id), eq(annotations.version, input.version))).returning().get();
        if (r) audit(tx, user.id, 'update', 'annotation', r.id, { fields: Object.keys(patch).filter((k) => k !== 'updatedAt'), version: r.version });
        return r;
      });
      if (!row) {
        const now = ctx.db.select().from(annotations).where(eq(annotations.id, current.id)).get()!;
        throw conflict(`Annotation:${current.id} changed since version ${input.version} (now version ${now.version}); reapply your edit on the current state`, { ...now, id: toId('Annotation', now.id) });
      }
      publish(ctx, { kind: 'UPDATED', annotation: row, comment: null, actorId: user.id });
      return row;
    },
    addComment(_p, { annotationId, body }, ctx) {
      const user = requireRole(ctx, 'researcher', 'addComment');
      const a = getAnnotation(ctx, annotationId);
      const c = ctx.db.transaction((tx) => {
        const row = tx.insert(comments).values({ annotationId: a.id, authorId: user.id, body: checkBody(body, 'comment'), createdAt: Date.now() }).returning().get();
        audit(tx, user.id, 'create', 'comment', row.id, { annotationId: a.id });
        return row;
      });
      publish(ctx, { kind: 'COMMENTED', annotation: a, comment: c, actorId: user.id });
      return c;
    },
    vote(_p, { annotationId, value }, ctx) {
      const user = requireRole(ctx, 'researcher', 'vote');
      if (value !== 1 && value !== -1 && value !== 0) throw new UserError(`vote: value must be 1, -1 or 0, got ${value}`);
      const a = getAnnotation(ctx, annotationId);
      ctx.db.transaction((tx) => {
        tx.delete(votes).where(and(eq(votes.annotationId, a.id), eq(votes.userId, user.id))).run();
        if (value !== 0) tx.insert(votes).values({ annotationId: a.id, userId: user.id, value, createdAt: Date.now() }).run();
        audit(tx, user.id, 'vote', 'annotation', a.id, { value });
      });
      publish(ctx, { kind: 'VOTED', annotation: a, comment: null, actorId: user.id });
      return a;
    },
    createCircuit(_p, { modelId, name, graph }, ctx) {
      const user = requireRole(ctx, 'researcher', 'createCircuit');
      const mId = rowId(modelId, 'Model');
      if (!name.trim() || name.length > 200) throw new UserError('createCircuit: name must be 1-200 characters');
      if (!graph || typeof graph !== 'object') throw new UserError('createCircuit: graph must be an object {nodes, edges}');
      return ctx.db.transaction((tx) => {
        const c = tx.insert(circuits).values({ modelId: mId, name: name.trim(), graph, updatedBy: user.id, ownerId: user.id, createdAt: Date.now(), updatedAt: Date.now() }).returning().get();
        audit(tx, user.id, 'create', 'circuit', c.id, { modelId: mId });
        return c;
      });
    },
    updateCircuit(_p, { id, version, name, graph }, ctx) {
      requireRole(ctx, 'researcher', 'updateCircuit');
      const cId = rowId(id, 'Circuit');
      const current = ctx.db.select({ ownerId: circuits.ownerId }).from(circuits).where(eq(circuits.id, cId)).get();
      if (!current) throw notFound(`Circuit:${cId}`);
      const user = requireRole(ctx, 'researcher', 'updateCircuit');
      if (!mayEditCircuit(ctx, cId, current.ownerId)) throw forbidden('updateCircuit: only its creator, the editors they named, or an admin may change it');
      const patch: Record<string, unknown> = { updatedAt: Date.now(), updatedBy: user.id };
      if (name != null && (!name.trim() || name.length > 200)) throw new UserError('updateCircuit: name must be 1-200 characters');
      if (name != null) patch.name = name.trim();
      if (graph != null) patch.graph = graph;
      const row = ctx.db.transaction((tx) => {
        const r = tx.update(circuits).set({ ...patch, version: sql`${circuits.version} + 1` }).where(and(eq(circuits.id, cId), eq(circuits.version, version))).returning().get();
        if (r) audit(tx, user.id, 'update', 'circuit', cId, { version: r.version });
        return r;
      });
      if (!row) {
        const now = ctx.db.select().from(circuits).where(eq(circuits.id, cId)).get();
        if (!now) throw notFound(`Circuit:${cId}`);
        throw conflict(`Circuit:${cId} changed since version ${version} (now version ${now.version}); merge your edit into the current graph`, { ...now, id: toId('Circuit', now.id) });
      }
      return row;
    },
    setCircuitEditors(_p, { id, names }, ctx) {
      const cId = rowId(id, 'Circuit');
      const current = ctx.db.select({ ownerId: circuits.ownerId }).from(circuits).where(eq(circuits.id, cId)).get();
      if (!current) throw notFound(`Circuit:${cId}`);
      const user = requireOwnerOrAdmin(ctx, current.ownerId, 'setCircuitEditors');
      if (names.length > MAX_CIRCUIT_EDITORS) throw new UserError(`setCircuitEditors: at most ${MAX_CIRCUIT_EDITORS} editors, got ${names.length}`);
      const wanted = [...new Set(names.map((n) => n.trim()).filter(Boolean))];
      const found = wanted.length ? ctx.db.select().from(users).where(inArray(users.name, wanted)).all() : [];
      const missing = wanted.filter((n) => !found.some((u) => u.name === n));
      if (missing.length) throw new UserError(`setCircuitEditors: no user named ${missing.map((n) => JSON.stringify(n.slice(0, 64))).join(', ')}`);
      const viewers = found.filter((u) => !hasRole(u.role as Role, 'researcher'));
      if (viewers.length) throw new UserError(`setCircuitEditors: ${viewers.map((u) => u.name).join(', ')} ${viewers.length > 1 ? 'are viewers' : 'is a viewer'}; editors need the researcher role`);
      return ctx.db.transaction((tx) => {
        tx.delete(circuitEditors).where(eq(circuitEditors.circuitId, cId)).run();
        if (found.length) tx.insert(circuitEditors).values(found.map((u) => ({ circuitId: cId, userId: u.id }))).run();
        audit(tx, user.id, 'editors', 'circuit', cId, { editors: found.map((u) => u.name) });
        return tx.select().from(circuits).where(eq(circuits.id, cId)).get()!;
      });
    },
  },
  Subscription: {
    annotationEvents: {
      subscribe(_p, { modelId }, ctx) {
        requireUser(ctx);
        return ctx.app.pubsub.subscribe<AnnotationEventPayload>(annotationTopic(rowId(modelId, 'Model')));
      },
      resolve: (ev: AnnotationEventPayload) => ev,
    },
  },
  AnnotationEvent: {
    actor: async (ev, _a, ctx) => (await ctx.loaders.user.load((ev as unknown as AnnotationEventPayload).actorId)) ?? null,
  },
  Annotation: {
    id: (a) => toId('Annotation', a.id),
    model: async (a, _a, ctx) => {
      const m = await ctx.loaders.model.load(a.modelId);
      if (!m) throw notFound(`Model:${a.modelId}`);
      return m;
    },
    tags: (a) => a.tags as string[],
    author: async (a, _x, ctx) => (a.authorId ? ((await ctx.loaders.user.load(a.authorId)) ?? null) : null),
    comments: (a, _x, ctx) => ctx.loaders.commentsByAnnotation.load(a.id),
    score: (a, _x, ctx) => ctx.loaders.voteScore.load(a.id),
    myVote: (a, _x, ctx) => (ctx.user ? (ctx.db.select({ v: votes.value }).from(votes).where(and(eq(votes.annotationId, a.id), eq(votes.userId, ctx.user.id))).get()?.v ?? 0) : 0),
  },
  Comment: {
    id: (c) => toId('Comment', c.id),
    annotation: async (c, _x, ctx) => {
      const a = await ctx.loaders.annotation.load(c.annotationId);
      if (!a) throw notFound(`Annotation:${c.annotationId}`);
      return a;
    },
    author: async (c, _x, ctx) => (c.authorId ? ((await ctx.loaders.user.load(c.authorId)) ?? null) : null),
  },
  Circuit: {
    id: (c) => toId('Circuit', c.id),
    model: async (c, _x, ctx) => {
      const m = await ctx.loaders.model.load(c.modelId);
      if (!m) throw notFound(`Model:${c.modelId}`);
      return m;
    },
    updatedBy: async (c, _x, ctx) => (c.updatedBy ? ((await ctx.loaders.user.load(c.updatedBy)) ?? null) : null),
    owner: async (c, _x, ctx) => (c.ownerId ? ((await ctx.loaders.user.load(c.ownerId)) ?? null) : null),
    editors: (c, _x, ctx) => ctx.loaders.editorsByCircuit.load(c.id),
    canEdit: async (c, _x, ctx) => {
      const u = ctx.user;
      if (!u || !hasRole(u.role as Role, 'researcher')) return false;
      // The same rule as mayEditCircuit, through the page's one editors query.
      return u.role === 'admin' || u.id === c.ownerId || (await ctx.loaders.editorsByCircuit.load(c.id)).some((e) => e.id === u.id);
    },
  },
};
