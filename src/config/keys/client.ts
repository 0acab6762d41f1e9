// [client]: the reference client's section. The gfs command reads upload_chunk_size; the
// reference's other keys are accepted so that its file starts our servers.
import { DEFAULT_CHUNK_SIZE } from '../../client/index.js';
import { text, wholeBytes } from '../checks.js';
import { row, type Rows } from '../schema.js';

export const CLIENT_KEYS = {
  chunkSize: row({
    section: 'client', key: 'upload_chunk_size', default: DEFAULT_CHUNK_SIZE, check: wholeBytes,
    flags: { gfs: { name: 'chunk_size', arg: '<bytes>', help: `bytes per new chunk (default [client] upload_chunk_size, else ${DEFAULT_CHUNK_SIZE})` } },
    doc: [
      'Read by the gfs command (bin/gfs), which also takes [master] host and port from this file.',
      "Bytes per new chunk of an upload (--chunk_size overrides); the reference's key and default.",
    ],
    summary: 'bytes per new chunk of a `gfs put` or `append`',
  }),
  encryptionKeyFile: row<string | null>({
    section: 'client', key: 'encryption_key_file', default: null, check: text,
    flags: {
      gfs: {
        name: 'encryption_key_file',
        arg: '<path>',
        help: 'the key of put/append --encrypt and get/cat --decrypt: 32 bytes, raw or 64 hex digits (default: $GFS_ENCRYPTION_KEY_FILE, else [client] encryption_key_file, else a passphrase in $GFS_PASSPHRASE)',
      },
    },
    doc: [
      'The key of gfs put --encrypt and get --decrypt: a file of 32 bytes, raw or as 64 hex digits',
      '(docs/operating.md, "Encrypted files"). --encryption_key_file and $GFS_ENCRYPTION_KEY_FILE come first.',
    ],
    summary: 'the key file of `gfs put --encrypt` / `get --decrypt` (see "Encrypted files")',
    shown: 'unset: $GFS_PASSPHRASE',
    example: '"/home/me/.config/gfs/gfs.key"',
  }),
} satisfies Rows;
