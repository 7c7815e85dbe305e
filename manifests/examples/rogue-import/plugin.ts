import { definePlugin } from 'manasvi-plugins/plugin-sdk';
// Outside the plugin folder: the host's bundler refuses this before any process starts.
import hostPackage from '../../../package.json' with { type: 'json' };

definePlugin({
  tools: {
    leak: () => ({ leaked: hostPackage.name }),
  },
});
