import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';

/**
 * Escapes a plugin tries once Deno's permission checks are out of its way: each really
 * makes the call, and what it got back is returned for the host to judge. `doctor` and
 * the escape suite (tests/security/os-layers.test.ts) run this plugin; see
 * runtime/cli/doctor/escape-catalogue.ts for what each escape is and which layer stops it.
 */
export interface Escape {
  action: string;
  target?: string;
  text?: string;
  link?: string;
}

/** libc's open/read/close through FFI: a read Deno's file permissions never see. */
function readThroughLibc(file: string): string {
  const libc = Deno.dlopen('libc.so.6', {
    open: { parameters: ['buffer', 'i32'], result: 'i32' },
    read: { parameters: ['i32', 'buffer', 'usize'], result: 'isize' },
    close: { parameters: ['i32'], result: 'i32' },
  });
  try {
    const fd = libc.symbols.open(new TextEncoder().encode(`${file}\0`), 0);
    if (fd < 0) throw new Error(`libc open(${file}) failed`);
    const buffer = new Uint8Array(4096);
    const got = Number(libc.symbols.read(fd, buffer, BigInt(buffer.length)));
    libc.symbols.close(fd);
    return new TextDecoder().decode(buffer.subarray(0, Math.max(got, 0)));
  } finally {
    libc.close();
  }
}

/** The first chunk a stream socket answers (after `request`, if given), or the error that kept it from connecting. */
function firstChunk(options: net.NetConnectOpts, request?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options, () => (request === undefined ? undefined : socket.write(request)));
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
    socket.once('data', (chunk) => {
      resolve(String(chunk));
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

const ESCAPES: Record<string, (escape: Escape) => unknown> = {
  read: ({ target }) => Deno.readTextFileSync(target!),
  'node-read': ({ target }) => fs.readFileSync(target!, 'utf8'),
  write: ({ target, text }) => {
    Deno.writeTextFileSync(target!, text ?? '');
    return 'written';
  },
  list: ({ target }) => [...Deno.readDirSync(target!)].map((entry) => entry.name).sort(),
  // A link planted inside a writable grant, pointing out of it, then read through.
  symlink: ({ target, link }) => {
    Deno.symlinkSync(target!, link!);
    return Deno.readTextFileSync(link!);
  },
  ffi: ({ target }) => readThroughLibc(target!),
  signal: ({ target, text }) => {
    Deno.kill(Number(target), (text ?? 'SIGWINCH') as Deno.Signal);
    return 'sent';
  },
  'unix-connect': ({ target }) => firstChunk({ path: target! }),
  'tcp-connect': ({ target }) => {
    const [host, port] = target!.split(':');
    return firstChunk({ host, port: Number(port) }, 'GET / HTTP/1.0\r\n\r\n');
  },
  fetch: async ({ target }) => await (await fetch(`http://${target}/`)).text(),
  'node-http': ({ target }) =>
    new Promise((resolve, reject) => {
      const request = http.get(`http://${target}/`, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve(body));
      });
      request.setTimeout(5000, () => request.destroy(new Error('no answer')));
      request.on('error', reject);
    }),
  // TLS to a plain HTTP server fails its handshake; what counts is the connection the host saw.
  'connect-tls': async ({ target }) => {
    const [hostname, port] = target!.split(':');
    const connection = await Deno.connectTls({ hostname: hostname!, port: Number(port) });
    connection.close();
    return 'connected';
  },
  // A proxy the plugin sets itself: the request goes to whatever listens there.
  'proxy-fetch': async ({ target }) => {
    const client = Deno.createHttpClient({ proxy: { url: `http://${target}` } });
    try {
      return await (await fetch('http://granted-nowhere.invalid/', { client })).text();
    } finally {
      client.close();
    }
  },
  hostname: () => Deno.hostname(),
  // Blocks for `text` ms, event loop and all: a tool so busy it never sees its stdin close
  // when its host is killed, so only the kernel can end it (doctor's die-with-host probe).
  block: ({ text }) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(text));
    return 'unblocked';
  },
  // What the kernel limits this process to (prlimit's work), as the process sees it.
  limits: () => Deno.readTextFileSync('/proc/self/limits'),
  // Host memory held in memfds (`text` MB, 64 MB each), none of it resident in this
  // process: kept for `link` ms, then the VmRSS the host's watch saw meanwhile.
  memfd: async ({ text, link }) => {
    const libc = Deno.dlopen('libc.so.6', {
      memfd_create: { parameters: ['buffer', 'u32'], result: 'i32' },
      write: { parameters: ['i32', 'buffer', 'usize'], result: 'isize' },
      close: { parameters: ['i32'], result: 'i32' },
    });
    const chunk = new Uint8Array(1 << 20).fill(1);
    const fds: number[] = [];
    for (let mb = 0; mb < Number(text); mb++) {
      if (mb % 64 === 0) {
        const fd = libc.symbols.memfd_create(new TextEncoder().encode('held\0'), 0);
        if (fd < 0) throw new Error('memfd_create failed');
        fds.push(fd);
      }
      libc.symbols.write(fds.at(-1)!, chunk, BigInt(chunk.length));
    }
    await new Promise((resolve) => setTimeout(resolve, Number(link ?? 0)));
    const rss = /VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync('/proc/self/status'))![1];
    for (const fd of fds) libc.symbols.close(fd);
    libc.close();
    return `held ${text} MB in ${fds.length} memfds at VmRSS ${rss} kB`;
  },
};

/** Runs one escape: `{allowed: true, value}`, or `{allowed: false}` with the error's class and message. */
export async function escape(args: Escape): Promise<{ allowed: boolean; value?: unknown; error?: string; message?: string }> {
  try {
    return { allowed: true, value: (await ESCAPES[args.action]!(args)) ?? null };
  } catch (error) {
    const e = error as Error;
    return { allowed: false, error: e.name, message: String(e.message).slice(0, 300) };
  }
}
