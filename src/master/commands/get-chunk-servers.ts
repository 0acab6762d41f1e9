import { defineCommand } from '../../commands/define.js';
import { clientId } from '../../commands/fields.js';
import { optional, shape } from '../../commands/shape.js';
import { getChunkServers } from './placement.js';

const request = shape({ client_id: optional(clientId()) });

export default defineCommand({ name: 'get_chunk_servers', access: 'read', request, handle: getChunkServers });
