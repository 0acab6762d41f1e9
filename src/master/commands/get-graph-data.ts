import { defineCommand } from '../../commands/define.js';
import { shape } from '../../commands/shape.js';
import { getGraphData } from './placement.js';

export default defineCommand({ name: 'get_graph_data', access: 'read', request: shape({}), handle: getGraphData });
