/** Waiting helpers shared by the unit, end-to-end and benchmark code. */

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `condition` (every 10 ms) until it holds or `timeoutMs` passes. When
 * client processes are given, one exiting early fails the wait at once with
 * its output.
 */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
  clients: Array<{ exited?: { code: number | null; output: string } }> = [],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    const early = clients.find((client) => client.exited);
    if (early) throw new Error(`a client exited (code ${early.exited!.code}) while waiting for ${what}:\n${early.exited!.output}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
