import { definePlugin } from 'manasvi-plugins/plugin-sdk';
import { escape } from './escapes.ts';

// One escaper under two names: `bare` is granted nothing, `granted` a folder to read and one to write.
definePlugin({ tools: { bare: escape, granted: escape } });
