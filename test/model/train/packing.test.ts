/**
 * Packed rows (server/model/train/packing.ts): K queries after one adjacency list must train
 * exactly like the K unpacked sequences — same loss, same gradients — and the rows must hold what
 * the tokenizer writes for each query.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PRESETS, type ModelConfig } from '../../../server/model/config.js';
import { getTokenizer, SPECIAL } from '../../../server/maze/tokenize/index.js';
import { Rng } from '../../../server/maze/rng.js';
import { OnnxGradEngine } from '../../../server/model/onnx-train/engine.js';
import { buildBatch, MazeBatcher } from '../../../server/model/train/data.js';
import { buildPackedBatch, splitSequence, type PackedBatch } from '../../../server/model/train/packing.js';
import { mazeLookahead } from '../../../server/model/train/sampling.js';
import { createTfjsGradEngine } from '../../../server/model/tfjs/engine.js';
import { randomWeights } from '../fixtures.js';

const tok = getTokenizer('aotp-ut');
// n_ctx 64 holds one 3×3 sequence (≤ 48 tokens) but not a packed row of 4 queries (~80).
const cfg: ModelConfig = { ...PRESETS.nano, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, d_vocab: tok.vocabSize(3), n_ctx: 64, tokenizer: 'aotp-ut' };
const opts = { spec: { generator: 'dfs', rows: 3 }, seed: 5, mazes: 1000, tokenizer: 'aotp-ut', nCtx: cfg.n_ctx, loss: 'path' as const, queries: 4 };
const engines: Array<{ dispose(): Promise<void> }> = [];
afterAll(async () => Promise.all(engines.map((e) => e.dispose())));

/** The packed batch's rows as the unpacked sequences prefix ‖ query, one per query. */
function unpack(p: PackedBatch): { seqs: Int32Array[]; prompts: number[] } {
  const seqs: Int32Array[] = [];
  const prompts: number[] = [];
  for (let b = 0; b < p.B; b++) {
    const row = p.tokens.subarray(b * p.T, (b + 1) * p.T);
    const seg = p.segments.subarray(b * p.T, (b + 1) * p.T);
    const next = p.targets.subarray(b * p.T, (b + 1) * p.T);
    const prefix = row.filter((_, t) => seg[t] === 0);
    for (let j = 1; ; j++) {
      const cols = [...seg.keys()].filter((t) => seg[t] === j && row[t] !== SPECIAL.PADDING);
      if (cols.length === 0) break;
      // A query's tokens are its inputs plus the last target (its <PATH_END>).
      const q = Int32Array.from([...cols.map((t) => row[t]), ...(row[cols[cols.length - 1]] === SPECIAL.PATH_END ? [] : [next[cols[cols.length - 1]]])]);
      const seq = Int32Array.from([...prefix, ...q]);
      seqs.push(seq);
      prompts.push(seq.indexOf(SPECIAL.PATH_START) + 1);
    }
  }
  return { seqs, prompts };
}

describe('packed rows', () => {
  it('hold the shared adjacency list and K queries, each exactly what the tokenizer writes for that origin and target', () => {
    const data = new MazeBatcher(opts);
    const batch = data.batch(0, 0, 6) as PackedBatch;
    expect(batch.positions).toBeDefined();
    const { seqs } = unpack(batch);
    expect(seqs).toHaveLength(6 * 4);
    for (let i = 0; i < 6; i++) {
      const maze = data.maze(i);
      const queries = [maze, ...data.extraQueries(maze, i)];
      expect(new Set(queries.map((q) => `${q.origin}|${q.target}`)).size).toBeGreaterThan(1); // other endpoints, same lattice
      queries.forEach((q, j) => {
        expect(q.down).toEqual(maze.down);
        expect(splitSequence(seqs[i * 4 + j]).query).toEqual(splitSequence(tok.tokenizeToIds(q, new Rng(0))).query);
      });
    }
    // Positions restart after the prefix for every query; the row is longer than n_ctx.
    expect(batch.T).toBeGreaterThan(cfg.n_ctx);
    expect(Math.max(...batch.positions)).toBeLessThan(cfg.n_ctx);
  });

  it('train exactly like the unpacked sequences: same loss and gradients (onnx), in a row longer than n_ctx', async () => {
    const packed = new MazeBatcher(opts).batch(0, 0, 5) as PackedBatch;
    const { seqs, prompts } = unpack(packed);
    const plain = buildBatch(seqs, prompts, 'path', cfg.n_ctx);
    expect(plain.predicted).toBe(packed.predicted);
    const e = await OnnxGradEngine.create(cfg, randomWeights(cfg, 3, 1), { threads: 1 });
    engines.push(e);
    const a = await e.lossAndGrads(packed);
    const b = await e.lossAndGrads(plain);
    expect(a.loss).toBeCloseTo(b.loss, 5);
    for (const [name, g] of b.grads) {
      const h = a.grads.get(name)!;
      const scale = Math.max(...g.map(Math.abs));
      const diff = Math.max(...g.map((v, i) => Math.abs(v - h[i])));
      expect(diff, name).toBeLessThanOrEqual(1e-4 * scale + 1e-7);
    }
  });

  it('balanced extra queries lean towards their drawn bins; the tfjs engine refuses packed rows', async () => {
    const natural = new MazeBatcher({ ...opts, spec: { generator: 'dfs', rows: 5 }, nCtx: 256, queries: 6 });
    const balanced = new MazeBatcher({ ...natural.opts, sampling: { balance: 'lookahead' } });
    const deep = (d: MazeBatcher) => {
      let n = 0;
      for (let k = 0; k < 60; k++) for (const q of d.extraQueries(d.maze(k), k)) if (mazeLookahead(q) >= 6) n++;
      return n;
    };
    expect(deep(balanced)).toBeGreaterThan(deep(natural) * 1.3);
    const t = await createTfjsGradEngine(cfg, randomWeights(cfg, 3, 1));
    engines.push(t);
    await expect(t.loss(new MazeBatcher(opts).batch(0, 0, 2))).rejects.toThrow(/packed batches \(--queries above 1\) train on --engine onnx only/);
  });

  it('refuses a query that does not fit n_ctx at its own positions, naming the row and query', () => {
    const seq = tok.tokenizeToIds(new MazeBatcher(opts).maze(0), new Rng(1));
    const { prefix, query } = splitSequence(seq);
    expect(() => buildPackedBatch([{ prefix, queries: [query, query] }], seq.length - 1)).toThrow(
      /packed row 0, query 0: prefix \+ query = \d+ tokens exceed the model's n_ctx/,
    );
  });
});
