/** [security], resolved by src/config/security.ts (keys read at start-up); absent: authentication off. */
export interface SecuritySettings {
  /** The cluster key file's secrets; the first signs, any verifies. */
  readonly clusterKeys: readonly Buffer[];
  readonly clientAuth: 'off' | 'writes' | 'all';
  /** `<dir>/<client_id>.key` per client; null when client_auth is off. */
  readonly clientKeysDir: string | null;
  /** A proof's timestamp may be this far from the receiver's clock, either side. */
  readonly replayWindowS: number;
  /** Whether the HTTP sides' reads need the token of src/http/guards.ts readToken. */
  readonly httpRead: 'open' | 'key';
  /**
   * Memory for large values whose frame did not name a known signer first (auth_id), all
   * connections together, bytes; such values never take the space limit.
   */
  readonly unverifiedBytes: number;
}
