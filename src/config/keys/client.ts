// [client]: the reference client's section. The gfs command reads upload_chunk_size; the
// reference's other keys are accepted so that its file starts our servers.
import { DEFAULT_CHUNK_SIZE } from '../../client/index.js';
import { wholeBytes } from '../checks.js';
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
} satisfies Rows;
