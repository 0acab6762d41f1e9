// The `code` label of the request counters: a fixed set whatever a reply says.
import t from 'tap';
import { AuthFailedError, BadOffsetError, ChunkNotFoundError, InsufficientSpaceError, MSG, NoPreparedDataError, ReplicationFailedError } from '../../../src/errors.js';
import { replyCodeLabel } from '../../../src/http/request-metrics.js';

t.test('a reply is labelled ok, with its error code, or other', async (t) => {
  t.equal(replyCodeLabel({ status: 'ok', message: 'prepared' }), 'ok');
  t.equal(replyCodeLabel(new ChunkNotFoundError().toReply()), 'chunk_not_found');
  t.equal(replyCodeLabel(new InsufficientSpaceError(10).toReply()), 'insufficient_space');
  t.equal(replyCodeLabel(new BadOffsetError(3).toReply()), 'bad_offset');
  t.equal(replyCodeLabel(new AuthFailedError('expired').toReply()), 'auth_failed', 'the code, not its detail');
  t.equal(replyCodeLabel(new ReplicationFailedError('10.0.0.1:7').toReply()), 'replication_failed', 'no address in the label');
  t.equal(replyCodeLabel(new NoPreparedDataError().toReply()), 'no_prepared_data', "the reference's sentence gets a code");
  t.equal(replyCodeLabel({ status: 'error', message: 'io_error: ENOSPC' }), 'io_error');
  t.equal(replyCodeLabel({ status: 'error', message: MSG.internal }), 'internal_error');
  t.equal(replyCodeLabel({ status: 'error', message: 'something a peer made up: /a/b' }), 'other', 'unknown words are one value');
  t.equal(replyCodeLabel({ status: 'error', message: 42 }), 'other');
  t.equal(replyCodeLabel({ status: 'error' }), 'other');
});
