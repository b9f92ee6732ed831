/**
 * gRPC status codes by name (grpc/grpc doc/statuscodes.md): the `grpc_code`
 * label of outrigger_grpc_requests_total, and how the gRPC health probe
 * names a failed call. Shared by the data plane and the health checks.
 */

export const GRPC_CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** The name of a status code; UNKNOWN for none or for a code outside the table. */
export function grpcCodeName(code: number | undefined): string {
  return code === undefined ? 'UNKNOWN' : GRPC_CODE_NAMES[code] ?? 'UNKNOWN';
}
