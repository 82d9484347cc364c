/**
 * The `keep` strongest of a stream (a page's example mazes), kept as they come so the rest can be
 * dropped: largest value first, ties to the earlier maze.
 */
export class Strongest<T extends { value: number; maze: number }> {
  private readonly list: T[] = [];

  constructor(private readonly keep: number) {}

  offer(x: T): void {
    if (this.keep <= 0) return;
    this.list.push(x);
    this.list.sort((a, b) => b.value - a.value || a.maze - b.maze);
    if (this.list.length > this.keep) this.list.pop();
  }

  /** The kept entries, strongest first. */
  items(): T[] {
    return [...this.list];
  }
}
