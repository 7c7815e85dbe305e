/**
 * Capability-token scope keys, for the host's side. Defined once in the protocol folder,
 * since the SDK must build the very same keys and may import nothing from the runtime.
 *
 * @module
 */
export { capabilityScopeKey, secretScopeKey, type TokenCapability } from '../../plugin-sdk/protocol/scope-keys.ts';
