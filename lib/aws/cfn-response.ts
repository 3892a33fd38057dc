/**
 * Answers a CloudFormation custom resource request: PUT the response body to the
 * request's presigned S3 `ResponseURL`
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref.html). The
 * body is sent as bytes, so that no Content-Type header is added: the URL is presigned
 * without one, as AWS's own `cfn-response` module sends it
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-lambda-function-code-cfnresponsemodule.html).
 */

export interface RespondOptions {
  /** Aborts the PUT. */
  readonly signal?: AbortSignal;
}

/** PUTs `body` as JSON to `url`; throws when the answer is not a 2xx. */
export async function putCfnResponse(url: string, body: unknown, opts: RespondOptions = {}): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  const res = await fetch(url, { method: 'PUT', body: bytes, signal: opts.signal });
  // Drain the body so the connection is released.
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`the CloudFormation response URL answered HTTP ${res.status}`);
}
