import type { GateAuthority } from '../../runtime/channel/channel-gate.ts';

/** For channel tests about frames and states: every capability held, every token valid. */
export const GRANT_EVERYTHING: GateAuthority = { lacking: () => null, verifyToken: () => true };

/** Nothing granted at all. */
export const GRANT_NOTHING: GateAuthority = { lacking: () => 'plugin', verifyToken: () => false };

/** Every capability held, no token valid. */
export const NO_VALID_TOKENS: GateAuthority = { lacking: () => null, verifyToken: () => false };
