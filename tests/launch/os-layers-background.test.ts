import t from 'tap';
import { detectOsLayers, detectOsLayersInBackground } from '../../runtime/launch/os-limits.ts';

t.test('the background detection settles on what the blocking detection finds on this host', async (t) => {
  const expected = detectOsLayers();
  const detection = detectOsLayersInBackground();
  t.same(await detection.ready, expected);
  t.same(detection.now(), expected, 'now() after ready gives the same answer');
});

t.test('now() before the probe has answered gives the same layers, and ready agrees with it', async (t) => {
  const expected = detectOsLayers();
  const detection = detectOsLayersInBackground();
  const early = detection.now();
  t.same(early, expected);
  t.equal(await detection.ready, early, 'ready settles on the very answer now() gave');
});
