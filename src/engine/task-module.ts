/**
 * Loading the user's task module: once on the main thread when the executor starts (so a
 * missing file or a module without tasks is a ConfigError at start, not at the first run),
 * and in each worker that runs tasks. A module's tasks are its named function exports plus the
 * functions of its default export (`export default defineTasks({...})`).
 */
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';
import type { TaskModule } from './task-runner.ts';

/** The task functions of a loaded module namespace. */
export function tasksOf(namespace: Record<string, unknown>): TaskModule {
  const tasks: TaskModule = {};
  const fallback = namespace['default'];
  if (fallback && typeof fallback === 'object') {
    for (const [name, value] of Object.entries(fallback)) if (typeof value === 'function') tasks[name] = value;
  }
  for (const [name, value] of Object.entries(namespace)) if (name !== 'default' && typeof value === 'function') tasks[name] = value;
  return tasks;
}

function shown(url: string): string {
  try {
    return url.startsWith('file:') ? fileURLToPath(url) : url;
  } catch {
    return url;
  }
}

/** Import the task module at `url` (a file: URL); ConfigError when it cannot be loaded or has no task. */
export async function loadTaskModule(url: string): Promise<TaskModule> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string })?.code;
    const why = code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(shown(url))
      ? 'no such file'
      : String((error as Error)?.message ?? error);
    throw new ConfigError(
      `Invalid option \`taskModule\`: cannot load ${shown(url)} (${why}). A string path is resolved against the current directory (${process.cwd()}); ` +
        'pass `new URL(\'./tasks.js\', import.meta.url)` to resolve it against your own module.',
      { option: 'taskModule', url },
      { cause: error },
    );
  }
  const tasks = tasksOf(namespace);
  if (Object.keys(tasks).length === 0) {
    throw new ConfigError(
      `Invalid option \`taskModule\`: ${shown(url)} exports no task function (export functions by name, or \`export default defineTasks({...})\`)`,
      { option: 'taskModule', url },
    );
  }
  return tasks;
}
