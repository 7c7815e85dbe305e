import { definePlugin } from 'manasvi-plugins/plugin-sdk';

definePlugin({
  tools: {
    echo: (args: { text: string }) => ({ text: args.text }),
  },
});
