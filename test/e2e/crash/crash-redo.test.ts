import t from 'tap';
import { crashCases } from '../../support/crash-points.js';

// Prepare, commit and delete (test/support/crash-points.ts). Overwrites through the redo log
// are gone from the protocol: a prepare_append below a chunk's end is refused (PROTOCOL.md).
crashCases(t, (c) => !c.point.startsWith('store.') && !c.point.startsWith('append.'));
