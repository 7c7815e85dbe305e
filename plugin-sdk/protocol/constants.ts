/** Protocol constants shared by host and SDK (no `node:*` imports). */

import type { WelcomeGrants } from './messages.ts';

/** The protocol version a plugin announces in `hello`. */
export const PROTOCOL_VERSION = 1;

/** The environment variable the launch token arrives in. */
export const LAUNCH_TOKEN_ENV = 'MANASVI_LAUNCH_TOKEN';

/** The specifier plugins import the SDK by. */
export const SDK_SPECIFIER = 'manasvi-plugins/plugin-sdk';

/** Longest error message a plugin may send in a `result`; the host truncates to this too. */
export const MAX_ERROR_MESSAGE_CHARS = 2000;

/** Longest `message` a `progress` frame may carry. */
export const MAX_PROGRESS_MESSAGE_CHARS = 256;

/**
 * Grants of nothing at all. The SDK's stand-in for `welcome`'s grants until it arrives
 * (calls come only after it), and the runtime's `NO_GRANTS` (one object for both sides).
 */
export const NO_GRANTS: WelcomeGrants = Object.freeze({ provideTools: false, network: [], secrets: [], read: [], write: [] });
