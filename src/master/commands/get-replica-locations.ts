import { defineCommand } from '../../commands/define.js';
import { address, addresses, clientId } from '../../commands/fields.js';
import { isNil, optional, shape, type Field } from '../../commands/shape.js';
import { getReplicaLocations } from './placement.js';

/** The reference accepts one address or a collection of them, unchecked; nil means none. */
function excluding(): Field<Set<string>> {
  const one = address({ checked: false });
  const many = addresses({ checked: false });
  return { check: (v, label) => new Set(isNil(v) ? [] : typeof v === 'string' ? [one.check(v, label)] : many.check(v, label)) };
}

const request = shape({ excluding: excluding(), client_id: optional(clientId()) });

export default defineCommand({ name: 'get_replica_locations', access: 'read', request, handle: getReplicaLocations });
