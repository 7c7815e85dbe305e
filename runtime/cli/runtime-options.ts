import type { RuntimeOptions } from '../index.ts';
import { warnAllowDeclared } from './allow-declared-warning.ts';

/** The flags every plugin-loading command shares, as `util.parseArgs` options. */
export const RUNTIME_FLAGS = {
  policy: { type: 'string' },
  audit: { type: 'string' },
  'allow-declared': { type: 'boolean', default: false },
} as const;

/** Runtime options from the shared flags; warns loudly about `--allow-declared`. */
export function runtimeOptions(values: { policy?: string; audit?: string; 'allow-declared': boolean }): RuntimeOptions {
  if (values['allow-declared']) warnAllowDeclared();
  return {
    ...(values.policy === undefined ? {} : { policy: values.policy }),
    ...(values.audit === undefined ? {} : { auditFile: values.audit }),
    allowDeclared: values['allow-declared'],
  };
}
