/**
 * The embedded store's writer thread: owns the write connection, so the durable commit (an fsync) never blocks
 * the thread that serves requests. Receives batches, answers with one outcome per append.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchWriter, type AppendRequest } from './sqlite-batch-writer';
import { openEventsDb } from './sqlite-schema';

export type WriterRequest = { type: 'batch'; id: number; appends: AppendRequest[] } | { type: 'close' };
export type WriterReply =
  | { type: 'done'; id: number; outcomes: ReturnType<BatchWriter['write']> }
  | { type: 'failed'; id: number; name: string };

const db = openEventsDb((workerData as { file: string }).file);
const writer = new BatchWriter(db);

parentPort!.on('message', (request: WriterRequest) => {
  if (request.type === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  let reply: WriterReply;
  try {
    reply = { type: 'done', id: request.id, outcomes: writer.write(request.appends) };
  } catch (error) {
    // The batch was rolled back. Only the kind of failure crosses back: a message may quote event data.
    reply = { type: 'failed', id: request.id, name: error instanceof Error ? (error as { code?: string }).code ?? error.name : 'error' };
  }
  parentPort!.postMessage(reply);
});
