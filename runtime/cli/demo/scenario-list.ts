/**
 * The demo's scenarios, in the order it prints them: one per example plugin. The demo
 * runs exactly these (scenarios.ts keys its runners by these names, so a name without a
 * runner, or a runner without a name, does not compile) and `demo --help` lists them.
 * Kept apart from the runners so the help text does not load the runtime.
 */
export const DEMO_SCENARIOS = [
  { name: 'echo', summary: 'needs no grant; a call with the wrong argument type is refused' },
  { name: 'notes', summary: 'refused under the policy; with allow-declared it writes and reads a temporary data folder' },
  { name: 'fetcher', summary: 'may fetch the loopback server it is granted, not another port' },
  { name: 'secrets', summary: 'one tool signs with API_KEY; another tool asking for the key is refused' },
  { name: 'rogue', summary: 'tries /etc/passwd, the network, the environment, a subprocess, an import from outside' },
  { name: 'rogue-import', summary: 'imports a file outside its folder; refused at load' },
] as const;

/** The name of one of the demo's scenarios. */
export type ScenarioName = (typeof DEMO_SCENARIOS)[number]['name'];
