import net from 'node:net';
import http from 'node:http';

describe('network guard', () => {
  it('blocks a connection to a non-loopback address', () => {
    expect(() => net.connect({ host: '192.0.2.10', port: 443 })).toThrow(/network guard/);
  });

  it('blocks an HTTP request to a public host name', () => {
    expect(() => http.get('http://example.invalid/')).toThrow(/network guard/);
  });

  it('allows loopback', async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve();
      });
      socket.on('error', reject);
    });
    server.close();
  });
});
