// Turns the findings' experiment results (data/demo/findings/<model>-<name>.json, from run.sh) into
// the seeded Findings (data/demo/workspace.json) and the tables of data/demo/README.md (stdout).
// Every figure in a finding's text is read from its evidence, so text and evidence cannot disagree.
//
//   node data/demo/findings/report.mjs > /tmp/findings.md
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = path.dirname(fileURLToPath(import.meta.url));
const DEMO = path.resolve(DIR, '..');
const MODELS = [
  { key: 'search', file: 'search-5x5.safetensors', log: 'run/train.log', name: 'searcher: 8 layers × d_model 64, 5×5 DFS (issue 13)', what: 'the searcher' },
  { key: 'demo', file: 'demo-5x5.safetensors', name: 'heuristic: 4 layers × d_model 64, 5×5 DFS (for contrast)', what: 'the heuristic demo model' },
];

const result = (model, name) => {
  const file = path.join(DIR, `${model}-${name}.json`);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
};

/** One float32 tensor of a result's .safetensors (safetensors: u64 header length, JSON header, data). */
function tensor(model, name, tensorName) {
  const buf = fs.readFileSync(path.join(DIR, `${model}-${name}.safetensors`));
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const t = header[tensorName];
  if (!t) throw new Error(`${model}-${name}.safetensors has no tensor ${tensorName}`);
  const [a, b] = t.data_offsets;
  const bytes = buf.subarray(8 + n + a, 8 + n + b);
  return { shape: t.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
}

const pct = (x) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
const f2 = (x) => (x === null || x === undefined ? '–' : x.toFixed(2));
/** The TransformerLens hook a probe layer label names: "resid_pre 3" → blocks.3.hook_resid_pre, "resid_post 7" → blocks.7.hook_resid_post. */
const hookOf = (label) => {
  const [, kind, l] = /^(resid_pre|resid_post) (\d+)$/.exec(label);
  return `blocks.${l}.hook_${kind}`;
};
const table = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function connectivity(m) {
  const r = result(m.key, 'probes');
  if (!r) return null;
  const rows = r.summary.table.filter((x) => x.edge && (x.class === 'sep' || x.class === 'path_start'));
  const layers = [...new Set(rows.map((x) => x.layer))];
  const at = (cls, l) => rows.find((x) => x.class === cls && x.layer === l)?.edge;
  const best = rows.reduce((b, x) => (x.edge.accuracy - x.edge.control > b.edge.accuracy - b.edge.control ? x : b), rows[0]);
  const t = table(
    ['layer', '`;`: accuracy', 'control', '<PATH_START>: accuracy', 'control', 'majority'],
    layers.map((l) => [l, pct(at('sep', l)?.accuracy), pct(at('sep', l)?.control), pct(at('path_start', l)?.accuracy), pct(at('path_start', l)?.control), pct(at('sep', l)?.majority)]),
  );
  const sep0 = at('sep', layers[0]);
  const sep1 = at('sep', layers[1]);
  const sel = best.edge.accuracy - best.edge.control;
  const verdict =
    sel >= 0.1
      ? `**Yes**: ${pct(best.edge.accuracy)} at ${best.layer}, ${(100 * sel).toFixed(1)} points over the control.`
      : `**No, not beyond the control**: the best probe (${best.class === 'sep' ? '`;`' : '`<PATH_START>`'} at ${best.layer}) reads ${pct(best.edge.accuracy)} against ${pct(best.edge.control)} for shuffled labels and ${pct(best.edge.majority)} for the majority class — far from the published anchor.`;
  const body = `**Is the maze's connectivity readable from one token's residual stream?** (${m.what}) A logistic probe per lattice edge ("is this wall open?") on the residual at a single \`;\` or \`<PATH_START>\` token, ${r.summary.mazes} mazes (${r.summary.test} held out), against a shuffled-label control and the majority class. ${verdict}

${t}

Anchor (Ivanitskiy et al. 2023, a 9.6M-parameter model on 6×6 mazes): 0.83–0.99 per cell at layer 2. Figures here are averaged over all ${r.summary.label_columns.edge} lattice edges.`;
  return {
    best,
    table: t,
    layer0: { sep0, sep1 },
    finding: {
      target: { kind: 'hook', hook: hookOf(best.layer) },
      status: best.edge.accuracy - best.edge.control >= 0.1 ? 'SUPPORTED' : 'REFUTED',
      tags: ['probes', 'world model', 'connectivity'],
      body,
      evidence: `findings/${m.key}-probes.json`,
    },
  };
}

function targetProbe(m) {
  const r = result(m.key, 'probes');
  if (!r) return null;
  const s = r.summary;
  const rows = s.table.filter((x) => x.target && x.class === 'path');
  const cells = s.label_columns.target;
  const chance = 1 / cells;
  // Each probe is stored as a residual direction (in runs since probes kept them), with its test ROC AUC:
  // the per-cell mean by layer goes in the table, and the best cell's probe at the best layer is opened
  // from the finding, where its activity on held-out mazes and the components writing it are computed.
  const widths = s.targets.map((x) => s.label_columns[x] ?? 0);
  const perLayer = widths.reduce((a, b) => a + b, 0);
  const ci = s.classes.indexOf('path');
  const first = (li) => (ci * s.layers.length + li) * perLayer + widths.slice(0, s.targets.indexOf('target')).reduce((a, b) => a + b, 0);
  const auc = r.tensors.some((x) => (typeof x === 'string' ? x : x.name) === 'directions.auc') ? tensor(m.key, 'probes', 'directions.auc').data : null;
  const meanAuc = (layer) => {
    const li = s.layers.indexOf(layer);
    const xs = Array.from({ length: cells }, (_, c) => auc[first(li) + c]).filter(Number.isFinite);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  };
  // Which cell is the target, as one choice among the cells: the probe with the highest probability.
  const hasTop1 = rows.every((x) => typeof x.target.top1 === 'number');
  const score = (x) => (hasTop1 ? x.target.top1 - x.target.control_top1 : x.target.selectivity_balanced);
  const best = rows.reduce((b, x) => (score(x) > score(b) ? x : b), rows[0]);
  const aucHead = auc ? ['per-cell test ROC AUC'] : [];
  const aucCell = (x) => (auc ? [f2(meanAuc(x.layer))] : []);
  const t = hasTop1
    ? table(
        ['layer', 'target cell chosen right', 'control', 'per-cell balanced accuracy', ...aucHead],
        rows.map((x) => [x.layer, pct(x.target.top1), pct(x.target.control_top1), pct(x.target.balanced), ...aucCell(x)]),
      )
    : table(
        ['layer', 'balanced accuracy', 'control (balanced)', 'accuracy', 'majority', ...aucHead],
        rows.map((x) => [x.layer, pct(x.target.balanced), pct(x.target.balanced - x.target.selectivity_balanced), pct(x.target.accuracy), pct(x.target.majority), ...aucCell(x)]),
      );
  const lead = score(best);
  const readable = hasTop1 ? lead >= 0.2 : lead >= 0.1;
  // The central cell's probe, not the best-scoring one: with 60 test mazes a cell is the target in about
  // two, so the highest per-cell AUC is mostly luck (several read 1.00).
  let direction = null;
  if (auc) {
    const [R, C] = s.grid;
    const c = Math.floor(R / 2) * C + Math.floor(C / 2);
    const i = first(s.layers.indexOf(best.layer)) + c;
    direction = { index: i, cell: `(${Math.floor(R / 2)},${Math.floor(C / 2)})`, auc: Number.isFinite(auc[i]) ? auc[i] : null };
  }
  const body = `**Where does the target live on the path?** (${m.what}: ${readable ? `readable, best at ${best.layer}` : 'barely readable'}) Logistic probes for "this cell is the target", one per cell (${cells}), on the residual at the path token the model has just written, by layer, ${s.mazes} mazes (${s.test} held out). ${hasTop1 ? `Read as one choice — the cell whose probe is most confident — against ${pct(chance)} chance and a shuffled-label control:` : 'Balanced accuracy per cell (50% is chance):'}

${t}

Best at ${best.layer}: ${hasTop1 ? `${pct(best.target.top1)} right against ${pct(best.target.control_top1)} for the control` : `${pct(best.target.balanced)} balanced`}. Where it is readable is where a retargeting intervention has to act on the generated positions.${direction ? ` Each probe is a residual direction with a page: the central cell ${direction.cell}'s at ${best.layer} (test ROC AUC ${f2(direction.auc)}) is linked below, with where it is present on held-out mazes and which heads write it.` : ''}`;
  return {
    table: t,
    best,
    finding: {
      target: { kind: 'hook', hook: hookOf(best.layer) },
      status: readable ? 'SUPPORTED' : 'REFUTED',
      tags: ['probes', 'target', 'retargeting'],
      body,
      evidence: `findings/${m.key}-probes.json`,
      ...(direction ? { views: [{ label: `probe direction ${direction.cell} at ${best.layer}`, path: `directions/${direction.index}` }] } : {}),
    },
  };
}

function adjacency(m) {
  const r = result(m.key, 'adjacency');
  if (!r) return null;
  const top = r.summary.ranked.slice(0, 5);
  let patchNote = '';
  let patchBody = '';
  let confirmed = null;
  const p = result(m.key, 'patching');
  if (p) {
    const { shape, data } = tensor(m.key, 'patching', 'head_all_pos.mean'); // [n_layers, n_heads]
    const [, H] = shape;
    const heads = Array.from(data, (v, i) => ({ layer: Math.floor(i / H), head: i % H, v })).sort((a, b) => Math.abs(b.v) - Math.abs(a.v));
    const top3 = heads.slice(0, 3);
    confirmed = top3.some((h) => h.layer === top[0].layer && h.head === top[0].head) || heads.slice(0, 5).some((h) => h.layer === top[0].layer && h.head === top[0].head);
    patchNote = `\n\nActivation patching (a wall removed on the solution, ${p.summary.pairs.length} pairs, each head's output over all positions patched from the corrupted run; normalised logit difference at the decision): the heads that matter most are ${top3
      .map((h) => `L${h.layer}H${h.head} (${f2(h.v)})`)
      .join(', ')} — the top adjacency head L${top[0].layer}H${top[0].head} is ${confirmed ? '' : '**not** '}among the five with the largest effect.`;
    patchBody = `**Does activation patching confirm the adjacency heads?** (${m.what}) ${confirmed ? '**Yes**' : '**No**'}: each head's output over all positions patched from a prompt with one wall removed on the solution (${p.summary.pairs.length} pairs), effect on the normalised logit difference at the decision. Largest: ${heads
      .slice(0, 5)
      .map((h) => `L${h.layer}H${h.head} (${f2(h.v)})`)
      .join(', ')}; the residual stream peaks at ${p.summary.peaks.resid_pre ? `layer ${p.summary.peaks.resid_pre.index[0]}, position ${p.summary.peaks.resid_pre.index[1]} (${f2(p.summary.peaks.resid_pre.value)})` : '–'}. The top adjacency head by attention, L${top[0].layer}H${top[0].head}, is ${confirmed ? '' : '**not** '}among them.`;
  }
  const t = table(
    ['rank', 'head', 'attention on connected neighbours', 'on walled-off neighbours', 'lift over uniform', 'share connected'],
    top.map((h) => [h.rank, `L${h.layer}H${h.head}`, pct(h.connected), pct(h.wall), `${h.lift.toFixed(1)}×`, pct(h.connected_share)]),
  );
  const body = `**Which heads read the maze's adjacency?** (${m.what}) Every head scored by its attention from a cell token onto the tokens of its lattice neighbours, split by whether the maze connects them (${r.summary.mazes} mazes, ${r.summary.queries} query tokens).

${t}${patchNote}`;
  return {
    table: t,
    top,
    confirmed,
    finding: { target: { kind: 'head', layer: top[0].layer, head: top[0].head }, status: confirmed === false ? 'HYPOTHESIS' : 'SUPPORTED', tags: ['attention', 'adjacency', 'patching'], body, evidence: `findings/${m.key}-adjacency.json` },
    patchingFinding: p
      ? { target: { kind: 'experiment' }, status: confirmed ? 'SUPPORTED' : 'HYPOTHESIS', tags: ['patching', 'adjacency'], body: patchBody, evidence: `findings/${m.key}-patching.json` }
      : null,
  };
}

function layer0(m, conn, adj) {
  if (!conn || !adj) return null;
  const l0 = adj.top.filter((h) => h.layer === 0);
  const { sep0, sep1 } = conn.layer0;
  // Selectivity (probe minus shuffled-label control) after layer 0 against before it.
  const gain = sep1.accuracy - sep1.control - (sep0.accuracy - sep0.control);
  const verdict = gain >= 0.1 ? '**Yes**' : gain >= 0.02 ? '**A little**' : '**Not measurably**';
  const body = `**Does layer 0 gather connectivity at \`;\`?** (Spies et al. 2024; ${m.what}) ${verdict}: the edge probe at a \`;\` token reads ${pct(sep0.accuracy)} before layer 0 (the token embedding and position alone; control ${pct(sep0.control)}) and ${pct(sep1.accuracy)} after it (control ${pct(sep1.control)}): the probe's lead over the control goes from ${(100 * (sep0.accuracy - sep0.control)).toFixed(1)} to ${(100 * (sep1.accuracy - sep1.control)).toFixed(1)} points across layer 0. ${l0.length ? `Its adjacency heads: ${l0.map((h) => `L0H${h.head} (${h.lift.toFixed(1)}× lift)`).join(', ')}.` : 'No layer-0 head is among the top adjacency heads.'}`;
  return { target: { kind: 'hook', hook: 'blocks.0.hook_attn_out' }, status: gain >= 0.1 ? 'SUPPORTED' : gain >= 0.02 ? 'HYPOTHESIS' : 'REFUTED', tags: ['layer 0', 'connectivity', 'probes'], body, evidence: `findings/${m.key}-probes.json` };
}

function geometry(m) {
  const r = result(m.key, 'weights');
  if (!r) return null;
  const e = r.summary.embedding;
  const body = `**Are the coordinate embeddings laid out like the lattice?** (${m.what}) ${e.distance_vs_lattice_pearson > e.anchor ? '**Yes**' : '**Weakly**'}: the Pearson correlation between the distance of two cells' token embeddings and their lattice distance is ${f2(e.distance_vs_lattice_pearson)} (cosine distance: ${f2(e.cosine_distance_vs_lattice_pearson)}); anchor ${e.anchor}. The first principal components of the embeddings follow rows and columns (correlations ${e.pc_row_corr.map(f2).join(', ')} with the row, ${e.pc_col_corr.map(f2).join(', ')} with the column).`;
  return { value: e.distance_vs_lattice_pearson, finding: { target: { kind: 'embed' }, status: e.distance_vs_lattice_pearson > e.anchor ? 'SUPPORTED' : 'HYPOTHESIS', tags: ['embeddings', 'geometry'], body, evidence: `findings/${m.key}-weights.json` } };
}

function lookaheadProfile(m) {
  const r = result(m.key, 'lookahead');
  if (!r) return null;
  const s = r.summary;
  const rows = s.by_lookahead.map((b) => [b.lookahead, b.forks, pct(b.choice_accuracy), pct(b.chance)]);
  const t = table(['lookahead needed', 'forks', 'right way ranked first', 'chance'], [...rows, ['all', s.forks, pct(s.choice_accuracy), pct(s.chance)]]);
  const body = `**How far ahead it decides forks** (${m.what}, ${s.mazes} held-out 5×5 DFS mazes, teacher-forced): forks grouped by the lookahead they need — min(steps left to the target, depth of the deepest wrong branch).

${t}`;
  return { table: t, s, finding: { target: { kind: 'experiment' }, status: 'SUPPORTED', tags: ['lookahead', 'search'], body, evidence: `findings/${m.key}-lookahead.json` } };
}

function retargeting(m, tp, name = 'retarget') {
  const r = result(m.key, name);
  if (!r) return null;
  const s = r.summary;
  const t = table(
    ['layer', 'valid to new target', 'to old target', 'changed', 'random direction: new / old', 'same target: new / old'],
    s.layers.map((l) => [l.layer, pct(l.retarget.valid_to_new_target), pct(l.retarget.valid_to_old_target), pct(l.retarget.changed), `${pct(l.random?.valid_to_new_target)} / ${pct(l.random?.valid_to_old_target)}`, `${pct(l.same?.valid_to_new_target)} / ${pct(l.same?.valid_to_old_target)}`]),
  );
  const best = s.layers.reduce((b, l) => (l.retarget.valid_to_new_target > b.retarget.valid_to_new_target ? l : b), s.layers[0]);
  const how =
    s.method === 'transplant'
      ? `**Can the target be moved by transplant?** (${m.what}) ${best.retarget.valid_to_new_target >= 0.2 ? '**Yes**' : '**No**'}: at one layer, the residual stream at the positions ${s.positions === 'target' ? 'of the target token' : 'from the target token to `<PATH_START>`'} replaced by its value from the same maze with another target cell, then decoded greedily (${s.mazes} mazes; unpatched: ${pct(s.baseline.valid_to_old_target)} valid to the old target).`
      : null;
  const body = `${how ?? `**Can the target be moved by adding a direction?** (${m.what}) ${best.retarget.valid_to_new_target >= 0.2 ? '**Yes**' : '**No**'}: at one layer, scale ${s.scale} × ${s.method === 'probe' ? 'a probe direction' : `(mean residual of ${s.references} reference mazes whose target is the new cell − of those whose target is the old one)`} added at every position from the target token on, the generated ones included at every decoding step — ${s.method === 'probe' ? 'for the prompt span (target…`<PATH_START>`) and for the path positions each, the difference of the two cells\' "is the target" logistic probes fitted on the references\' residuals there, scaled to the mean difference\'s norm' : s.span === 'by-span' ? 'one direction measured over the prompt span (target…`<PATH_START>`) and added there, another measured over the path positions and added there' : 'one direction, measured over all of those positions'} (${s.mazes} mazes; unpatched: ${pct(s.baseline.valid_to_old_target)} valid to the old target).`}

${t}

Best layer ${best.layer}: ${pct(best.retarget.valid_to_new_target)} of rollouts become valid paths to the new target. ${tp ? `The target is most readable on the path at ${tp.best.layer}${typeof tp.best.target.top1 === 'number' ? ` (${pct(tp.best.target.top1)} of path positions name it)` : ''}.` : ''} ${best.retarget.valid_to_new_target < 0.2 ? (s.method === 'probe' ? 'The probes read the target, but adding their direction does not move the rollout there: what the decoding reads is not (only) this direction.' : 'A mean-difference direction does not carry the target here.') : ''}`;
  return { table: t, best, finding: { target: { kind: 'experiment' }, status: best.retarget.valid_to_new_target >= 0.2 ? 'SUPPORTED' : 'REFUTED', tags: ['retargeting', 'search'], body, evidence: `findings/${m.key}-${name}.json` } };
}

function targetRouting(m) {
  const r = result(m.key, 'path-patching');
  if (!r) return null;
  // Pooled over pairs as a ratio of sums, Σ(LD_patched − LD_clean) / Σ(LD_clean − LD_corrupt), not a
  // mean of per-pair ratios: a pair whose clean and corrupted logit differences nearly agree would
  // otherwise dominate the mean with a huge ratio. -1 = the whole effect.
  const raw = tensor(m.key, 'path-patching', 'senders.raw'); // [pair, layer, head] patched logit differences
  const [P, L, H] = raw.shape;
  const pairs = r.summary.pairs;
  const gap = pairs.reduce((a, p) => a + (p.clean_logit_diff - p.corrupt_logit_diff), 0);
  const cells = [];
  for (let j = 0; j < L * H; j++) {
    let d = 0;
    for (let p = 0; p < P; p++) d += raw.data[p * L * H + j] - pairs[p].clean_logit_diff;
    if (Number.isFinite(d)) cells.push({ layer: Math.floor(j / H), head: j % H, v: d / gap });
  }
  const total = cells.reduce((a, c) => a + c.v, 0);
  const ranked = [...cells].sort((a, b) => a.v - b.v);
  let acc = 0;
  let half = 0;
  for (const c of ranked) {
    half++;
    acc += c.v;
    if (acc <= total / 2) break;
  }
  const top = ranked[0];
  const distributed = Math.abs(top.v) < 0.25 * Math.abs(total);
  const body = `**How does the target reach the next-move decision?** (${m.what}; path patching, Wang et al. 2022) ${distributed ? '**Through many heads**' : '**Through a few heads**'}: with each head's output taken from a run whose target is another cell and sent to the logits only (every later head frozen to the clean run; ${r.summary.pairs.length} pairs), the strongest single head, L${top.layer}H${top.head}, carries ${pct(-top.v)} of the change in the logit difference at the decision (summed over pairs); the direct paths of all ${cells.length} heads together carry ${pct(-total)}, and the ${half} strongest are needed for half of that. Strongest: ${ranked
    .slice(0, 6)
    .map((c) => `L${c.layer}H${c.head} ${pct(-c.v)}`)
    .join(', ')}.`;
  return { finding: { target: { kind: 'head', layer: top.layer, head: top.head }, status: 'SUPPORTED', tags: ['path patching', 'target', 'search'], body, evidence: `findings/${m.key}-path-patching.json` } };
}

const workspace = { models: [] };
const md = [];
for (const m of MODELS) {
  if (!fs.existsSync(path.join(DEMO, m.file))) continue;
  const conn = connectivity(m);
  const tp = targetProbe(m);
  const adj = adjacency(m);
  const geo = geometry(m);
  const la = lookaheadProfile(m);
  const rt = retargeting(m, tp);
  const rtSpan = retargeting(m, tp, 'retarget-span');
  const rtTransplant = retargeting(m, tp, 'retarget-transplant');
  const rtProbe = retargeting(m, tp, 'retarget-probe');
  const rtProbe4 = retargeting(m, tp, 'retarget-probe4');
  const routing = targetRouting(m);
  const findings = [conn?.finding, layer0(m, conn, adj), adj?.finding, adj?.patchingFinding, geo?.finding, la?.finding, tp?.finding, rt?.finding, rtSpan?.finding, rtTransplant?.finding, rtProbe?.finding, rtProbe4?.finding, routing?.finding].filter(Boolean);
  workspace.models.push({ file: m.file, ...(m.log ? { log: m.log } : {}), name: m.name, findings });
  md.push(`### ${m.name}\n`);
  for (const f of findings) md.push(`${f.body}\n\n_Evidence: \`${f.evidence}\` (${f.status})._\n`);
}
fs.writeFileSync(path.join(DEMO, 'workspace.json'), `${JSON.stringify(workspace, null, 2)}\n`);
process.stdout.write(md.join('\n'));
process.stderr.write(`wrote data/demo/workspace.json: ${workspace.models.map((m) => `${m.file} (${m.findings.length} findings)`).join(', ')}\n`);
