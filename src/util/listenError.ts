/**
 * Turns a socket listen failure into an error an operator can act on,
 * naming the service, protocol, address and port.
 */
export function describeListenError(err: unknown, service: string, protocol: string, address: string, port: number): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `${service} ${protocol} port ${port} on ${address}`;
  if (code === 'EADDRINUSE') return new Error(`${where} is already in use`, { cause: err });
  if (code === 'EACCES') return new Error(`${where}: permission denied`, { cause: err });
  if (code === 'EADDRNOTAVAIL') return new Error(`${where}: address ${address} is not available on this host`, { cause: err });
  return new Error(`${where} cannot be opened: ${(err as Error).message}`, { cause: err });
}
