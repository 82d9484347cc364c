'use client';
/**
 * /findings?model=M&q=…&status=…&tag=…&target=…&evidence=…&focus=…: a model's findings with search,
 * filters, the new-finding form (prefilled from the playground's "annotate" links) and an activity
 * feed. New findings, edits, comments and votes arrive live over `annotationEvents`.
 */
import type { AnnotationsQuery, ModelOptionsQuery } from '../../lib/generated/operations';
import { useEffect, useMemo, useState } from 'react';
import { fullId, gql, shortId } from '../../lib/graphql';
import { useQuery, useSubscription } from '../../lib/hooks';
import { ANNOTATION, ANNOTATION_EVENTS, ANNOTATIONS } from './FindingsView.queries';
import { MODEL_OPTIONS } from './MazeView.queries';
import { useUrlState } from '../../lib/url';
import type { Annotation, User } from '../../lib/types';
import { canWrite } from '../Session';
import { ErrorBox, Title, ago } from '../ui';
import { AnnotationCard } from './findings/AnnotationCard';
import { AnnotationForm } from './findings/AnnotationForm';
import { targetLabel } from './findings/target';

interface Event {
  kind: 'CREATED' | 'UPDATED' | 'COMMENTED' | 'VOTED';
  actor: { name: string } | null;
  comment: { id: string; body: string } | null;
  annotation: Annotation;
}
interface FeedItem {
  key: string;
  text: string;
  at: string;
}

const VERB = { CREATED: 'posted', UPDATED: 'edited', COMMENTED: 'commented on', VOTED: 'voted on' } as const;

export function FindingsView({ me }: { me: User }) {
  const url = useUrlState();
  const models = useQuery<ModelOptionsQuery>(MODEL_OPTIONS);
  const modelList = models.data?.models.edges.map((e) => e.node) ?? [];
  const model = url.get('model');
  const search = url.get('q');
  const status = url.get('status');
  const tag = url.get('tag');
  const focus = url.get('focus');
  useEffect(() => {
    if (!model && modelList[0]) url.set({ model: shortId(modelList[0].id) });
  }, [model, modelList, url]);

  const modelId = model ? fullId('Model', model) : '';
  const q = useQuery<AnnotationsQuery>(ANNOTATIONS, { modelId, search: search || null }, { skip: !modelId });
  const [list, setList] = useState<Annotation[]>([]);
  const [feed, setFeed] = useState<FeedItem[]>([]);
  useEffect(() => setList(q.data?.annotations.edges.map((e) => e.node) ?? []), [q.data]);
  useEffect(() => setFeed([]), [modelId]);

  const upsert = (a: Annotation): void => setList((xs) => (xs.some((x) => x.id === a.id) ? xs.map((x) => (x.id === a.id ? a : x)) : [a, ...xs]));
  const subError = useSubscription<{ annotationEvents: Event }>(ANNOTATION_EVENTS, modelId ? { modelId } : null, ({ annotationEvents: ev }) => {
    // Past its creation, an event's nested fields (comments, score) can lag behind the change it
    // announces — the subscription's loaders are cached per subscription — so read it afresh.
    if (ev.kind === 'CREATED') upsert(ev.annotation);
    void gql<{ annotation: Annotation | null }>(ANNOTATION, { id: ev.annotation.id }).then(
      (r) => r.annotation && upsert(r.annotation),
      () => undefined,
    );
    const text = `${ev.actor?.name ?? 'someone'} ${VERB[ev.kind]} ${targetLabel(ev.annotation.target)}${ev.comment ? `: “${ev.comment.body.slice(0, 60)}”` : ''}`;
    setFeed((f) => [{ key: `${Date.now()}-${Math.random()}`, text, at: new Date().toISOString() }, ...f].slice(0, 50));
  });

  const tags = useMemo(() => [...new Set(list.flatMap((a) => a.tags))].sort(), [list]);
  const shown = list.filter((a) => (!status || a.status === status) && (!tag || a.tags.includes(tag)));
  const config = modelList.find((m) => m.id === modelId)?.config;
  return (
    <>
      <Title
        sub={
          q.data
            ? `${Math.max(q.data.annotations.totalCount, list.length) > list.length ? `newest ${list.length} of ${q.data.annotations.totalCount}` : list.length} finding${q.data.annotations.totalCount === 1 ? '' : 's'}${search ? ` matching “${search}”` : ''}`
            : undefined
        }
      >
        Findings
      </Title>
      <ErrorBox error={models.error ?? q.error ?? subError} />
      <div className="filters">
        <label>
          Model
          <select name="model" value={model} onChange={(e) => url.set({ model: e.target.value, focus: '' })}>
            {modelList.map((m) => (
              <option key={m.id} value={shortId(m.id)}>
                {m.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search
          <input
            name="q"
            type="search"
            defaultValue={search}
            onKeyDown={(e) => {
              if (e.key === 'Enter') url.set({ q: (e.target as HTMLInputElement).value });
            }}
            placeholder="text or tag, Enter"
          />
        </label>
        <label>
          Status
          <select name="status" value={status} onChange={(e) => url.set({ status: e.target.value })}>
            <option value="">all</option>
            <option>HYPOTHESIS</option>
            <option>SUPPORTED</option>
            <option>REFUTED</option>
          </select>
        </label>
        <label>
          Tag
          <select name="tag" value={tag} onChange={(e) => url.set({ tag: e.target.value })}>
            <option value="">all</option>
            {tags.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
      </div>
      {modelList.length === 0 && models.data ? <p className="empty">Findings are about a model: import or train one first.</p> : null}
      <div className="row">
        <div style={{ flex: '3 1 620px' }} data-testid="findings">
          {shown.map((a) => (
            <AnnotationCard key={a.id} a={a} me={me} modelId={modelId} focused={shortId(a.id) === focus} onChange={upsert} />
          ))}
          {q.data && shown.length === 0 ? <p className="empty">No findings {list.length ? 'match these filters' : 'yet for this model'}.</p> : null}
        </div>
        <div style={{ flex: '1 1 340px' }}>
          {modelId && canWrite(me) ? (
            <AnnotationForm
              key={`${modelId}|${url.get('target')}`}
              modelId={modelId}
              config={config}
              initialTarget={url.get('target')}
              initialEvidence={url.get('evidence')}
              onCreated={(a) => {
                upsert(a);
                url.set({ target: '', evidence: '' });
              }}
            />
          ) : null}
          <div className="card">
            <h2>Activity</h2>
            <ul className="feed" data-testid="feed">
              {feed.length === 0 && list.length === 0 ? <li className="empty">No activity yet.</li> : null}
              {feed.map((f) => (
                <li key={f.key}>
                  {f.text} <span className="sub">{ago(f.at)}</span>
                </li>
              ))}
              {[...list]
                .sort((x, y) => y.updatedAt.localeCompare(x.updatedAt))
                .slice(0, 10)
                .map((a) => (
                  <li key={a.id} className="sub">
                    {a.author?.name ?? 'someone'} · {targetLabel(a.target)} · {a.status.toLowerCase()} · {ago(a.updatedAt)}
                  </li>
                ))}
            </ul>
          </div>
        </div>
      </div>
    </>
  );
}
