// Preloaded (node --import) into the `discv5 testnet` the launcher starts with an IPC channel: when
// the channel closes (the launcher is gone, even if it was killed), the testnet gets SIGTERM and
// stops as it would on Ctrl-C, instead of running on without an owner.
if (process.channel !== undefined) {
  process.channel.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
