'use client';
/**
 * One finding: target, status, tags, markdown body, evidence links, votes and comments, and an
 * editor whose saves carry the version they were made on (a stale save shows CONFLICT and the
 * current text, keeping the draft).
 */
import Link from 'next/link';
import { useState } from 'react';
import { type GqlError, gql } from '../../../lib/graphql';
import { safeHref } from '../../../lib/markdown';
import { ADD_COMMENT, UPDATE_ANNOTATION, VOTE } from './AnnotationCard.queries';
import type { Annotation, AnnotationStatus, User } from '../../../lib/types';
import { Markdown } from '../../Markdown';
import { Badge, ErrorBox, ago } from '../../ui';
import {
  TARGET_LIST_HINT,
  type Target,
  formatEvidenceLines,
  parseEvidenceLines,
  parseTargetList,
  targetHref,
  targetInput,
  targetLabel,
  targetParam,
} from './target';

function Editor({ a, onSaved, onCancel }: { a: Annotation; onSaved: (a: Annotation) => void; onCancel: () => void }) {
  const [body, setBody] = useState(a.body);
  const [status, setStatus] = useState<AnnotationStatus>(a.status);
  const [tags, setTags] = useState(a.tags.join(', '));
  const [also, setAlso] = useState(a.alsoAbout.map(targetParam).join(', '));
  const [evidence, setEvidence] = useState(formatEvidenceLines(a.evidence));
  const [base, setBase] = useState(a.version);
  const alsoParsed = parseTargetList(also);
  const [error, setError] = useState<GqlError>();
  async function save(e: React.FormEvent) {
    e.preventDefault();
    if ('bad' in alsoParsed) return;
    try {
      const r = await gql<{ updateAnnotation: Annotation }>(UPDATE_ANNOTATION, {
        input: {
          id: a.id,
          version: base,
          body,
          status,
          tags: tags
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean),
          alsoAbout: alsoParsed.targets.map(targetInput),
          evidence: parseEvidenceLines(evidence),
        },
      });
      onSaved(r.updateAnnotation);
    } catch (err) {
      const g = err as GqlError;
      setError(g);
      // Keep the draft; the next save applies it on top of the version shown in the error.
      if (g.code === 'CONFLICT') setBase((g.current as { version: number }).version);
    }
  }
  const cur = error?.code === 'CONFLICT' ? (error.current as { body: string; status: string; version: number }) : undefined;
  return (
    <form onSubmit={save} style={{ display: 'flex', flexDirection: 'column', gap: 6, marginTop: 6 }}>
      <textarea value={body} onChange={(e) => setBody(e.target.value)} />
      <div className="filters" style={{ marginBottom: 0 }}>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as AnnotationStatus)}>
            <option>HYPOTHESIS</option>
            <option>SUPPORTED</option>
            <option>REFUTED</option>
          </select>
        </label>
        <label>
          Tags
          <input value={tags} onChange={(e) => setTags(e.target.value)} />
        </label>
        <label>
          Also about
          <input name="edit-also-about" value={also} onChange={(e) => setAlso(e.target.value)} placeholder="e.g. mlp:1, head:2.0" />
        </label>
        <button type="submit" className="primary">
          {cur ? `Save over version ${cur.version}` : 'Save'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <label>
        Evidence links (one per line: a URL, or “label | URL”)
        <textarea name="edit-evidence" rows={2} value={evidence} onChange={(e) => setEvidence(e.target.value)} />
      </label>
      {'bad' in alsoParsed ? (
        <span className="error" role="alert">
          “{alsoParsed.bad}” is not a target: {TARGET_LIST_HINT}
        </span>
      ) : null}
      <ErrorBox error={error} />
      {cur ? (
        <div className="notice">
          <strong>
            Current version {cur.version} ({cur.status}):
          </strong>
          <Markdown source={cur.body} />
        </div>
      ) : null}
    </form>
  );
}

/** A target's label, linked to its page where it has one (a component's, or an SAE latent's feature page). */
function TargetLink({ t, modelId, also }: { t: Target; modelId: string; also?: boolean }) {
  const href = targetHref(t, modelId);
  const cls = `target${also ? ' also' : ''}`;
  return href ? (
    <Link prefetch={false} className={cls} href={href}>
      {targetLabel(t)}
    </Link>
  ) : (
    <span className={cls}>{targetLabel(t)}</span>
  );
}

export function AnnotationCard({
  a,
  me,
  modelId,
  focused,
  onChange,
}: {
  a: Annotation;
  me: User;
  /** The finding's model: a head, MLP or neuron target links to its component page. */
  modelId: string;
  focused?: boolean;
  onChange: (a: Annotation) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<GqlError>();
  const canEdit = me.role === 'ADMIN' || a.author?.id === me.id;
  const canAct = me.role !== 'VIEWER';
  async function act(p: Promise<unknown>) {
    setError(undefined);
    try {
      await p;
    } catch (e) {
      setError(e as GqlError);
    }
  }
  const vote = (v: number) =>
    act(
      gql<{ vote: Pick<Annotation, 'score' | 'myVote'> }>(VOTE, { annotationId: a.id, value: a.myVote === v ? 0 : v }).then((r) =>
        onChange({ ...a, ...r.vote }),
      ),
    );
  const evidence = (Array.isArray(a.evidence) ? a.evidence : [])
    .map((e) => ({ label: e.label || 'evidence', href: safeHref(String(e.url ?? '')) }))
    .filter((e) => e.href);
  return (
    <article className={`annotation ${a.status}`} data-annotation={a.id} style={focused ? { outline: '2px solid var(--lit)' } : undefined}>
      <div className="head-line">
        <TargetLink t={a.target} modelId={modelId} />
        {a.alsoAbout.map((t) => (
          <TargetLink key={targetLabel(t)} t={t} modelId={modelId} also />
        ))}
        <Badge value={a.status} />
        {a.tags.map((t) => (
          <span key={t} className="tag">
            {t}
          </span>
        ))}
        <span>
          {a.author?.name ?? 'someone'} · {ago(a.createdAt)}
          {a.version > 1 ? ` · edited (v${a.version})` : ''}
        </span>
        <span style={{ flex: 1 }} />
        <span className="votes">
          <button type="button" className={a.myVote === 1 ? 'on' : ''} disabled={!canAct} onClick={() => void vote(1)} aria-label="vote up">
            ▲
          </button>
          <strong data-testid="score">{a.score}</strong>
          <button type="button" className={a.myVote === -1 ? 'on' : ''} disabled={!canAct} onClick={() => void vote(-1)} aria-label="vote down">
            ▼
          </button>
        </span>
        {canEdit && !editing ? (
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
        ) : null}
      </div>
      {editing ? (
        <Editor
          a={a}
          onSaved={(x) => {
            onChange(x);
            setEditing(false);
          }}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <Markdown source={a.body} />
      )}
      {evidence.length ? (
        <div className="sub evidence">
          Evidence:{' '}
          {evidence.map((e, i) => (
            <a key={i} href={e.href!} style={{ marginRight: 8 }}>
              {e.label} ↗
            </a>
          ))}
        </div>
      ) : null}
      <div className="comments">
        {a.comments.map((c) => (
          <div key={c.id} className="comment">
            <strong>{c.author?.name ?? 'someone'}</strong> <span className="sub">{ago(c.createdAt)}</span>
            <Markdown source={c.body} />
          </div>
        ))}
        {canAct ? (
          <form
            className="inline"
            onSubmit={(e) => {
              e.preventDefault();
              void act(gql(ADD_COMMENT, { annotationId: a.id, body: comment }).then(() => setComment('')));
            }}
          >
            <input
              name="comment"
              value={comment}
              onChange={(e) => setComment(e.target.value)}
              placeholder="Comment…"
              style={{ flex: 1, minWidth: 240 }}
              required
            />
            <button type="submit">Comment</button>
          </form>
        ) : null}
      </div>
      <ErrorBox error={error} />
    </article>
  );
}
