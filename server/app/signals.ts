/**
 * Running until SIGINT/SIGTERM (`searchlight start`, `searchlight worker`): the first signal runs
 * `stop` and resolves when it is done; a second one exits at once with 130. The listeners stay
 * installed until the stop finishes: removing them mid-signal lets tsx's own handler exit the
 * process with 130 first.
 */
export function untilSignal(stop: () => Promise<unknown>, log: (line: string) => void, what: string): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) {
        log(`${sig} again: exiting now`);
        process.exit(130);
      }
      stopping = true;
      log(`${sig}: ${what}; ${sig} again to force`);
      void stop()
        .catch((e) => log(`shutdown error: ${(e as Error).message}`))
        .finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
