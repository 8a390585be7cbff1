/**
 * Ending the process on a signal, for every command. SIGINT (Ctrl-C) exits 130, SIGTERM (kill, systemd,
 * timeout(1)) 143, SIGHUP (the terminal went away) 129: 128 + the signal number, as a shell reports a process
 * the signal killed. Before that, what holds something the store must not keep (the lock, a store directory
 * made for a store that was never written) undoes it: it registers an undo with `onInterrupt` for as long as
 * it holds it. Undos are synchronous: nothing else runs once the signal is handled.
 */
const undos = new Set<() => void>();

/** Registers `undo` to run if a signal ends the process; the returned function unregisters it. */
export function onInterrupt(undo: () => void): () => void {
  undos.add(undo);
  return () => undos.delete(undo);
}

export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

export function exitOnSignals(report: (text: string) => void, exit: (code: number) => void): void {
  for (const [signal, code] of Object.entries(SIGNAL_EXIT_CODES)) {
    process.on(signal, () => {
      for (const undo of [...undos].reverse()) {
        try {
          undo();
        } catch {
          // the other undos still run
        }
      }
      undos.clear();
      report(`apns-cert: cancelled by ${signal}\n`);
      exit(code);
    });
  }
}
