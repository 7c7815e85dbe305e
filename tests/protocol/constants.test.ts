import t from 'tap';
import { NO_GRANTS as PROTOCOL_NO_GRANTS } from '../../plugin-sdk/protocol/constants.ts';
import type { WelcomeGrants } from '../../plugin-sdk/protocol/messages.ts';
import { type Grants, NO_GRANTS } from '../../runtime/grants/grants.ts';
import type { Assert, Equal } from '../helpers/type-equality.ts';

// The host sends its `Grants` as `welcome.grants`; the SDK reads them as `WelcomeGrants`.
const sameShape: Assert<Equal<Grants, WelcomeGrants>> = true;

t.test('NO_GRANTS is one frozen object for host and SDK, granting nothing', async (t) => {
  t.ok(sameShape);
  t.equal(NO_GRANTS, PROTOCOL_NO_GRANTS, 'the runtime re-uses the protocol constant');
  t.ok(Object.isFrozen(NO_GRANTS));
  t.same(NO_GRANTS, { provideTools: false, network: [], secrets: [], read: [], write: [] });
});
