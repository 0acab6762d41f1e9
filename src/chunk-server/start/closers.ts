/**
 * What a start-up has opened so far, closed in reverse order: by stop(), or at once when a
 * later step fails, so a failed start leaves no socket, timer or open store behind.
 */
export class Closers {
  private readonly closers: Array<() => void | Promise<void>> = [];

  add(close: () => void | Promise<void>): void {
    this.closers.push(close);
  }

  async closeAll(): Promise<void> {
    for (let close = this.closers.pop(); close !== undefined; close = this.closers.pop()) await close();
  }
}
