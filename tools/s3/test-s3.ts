import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** http://127.0.0.1:<port> of the shared S3 test server; empty when no selected project needs it. */
    s3Endpoint: string;
    s3AccessKey: string;
    s3SecretKey: string;
  }
}

export interface S3TestServer {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** The standard AWS variables that point an SDK client (and the `s3://` store) at this server. */
  env: Record<string, string>;
}

/** The shared S3 test server; throws (never skips) when the run did not start one. */
export function s3TestServer(): S3TestServer {
  const endpoint = inject('s3Endpoint');
  if (!endpoint) {
    throw new Error(
      'No S3 test server in this run: add this project to PROJECTS_USING_S3 in tools/temporal/vitest-global-setup.ts',
    );
  }
  const accessKey = inject('s3AccessKey');
  const secretKey = inject('s3SecretKey');
  return { endpoint, accessKey, secretKey, env: s3Env(endpoint, accessKey, secretKey) };
}

export function s3Env(endpoint: string, accessKey: string, secretKey: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: accessKey,
    AWS_SECRET_ACCESS_KEY: secretKey,
    AWS_REGION: 'us-east-1',
    // The pinned SDK's notice about its 2027 versions needing Node 22.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** Points this test process's standard AWS variables at the shared S3 test server. */
export function useTestS3(): S3TestServer {
  const server = s3TestServer();
  Object.assign(process.env, server.env);
  return server;
}

/** A new bucket `<label>-<random>` on the shared S3 test server. */
export async function createTestBucket(label: string, server = s3TestServer()): Promise<string> {
  Object.assign(process.env, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  const bucket = `${label}-${randomBytes(4).toString('hex')}`;
  const client = new S3Client({
    endpoint: server.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return bucket;
}
