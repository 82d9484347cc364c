'use client';
/**
 * Activation and attribution patching: for one clean/corrupted pair, the normalised logit
 * difference of patching each (layer, position) — TransformerLens' get_act_patch_* shapes — as a
 * layer × position heatmap with the clean prompt's tokens on the axis and the changed positions
 * outlined; per-head sites as layer × head; the aggregate by token class over every pair; and the
 * pairs themselves. A click on a cell of one pair's map opens that pair's clean and corrupted mazes
 * side by side with the clicked position's cell outlined. URL state: site, pair, head (head_by_pos),
 * src (attribution: estimate | exact), at (the clicked layer.position).
 */
import { tokenCell } from '../../../lib/attention';
import { axisLabel, nanMean0, subTensor, tokenLabels } from '../../../lib/experiments';
import { useRouter } from 'next/navigation';
import { cellParam, headHref, useUrlState } from '../../../lib/url';
import { Heatmap } from '../../charts/Heatmap';
import { TokensMaze } from '../../TokensMaze';
import { type SummaryData, type ViewProps, Pending, UrlSelect, fmt, pick } from './common';
import { PairsTable } from './PairsTable';
import { useTensors } from './useTensors';

const SITE_DOC: Record<string, string> = {
  resid_pre: 'residual stream before each block',
  attn_out: 'attention output of each layer',
  mlp_out: 'MLP output of each layer',
  head_by_pos: 'each head’s output (hook_z) at each position',
  head_all_pos: 'each head’s output at every position at once',
};

/** Attribution patching's correlation with exact patching, one field per site. */
type SiteValues = NonNullable<SummaryData<'AttributionPatchingSummary'>['correlation_with_exact']>;
/** Whether `site` (an entry of s.sites) is a field of the per-site object. */
const isSite = (v: SiteValues, site: string): site is keyof SiteValues => Object.hasOwn(v, site);

export function PatchingView({ e, s }: ViewProps<'ActivationPatchingSummary' | 'AttributionPatchingSummary'>) {
  const url = useUrlState();
  const router = useRouter();
  const { sites, pairs, classes } = s;
  const attribution = s.__typename === 'AttributionPatchingSummary';
  const hasExact = attribution && e.tensors.some((t) => t.name.startsWith('exact.'));
  const site = pick(url.get, 'site', sites, sites[0] ?? 'resid_pre');
  const src = hasExact ? pick(url.get, 'src', ['estimate', 'exact'], 'estimate') : 'estimate';
  const pairOpts = ['mean', ...pairs.map((_, i) => String(i))];
  const pairSel = pick(url.get, 'pair', pairOpts, pairs.length ? '0' : 'mean');
  const { n_layers: L, n_heads: H } = e.model.config;
  const head = Math.min(H - 1, Math.max(0, Number(url.get('head', '0')) || 0));
  const prefix = src === 'exact' ? 'exact.' : '';
  const perHead = site === 'head_all_pos';
  const aggName = `${prefix}${site}.${perHead ? 'mean' : 'by_class'}`;
  const { tensors, error } = useTensors(e, [`${prefix}${site}`, aggName, 'pairs.clean', 'pairs.corrupt']);
  const layers = Array.from({ length: L }, (_, l) => `L${l}`);
  const heads = Array.from({ length: H }, (_, h) => `H${h}`);
  const what = attribution ? (src === 'exact' ? 'exact patching' : 'attribution estimate') : 'patching';

  let main: React.ReactNode = <Pending error={error} />;
  let drill: React.ReactNode = null;
  if (tensors) {
    const t = tensors[`${prefix}${site}`]; // [P, L, T] | [P, L, H] | [P, L, T, H], normalised
    const p = pairSel === 'mean' ? -1 : Number(pairSel);
    const block = p < 0 ? { data: nanMean0(t.data, t.shape), shape: t.shape.slice(1) } : subTensor(t.data, t.shape, [p]);
    if (perHead) {
      main = (
        <Heatmap
          values={block.data}
          rows={L}
          cols={H}
          rowLabels={layers}
          colLabels={heads}
          diverging
          range={[-1, 1]}
          valueLabel="normalised logit diff"
          onCellClick={(l, h) => router.push(headHref(e.model.id, l, h))}
          testId="patching-heatmap"
        />
      );
    } else {
      const T = p < 0 ? block.shape[1] : (pairs[p]?.length ?? block.shape[1]);
      const clean = tensors['pairs.clean']; // [P, Tmax] token ids, -1 padded
      const toks = p < 0 ? [] : tokenLabels(subTensor(clean.data, clean.shape, [p]).data, e.model.vocab);
      const values =
        site === 'head_by_pos'
          ? Array.from({ length: L * T }, (_, k) => block.data[(Math.floor(k / T) * block.shape[1] + (k % T)) * H + head]) // [L, T] of one head
          : Array.from({ length: L * T }, (_, k) => block.data[Math.floor(k / T) * block.shape[1] + (k % T)]);
      main = (
        <Heatmap
          values={values}
          rows={L}
          cols={T}
          rowLabels={layers}
          colLabels={Array.from({ length: T }, (_, i) => (p < 0 ? String(i) : axisLabel(i, toks[i])))}
          diverging
          range={[-1, 1]}
          valueLabel="normalised logit diff"
          marked={p < 0 ? [] : pairs[p]?.changed_positions}
          onCellClick={p < 0 ? undefined : (l, pos) => url.set({ at: `${l}.${pos}` })}
          testId="patching-heatmap"
        />
      );
      const at = cellParam(url.get('at'), L, T);
      if (p >= 0 && at) {
        const [l, pos] = at;
        const corrupt = tensors['pairs.corrupt'];
        const bad = tokenLabels(subTensor(corrupt.data, corrupt.shape, [p]).data, e.model.vocab);
        const cellKey = (tok: string | undefined): string[] => {
          const c = tok ? tokenCell(tok) : null;
          return c ? [`${c[0]},${c[1]}`] : [];
        };
        const pair = pairs[p];
        drill = (
          <div className="card drill" data-testid="patching-drill">
            <h3>
              Pair #{p} ({pair.change}), {layers[l]} at position {pos} <span className="mono">{toks[pos]}</span>
              {bad[pos] !== toks[pos] ? (
                <>
                  {' '}
                  (corrupted: <span className="mono">{bad[pos]}</span>)
                </>
              ) : null}
              : {fmt(values[l * T + pos])}
            </h3>
            <p className="sub">
              Next move {pair.good} against {pair.bad}; logit difference clean {fmt(pair.clean_logit_diff)}, corrupted {fmt(pair.corrupt_logit_diff)}. The
              clicked position’s cell is outlined.
            </p>
            <div className="row">
              <TokensMaze tokens={toks.slice(0, T)} tokenizer={e.model.config.tokenizer} lit={cellKey(toks[pos])} label="clean prompt" testId="drill-clean" />
              <TokensMaze
                tokens={bad.slice(0, T)}
                tokenizer={e.model.config.tokenizer}
                lit={cellKey(bad[pos])}
                label="corrupted prompt"
                testId="drill-corrupt"
              />
            </div>
          </div>
        );
      }
    }
  }
  let agg: React.ReactNode = null;
  if (tensors) {
    const a = tensors[aggName]; // [L, classes] | [L, H] | [L, classes, H]
    agg = perHead ? null : (
      <Heatmap
        values={site === 'head_by_pos' ? Array.from({ length: L * classes.length }, (_, k) => a.data[k * H + head]) : a.data}
        rows={L}
        cols={classes.length}
        rowLabels={layers}
        colLabels={classes}
        diverging
        range={[-1, 1]}
        valueLabel="mean normalised logit diff"
        testId="patching-by-class"
      />
    );
  }
  // The sites run, in order, with their correlation (null: none compared).
  const corr = s.__typename === 'AttributionPatchingSummary' ? s.correlation_with_exact : null;
  const corrText = corr ? sites.map((k) => `${k} ${fmt(isSite(corr, k) ? corr[k] : null)}`).join(' · ') : '';
  return (
    <div data-testid="patching-view">
      <div className="filters">
        <UrlSelect param="site" label="Site" value={site} options={sites.map((x) => [x, x])} />
        <UrlSelect
          param="pair"
          label="Pair"
          value={pairSel}
          options={pairOpts.map((v) => [v, v === 'mean' ? 'mean over pairs' : `#${v}: ${pairs[Number(v)]?.change ?? ''}`])}
        />
        {site === 'head_by_pos' ? <UrlSelect param="head" label="Head" value={String(head)} options={heads.map((h, i) => [String(i), h])} /> : null}
        {hasExact ? (
          <UrlSelect
            param="src"
            label="Values"
            value={src}
            options={[
              ['estimate', 'attribution (gradient × Δ)'],
              ['exact', 'exact patching'],
            ]}
          />
        ) : null}
      </div>
      <h3>
        {what}: {site} — {SITE_DOC[site] ?? ''}
      </h3>
      <p className="sub caption">
        Normalised logit difference of the correct next move over the best wrong one, (LD<sub>patched</sub> − LD<sub>corrupt</sub>) / (LD<sub>clean</sub> − LD
        <sub>corrupt</sub>): 1 (red) = patching in the clean activation restores the clean answer, 0 (white) = no effect.
        {pairSel !== 'mean' && !perHead ? ' Outlined: positions where the corrupted prompt differs.' : ''}
        {pairSel === 'mean' && !perHead ? ' Positions differ in meaning between pairs; prefer a single pair or the class aggregate.' : ''}
      </p>
      {main}
      {drill ?? (pairSel !== 'mean' && !perHead ? <p className="sub">Click a cell to open the pair’s mazes at that position.</p> : null)}
      {attribution && corrText ? <p className="sub">Correlation of the attribution estimate with exact patching on the same pairs: {corrText}</p> : null}
      {agg ? (
        <>
          <h3>By token class (every pair and position of a class)</h3>
          {agg}
        </>
      ) : null}
      <h3>Pairs</h3>
      <PairsTable pairs={pairs} selected={pairSel} />
    </div>
  );
}
