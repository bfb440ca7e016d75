import { randomUUID } from 'node:crypto';
import { ConfigError } from '../../shared/errors';
import { InvalidRunMessageError, enqueueRun, parseRunMessage } from '../../shared/runs/queue';
import {
  StorageUnavailableError,
  createRunStorage,
  resolveStorageSettings,
  type RunStorage,
  type StorageSettings,
} from '../../shared/runs/storage';
import {
  azuriteAccount,
  endpointOf,
  startCountingProxy,
  throughProxy,
  type CountingProxy,
} from '../support/azurite';

const storageFor = (connectionString: string) =>
  createRunStorage(
    resolveStorageSettings({ env: { AzureWebJobsStorage: connectionString } }) as StorageSettings,
  );

function invalid(raw: unknown): InvalidRunMessageError {
  try {
    parseRunMessage(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRunMessageError);
    return error as InvalidRunMessageError;
  }
  throw new Error('expected an InvalidRunMessageError');
}

describe('parseRunMessage', () => {
  const runId = randomUUID();

  it('accepts the object the queue trigger hands over, its JSON text and its base64 text', () => {
    const message = {
      runId,
      trigger: 'http',
      request: { vmIds: ['vm-1'], dryRun: true, minAge: 'PT1H', keepLatest: 2 },
    };
    expect(parseRunMessage(message)).toEqual(message);
    expect(parseRunMessage(JSON.stringify(message))).toEqual(message);
    expect(parseRunMessage(Buffer.from(JSON.stringify(message)).toString('base64'))).toEqual(message);
    expect(parseRunMessage({ runId, trigger: 'http' })).toEqual({ runId, trigger: 'http' });
  });

  it.each([
    ['not JSON', 'definitely not json {', /\(message\): is not JSON/],
    ['a runId that is not a UUID', { runId: 'x', trigger: 'http', request: {} }, /runId: must be a UUID/],
    ['another trigger', { runId, trigger: 'timer', request: {} }, /trigger:/],
    [
      'an unknown request field',
      { runId, trigger: 'http', request: { vmIds: ['a'], force: true } },
      /request: unknown field\(s\) force/,
    ],
    ['a wrong type', { runId, trigger: 'http', request: { dryRun: 'yes' } }, /request\.dryRun:/],
    ['an unknown top-level field', { runId, trigger: 'http', secret: 'x' }, /unknown field\(s\) secret/],
    ['null', null, /\(message\)/],
  ])('rejects %s with a typed error naming the JSON path', (_, raw, problem) => {
    const error = invalid(raw);
    expect(error.message).toMatch(problem);
  });

  it('keeps a well-formed runId of an invalid message for the log line, and never echoes values', () => {
    const error = invalid({ runId, trigger: 'http', request: { vmIds: 'canary-value-91' } });
    expect(error.runId).toBe(runId);
    expect(error.message).not.toContain('canary-value-91');
    expect(invalid({ runId: 'nope', trigger: 'http' }).runId).toBeUndefined();
  });
});

describe('enqueueRun on Azurite', () => {
  let connectionString: string;
  let storage: RunStorage;
  beforeAll(async () => {
    connectionString = await azuriteAccount();
    storage = await storageFor(connectionString);
    // Azurite may still be starting on a busy machine.
  }, 120_000);

  it('round-trips a run request as base64 JSON, the queue trigger default encoding', async () => {
    const runId = randomUUID();
    await enqueueRun({
      queue: storage.queue,
      setting: storage.settings.queue,
      runId,
      request: { vmIds: ['vm-1'], dryRun: false },
    });
    const { receivedMessageItems } = await storage.queue.receiveMessages({ numberOfMessages: 1 });
    expect(receivedMessageItems).toHaveLength(1);
    const text = receivedMessageItems[0].messageText;
    expect(JSON.parse(Buffer.from(text, 'base64').toString('utf8'))).toEqual({
      runId,
      trigger: 'http',
      request: { vmIds: ['vm-1'], dryRun: false },
    });
    expect(parseRunMessage(text)).toEqual({
      runId,
      trigger: 'http',
      request: { vmIds: ['vm-1'], dryRun: false },
    });
    await storage.queue.deleteMessage(receivedMessageItems[0].messageId, receivedMessageItems[0].popReceipt);
  });

  it('leaves a request too large for a message to the ledger', async () => {
    const runId = randomUUID();
    const vmIds = Array.from(
      { length: 5000 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    await enqueueRun({ queue: storage.queue, setting: storage.settings.queue, runId, request: { vmIds } });
    const { receivedMessageItems } = await storage.queue.receiveMessages({ numberOfMessages: 1 });
    expect(parseRunMessage(receivedMessageItems[0].messageText)).toEqual({ runId, trigger: 'http' });
    await storage.queue.deleteMessage(receivedMessageItems[0].messageId, receivedMessageItems[0].popReceipt);
  });

  it('refuses to enqueue an invalid request', async () => {
    await expect(
      enqueueRun({ queue: storage.queue, setting: 'AzureWebJobsStorage', runId: 'not-a-uuid', request: {} }),
    ).rejects.toBeInstanceOf(InvalidRunMessageError);
  });

  it('fails with StorageUnavailableError naming the setting when the queue service is down', async () => {
    const proxy: CountingProxy = await startCountingProxy(endpointOf(connectionString, 'Queue'));
    try {
      const proxied = await storageFor(throughProxy(connectionString, 'Queue', proxy.url));
      proxy.down = true;
      const error = await enqueueRun({
        queue: proxied.queue,
        setting: proxied.settings.queue,
        runId: randomUUID(),
        request: {},
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageUnavailableError);
      expect((error as ConfigError).setting).toBe('AzureWebJobsStorage');
    } finally {
      await proxy.close();
    }
  });
});
