import { definePlugin } from 'manasvi-plugins/plugin-sdk';
import { escape } from './escapes.ts';

// One escaper under three names: `bare` is granted nothing, `granted` a folder to read and one to write,
// `networked` one loopback server by address.
definePlugin({ tools: { bare: escape, granted: escape, networked: escape } });
