import type { PolicyInput } from '../../index.ts';

/**
 * The operator policy the whole demo runs under: the table's runtime takes it as an object,
 * the MCP session's bridge as the file the workspace writes from it, so both are judged by
 * the same rules. It grants only the secrets example its key; everything else gets nothing
 * but provide-tools (notes is refused under it).
 */
export const DEMO_POLICY: PolicyInput = { plugins: { secrets: { 'access-secret': ['API_KEY'] } } };
