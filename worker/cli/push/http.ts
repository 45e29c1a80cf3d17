/**
 * Streaming PUT/PATCH of a byte range of a local file, for presigned part URLs and chunked
 * uploads. node:http rather than fetch: the body is a file stream with an exact Content-Length
 * (S3 refuses part uploads without one), and bytes are counted as they leave for the progress
 * display. Memory: the stream's buffers, whatever the range's size.
 */
import { createReadStream } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';

export interface SendResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FileRange {
  file: string;
  offset: number;
  length: number;
}

export function sendFileRange(
  method: string,
  url: string,
  range: FileRange,
  headers: Record<string, string>,
  onBytes: (n: number) => void,
): Promise<SendResult> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, { method, headers: { ...headers, 'Content-Length': String(range.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        // Error bodies are short; a success body is empty or a few bytes of XML.
        if (chunks.length < 64) chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (range.length === 0) {
      req.end();
      return;
    }
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        onBytes(chunk.length);
        done(null, chunk);
      },
    });
    const file = createReadStream(range.file, { start: range.offset, end: range.offset + range.length - 1, highWaterMark: 1024 * 1024 });
    file.on('error', (error) => req.destroy(error));
    file.pipe(counter).pipe(req);
  });
}
