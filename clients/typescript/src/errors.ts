/** Central's errors (AIP-193: Google's API error model) as one typed exception. */

export interface FieldViolation {
  field: string;
  description: string;
  reason?: string;
}

interface ErrorDetail {
  "@type": string;
  reason?: string;
  domain?: string;
  metadata?: Record<string, string>;
  fieldViolations?: FieldViolation[];
}

interface ErrorBody {
  error?: { code?: number; status?: string; message?: string; details?: ErrorDetail[] };
}

const ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo";
const BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest";

export class CentralError extends Error {
  override readonly name = "CentralError";

  constructor(
    /** The HTTP status. */
    readonly status: number,
    /** The google.rpc.Code name, such as `ALREADY_EXISTS`; `UNKNOWN` when the body had none. */
    readonly code: string,
    message: string,
    /** The ErrorInfo reason, such as `TENANT_SLUG_TAKEN`: what a program branches on. */
    readonly reason: string | undefined,
    readonly domain: string | undefined,
    readonly metadata: Readonly<Record<string, string>>,
    /** One entry per bad field of a 400 (google.rpc.BadRequest). */
    readonly fieldViolations: readonly FieldViolation[],
  ) {
    super(message);
  }

  /** The error a response's status and parsed body stand for; any body, even none, is accepted. */
  static fromResponse(status: number, body: unknown): CentralError {
    const error = isObject(body) ? (body as ErrorBody).error : undefined;
    const details = Array.isArray(error?.details) ? error.details : [];
    const info = details.find((d) => d["@type"] === ERROR_INFO);
    const violations = details
      .filter((d) => d["@type"] === BAD_REQUEST)
      .flatMap((d) => d.fieldViolations ?? []);
    return new CentralError(
      status,
      error?.status ?? "UNKNOWN",
      error?.message ?? `HTTP ${status}`,
      info?.reason,
      info?.domain,
      info?.metadata ?? {},
      violations,
    );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
