/**
 * Findings in storage: annotations on model components, their comments and votes. Edits carry
 * the version they were made on; a stale edit changes nothing and is answered with the current
 * row, so nothing is silently overwritten. Every change is written to the audit log.
 */
import { and, count, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import { audit } from '../db/audit.js';
import { first, inserted, type Db, type DbOrTx } from '../db/client.js';
import { annotations, annotationTargets, comments, ilike, rowBound, votes } from '../db/tables.js';
import { TEXT_LIMITS } from '../db/schema.js';
import { UserError } from '../errors.js';
import type { ComponentTarget } from '../db/json.js';
import type { AnnotationRow, CommentRow } from './rows.js';

export type { ComponentTarget };

export type AnnotationStatus = AnnotationRow['status'];

/** Validates a component target and returns its canonical key, e.g. "head:2.1". */
export function targetKey(target: unknown): string {
  const t = target as Record<string, unknown>;
  if (!t || typeof t !== 'object' || Array.isArray(t)) throw new UserError('target must be an object like {"kind":"head","layer":0,"head":1}');
  const int = (k: string): number => {
    if (!Number.isInteger(t[k]) || (t[k] as number) < 0)
      throw new UserError(`target.${k} must be a non-negative integer for kind "${t.kind}", got ${JSON.stringify(t[k])}`);
    return t[k] as number;
  };
  switch (t.kind) {
    case 'embed':
    case 'pos_embed':
    case 'unembed':
      return String(t.kind);
    case 'head':
      return `head:${int('layer')}.${int('head')}`;
    case 'mlp':
      return `mlp:${int('layer')}`;
    case 'neuron':
      return `neuron:${int('layer')}.${int('neuron')}`;
    case 'hook': {
      if (typeof t.hook !== 'string' || !t.hook) throw new UserError('target.hook must be a hook name such as "blocks.0.hook_resid_pre"');
      return `hook:${t.hook}${t.position !== undefined ? `@${int('position')}` : ''}`;
    }
    case 'experiment':
      return `experiment:${int('experimentId')}`;
    case 'feature':
      return `feature:${int('experimentId')}.${int('latent')}`;
    case 'direction':
      return `direction:${int('experimentId')}.${int('index')}`;
    default:
      throw new UserError(
        `target.kind must be one of embed, pos_embed, unembed, head, mlp, neuron, hook, experiment, feature, direction; got ${JSON.stringify(t.kind)}`,
      );
  }
}

function checkBody(body: string, what = 'body'): string {
  if (!body.trim() || body.length > TEXT_LIMITS['annotations.body']) throw new UserError(`${what} must be 1-${TEXT_LIMITS['annotations.body']} characters`);
  return body;
}

function checkTags(tags: readonly string[] | null | undefined): string[] {
  const out = [...new Set((tags ?? []).map((t) => t.trim()).filter(Boolean))];
  if (out.length > 50 || out.some((t) => t.length > 50)) throw new UserError('tags: at most 50 tags of at most 50 characters each');
  return out;
}

function searchOf(modelId: number, search: string | null | undefined, target?: string) {
  const q = search?.trim() ? `%${search.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  return and(
    eq(annotations.modelId, modelId),
    q ? or(ilike(annotations.body, q), ilike(annotations.tags, q)) : undefined,
    // About `target`: as its main target or one of the further ones.
    target !== undefined
      ? or(
          eq(annotations.targetKey, target),
          inArray(annotations.id, sql`(SELECT ${annotationTargets.annotationId} FROM ${annotationTargets} WHERE ${annotationTargets.targetKey} = ${target})`),
        )
      : undefined,
  );
}

/**
 * Most further targets one finding may name: enough for a head and what it feeds; a larger set of
 * components is a circuit. Also the bound the query-cost model uses for Annotation.alsoAbout.
 */
export const MAX_ALSO_ABOUT = 8;

/**
 * The further targets of a finding, checked: at most MAX_ALSO_ABOUT, each a valid target, none
 * repeating the main target or another. Returns them keyed, in the order given.
 */
export function checkAlsoAbout(main: string, also: readonly ComponentTarget[] | null | undefined): Array<{ key: string; target: ComponentTarget }> {
  const list = also ?? [];
  if (list.length > MAX_ALSO_ABOUT) throw new UserError(`alsoAbout: at most ${MAX_ALSO_ABOUT} further targets, got ${list.length}`);
  const seen = new Set([main]);
  return list.map((target, i) => {
    let key: string;
    try {
      key = targetKey(target);
    } catch (e) {
      throw new UserError(`alsoAbout[${i}]: ${(e as Error).message}`);
    }
    if (key.length > TEXT_LIMITS['annotations.target_key']) throw new UserError(`alsoAbout[${i}]: at most ${TEXT_LIMITS['annotations.target_key']} characters`);
    if (seen.has(key)) throw new UserError(`alsoAbout[${i}]: ${key} is already a target of this finding`);
    seen.add(key);
    return { key, target };
  });
}

/** A model's annotations newest first (body or tags containing `search`; about `target`, a targetKey, when given), with ids below `before`. */
export async function annotationPage(
  db: Db,
  modelId: number,
  search: string | null | undefined,
  before: number | undefined,
  limit: number,
  target?: string,
): Promise<AnnotationRow[]> {
  return await db
    .select()
    .from(annotations)
    .where(and(searchOf(modelId, search, target), before !== undefined ? lt(annotations.id, rowBound(before)) : undefined))
    .orderBy(desc(annotations.id))
    .limit(limit);
}

export async function annotationCount(db: Db, modelId: number, search: string | null | undefined, target?: string): Promise<number> {
  return (await first(
    db
      .select({ n: count() })
      .from(annotations)
      .where(searchOf(modelId, search, target)),
  ))!.n;
}

export async function getAnnotation(db: Db, id: number): Promise<AnnotationRow | undefined> {
  return await first(db.select().from(annotations).where(eq(annotations.id, id)));
}

/** A link that reopens the view a finding rests on. */
export interface Evidence {
  label: string;
  url: string;
}

/**
 * The evidence links of a stored annotation. Before evidence was typed (issue 14) it was free
 * JSON: entries without a string label and url are dropped rather than failing the read.
 */
export function evidenceOf(a: AnnotationRow): Evidence[] {
  const raw = Array.isArray(a.evidence) ? (a.evidence as unknown[]) : [];
  return raw
    .filter((e): e is Evidence => !!e && typeof e === 'object' && typeof (e as Evidence).label === 'string' && typeof (e as Evidence).url === 'string')
    .map((e) => ({ label: e.label, url: e.url }));
}

function checkEvidence(evidence: readonly Evidence[]): Evidence[] {
  if (evidence.length > 50) throw new UserError(`evidence: at most 50 links, got ${evidence.length}`);
  return evidence.map((e, i) => {
    if (!e.label.trim() || e.label.length > 200) throw new UserError(`evidence[${i}].label must be 1-200 characters`);
    if (!e.url.trim() || e.url.length > 2000) throw new UserError(`evidence[${i}].url must be 1-2000 characters`);
    return { label: e.label.trim(), url: e.url.trim() };
  });
}

export interface NewAnnotation {
  modelId: number;
  target: ComponentTarget;
  body: string;
  status?: AnnotationStatus | null;
  tags?: readonly string[] | null;
  evidence?: readonly Evidence[] | null;
  /** Further components it is about, besides `target`. */
  alsoAbout?: readonly ComponentTarget[] | null;
}

/** `userId` null: filed by the platform itself (the seeded findings). */
export async function createAnnotation(db: Db, input: NewAnnotation, userId: number | null): Promise<AnnotationRow> {
  const key = targetKey(input.target);
  const body = checkBody(input.body);
  const tags = checkTags(input.tags);
  const evidence = checkEvidence(input.evidence ?? []);
  const also = checkAlsoAbout(key, input.alsoAbout);
  return db.transaction(async (tx) => {
    const a = await inserted(
      tx
        .insert(annotations)
        .values({
          modelId: input.modelId,
          target: input.target,
          targetKey: key,
          body,
          status: input.status ?? 'HYPOTHESIS',
          tags,
          evidence,
          authorId: userId,
          createdAt: Date.now(),
          updatedAt: Date.now(),
        })
        .returning(),
    );
    await writeAlsoAbout(tx, a.id, also);
    await audit(tx, userId, 'create', 'annotation', a.id, {
      modelId: input.modelId,
      target: key,
      ...(also.length ? { alsoAbout: also.map((x) => x.key) } : {}),
    });
    return a;
  });
}

/** An annotation's further targets, one row each in the order given (annotation_targets). */
async function writeAlsoAbout(tx: DbOrTx, annotationId: number, also: ReadonlyArray<{ key: string; target: ComponentTarget }>): Promise<void> {
  if (also.length) await tx.insert(annotationTargets).values(also.map((x, position) => ({ annotationId, targetKey: x.key, target: x.target, position })));
}

export interface AnnotationPatch {
  body?: string | null;
  status?: AnnotationStatus | null;
  tags?: readonly string[] | null;
  evidence?: readonly Evidence[] | null;
  /** Replaces the further targets (an empty list removes them). */
  alsoAbout?: readonly ComponentTarget[] | null;
}

/** Applies `patch` if the annotation is still at `version`: the new row, or `{ stale }` with the current one. */
export async function updateAnnotation(
  db: Db,
  id: number,
  version: number,
  patch: AnnotationPatch,
  userId: number,
): Promise<{ row: AnnotationRow } | { stale: AnnotationRow }> {
  const set: Partial<AnnotationRow> = { updatedAt: Date.now() };
  if (patch.body != null) set.body = checkBody(patch.body);
  if (patch.status != null) set.status = patch.status;
  if (patch.tags != null) set.tags = checkTags(patch.tags);
  if (patch.evidence != null) set.evidence = checkEvidence(patch.evidence);
  const current = patch.alsoAbout != null ? await getAnnotation(db, id) : undefined;
  const also = patch.alsoAbout != null && current ? checkAlsoAbout(current.targetKey, patch.alsoAbout) : null;
  const row = await db.transaction(async (tx) => {
    const r = await first(
      tx
        .update(annotations)
        .set({ ...set, version: sql`${annotations.version} + 1` })
        .where(and(eq(annotations.id, id), eq(annotations.version, version)))
        .returning(),
    );
    if (r && also) {
      await tx.delete(annotationTargets).where(eq(annotationTargets.annotationId, r.id));
      await writeAlsoAbout(tx, r.id, also);
    }
    const fields = [...Object.keys(set).filter((k) => k !== 'updatedAt'), ...(also ? ['alsoAbout'] : [])];
    if (r) await audit(tx, userId, 'update', 'annotation', r.id, { fields, version: r.version });
    return r;
  });
  return row ? { row } : { stale: (await getAnnotation(db, id))! };
}

export async function addComment(db: Db, annotationId: number, body: string, userId: number): Promise<CommentRow> {
  const text = checkBody(body, 'comment');
  return db.transaction(async (tx) => {
    const row = await inserted(tx.insert(comments).values({ annotationId, authorId: userId, body: text, createdAt: Date.now() }).returning());
    await audit(tx, userId, 'create', 'comment', row.id, { annotationId });
    return row;
  });
}

/** Sets the user's vote on an annotation: 1, -1, or 0 to withdraw it. */
export async function vote(db: Db, annotationId: number, value: number, userId: number): Promise<void> {
  if (value !== 1 && value !== -1 && value !== 0) throw new UserError(`vote: value must be 1, -1 or 0, got ${value}`);
  await db.transaction(async (tx) => {
    await tx.delete(votes).where(and(eq(votes.annotationId, annotationId), eq(votes.userId, userId)));
    if (value !== 0) await tx.insert(votes).values({ annotationId, userId, value, createdAt: Date.now() });
    await audit(tx, userId, 'vote', 'annotation', annotationId, { value });
  });
}

export async function myVote(db: Db, annotationId: number, userId: number): Promise<number> {
  return (
    (
      await first(
        db
          .select({ v: votes.value })
          .from(votes)
          .where(and(eq(votes.annotationId, annotationId), eq(votes.userId, userId))),
      )
    )?.v ?? 0
  );
}
