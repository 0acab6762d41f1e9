/** What the syncer needs of the directory: a FileHandle of it, in production. */
export interface Syncable {
  sync(): Promise<void>;
}

/**
 * Group commit for directory fsyncs. An fsync of the directory makes durable every rename
 * and unlink that completed before it started, so callers that arrive while one is running
 * share the single next one instead of each queueing their own; never one already running,
 * which may have started before their change.
 */
export class DirSyncer {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(private readonly handle: Syncable) {}

  /** Resolves once an fsync that started after this call has completed. */
  sync(): Promise<void> {
    if (this.running === null) return this.start();
    this.next ??= this.running.then(
      () => this.start(),
      () => this.start(),
    );
    return this.next;
  }

  private start(): Promise<void> {
    this.next = null;
    const run = this.handle.sync();
    this.running = run;
    const clear = (): void => {
      if (this.running === run) this.running = null;
    };
    run.then(clear, clear);
    return run;
  }
}
