/**
 * Training progress on a terminal: a one-line bar redrawn in place when the stream is a TTY,
 * otherwise (a pipe, a log file, CI) one plain log line every `logEvery` updates. Evaluations and
 * checkpoints always get their own line.
 */
import type { Writable } from 'node:stream';
import type { EvalEvent, Progress } from './trainer.js';

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const pct = (x: number | null): string => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);

export function describeProgress(p: Progress): string {
  return (
    `step ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}  |g| ${p.gradNorm.toFixed(3)}${p.clipped ? '*' : ''}  ` +
    `${Math.round(p.tokensPerSec).toLocaleString('en-US')} tok/s  ETA ${formatDuration(p.etaSec)}`
  );
}

export function describeEval(e: EvalEvent): string {
  return (
    `eval @${e.step} (${e.model.count} held-out mazes, ${e.seconds.toFixed(1)} s): loss ${e.loss.toFixed(4)}  ` +
    `exact ${pct(e.model.exact_path_rate)} (baseline ${pct(e.baseline.exact_path_rate)})  ` +
    `valid ${pct(e.model.valid_rollout_rate)} (baseline ${pct(e.baseline.valid_rollout_rate)})  ` +
    `target ${pct(e.model.target_reached_rate)}`
  );
}

/**
 * Training-curve points read back from a trainer's log (the lines describeProgress and describeEval
 * write): train/loss and train/lr per logged step; eval/loss, eval/exact_path_rate,
 * eval/valid_rollout_rate and the heuristic baseline's baseline/exact_path_rate per evaluation,
 * rates as fractions. Points after `upTo` are left out (a log
 * may run past the snapshot it is shipped with); other lines are skipped. The curve names are the
 * ones a training job records, so a seeded model's curve reads like a trained one's.
 */
export function curveFromLog(text: string, upTo = Infinity): Array<[step: number, name: string, value: number]> {
  const out: Array<[number, string, number]> = [];
  const num = (s: string) => Number(s.replace(/,/g, ''));
  for (const line of text.split('\n')) {
    let m = /^step (\d+)\/\d+ {2}loss (\S+) {2}lr (\S+)/.exec(line);
    if (m) {
      const step = num(m[1]);
      if (step <= upTo) out.push([step, 'train/loss', Number(m[2])], [step, 'train/lr', Number(m[3])]);
      continue;
    }
    // A rate the trainer could not compute is written "–" (pct): read as NaN, then left out below.
    m = /^eval @(\d+) .*?: loss (\S+) {2}exact (\S+?)%? \(baseline (\S+?)%?\) {2}valid (\S+?)%? /.exec(line);
    if (m) {
      const step = num(m[1]);
      if (step <= upTo)
        out.push(
          [step, 'eval/loss', Number(m[2])],
          [step, 'eval/exact_path_rate', Number(m[3]) / 100],
          [step, 'eval/valid_rollout_rate', Number(m[5]) / 100],
          [step, 'baseline/exact_path_rate', Number(m[4]) / 100],
        );
    }
  }
  return out.filter(([, , v]) => Number.isFinite(v));
}

export interface ProgressPrinter {
  onProgress(p: Progress): void;
  onEval(e: EvalEvent): void;
  onCheckpoint(c: { step: number; path: string }): void;
  /** Ends the bar's line. */
  done(): void;
}

export function progressPrinter(stream: Writable & { isTTY?: boolean; columns?: number }, opts: { logEvery?: number; tty?: boolean } = {}): ProgressPrinter {
  const tty = opts.tty ?? stream.isTTY === true;
  const logEvery = Math.max(1, opts.logEvery ?? 10);
  let barShown = false;
  let last: Progress | null = null;
  const clear = (): void => {
    if (barShown) stream.write('\r\x1b[2K');
    barShown = false;
  };
  const draw = (p: Progress): void => {
    const width = 24;
    const filled = Math.round((width * p.step) / p.steps);
    const text = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${describeProgress(p)}`;
    const cols = stream.columns ?? 120;
    stream.write(`\r\x1b[2K${text.length > cols - 1 ? text.slice(0, cols - 1) : text}`);
    barShown = true;
  };
  const line = (s: string): void => {
    clear();
    stream.write(s + '\n');
    if (tty && last) draw(last);
  };
  return {
    onProgress(p) {
      last = p;
      if (tty) draw(p);
      else if (p.step % logEvery === 0 || p.step === p.steps) stream.write(describeProgress(p) + '\n');
    },
    onEval: (e) => line(describeEval(e)),
    onCheckpoint: (c) => line(`checkpoint @${c.step}: ${c.path}`),
    done() {
      if (barShown) stream.write('\n');
      barShown = false;
    },
  };
}
