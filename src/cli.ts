/**
 * `npm start`: the same as `weaviate-executor start` (src/cli/start.ts), kept so the npm script
 * and existing docs stay valid.
 */
import { runStart } from './cli/start.ts';

await runStart();
