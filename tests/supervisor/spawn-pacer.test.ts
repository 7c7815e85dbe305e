import t from 'tap';
import { createSpawnPacer } from '../../runtime/supervisor/spawn-pacer.ts';

t.test('the spawn pacer grants turns in order, never two in the same event-loop turn', async (t) => {
  const pacer = createSpawnPacer();
  const order: string[] = [];
  let grantedThisTurn = 0;
  let most = 0;
  await Promise.all(
    ['a', 'b', 'c', 'd', 'e'].map((name) =>
      pacer.turn().then(() => {
        order.push(name);
        most = Math.max(most, ++grantedThisTurn);
        setImmediate(() => (grantedThisTurn = 0));
      }),
    ),
  );
  t.same(order, ['a', 'b', 'c', 'd', 'e'], 'first come, first served');
  t.equal(most, 1, 'one spawn per turn');
});
