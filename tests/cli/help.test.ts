import t from 'tap';
import { expectExit, runCli } from './cli-process.ts';

t.test('--help lists every command and exits 0', async (t) => {
  const result = await runCli(['--help']);
  expectExit(t, result, 0);
  for (const command of ['call', 'validate', 'inspect', 'demo']) t.match(result.stdout, new RegExp(`^ {2}${command} `, 'm'));
});

t.test('each command has its own --help', async (t) => {
  const result = await runCli(['call', '--help']);
  expectExit(t, result, 0);
  t.match(result.stdout, /^Usage: manasvi-plugins call <manifest> <tool>/);
  t.match(result.stdout, /--allow-declared {3}DEVELOPMENT ONLY/);
});
