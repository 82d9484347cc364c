/**
 * Findings: annotations on model components, comments, votes and circuits. Edits carry the
 * version they were made on; a stale edit is refused with CONFLICT and the current state
 * (extensions.current), so nothing is silently overwritten. Every change is published to
 * `annotationEvents(modelId)` and written to the audit log.
 */
import type { Ctx } from '../context.js';
import { badInput, conflict, forbidden, notFound } from '../errors.js';
import { hasRole, type Role } from '../../auth/roles.js';
import type { AnnotationEventKind, ComponentTargetInput, Resolvers } from '../generated/types.js';
import { requireOwnerOrAdmin, requireRole, requireUser } from '../guard.js';
import { rowId, toId } from '../ids.js';
import * as findings from '../../services/annotations.js';
import * as circuitStore from '../../services/circuits.js';
import type { AnnotationRow, CommentRow } from '../../services/rows.js';
import { connection, pageArgs } from '../pagination.js';
import { UserError } from '../../errors.js';
import type { SaeSummary } from '../../interp/index.js';
import { checkedSae } from '../../services/experiments.js';
import { checkedProbes, directionCount } from '../../services/directions.js';
import type { ProbesSummary } from '../../interp/probes.js';
import { circuitNodes, evidenceEdges } from '../../interp/circuit-evidence.js';
import { storedExperiment } from '../../services/components.js';
import type { ModelConfig } from '../../model/config.js';

export const annotationTopic = (modelId: number): string => `annotations:${modelId}`;
/** Where a circuit's changes are published: only its id travels (the subscriber reads the row fresh). */
export const circuitTopic = (circuitId: number): string => `circuits:${circuitId}`;

interface AnnotationEventPayload {
  kind: AnnotationEventKind;
  annotation: AnnotationRow;
  comment: CommentRow | null;
  actorId: number;
}

export { targetKey } from '../../services/annotations.js';

/** The stored target of a @oneOf ComponentTargetInput (graphql-js has checked that exactly one field is set). */
function targetOf(t: ComponentTargetInput): findings.ComponentTarget {
  if (t.embed === true) return { kind: 'embed' };
  if (t.pos_embed === true) return { kind: 'pos_embed' };
  if (t.unembed === true) return { kind: 'unembed' };
  if (t.head) return { kind: 'head', layer: t.head.layer, head: t.head.head };
  if (t.mlp) return { kind: 'mlp', layer: t.mlp.layer };
  if (t.neuron) return { kind: 'neuron', layer: t.neuron.layer, neuron: t.neuron.neuron };
  if (t.hook) return { kind: 'hook', hook: t.hook.hook, ...(t.hook.position != null ? { position: t.hook.position } : {}) };
  if (t.experiment != null) return { kind: 'experiment', experimentId: rowId(t.experiment, 'Experiment') };
  if (t.feature) return { kind: 'feature', experimentId: rowId(t.feature.sae, 'Experiment'), latent: t.feature.latent };
  if (t.direction) return { kind: 'direction', experimentId: rowId(t.direction.probes, 'Experiment'), index: t.direction.index };
  throw new UserError('target: set one of embed: true, pos_embed: true, unembed: true, head, mlp, neuron, hook, experiment, feature or direction');
}

/**
 * A feature target names a completed sae experiment of the finding's model and one of its latents;
 * a direction target a completed probes experiment of it and one of its probes. Other kinds need no lookup.
 */
async function checkTarget(ctx: Ctx, t: findings.ComponentTarget, modelId: number): Promise<void> {
  if (t.kind === 'feature') {
    const e = await checkedSae(ctx.db, t.experimentId ?? 0, modelId, 'target.feature.sae');
    const d_sae = (e.summary as SaeSummary).d_sae;
    if (!Number.isInteger(t.latent) || (t.latent as number) < 0 || (t.latent as number) >= d_sae)
      throw badInput(`target.feature.latent must be an integer in [0, ${d_sae}), got ${t.latent}`);
  } else if (t.kind === 'direction') {
    const e = await checkedProbes(ctx.db, t.experimentId ?? 0, modelId, 'target.direction.probes');
    const n = directionCount(e.summary as ProbesSummary);
    if (!Number.isInteger(t.index) || (t.index as number) < 0 || (t.index as number) >= n)
      throw badInput(`target.direction.index must be an integer in [0, ${n}) (the run's probes), got ${t.index}`);
  }
}

/** alsoAbout inputs as stored targets, feature and direction targets checked like the main one; errors name the entry. */
async function furtherTargets(ctx: Ctx, inputs: readonly ComponentTargetInput[] | null | undefined, modelId: number): Promise<findings.ComponentTarget[]> {
  // The bound first: each feature or direction target costs a lookup.
  if ((inputs?.length ?? 0) > findings.MAX_ALSO_ABOUT) throw badInput(`alsoAbout: at most ${findings.MAX_ALSO_ABOUT} further targets, got ${inputs!.length}`);
  const out: findings.ComponentTarget[] = [];
  for (const [i, t] of (inputs ?? []).entries()) {
    try {
      const target = targetOf(t);
      await checkTarget(ctx, target, modelId);
      out.push(target);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw badInput(`alsoAbout[${i}]: ${message.replace(/^target[.:] ?/, '')}`);
    }
  }
  return out;
}

function publish(ctx: Ctx, ev: AnnotationEventPayload): void {
  ctx.app.pubsub.publish(annotationTopic(ev.annotation.modelId), ev);
}

async function getAnnotation(ctx: Ctx, id: string): Promise<AnnotationRow> {
  const n = rowId(id, 'Annotation');
  const a = await findings.getAnnotation(ctx.db, n);
  if (!a) throw notFound(`Annotation:${n}`);
  return a;
}

export const annotationResolvers: Resolvers<Ctx> = {
  Query: {
    async annotations(_p, args, ctx) {
      requireUser(ctx);
      const modelId = rowId(args.modelId, 'Model');
      const { first, afterKey } = pageArgs('annotation', args);
      const target = args.target ? findings.targetKey(targetOf(args.target)) : undefined;
      const rows = await findings.annotationPage(ctx.db, modelId, args.search, afterKey, first + 1, target);
      return connection(
        'annotation',
        rows,
        first,
        (r) => r.id,
        afterKey !== undefined,
        () => findings.annotationCount(ctx.db, modelId, args.search, target),
      );
    },
    async annotation(_p, { id }, ctx) {
      requireUser(ctx);
      return (await ctx.loaders.annotation.load(rowId(id, 'Annotation'))) ?? null;
    },
    async circuits(_p, { modelId, first }, ctx) {
      requireUser(ctx);
      const n = first ?? 100;
      if (!Number.isInteger(n) || n < 1 || n > 500) throw new UserError(`circuits: first must be an integer between 1 and 500, got ${n}`);
      return await circuitStore.listCircuits(ctx.db, modelId ? rowId(modelId, 'Model') : undefined, n);
    },
    async circuit(_p, { id }, ctx) {
      requireUser(ctx);
      return (await circuitStore.getCircuit(ctx.db, rowId(id, 'Circuit'))) ?? null;
    },
  },
  Mutation: {
    async createAnnotation(_p, { input }, ctx) {
      const user = requireRole(ctx, 'researcher', 'createAnnotation');
      const modelId = rowId(input.modelId, 'Model');
      if (!(await ctx.loaders.model.load(modelId))) throw notFound(`Model:${modelId}`);
      const target = targetOf(input.target);
      await checkTarget(ctx, target, modelId);
      const alsoAbout = await furtherTargets(ctx, input.alsoAbout, modelId);
      const row = await findings.createAnnotation(ctx.db, { ...input, modelId, target, alsoAbout }, user.id);
      publish(ctx, { kind: 'CREATED', annotation: row, comment: null, actorId: user.id });
      return row;
    },
    async updateAnnotation(_p, { input }, ctx) {
      const current = await getAnnotation(ctx, input.id);
      const user = requireOwnerOrAdmin(ctx, current.authorId, 'updateAnnotation');
      const alsoAbout = input.alsoAbout != null ? await furtherTargets(ctx, input.alsoAbout, current.modelId) : null;
      const out = await findings.updateAnnotation(ctx.db, current.id, input.version, { ...input, alsoAbout }, user.id);
      if ('stale' in out) {
        const now = out.stale;
        throw conflict(`Annotation:${current.id} changed since version ${input.version} (now version ${now.version}); reapply your edit on the current state`, {
          ...now,
          id: toId('Annotation', now.id),
        });
      }
      publish(ctx, { kind: 'UPDATED', annotation: out.row, comment: null, actorId: user.id });
      return out.row;
    },
    async addComment(_p, { annotationId, body }, ctx) {
      const user = requireRole(ctx, 'researcher', 'addComment');
      const a = await getAnnotation(ctx, annotationId);
      const c = await findings.addComment(ctx.db, a.id, body, user.id);
      publish(ctx, { kind: 'COMMENTED', annotation: a, comment: c, actorId: user.id });
      return c;
    },
    async vote(_p, { annotationId, value }, ctx) {
      const user = requireRole(ctx, 'researcher', 'vote');
      if (value !== 1 && value !== -1 && value !== 0) throw new UserError(`vote: value must be 1, -1 or 0, got ${value}`);
      const a = await getAnnotation(ctx, annotationId);
      await findings.vote(ctx.db, a.id, value, user.id);
      publish(ctx, { kind: 'VOTED', annotation: a, comment: null, actorId: user.id });
      return a;
    },
    async circuitFromExperiment(_p, { experimentId, threshold, name }, ctx) {
      const user = requireRole(ctx, 'researcher', 'circuitFromExperiment');
      const eId = rowId(experimentId, 'Experiment');
      const e = await ctx.loaders.experiment.load(eId);
      if (!e || e.kind === 'evaluate') throw notFound(`Experiment:${eId}`);
      if (e.summary === null) throw badInput(`circuitFromExperiment: Experiment:${eId} has no result yet (${e.kind}, not completed)`);
      const model = await ctx.loaders.model.load(e.modelId);
      if (!model) throw notFound(`Model:${e.modelId}`);
      const cfg = model.config as ModelConfig;
      let edges;
      try {
        edges = await evidenceEdges(storedExperiment(ctx.app.handle, e), cfg, threshold);
      } catch (err) {
        throw err instanceof UserError ? badInput(`circuitFromExperiment: ${err.message}`) : err;
      }
      const graph = {
        nodes: circuitNodes(cfg),
        edges: edges.map((x) => ({ from: x.from, to: x.to, label: x.label, weight: x.weight, evidence: `/experiments/${e.id}` })),
      };
      const row = await circuitStore.createCircuit(ctx.db, e.modelId, name ?? `${e.kind} ${e.id}, |effect| ≥ ${threshold}`, graph, user.id);
      return row;
    },
    async createCircuit(_p, { modelId, name, graph }, ctx) {
      const user = requireRole(ctx, 'researcher', 'createCircuit');
      const id = rowId(modelId, 'Model');
      const model = await ctx.loaders.model.load(id);
      if (!model) throw notFound(`Model:${id}`);
      return await circuitStore.createCircuit(ctx.db, id, name, graph ?? { nodes: circuitNodes(model.config as ModelConfig), edges: [] }, user.id);
    },
    async updateCircuit(_p, { id, version, name, graph }, ctx) {
      const user = requireRole(ctx, 'researcher', 'updateCircuit');
      const cId = rowId(id, 'Circuit');
      const current = await circuitStore.getCircuit(ctx.db, cId);
      if (!current) throw notFound(`Circuit:${cId}`);
      if (!(await circuitStore.mayEditCircuit(ctx.db, current, user)))
        throw forbidden('updateCircuit: only its creator, the editors they named, or an admin may change it');
      const out = await circuitStore.updateCircuit(ctx.db, cId, version, { name, graph }, user.id);
      if (!out) throw notFound(`Circuit:${cId}`);
      if ('stale' in out) {
        const now = out.stale;
        throw conflict(`Circuit:${cId} changed since version ${version} (now version ${now.version}); merge your edit into the current graph`, {
          ...now,
          id: toId('Circuit', now.id),
          graph: circuitStore.graphOf(now),
        });
      }
      ctx.app.pubsub.publish(circuitTopic(cId), { circuitId: cId });
      return out.row;
    },
    async setCircuitEditors(_p, { id, names }, ctx) {
      const cId = rowId(id, 'Circuit');
      const current = await circuitStore.getCircuit(ctx.db, cId);
      if (!current) throw notFound(`Circuit:${cId}`);
      const user = requireOwnerOrAdmin(ctx, current.ownerId, 'setCircuitEditors');
      const row = await circuitStore.setCircuitEditors(ctx.db, cId, names, user.id);
      ctx.app.pubsub.publish(circuitTopic(cId), { circuitId: cId });
      return row;
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
    circuitChanged: {
      async subscribe(_p, { id }, ctx) {
        requireUser(ctx);
        const cId = rowId(id, 'Circuit');
        if (!(await circuitStore.getCircuit(ctx.db, cId))) throw notFound(`Circuit:${cId}`);
        return ctx.app.pubsub.subscribe<{ circuitId: number }>(circuitTopic(cId));
      },
      // Read when delivered, so a late subscriber never sees an older version than the event's.
      resolve: async (ev: { circuitId: number }, _a: unknown, ctx: Ctx) => {
        const row = await circuitStore.getCircuit(ctx.db, ev.circuitId);
        if (!row) throw notFound(`Circuit:${ev.circuitId}`);
        return row;
      },
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
    tags: (a) => a.tags,
    evidence: (a) => findings.evidenceOf(a),
    alsoAbout: async (a, _x, ctx) => (await ctx.loaders.alsoAboutByAnnotation.load(a.id)).map((r) => r.target),
    author: async (a, _x, ctx) => (a.authorId ? ((await ctx.loaders.user.load(a.authorId)) ?? null) : null),
    comments: (a, _x, ctx) => ctx.loaders.commentsByAnnotation.load(a.id),
    score: (a, _x, ctx) => ctx.loaders.voteScore.load(a.id),
    myVote: async (a, _x, ctx) => (ctx.user ? await findings.myVote(ctx.db, a.id, ctx.user.id) : 0),
  },
  ComponentTarget: {
    experimentId: (t) => (t.experimentId != null ? toId('Experiment', t.experimentId) : null),
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
    graph: (c) => circuitStore.graphOf(c),
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
      // The same rule as services/circuits.ts mayEditCircuit, through the page's one editors query.
      return u.role === 'admin' || u.id === c.ownerId || (await ctx.loaders.editorsByCircuit.load(c.id)).some((e) => e.id === u.id);
    },
  },
};
