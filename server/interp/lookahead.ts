/**
 * `lookahead`: does the model look ahead at forks, and how far? The research plan's
 * "precognition about future paths" hypothesis: in an acyclic maze a wrong turn at a fork never
 * reaches the target, so a model that decides forks well must represent what lies beyond them.
 *
 * Teacher-forced: each maze's true sequence is run once, and at every fork of the true path
 * (analysis.ts `forksAlongPath`) the model's argmax next token is compared with the path's next
 * cell. Forks are grouped by the lookahead they need (`forkLookahead`: min(steps left to the
 * target, depth of the deepest wrong branch)). A model searching k steps ahead decides the forks
 * needing ≤ k and is at chance beyond; a heuristic (e.g. "head towards the target") shows no such
 * edge. Two measures: `accuracy` (the argmax over the whole vocabulary is the right cell) and
 * `choice_accuracy` (the right cell has the highest logit among the fork's open ways: the decision
 * alone, comparable with chance). Chance is the mean of 1/options, the random-choice baseline of
 * the plan's baseline solver.
 * Forks with no single answer (a wrong branch that also reaches the target: mazes with cycles) are
 * counted and left out.
 *
 * The forks of the first DETAIL_MAZES mazes are also stored one by one (`fork.*`, with those mazes'
 * token ids in `mazes.tokens`), so a bin of the chart opens the forks behind it, drawn on their
 * mazes with the model's choice.
 */
import { forkLookahead, forksAlongPath } from '../maze/analysis.js';
import { Rng } from '../maze/rng.js';
import { argmax, padBatch } from '../model/engine.js';
import { SPECIAL } from '../maze/tokenize/index.js';
import { num, tensor } from './collect.js';
import { chunks, encoder, loadMazes, mazeFields, requireUnified } from './context.js';
import { defineParams, type SchemaParams } from './params.js';
import { defineKind } from './types.js';

export const paramsSchema = defineParams({
  ...mazeFields(500),
  batch: { type: 'int', doc: 'mazes per forward pass', min: 1, max: 512, default: 32 },
});

/** The params as run: declared once, by the fields above. */
export type LookaheadParams = SchemaParams<typeof paramsSchema>;

/** Mazes whose forks are stored one by one (the drill-down's; a run may have 100,000). */
const DETAIL_MAZES = 500;

/** Forks needing one lookahead, and how they were decided. */
export interface LookaheadRow {
  lookahead: number;
  forks: number;
  /** Decided right outright (argmax over the vocabulary). */
  correct: number;
  accuracy: number | null;
  choice_accuracy: number | null;
  chance: number | null;
}

/** `lookahead`'s summary (stored as JSON; served as Experiment.result, LookaheadSummary). */
export interface LookaheadSummary {
  kind: 'lookahead';
  mazes: number;
  forks: number;
  ambiguous_forks: number;
  accuracy: number | null;
  choice_accuracy: number | null;
  chance: number | null;
  /** Lookaheads that have forks, ascending. */
  by_lookahead: LookaheadRow[];
}

export const lookahead = defineKind<LookaheadParams, LookaheadSummary>({
  kind: 'lookahead',
  describe:
    'Teacher-forced decisions at the forks of the true path, grouped by the lookahead a fork needs (min of steps left to the target and depth of the deepest wrong branch), beside chance: how far ahead does the model search?',
  paramsSchema,
  async run(ctx, p, progress) {
    requireUnified(ctx.model, 'lookahead');
    const { cfg } = ctx.model;
    const V = cfg.d_vocab;
    const mazes = loadMazes(ctx, p);
    const enc = encoder(ctx.model);
    const rng = new Rng(`lookahead/${ctx.seed}`);
    const seqs = mazes.map((m, i) => enc.encode(m, rng, `maze ${i}`));
    const engine = await ctx.model.engine();
    // Per lookahead h (index h − 1): forks, correct decisions, sum of 1/options.
    const forks: number[] = [],
      correct: number[] = [],
      chosen: number[] = [],
      chance: number[] = [];
    let ambiguous = 0;
    // One entry per fork kept: its maze, position, lookahead, the right cell's token, the argmax
    // and the best of the fork's ways (token ids).
    const fork = {
      maze: [] as number[],
      position: [] as number[],
      lookahead: [] as number[],
      right: [] as number[],
      argmax: [] as number[],
      choice: [] as number[],
    };
    for (const [a, b] of chunks(mazes.length, p.batch)) {
      const { tokens, B, T } = padBatch(seqs.slice(a, b), SPECIAL.PADDING);
      const logits = await engine.forward(tokens, B, T); // [B, T, d_vocab]
      for (let r = 0; r < B; r++) {
        const maze = mazes[a + r];
        const start = enc.promptLength(maze); // position of path[0]
        for (const f of forksAlongPath(maze, maze.path)) {
          const need = forkLookahead(maze, f);
          if (!need) {
            ambiguous++;
            continue;
          }
          // The token of path[f.index] predicts path[f.index + 1].
          const at = (r * T + start + f.index) * V;
          const best = argmax(logits.subarray(at, at + V));
          const right = enc.cellId(f.next[0], f.next[1]);
          const others = f.choices.map((c) => enc.cellId(c[0], c[1])).filter((id) => id !== right);
          const h = need.lookahead - 1;
          while (forks.length <= h) forks.push(0), correct.push(0), chosen.push(0), chance.push(0);
          forks[h]++;
          if (best === right) correct[h]++;
          const choseRight = others.every((id) => logits[at + right] > logits[at + id]);
          if (choseRight) chosen[h]++;
          chance[h] += 1 / f.options;
          if (a + r >= DETAIL_MAZES) continue; // stored one by one for the first mazes only
          // The way scored highest: the right one only when it beats every other (as `chosen` counts).
          let bestOther = others[0];
          for (const id of others) if (logits[at + id] > logits[at + bestOther]) bestOther = id;
          fork.maze.push(a + r);
          fork.position.push(start + f.index);
          fork.lookahead.push(need.lookahead);
          fork.right.push(right);
          fork.argmax.push(best);
          fork.choice.push(choseRight ? right : bestOther);
        }
      }
      progress(b / mazes.length, `${b} of ${mazes.length} mazes`);
    }
    const H = forks.length;
    const total = forks.reduce((s, x) => s + x, 0);
    const accuracy = forks.map((n, i) => (n > 0 ? correct[i] / n : NaN));
    const choiceAccuracy = forks.map((n, i) => (n > 0 ? chosen[i] / n : NaN));
    const sum = (xs: number[]): number => xs.reduce((a, x) => a + x, 0);
    const chanceRate = forks.map((n, i) => (n > 0 ? chance[i] / n : NaN));
    return {
      summary: {
        kind: 'lookahead',
        mazes: mazes.length,
        forks: total,
        ambiguous_forks: ambiguous,
        accuracy: num(total > 0 ? sum(correct) / total : NaN),
        choice_accuracy: num(total > 0 ? sum(chosen) / total : NaN),
        chance: num(total > 0 ? sum(chance) / total : NaN),
        by_lookahead: forks
          .map((n, i) => ({
            lookahead: i + 1,
            forks: n,
            correct: correct[i],
            accuracy: num(accuracy[i]),
            choice_accuracy: num(choiceAccuracy[i]),
            chance: num(chanceRate[i]),
          }))
          .filter((r) => r.forks > 0),
      } satisfies LookaheadSummary,
      tensors: [
        tensor('accuracy', [H], accuracy), // [lookahead − 1] fraction of forks decided right (NaN: none)
        tensor('choice_accuracy', [H], choiceAccuracy), // [lookahead − 1] the right way scored above the fork's other ways
        tensor('forks', [H], forks), // [lookahead − 1] forks needing that lookahead
        tensor('chance', [H], chanceRate), // [lookahead − 1] mean 1/options
        ...forkTensors(fork, seqs),
      ],
    };
  },
});

/** The per-fork record ([F] each, token ids where a cell) and the mazes' token ids ([M, Tmax], −1 padded). */
function forkTensors(
  fork: { maze: number[]; position: number[]; lookahead: number[]; right: number[]; argmax: number[]; choice: number[] },
  seqs: readonly Int32Array[],
) {
  const F = fork.maze.length;
  const { tokens, B, T } = padBatch(seqs.slice(0, DETAIL_MAZES), -1); // [maze, pos], −1 padded
  return [
    tensor('fork.maze', [F], fork.maze), // [fork] index into mazes.tokens
    tensor('fork.position', [F], fork.position), // [fork] position of the fork's path token
    tensor('fork.lookahead', [F], fork.lookahead), // [fork] lookahead it needs
    tensor('fork.right', [F], fork.right), // [fork] token id of the right next cell
    tensor('fork.argmax', [F], fork.argmax), // [fork] the model's argmax token id
    tensor('fork.choice', [F], fork.choice), // [fork] the best-scored of the fork's ways
    tensor('mazes.tokens', [B, T], tokens), // [maze, pos] token ids of the first DETAIL_MAZES mazes, −1 padded
  ];
}
